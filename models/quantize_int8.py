"""Weight-only int8 variant: models/v0-ge2e-f32.onnx -> models/v0-ge2e-int8.onnx (+ .json).

Each quantized weight is stored as int8 with one symmetric scale per output row and fed through
a standard DequantizeLinear (opset 13, per-axis) into the unchanged f32 op: compute stays f32,
the file is ~2.4x smaller. Why not onnxruntime.quantization: it emits com.microsoft ops
(DynamicQuantizeLSTM, QGemm...) or QDQ patterns that tract cannot load or mis-optimises; this
graph uses only plain ONNX ops, and tract folds the dequantization at load.

Two measures keep int8 within cosine 0.999 of f32 on real singing (plain rounding does not):
- Layer 0 (lstm0.W, lstm0.R) stays f32. Its input is the *linear* power mel (values up to ~1e2),
  so 8-bit weights there shift the gates a lot: quantizing lstm0.W alone drops the cosine to
  ~0.74, lstm0.R alone to ~0.995. It is only 0.3M of the 1.4M weights.
- The other weights are rounded with GPTQ (Frantar et al. 2022): columns are quantized one at a
  time and each rounding error is pushed onto the not-yet-quantized columns, weighted by the
  inverse Hessian H = E[x x^T] of that matrix's real inputs. Calibration inputs come from UTAU
  clips (training data; the dev set is used only to check). Plain rounding: min cosine ~0.9986.
Usage: models/.venv/bin/python models/quantize_int8.py
"""
import csv

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

import common

SRC = "v0-ge2e-f32"
NAME = "v0-ge2e-int8"
KEEP_F32 = {"lstm0.W", "lstm0.R"}
CALIB_EVERY = 26  # every 26th UTAU clip in sorted order: 51 clips, all 10 singers


def calibration_windows() -> np.ndarray:
    """[n, 160, 40] mel windows from the middle of UTAU clips (deterministic choice)."""
    with open(common.DATA_DIR / "manifest.csv", newline="") as f:
        paths = sorted(r["path"] for r in csv.DictReader(f) if r["dataset"] == "utau")
    wins = []
    for p in paths[::CALIB_EVERY]:
        m = common.mel(common.load_audio_16k(common.DATA_DIR / p))
        if len(m) >= common.WINDOW_FRAMES:
            start = (len(m) - common.WINDOW_FRAMES) // 2
            wins.append(m[start:start + common.WINDOW_FRAMES])
    return np.stack(wins)


def layer_inputs(encoder, windows: np.ndarray) -> dict:
    """What each weight matrix multiplies, as [n, in] float64, keyed by ONNX initializer name:
    lstmL.W sees layer L's input x_t, lstmL.R sees h_{t-1}, linear.W sees the last hidden state."""
    sd = encoder.state_dict()
    x, acts = torch.from_numpy(windows), {}
    with torch.no_grad():
        for layer in range(3):  # run resemblyzer's 3-layer LSTM one layer at a time
            lstm = torch.nn.LSTM(x.shape[-1], 256, 1, batch_first=True)
            lstm.load_state_dict({k[len("lstm."):].replace(f"_l{layer}", "_l0"): v
                                  for k, v in sd.items() if k.startswith("lstm.") and k.endswith(f"_l{layer}")})
            y, (h, _) = lstm(x)
            h_prev = torch.cat([torch.zeros_like(y[:, :1]), y[:, :-1]], dim=1)
            acts[f"lstm{layer}.W"] = x.reshape(-1, x.shape[-1]).double().numpy()
            acts[f"lstm{layer}.R"] = h_prev.reshape(-1, 256).double().numpy()
            x = y
    acts["linear.W"] = h[-1].double().numpy()
    return acts


def gptq(w: np.ndarray, x: np.ndarray, damp: float = 0.01):
    """w [rows, cols] ~= q * scale[:, None]; q int8 in [-127, 127], scale from the row's abs max."""
    w = w.astype(np.float64).copy()
    scale = np.abs(w).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    h = x.T @ x / len(x)
    h += damp * np.mean(np.diag(h)) * np.eye(len(h))  # dampening keeps H well conditioned
    u = np.linalg.cholesky(np.linalg.inv(h)).T  # upper Cholesky factor of H^-1
    q = np.zeros_like(w)
    for i in range(w.shape[1]):
        q[:, i] = np.clip(np.rint(w[:, i] / scale), -127, 127)
        err = (w[:, i] - q[:, i] * scale) / u[i, i]
        w[:, i + 1:] -= np.outer(err, u[i, i + 1:])  # compensate in the remaining columns
    return q.astype(np.int8), scale.astype(np.float32)


def main():
    src = common.MODELS_DIR / f"{SRC}.onnx"
    model = onnx.load(str(src))
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}

    # (initializer, channel axis): LSTM W [1,4H,in] / R [1,4H,H] per gate row (axis 1);
    # Gemm(transB=1) B [out,in] per output (axis 0).
    targets = []
    for node in graph.node:
        if node.op_type == "LSTM":
            targets += [(node.input[1], 1), (node.input[2], 1)]
        elif node.op_type == "Gemm":
            assert any(a.name == "transB" and a.i == 1 for a in node.attribute)
            targets.append((node.input[1], 0))

    acts = layer_inputs(common.load_encoder(), calibration_windows())
    dequant_nodes = []
    for name, axis in targets:
        if name in KEEP_F32:
            continue
        w = numpy_helper.to_array(inits[name])
        q, scale = gptq(w.reshape(-1, w.shape[-1]), acts[name])  # rows = output channels
        graph.initializer.remove(inits[name])
        graph.initializer.extend([
            numpy_helper.from_array(q.reshape(w.shape), f"{name}.q"),
            numpy_helper.from_array(scale, f"{name}.scale"),
            numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), f"{name}.zp"),
        ])
        # The DequantizeLinear output keeps the original name, so consumers need no rewiring.
        dequant_nodes.append(helper.make_node(
            "DequantizeLinear", [f"{name}.q", f"{name}.scale", f"{name}.zp"], [name],
            axis=axis, name=f"dequant.{name}"))
        print(f"  {name} {list(w.shape)}: int8, per-row scale on axis {axis}")

    # Dequantize first so the node list stays topologically sorted.
    nodes = dequant_nodes + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    model.producer_name = "singer-id models/quantize_int8.py"
    onnx.checker.check_model(model, full_check=True)
    out = common.MODELS_DIR / f"{NAME}.onnx"
    onnx.save(model, str(out))
    common.assert_plain_onnx(out)

    meta = common.write_metadata(
        out, NAME, "int8",
        "GE2E speaker encoder from resemblyzer 0.1.4 (3-layer LSTM), exported to ONNX; weights of "
        "LSTM layers 1-2 and the projection int8 (per-row symmetric, GPTQ rounding) via "
        "DequantizeLinear, layer 0 f32, compute f32")
    print(f"wrote {out} ({out.stat().st_size} bytes) and {meta.name}; {common.describe_onnx(out)}")


if __name__ == "__main__":
    main()
