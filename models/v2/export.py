"""Exports model v2 (CAM++ with per-window mean normalisation) to ONNX, f32 and int8, with the
metadata JSON the Rust engine reads, and checks both files against torch with onnxruntime.

int8 is weight-only: every Conv weight becomes int8 with one symmetric scale per output
channel, restored by a DequantizeLinear node that tract folds at load time (compute stays
f32). The input's frame axis stays dynamic in the file; the engine fixes it to
`window_frames` when it loads the model.
Usage (from models/): .venv/bin/python -m v2.export [--window-frames N] [--weights PT] [--name v2-campp] [--out DIR]
"""
import argparse
import json
import sys
from pathlib import Path

import onnx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402
from v1.export import quantize_weights, report_agreement  # noqa: E402
from v2 import fbank, weights  # noqa: E402
from v2.campp import CAMPPlus, SpeakerEncoder  # noqa: E402

# CAM++ is Apache-2.0. The voice head, and the fine-tuned top of an adapted network (v2.adapt),
# were fit on training data whose most restrictive terms are non-commercial and copyleft.
DATA_TERMS = ("data under GPL-3.0, GPL-2.0, CC BY-NC 3.0, CC BY 4.0 and voicebank terms, so non-commercial "
              "research and evaluation (models/README.md, Licence)")
LICENSE = f"CAM++ weights: Apache-2.0 (3D-Speaker, Alibaba DAMO Academy); voice_head: fit on {DATA_TERMS}"
LICENSE_ADAPTED = (f"CAM++ weights: Apache-2.0 (3D-Speaker, Alibaba DAMO Academy), last block and embedding layer "
                   f"fine-tuned, and voice_head fit, on {DATA_TERMS}")
# 1.5 s of frames: chosen on dev (models/README.md, "v2: analysis window").
WINDOW_FRAMES = 150
# The 2-D convolution front (FCM) stays f32: it is 1 % of the weights but int8 there costs the
# most accuracy (mean cosine to f32 on dev clips 0.9958 with it quantized, 0.9975 without).
KEEP_F32 = ("/net/head/",)
# Utterances (enrolment clips, whole test clips) are embedded in one pass of up to this many
# frames; longer ones in equal pieces (models/README.md, "v2: analysis window").
MAX_FRAMES = 1000
# Replaced by the threshold calibrated on held-out training singers (set_threshold.py).
PLACEHOLDER_THRESHOLD = 0.5


def load_encoder(weights_path: Path | None) -> SpeakerEncoder:
    """The pretrained network, or a fine-tuned state dict saved by v2.adapt."""
    if weights_path is None:
        net = weights.load_pretrained()
    else:
        net = CAMPPlus()
        net.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    return SpeakerEncoder(net.eval()).eval()


def export_f32(encoder: SpeakerEncoder, path: Path, frames: int):
    x = torch.zeros(1, frames, fbank.FRONTEND["n_mels"])
    torch.onnx.export(encoder, (x,), str(path), input_names=["mels"], output_names=["embedding"], opset_version=17,
                      do_constant_folding=True, dynamo=False,
                      dynamic_axes={"mels": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}})
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    model.producer_version = ""  # the bytes (and checksum) depend only on the weights
    onnx.save(model, str(path))


def write_metadata(onnx_path: Path, precision: str, description: str, source: str, frames: int, space: str,
                   head_path: Path = None, adapted: bool = False) -> Path:
    meta = {
        "format_version": 1,
        "name": onnx_path.stem,
        "embedding_space": space,
        "version": "2.0.0",
        "description": description,
        "license": LICENSE_ADAPTED if adapted else LICENSE,
        "source": source,
        "precision": precision,
        "onnx_file": onnx_path.name,
        "onnx_sha256": common.sha256_file(onnx_path),
        "input_name": "mels",
        "output_name": "embedding",
        "window_frames": frames,
        "embedding_size": 192,
        "default_threshold": PLACEHOLDER_THRESHOLD,
        "frontend": fbank.FRONTEND,
        "max_frames": MAX_FRAMES,
        # Pauses stay in what is embedded: CAM++ learned from continuous audio (models/README.md).
        "keep_pauses": True,
    }
    head = voice_head(head_path)
    if head is not None:
        meta["voice_head"] = head
    path = onnx_path.with_suffix(".json")
    path.write_text(json.dumps(meta, indent=2) + "\n")
    return path


def voice_head(path: Path | None = None) -> dict | None:
    """The metadata's `voice_head` block from v2/voice_head.json (or `path`; written by v2.voice_head), if any."""
    path = path or Path(__file__).resolve().parent / "voice_head.json"
    if not path.exists():
        return None
    head = json.loads(path.read_text())
    return {key: head[key] for key in ("weights", "bias", "threshold")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, help="fine-tuned CAM++ state dict (default: the pretrained weights)")
    ap.add_argument("--name", default="v2-campp", help="model name prefix (-> NAME-f32, NAME-int8)")
    ap.add_argument("--window-frames", type=int, default=WINDOW_FRAMES)
    ap.add_argument("--out", type=Path, default=common.MODELS_DIR)
    ap.add_argument("--voice-head", type=Path, help="voice head JSON (default v2/voice_head.json)")
    ap.add_argument("--description", default="CAM++ speaker encoder (3D-Speaker, zh/en common advanced, 6.8 M "
                    "parameters, 192-d) as pretrained, Kaldi fbank input mean-normalised per window")
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)

    encoder = load_encoder(args.weights)
    source = weights.SOURCE if args.weights is None else f"{weights.SOURCE}; fine-tuned: {args.weights.name}"
    # Fine-tuned weights make different embeddings: their own space, so libraries enrolled with
    # the original (or another variant) are refused with "re-enrol" instead of mis-scored.
    space = f"singer-id-{args.name}" if args.weights is None else f"singer-id-{args.name}-{args.weights.stem}"
    f32 = args.out / f"{args.name}-f32.onnx"
    export_f32(encoder, f32, args.window_frames)
    common.assert_plain_onnx(f32)
    i8 = args.out / f"{args.name}-int8.onnx"
    n = quantize_weights(f32, i8, keep_f32=KEEP_F32)
    common.assert_plain_onnx(i8)
    write_metadata(f32, "f32", args.description + "; f32 weights", source, args.window_frames, space,
                   args.voice_head, args.weights is not None)
    write_metadata(i8, "int8", args.description + f"; int8 weights (per channel, symmetric, DequantizeLinear) for "
                   f"{n} Conv tensors (the 2-D convolution front stays f32); compute f32", source, args.window_frames, space,
                   args.voice_head, args.weights is not None)

    report_agreement(encoder, (f32, i8), args.window_frames, fbank.FRONTEND["n_mels"])


if __name__ == "__main__":
    main()
