"""Shared helpers for the model-v0 tooling (export, quantization, fixtures, checks).

The frontend here is the reference for the Rust one: see docs/model-format.md.
"""
import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent
REPO_DIR = MODELS_DIR.parent
FIXTURES_DIR = REPO_DIR / "tests" / "fixtures"
# shared/ sits beside the repository checkout (/work/shared next to /work/main).
DATA_DIR = Path(os.environ.get("SINGER_ID_DATA", REPO_DIR.parent / "shared" / "data"))

EMBEDDING_SPACE = "resemblyzer-ge2e-0.1.4"
WINDOW_FRAMES = 160
EMBEDDING_SIZE = 256
# Written into the metadata as a placeholder; export.sh then replaces it with the threshold at
# the equal error rate on training singers (`singer-id calibrate calibration.csv --segment 1`).
DEFAULT_THRESHOLD = 0.75
# resemblyzer's preprocess_wav raises every utterance to -30 dBFS (never lowers it) before the
# encoder sees it; the Rust model runner applies the same per window (docs/model-format.md).
INPUT_LEVEL = {"target_dbfs": -30.0, "increase_only": True}
# sha256 of resemblyzer-0.1.4's resemblyzer/pretrained.pt: the export refuses other weights.
PRETRAINED_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"

# Exactly the "frontend" block of docs/model-format.md; mel() below implements it.
FRONTEND = {
    "sample_rate": 16000,
    "n_fft": 400,
    "win_length": 400,
    "hop_length": 160,
    "window": "hann",
    "n_mels": 40,
    "fmin": 0.0,
    "fmax": 8000.0,
    "mel_scale": "slaney",
    "mel_norm": "slaney",
    "power": 2.0,
    "log": "none",
    "log_floor": 1e-10,
}


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def mel(y: np.ndarray) -> np.ndarray:
    """Linear power mel spectrogram, [n_frames, n_mels] float32.

    center=False: frame t covers samples [t*hop, t*hop + n_fft), so the Rust side can stream.
    Computed in float64 (the filterbank itself is librosa's default float32) then cast.
    """
    import librosa

    f = FRONTEND
    m = librosa.feature.melspectrogram(
        y=np.asarray(y, dtype=np.float64), sr=f["sample_rate"], n_fft=f["n_fft"],
        hop_length=f["hop_length"], win_length=f["win_length"], window=f["window"],
        center=False, n_mels=f["n_mels"], fmin=f["fmin"], fmax=f["fmax"],
        htk=f["mel_scale"] == "htk", norm="slaney", power=f["power"])
    return m.T.astype(np.float32)


def load_audio_16k(path) -> np.ndarray:
    """Mono float32 at 16 kHz (soxr resampling, librosa's default)."""
    import librosa
    import soundfile as sf

    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != FRONTEND["sample_rate"]:
        y = librosa.resample(y, orig_sr=sr, target_sr=FRONTEND["sample_rate"], res_type="soxr_hq")
    return y.astype(np.float32)


def load_encoder():
    """resemblyzer's own VoiceEncoder on CPU, after checking its weights are the known ones."""
    from pathlib import Path as _P

    import resemblyzer
    import torch
    from resemblyzer import VoiceEncoder

    torch.set_num_threads(1)  # same float summation order on every machine and run

    weights = _P(resemblyzer.__file__).parent / "pretrained.pt"
    got = sha256_file(weights)
    if got != PRETRAINED_SHA256:
        raise SystemExit(f"unexpected {weights} (sha256 {got}); is resemblyzer==0.1.4 installed?")
    with warnings.catch_warnings():  # torch>=2.4 warns about torch.load(weights_only=False)
        warnings.simplefilter("ignore", FutureWarning)
        return VoiceEncoder("cpu", verbose=False).eval()


def torch_embed(encoder, mels: np.ndarray) -> np.ndarray:
    """VoiceEncoder.forward on one [160, 40] window -> [256] float32."""
    import torch

    with torch.no_grad():
        return encoder(torch.from_numpy(np.ascontiguousarray(mels[None], dtype=np.float32)))[0].numpy()


def ort_session(onnx_path, profile_prefix: str | None = None, threads: int = 1):
    """An onnxruntime CPU session, on one thread unless told (batched work may use both cores);
    with `profile_prefix`, one that writes a per-node timing trace (`session.end_profiling()`
    returns its path)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads  # 1: deterministic, and the machine has 2 cores anyway
    if profile_prefix is not None:
        opts.enable_profiling = True
        opts.profile_file_prefix = profile_prefix
    return ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])


def ort_embed(session, mels: np.ndarray) -> np.ndarray:
    out = session.run(["embedding"], {"mels": np.ascontiguousarray(mels[None], dtype=np.float32)})
    return out[0][0]


def cosine(a, b) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def write_metadata(onnx_path: Path, name: str, precision: str, description: str) -> Path:
    """<name>.json beside the ONNX file, keys in the order of docs/model-format.md."""
    meta = {
        "format_version": 1,
        "name": name,
        "embedding_space": EMBEDDING_SPACE,
        "version": "0.1.0",
        "description": description,
        "license": "Apache-2.0",
        "source": "resemblyzer 0.1.4 wheel, resemblyzer/pretrained.pt",
        "precision": precision,
        "onnx_file": onnx_path.name,
        "onnx_sha256": sha256_file(onnx_path),
        "input_name": "mels",
        "output_name": "embedding",
        "window_frames": WINDOW_FRAMES,
        "embedding_size": EMBEDDING_SIZE,
        "default_threshold": DEFAULT_THRESHOLD,
        "frontend": FRONTEND,
        "input_level": INPUT_LEVEL,
    }
    path = onnx_path.with_suffix(".json")
    path.write_text(json.dumps(meta, indent=2) + "\n")
    return path


def describe_onnx(onnx_path) -> str:
    """One line: opsets, op types, and the domains used (all must be the default one)."""
    import onnx

    m = onnx.load(str(onnx_path))
    ops = sorted({n.op_type for n in m.graph.node})
    domains = sorted({n.domain or "ai.onnx" for n in m.graph.node})
    opsets = {o.domain or "ai.onnx": o.version for o in m.opset_import}
    return f"opset={opsets} ir={m.ir_version} domains={domains} ops={ops}"


def assert_plain_onnx(onnx_path):
    """tract can load only standard ONNX ops: refuse any com.microsoft (or other) domain."""
    import onnx

    m = onnx.load(str(onnx_path))
    bad = {n.domain for n in m.graph.node if n.domain not in ("", "ai.onnx")}
    bad |= {o.domain for o in m.opset_import if o.domain not in ("", "ai.onnx")}
    if bad:
        raise SystemExit(f"{onnx_path}: non-standard ONNX domains {sorted(bad)}")
