"""Golden fixtures for model v1 (tests/fixtures/v1_*.json, checked by tests/parity.rs):

- v1_clip_mel.json          this module's torch frontend (the one training uses) on the samples
                            of tests/fixtures/v0_clip.wav (int16 / 32768)
- v1_clip_embedding.json    embedding of its first WINDOW_FRAMES frames: torch, ORT f32, ORT int8
- v1_ort_random_input.json  a fixed random log-mel-like input and both models' ORT outputs
Usage (from models/): .venv/bin/python -m v1.fixtures [--models DIR] [--name v1-cnn]
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402
from make_fixtures import write_json  # noqa: E402
from v1 import frontend  # noqa: E402
from v1.export import load_net  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, default=common.MODELS_DIR, help="folder with NAME-f32/int8.onnx")
    ap.add_argument("--name", default="v1-cnn")
    ap.add_argument("--run", default="v1b-distill", help="training run whose torch weights made the ONNX files")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = common.FIXTURES_DIR

    pcm, sr = sf.read(str(out / "v0_clip.wav"), dtype="int16")
    assert sr == frontend.FRONTEND["sample_rate"]
    with torch.no_grad():
        mel = frontend.LogMel()(torch.from_numpy(pcm.astype(np.float32) / 32768.0)[None])[0].numpy()
    write_json(out / "v1_clip_mel.json", {"n_frames": len(mel), "n_mels": mel.shape[1], "mel": mel})

    net, _ = load_net(args.run)
    f32 = common.ort_session(args.models / f"{args.name}-f32.onnx")
    i8 = common.ort_session(args.models / f"{args.name}-int8.onnx")

    def embed(x):
        x = np.ascontiguousarray(x[None], dtype=np.float32)
        with torch.no_grad():
            t = net(torch.from_numpy(x))[0].numpy()
        return {"torch": t, "ort_f32": f32.run(["embedding"], {"mels": x})[0][0],
                "ort_int8": i8.run(["embedding"], {"mels": x})[0][0]}

    emb = embed(mel[:frontend.WINDOW_FRAMES])
    write_json(out / "v1_clip_embedding.json", {**emb, "input_frames": frontend.WINDOW_FRAMES})
    print(f"  cosine torch/ort_f32 {common.cosine(emb['torch'], emb['ort_f32']):.9f}, "
          f"ort_f32/ort_int8 {common.cosine(emb['ort_f32'], emb['ort_int8']):.6f}")
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((frontend.WINDOW_FRAMES, frontend.FRONTEND["n_mels"])) * 2 - 6, 3)
    x = x.astype(np.float32)
    write_json(out / "v1_ort_random_input.json", {"seed": 0, "input": x, **embed(x)})


if __name__ == "__main__":
    main()
