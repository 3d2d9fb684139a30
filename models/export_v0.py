"""Export resemblyzer 0.1.4's VoiceEncoder to models/v0-ge2e-f32.onnx (+ .json).

The graph is written directly with onnx.helper from the state dict instead of torch.onnx.export:
it is short, has no exporter-version quirks, and yields exactly the ops tract supports:

  mels [1,160,40] -Transpose-> [160,1,40] -LSTM-> -LSTM-> -LSTM(Y_h)-> [1,256]
  -Gemm(linear)-> Relu -> x / ReduceL2(x)  = embedding [1,256]

which is VoiceEncoder.forward: relu(linear(hidden[-1])) / ||.||.
Usage: models/.venv/bin/python models/export_v0.py
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import common

OPSET = 13  # LSTM-7, Squeeze-13 (axes as input), ReduceL2-13 (axes attribute): all in tract 0.23.9
IR_VERSION = 7  # the IR version that goes with opset 13
HIDDEN = 256
NAME = "v0-ge2e-f32"


def torch_to_onnx_gates(w: np.ndarray) -> np.ndarray:
    """Reorder the 4 gate blocks along axis 0: torch is (i, f, g, o), ONNX LSTM is (i, o, f, c)."""
    i, f, g, o = np.split(w, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def build_model(sd: dict) -> onnx.ModelProto:
    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in sd.items()}
    inits, nodes = [], []

    def init(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    # torch batch_first [1, T, 40] -> ONNX LSTM layout 0 [T, batch=1, 40]
    # (explicit Transpose rather than the opset-14 `layout` attribute: older and more widely supported).
    nodes.append(helper.make_node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2], name="to_time_major"))
    squeeze_dir = init("axes_1", np.array([1], dtype=np.int64))
    x = "x0"
    for layer in range(3):
        w = init(f"lstm{layer}.W", torch_to_onnx_gates(sd[f"lstm.weight_ih_l{layer}"])[None])  # [1,4H,in]
        r = init(f"lstm{layer}.R", torch_to_onnx_gates(sd[f"lstm.weight_hh_l{layer}"])[None])  # [1,4H,H]
        b = np.concatenate([torch_to_onnx_gates(sd[f"lstm.bias_ih_l{layer}"]),
                            torch_to_onnx_gates(sd[f"lstm.bias_hh_l{layer}"])])[None]  # [1,8H]
        b = init(f"lstm{layer}.B", b)
        last = layer == 2
        # Outputs: Y [T,1,1,H] feeds the next layer; the last layer only needs Y_h [1,1,H].
        outs = ["", f"h{layer}"] if last else [f"y{layer}"]
        nodes.append(helper.make_node("LSTM", [x, w, r, b], outs, hidden_size=HIDDEN,
                                      direction="forward", name=f"lstm{layer}"))
        if not last:
            x = f"x{layer + 1}"
            nodes.append(helper.make_node("Squeeze", [f"y{layer}", squeeze_dir], [x],
                                          name=f"squeeze_dir{layer}"))
    # hidden[-1]: Y_h [num_directions=1, batch=1, H] -> [1, H]
    nodes.append(helper.make_node("Squeeze", ["h2", init("axes_0", np.array([0], dtype=np.int64))],
                                  ["hidden"], name="squeeze_hidden"))
    # nn.Linear: y = x W^T + b  ==  Gemm(transB=1) with W as stored by torch ([out, in]).
    nodes.append(helper.make_node("Gemm", ["hidden", init("linear.W", sd["linear.weight"]),
                                           init("linear.b", sd["linear.bias"])], ["lin"],
                                  transB=1, name="linear"))
    nodes.append(helper.make_node("Relu", ["lin"], ["raw"], name="relu"))
    nodes.append(helper.make_node("ReduceL2", ["raw"], ["norm"], axes=[1], keepdims=1, name="l2"))
    nodes.append(helper.make_node("Div", ["raw", "norm"], ["embedding"], name="normalize"))

    graph = helper.make_graph(
        nodes, "ge2e_voice_encoder",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, [1, common.WINDOW_FRAMES, 40])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, common.EMBEDDING_SIZE])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="singer-id models/export_v0.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    encoder = common.load_encoder()
    model = build_model(encoder.state_dict())
    out = common.MODELS_DIR / f"{NAME}.onnx"
    onnx.save(model, str(out))
    common.assert_plain_onnx(out)

    # Sanity check before anything else uses it: ONNX Runtime vs resemblyzer's torch forward.
    sess = common.ort_session(out)
    rng = np.random.default_rng(123)
    worst, maxdiff = 1.0, 0.0
    for _ in range(4):
        mels = (np.abs(rng.standard_normal((common.WINDOW_FRAMES, 40))) * 0.5).astype(np.float32)
        a, b = common.torch_embed(encoder, mels), common.ort_embed(sess, mels)
        worst, maxdiff = min(worst, common.cosine(a, b)), max(maxdiff, float(np.abs(a - b).max()))
    print(f"{out.name}: torch vs onnxruntime on random inputs: min cosine {worst:.9f}, "
          f"max |diff| {maxdiff:.2e}")
    if worst < 0.99999:
        raise SystemExit("ONNX export does not match torch")

    meta = common.write_metadata(
        out, NAME, "f32",
        "GE2E speaker encoder from resemblyzer 0.1.4 (3-layer LSTM), exported to ONNX")
    print(f"wrote {out} ({out.stat().st_size} bytes) and {meta.name}; {common.describe_onnx(out)}")


if __name__ == "__main__":
    main()
