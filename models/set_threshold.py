"""Calibrates a model's default unknown-singer threshold and writes it into its metadata.

    python set_threshold.py MODEL_JSON SINGER_ID_BINARY

Runs `singer-id --model MODEL_JSON calibrate calibration.csv --segment 1` (training singers only:
see make_calibration_manifest.py) and stores the threshold at the equal error rate, rounded to
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
    cmd = [binary, "--quiet", "--model", str(meta_path), "calibrate", str(HERE / "calibration.csv"), "--segment", "1"]
    result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    meta = json.loads(meta_path.read_text())
    meta["default_threshold"] = round(result["threshold"], 4)
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    print(f"{meta_path.name}: default_threshold {meta['default_threshold']} (EER {result['eer']:.4f} on {result['units']} calibration units)")


if __name__ == "__main__":
    main()
