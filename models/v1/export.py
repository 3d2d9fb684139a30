"""Exports a trained v1 network to ONNX (f32) and int8, with their metadata JSON.

int8 is weight-only: every Conv/Gemm weight of the CNN body and the head becomes int8 with one
symmetric scale per output channel, restored by a DequantizeLinear node that tract folds at load
time (compute stays f32, so the int8 model is a smaller file, not a different network). The
attention branch that feeds the Softmax stays f32: tract 0.23.9 mis-optimises quantization
nodes around Softmax. Both files are checked against onnxruntime here and in tests/parity.rs.
Usage (from models/): .venv/bin/python -m v1.export --run NAME --name v1-cnn [--out DIR] [--cache DIR]
[--voice-head JSON] (v2's fast student: --cache .cache/v2/student, whose teacher is v2; its
metadata says so, and --voice-head adds the head v2.voice_head --model fitted on its embeddings)
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402
from v1 import frontend  # noqa: E402
from v1.net import SingerNet  # noqa: E402
from v1.prepare import CACHE  # noqa: E402

# What the weights may be used for follows from what they were trained on (see models/README.md).
LICENSE = ("non-commercial research and evaluation; trained on data under GPL-3.0, GPL-2.0, CC BY-NC 3.0, CC BY 4.0 and voicebank terms of use (models/README.md, Licence)")
# Replaced by the threshold at the EER on training singers (set_threshold.py) after export.
PLACEHOLDER_THRESHOLD = 0.5


def load_net(run: str, cache: Path = CACHE) -> tuple[SingerNet, dict]:
    ckpt = torch.load(cache / "runs" / run / "model.pt", map_location="cpu", weights_only=False)
    a = ckpt["args"]
    net = SingerNet(frontend.FRONTEND["n_mels"], a["channels"], a["embedding"])
    net.load_state_dict(ckpt["net"])
    return net.eval(), ckpt


def export_f32(net: SingerNet, path: Path):
    x = torch.zeros(1, frontend.WINDOW_FRAMES, frontend.FRONTEND["n_mels"])
    torch.onnx.export(net, (x,), str(path), input_names=["mels"], output_names=["embedding"], opset_version=17,
                      do_constant_folding=True, dynamo=False)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    # A fixed producer string: the file's bytes (and checksum) depend only on the weights.
    model.producer_version = ""
    onnx.save(model, str(path))


def quantize_weights(src: Path, dst: Path, keep_f32: tuple[str, ...] = ("attention",)) -> int:
    """Weight-only int8 (per output channel, symmetric) for Conv/Gemm weights, except those of
    nodes whose name or inputs contain one of `keep_f32` (v1: the attention branch). Returns how
    many tensors were quantized."""
    model = onnx.load(str(src))
    inits = {i.name: i for i in model.graph.initializer}
    nodes, count = [], 0
    for node in model.graph.node:
        w_name = node.input[1] if node.op_type in ("Conv", "Gemm") and len(node.input) > 1 else None
        kept = any(k in node.name or any(k in i for i in node.input) for k in keep_f32)
        if w_name in inits and not kept:
            w = numpy_helper.to_array(inits[w_name]).astype(np.float32)
            axis = 0  # Conv [out, in, k]; Gemm from nn.Linear has transB=1: [out, in]
            flat = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
            scale = np.where(flat > 0, flat / 127.0, 1.0).astype(np.float32)
            q = np.clip(np.rint(w / scale.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127).astype(np.int8)
            model.graph.initializer.remove(inits[w_name])
            model.graph.initializer.extend([numpy_helper.from_array(q, w_name + "_q"),
                                            numpy_helper.from_array(scale, w_name + "_scale"),
                                            numpy_helper.from_array(np.zeros_like(q[:, *([0] * (w.ndim - 1))]),
                                                                    w_name + "_zero")])
            nodes.append(helper.make_node("DequantizeLinear", [w_name + "_q", w_name + "_scale", w_name + "_zero"],
                                          [w_name], name=w_name + "_dequantize", axis=axis))
            count += 1
        nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return count


def write_metadata(onnx_path: Path, name: str, space: str, precision: str, description: str, source: str,
                   voice_head: dict | None = None) -> Path:
    meta = {
        "format_version": 1,
        "name": name,
        "embedding_space": space,
        "version": "1.0.0",
        "description": description,
        "license": LICENSE,
        "source": source,
        "precision": precision,
        "onnx_file": onnx_path.name,
        "onnx_sha256": common.sha256_file(onnx_path),
        "input_name": "mels",
        "output_name": "embedding",
        "window_frames": frontend.WINDOW_FRAMES,
        "embedding_size": int(onnx.load(str(onnx_path)).graph.output[0].type.tensor_type.shape.dim[1].dim_value),
        "default_threshold": PLACEHOLDER_THRESHOLD,
        "frontend": frontend.FRONTEND,
    }
    if voice_head is not None:
        meta["voice_head"] = voice_head
    path = onnx_path.with_suffix(".json")
    path.write_text(json.dumps(meta, indent=2) + "\n")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="training run under .cache/v1/runs/")
    ap.add_argument("--name", required=True, help="model name prefix, e.g. v1-cnn (-> v1-cnn-f32, v1-cnn-int8)")
    ap.add_argument("--out", type=Path, help="output folder (default: the run's folder)")
    ap.add_argument("--cache", type=Path, default=CACHE, help=f"training cache of the run (default {CACHE})")
    ap.add_argument("--voice-head", type=Path, metavar="JSON", help="voice head to add (written by v2.voice_head --model)")
    args = ap.parse_args()
    out = args.out or args.cache / "runs" / args.run
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    net, ckpt = load_net(args.run, args.cache)
    a = ckpt["args"]
    cache_meta = json.loads((args.cache / "clips.json").read_text())
    head = None
    if args.voice_head is not None:
        from v2.export import voice_head  # here: v2.export imports this module

        head = voice_head(args.voice_head)
        if head is None:
            sys.exit(f"no voice head at {args.voice_head}")
    space = f"singer-id-{args.name}"
    recipe = (f"python -m v1.train {' '.join(f'--{k.replace(chr(95), chr(45))} {v}' for k, v in a.items())}; "
              f"{ckpt['step']} steps, {ckpt['seconds'] / 60:.0f} min")
    desc = (f"Singer embedding CNN ({a['channels']} channels, attentive statistics pooling, {a['embedding']}-d), "
            "trained on UTAU singers + LibriSpeech speakers (spoken and WORLD-sung) with mashup augmentation")
    if cache_meta.get("teacher") == "v2":
        identities = len(cache_meta["identities"])
        desc = (f"Fast student of model v2: v1's singer embedding CNN ({a['channels']} channels, attentive statistics "
                f"pooling, {a['embedding']}-d) distilled from v2-campp-f32 and trained with v1's recipe on {identities} "
                "training identities (UTAU and more/ singers, LibriSpeech and more/ speakers spoken and WORLD-sung; "
                "not the v2.heldout singers) with mashup augmentation")
    f32 = out / f"{args.name}-f32.onnx"
    export_f32(net, f32)
    common.assert_plain_onnx(f32)
    i8 = out / f"{args.name}-int8.onnx"
    n = quantize_weights(f32, i8)
    common.assert_plain_onnx(i8)
    write_metadata(f32, f32.stem, space, "f32", desc + "; f32 weights", recipe, head)
    write_metadata(i8, i8.stem, space, "int8",
                   desc + f"; int8 weights (per channel, symmetric, DequantizeLinear) for {n} Conv/Gemm tensors, "
                   "f32 attention branch; compute f32", recipe, head)

    report_agreement(net, (f32, i8), frontend.WINDOW_FRAMES, frontend.FRONTEND["n_mels"])


def report_agreement(net, paths, frames: int, n_mels: int):
    """Feeds one random log-mel-like input through torch and each ONNX file (onnxruntime) and
    prints each file's size, cosine to torch and ops."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((1, frames, n_mels)) * 2 - 8).astype(np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x))[0].numpy()
    for path in paths:
        got = common.ort_session(path).run(["embedding"], {"mels": x})[0][0]
        print(f"{path.name}: {path.stat().st_size} bytes, cosine to torch {common.cosine(ref, got):.6f}; "
              f"{common.describe_onnx(path)}")


if __name__ == "__main__":
    main()
