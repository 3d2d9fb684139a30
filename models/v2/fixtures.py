"""Golden fixtures for model v2 (tests/fixtures/v2_*.json, checked by tests/parity.rs):

- v2_clip_fbank.json        torchaudio.compliance.kaldi.fbank (v2.fbank) on the samples of
                            tests/fixtures/v0_clip.wav (int16 / 32768): the Rust frontend's reference
- v2_clip_embedding.json    embedding of its first window_frames frames: torch, ORT f32, ORT int8
- v2_ort_random_input.json  a fixed random fbank-like input and both models' ORT outputs
Usage (from models/): .venv/bin/python -m v2.fixtures [--models DIR] [--name v2-campp] [--weights PT]
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402
from make_fixtures import write_json  # noqa: E402
from v2 import fbank  # noqa: E402
from v2.export import load_encoder  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, default=common.MODELS_DIR, help="folder with NAME-f32/int8.onnx")
    ap.add_argument("--name", default="v2-campp")
    ap.add_argument("--weights", type=Path, help="fine-tuned weights the ONNX files were made from")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = common.FIXTURES_DIR
    frames = json.loads((args.models / f"{args.name}-f32.json").read_text())["window_frames"]

    pcm, sr = sf.read(str(out / "v0_clip.wav"), dtype="int16")
    assert sr == fbank.FRONTEND["sample_rate"]
    feats = fbank.fbank(pcm.astype(np.float32) / 32768.0).numpy()
    write_json(out / "v2_clip_fbank.json", {"n_frames": len(feats), "n_mels": feats.shape[1], "mel": feats})

    encoder = load_encoder(args.weights)
    f32 = common.ort_session(args.models / f"{args.name}-f32.onnx")
    i8 = common.ort_session(args.models / f"{args.name}-int8.onnx")

    def embed(x):
        x = np.ascontiguousarray(x[None], dtype=np.float32)
        with torch.no_grad():
            t = encoder(torch.from_numpy(x))[0].numpy()
        return {"torch": t, "ort_f32": f32.run(["embedding"], {"mels": x})[0][0],
                "ort_int8": i8.run(["embedding"], {"mels": x})[0][0]}

    emb = embed(feats[:frames])
    write_json(out / "v2_clip_embedding.json", {**emb, "input_frames": frames})
    print(f"  cosine torch/ort_f32 {common.cosine(emb['torch'], emb['ort_f32']):.9f}, "
          f"ort_f32/ort_int8 {common.cosine(emb['ort_f32'], emb['ort_int8']):.6f}")
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((frames, fbank.FRONTEND["n_mels"])) * 2 - 6, 3).astype(np.float32)
    write_json(out / "v2_ort_random_input.json", {"seed": 0, "input": x, **embed(x)})


if __name__ == "__main__":
    main()
