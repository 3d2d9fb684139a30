"""Calibrates a model's default unknown-singer threshold and writes it into its metadata.

    python set_threshold.py MODEL_JSON SINGER_ID_BINARY [MANIFEST]

Runs `singer-id --model MODEL_JSON calibrate MANIFEST --segment 1` (default calibration.csv,
training singers only: see make_calibration_manifest.py; v2 uses calibration_v2.csv, singers
held out of its training: see v2/heldout.py) and stores the threshold at the equal error rate, rounded to
4 decimals, as `default_threshold`. 1-second segments because that is what the live analyzer
judges. The ONNX checksum is unaffected: only the JSON changes.
"""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    meta_path, binary = Path(sys.argv[1]).resolve(), sys.argv[2]
    manifest = Path(sys.argv[3]).resolve() if len(sys.argv) > 3 else HERE / "calibration.csv"
    cmd = [binary, "--quiet", "--model", str(meta_path), "calibrate", str(manifest), "--segment", "1"]
    result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    meta = json.loads(meta_path.read_text())
    meta["default_threshold"] = round(result["threshold"], 4)
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    print(f"{meta_path.name}: default_threshold {meta['default_threshold']} (EER {result['eer']:.4f} on {result['units']} units of {manifest.name})")


if __name__ == "__main__":
    main()
