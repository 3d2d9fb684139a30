"""Weight-only int8 variant: models/v0-ge2e-f32.onnx -> models/v0-ge2e-int8.onnx (+ .json).

Each quantized weight is stored as int8 with one symmetric scale per output row and fed through
a standard DequantizeLinear (opset 13, per-axis) into the unchanged f32 op: compute stays f32,
only the file shrinks. Why not onnxruntime.quantization: it emits com.microsoft ops
(DynamicQuantizeLSTM, QGemm...) or QDQ patterns that tract cannot load or mis-optimises; this
graph uses only plain ONNX ops, and tract folds the dequantization at load.

Plain rounding of every weight is far off (min cosine to f32 ~0.73 on dev singing), because:
- Layer 0 sees the *linear* power mel (values up to ~1e2): 8-bit lstm0.W alone drops the
  cosine to ~0.74, lstm0.R alone to ~0.995. Layer 0 stays f32 (0.3M of the 1.4M weights).
- Recurrent weights feed back every frame; lstm1.R is the most sensitive of the rest and stays
  f32 too (with it int8: clip-level cosine 0.993 on one dev clip instead of >= 0.9992).
- The rest (lstm1.W, lstm2.W, lstm2.R, linear.W) is rounded with GPTQ (Frantar et al. 2022):
  columns are quantized one at a time and each rounding error is pushed onto the columns not yet
  quantized, weighted by the inverse Hessian H = E[x x^T] of that matrix's real inputs. This
  halves the mean error of plain rounding. Calibration inputs come from UTAU clips (training
  data; the dev set only checks the result, in check_v0.py).
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
KEEP_F32 = {"lstm0.W", "lstm0.R", "lstm1.R"}
CALIB_EVERY = 26  # every 26th UTAU clip in sorted order: 51 clips of all 10 singers


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
        "GE2E speaker encoder from resemblyzer 0.1.4 (3-layer LSTM), exported to ONNX; "
        "int8 weights (per-row symmetric, GPTQ rounding, via DequantizeLinear) for lstm1.W, "
        "lstm2.W, lstm2.R and the projection, f32 for the rest; compute f32")
    print(f"wrote {out} ({out.stat().st_size} bytes) and {meta.name}; {common.describe_onnx(out)}")


if __name__ == "__main__":
    main()
