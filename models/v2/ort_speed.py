"""onnxruntime's time for one inference of a model's window, one thread, median of N runs:
the side of the "tract within 1.3x of onnxruntime" check that tract cannot measure itself.
Run it right after `singer-id --model M bench` on the same machine and compare with its
"model, one inference" line (models/README.md, "v2: speed").
--profile instead times every node (onnxruntime's profiler) and prints the time per operator
type and top-level module (e.g. `Conv head`: the 2-D convolution front), to set beside
`singer-id --model M bench --profile`, which does the same for tract's plan.
Usage (from models/): .venv/bin/python -m v2.ort_speed [MODEL_JSON ...] [--runs 21] [--profile]
"""
import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", type=Path,
                    default=[common.MODELS_DIR / "v2-campp-int8.json", common.MODELS_DIR / "v2-campp-f32.json"])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--profile", action="store_true", help="time per operator type instead")
    args = ap.parse_args()
    for meta_path in args.models:
        meta = json.loads(meta_path.read_text())
        if args.profile:
            profile(meta_path, meta, args.runs)
            continue
        session = common.ort_session(meta_path.parent / meta["onnx_file"])
        x = random_window(meta)
        session.run(None, {meta["input_name"]: x})  # warm-up
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            session.run(None, {meta["input_name"]: x})
            times.append(time.perf_counter() - t0)
        print(f"{meta['name']}: onnxruntime {np.median(times) * 1000:.3f} ms per {meta['window_frames']}-frame "
              f"window (median of {args.runs}, one thread)")


def random_window(meta: dict) -> np.ndarray:
    """A fixed pseudo-random fbank window of the model's input shape (speed does not depend on
    the values)."""
    rng = np.random.default_rng(0)
    return (rng.standard_normal((1, meta["window_frames"], meta["frontend"]["n_mels"])) * 2 - 6).astype(np.float32)


def graph_module(node: str) -> str:
    """The CAM++ module a node belongs to (`head`: the 2-D front; `xvector`: the TDNN blocks
    and pooling), from the export's node names (`/net/head/...`); `-` for nodes outside."""
    parts = node.strip("/").split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "net" else "-"


def profile(meta_path: Path, meta: dict, runs: int):
    """Milliseconds per inference by (operator type, top-level module), slowest first."""
    with tempfile.TemporaryDirectory() as tmp:
        session = common.ort_session(meta_path.parent / meta["onnx_file"], profile_prefix=f"{tmp}/ort")
        x = random_window(meta)
        session.run(None, {meta["input_name"]: x})  # warm-up, left out below
        for _ in range(runs):
            session.run(None, {meta["input_name"]: x})
        trace = json.loads(Path(session.end_profiling()).read_text())
    per_run = defaultdict(list)  # node name -> its durations, in run order
    kinds = {}
    for ev in trace:
        if ev.get("cat") == "Node" and ev["name"].endswith("_kernel_time"):
            node = ev["name"][: -len("_kernel_time")]
            per_run[node].append(ev["dur"])
            kinds[node] = f"{ev['args'].get('op_name', '?')} {graph_module(node)}"
    totals, counts = defaultdict(float), defaultdict(int)
    for node, durs in per_run.items():
        totals[kinds[node]] += sum(durs[-runs:]) / runs / 1000  # us -> ms, warm-up dropped
        counts[kinds[node]] += 1
    total = sum(totals.values())
    print(f"{meta['name']}: onnxruntime {total:.3f} ms per {meta['window_frames']}-frame window in its nodes "
          f"(mean of {runs}, one thread)")
    print(f"  {'operator module':<36} {'nodes':>5} {'ms/inference':>12} {'share':>7}")
    for kind, ms in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:<36} {counts[kind]:>5} {ms:>12.3f} {100 * ms / total:>6.1f}%")


if __name__ == "__main__":
    main()
