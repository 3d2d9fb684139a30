"""onnxruntime's time for one inference of a model's window, one thread, median of N runs:
the side of the "tract within 1.3x of onnxruntime" check that tract cannot measure itself.
Run it right after `singer-id --model M bench` on the same machine and compare with its
"model, one inference" line (models/README.md, "v2: speed").
Usage (from models/): .venv/bin/python -m v2.ort_speed [MODEL_JSON ...] [--runs 21]
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", type=Path,
                    default=[common.MODELS_DIR / "v2-campp-int8.json", common.MODELS_DIR / "v2-campp-f32.json"])
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    for meta_path in args.models:
        meta = json.loads(meta_path.read_text())
        session = common.ort_session(meta_path.parent / meta["onnx_file"])
        rng = np.random.default_rng(0)
        x = (rng.standard_normal((1, meta["window_frames"], meta["frontend"]["n_mels"])) * 2 - 6).astype(np.float32)
        session.run(None, {meta["input_name"]: x})  # warm-up
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            session.run(None, {meta["input_name"]: x})
            times.append(time.perf_counter() - t0)
        print(f"{meta['name']}: onnxruntime {np.median(times) * 1000:.3f} ms per {meta['window_frames']}-frame "
              f"window (median of {args.runs}, one thread)")


if __name__ == "__main__":
    main()
