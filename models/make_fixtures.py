"""Golden fixtures for the Rust tests, in tests/fixtures/ (see tests/fixtures/README.md).

- v0_clip.wav              3.0 s, 16 kHz mono PCM16, a sung UTAU clip (public domain)
- v0_clip_mel.json         frontend output for exactly those int16 samples (/32768)
- v0_clip_embedding.json   embedding of its first 160 frames: torch, ORT f32, ORT int8
- v0_ort_random_input.json a fixed random 160x40 input and both models' ORT outputs
Usage: models/.venv/bin/python models/make_fixtures.py (after export_v0.py, quantize_int8.py)
"""
import numpy as np
import soundfile as sf

import common

CLIP = "utau/imagawa-yuki/UTAU-Yuki__root-F4__aaiau.ogg"  # Public Domain License v3.2
SECONDS = 3.0
ONSET_MARGIN = 0.1  # seconds after the detected onset, so even the first frame is voiced


def fmt(v) -> str:
    """Shortest text that parses back to the same f32 (<= 9 significant digits, usually ~8)."""
    v = np.float32(v)
    assert np.isfinite(v)
    return str(v)


def write_json(path, obj: dict):
    """Compact but diffable JSON: one line per vector, one row per line for matrices."""
    def value(v):
        if isinstance(v, np.ndarray):
            if v.ndim == 1:
                return "[" + ",".join(fmt(x) for x in v) + "]"
            return "[\n    " + ",\n    ".join(value(r) for r in v) + "\n  ]"
        return str(v)
    body = ",\n".join(f'  "{k}": {value(v)}' for k, v in obj.items())
    path.write_text("{\n" + body + "\n}\n")
    print(f"wrote {path.relative_to(common.REPO_DIR)} ({path.stat().st_size} bytes)")


def voiced_onset(y: np.ndarray, sr: int) -> int:
    """First 10 ms step where the 100 ms RMS comes within 20 dB of the clip's loudest."""
    win, hop = sr // 10, sr // 100
    rms = np.array([np.sqrt(np.mean(y[i:i + win] ** 2)) for i in range(0, len(y) - win, hop)])
    return int(np.argmax(rms > rms.max() * 0.1)) * hop


def main():
    out = common.FIXTURES_DIR
    out.mkdir(parents=True, exist_ok=True)
    sr = common.FRONTEND["sample_rate"]
    n = int(SECONDS * sr)

    # 1. The clip: resample to 16 kHz, start at the voiced onset, quantize to int16 ourselves
    #    (scale 32768, like the reader below) so the wav holds exactly the samples we analyse.
    y = common.load_audio_16k(common.DATA_DIR / CLIP)
    start = voiced_onset(y, sr) + int(ONSET_MARGIN * sr)
    seg = y[start:start + n]
    assert len(seg) == n, "clip too short after the onset"
    pcm = np.clip(np.rint(seg.astype(np.float64) * 32768), -32768, 32767).astype(np.int16)
    wav = out / "v0_clip.wav"
    sf.write(str(wav), pcm, sr, subtype="PCM_16")
    back, back_sr = sf.read(str(wav), dtype="int16")
    assert back_sr == sr and np.array_equal(back, pcm)
    print(f"wrote {wav.relative_to(common.REPO_DIR)} ({wav.stat().st_size} bytes): {CLIP} "
          f"from {start / sr:.2f} s")

    # 2. Mel of the samples as a reader sees them: float32 = int16 / 32768.
    mels = common.mel(back.astype(np.float32) / 32768.0)
    write_json(out / "v0_clip_mel.json", {"n_frames": len(mels), "n_mels": mels.shape[1], "mel": mels})

    # 3. Embeddings of the first window: resemblyzer's torch forward and both ONNX models.
    encoder = common.load_encoder()
    f32 = common.ort_session(common.MODELS_DIR / "v0-ge2e-f32.onnx")
    i8 = common.ort_session(common.MODELS_DIR / "v0-ge2e-int8.onnx")
    win = mels[:common.WINDOW_FRAMES]
    emb = {"torch": common.torch_embed(encoder, win), "ort_f32": common.ort_embed(f32, win),
           "ort_int8": common.ort_embed(i8, win)}
    write_json(out / "v0_clip_embedding.json", {**emb, "input_frames": common.WINDOW_FRAMES})
    print(f"  cosine torch/ort_f32 {common.cosine(emb['torch'], emb['ort_f32']):.9f}, "
          f"ort_f32/ort_int8 {common.cosine(emb['ort_f32'], emb['ort_int8']):.6f}")

    # 4. Random input for tract-vs-onnxruntime: |N(0,1)| * 0.5 (mel-like magnitudes), rounded to
    #    3 decimals to keep the file small; the model sees exactly the f32 of that text.
    rng = np.random.default_rng(0)
    x = np.round(np.abs(rng.standard_normal((common.WINDOW_FRAMES, 40))) * 0.5, 3).astype(np.float32)
    write_json(out / "v0_ort_random_input.json", {
        "seed": 0, "input": x, "ort_f32": common.ort_embed(f32, x), "ort_int8": common.ort_embed(i8, x),
        "torch": common.torch_embed(encoder, x)})
    total = sum(p.stat().st_size for p in out.glob("v0_*"))
    print(f"fixtures total {total} bytes")


if __name__ == "__main__":
    main()
