"""The v2 voice head: a logistic regression on the model's own L2-normalised window embedding
that tells voice (sung or spoken, clean or over accompaniment) from accompaniment alone, so the
analyzer reads instrumental passages as `no voice` even when they are loud enough to pass its
energy gate (issue 8, item 4). The engine computes that embedding every hop anyway; the head is
192 weights, a bias and a probability threshold in the model's metadata (`voice_head`).

Labelled windows of `WINDOW_FRAMES` frames (1.5 s) at 16 kHz (a quarter of them shorter, down to
`MIN_FRAMES`, as at the start of a stream), embedded like the analyzer embeds a hop: frames under
the voice floor (-45 dBFS) at the window's edges are cut (keep_pauses), and a window with under
half its frames above the floor is left out (the energy gate already reads it as `no voice`).
- voice: sung clips of training identities (shared/data manifest, `utau` and `more/` sung rows,
  v2.heldout identities excluded), clean and over accompaniment at a vocal-to-accompaniment
  ratio drawn in -5..+20 dB (RMS over the window); LibriSpeech speech, clean and mixed.
- no voice: accompaniment alone at -40..0 dBFS RMS (the music/ tracks and v1's synthetic
  backing tracks), plus low noise and hum just above the voice floor.
Held apart for reporting: the Brahms Hungarian Dance (the only music under held-apart voices
and the only held-apart track), the v2.heldout singers, the LibriSpeech test-other speakers and
synthetic tracks of unseen seeds. The head is fitted on the rest; the threshold is the one that
maximises held-apart balanced accuracy while voice recall stays >= MIN_VOICE_RECALL.
gtsinger-dev and dev-songs are never read. Seeded and deterministic; the embeddings are cached
in .cache/v2/voice_head_windows.npz (delete it, or --rebuild, to embed again).
Usage (from models/): .venv/bin/python -m v2.voice_head [--rebuild] [--weights PT | --model JSON] [--out JSON]
(--weights: the head of an adapted variant, on that variant's embeddings; see v2.adapt.
--model: the head of an exported model on v1's frontend, i.e. v2's fast student, on its own
embeddings: the same windows, each cut to the model's last `window_frames` frames and embedded as
the analyzer embeds a hop of such a model; see v2/student.sh)
"""
import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402
from v1 import accompaniment  # noqa: E402
from v2 import fbank  # noqa: E402
from v2.export import WINDOW_FRAMES, load_encoder  # noqa: E402
from v2.heldout import is_heldout  # noqa: E402

SR = 16000
FRAME, HOP = 400, 160
WIN = (WINDOW_FRAMES - 1) * HOP + FRAME  # samples giving exactly WINDOW_FRAMES frames
VOICE_FLOOR_DB = -45.0  # analyzer.rs DEFAULT_VOICE_FLOOR_DB
MIN_VOICED_FRACTION = 0.5  # AnalyzerConfig::min_voiced_fraction
SILENCE_DB = -120.0
SHORT_FRACTION = 0.25  # windows shorter than the full window ...
MIN_FRAMES = 50  # ... down to this many frames (the first hop of a stream)
MIN_VOICE_RECALL = 0.97
SEED = 8
HELD_APART_TRACK = "Hungarian_Dance"
OUT = Path(__file__).resolve().parent / "voice_head.json"
CACHE = common.MODELS_DIR / ".cache" / "v2" / "voice_head_windows.npz"

# Windows per category: (train, held apart).
COUNTS = {
    "sung_clean": (700, 300),
    "sung_mix": (900, 400),
    "speech_clean": (250, 80),
    "speech_mix": (150, 80),
    "music": (750, 400),  # train: 3 tracks x 250; held apart: Brahms
    "synthetic": (600, 150),
    "noise": (150, 50),
}
VOICE_CATEGORIES = ("sung_clean", "sung_mix", "speech_clean", "speech_mix")


def db(x: float) -> float:
    return 10 ** (x / 20)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def frame_levels(x: np.ndarray) -> np.ndarray:
    """Per-frame RMS dBFS exactly as the Rust frontend frames the audio (400 samples, hop 160)."""
    n = (len(x) - FRAME) // HOP + 1
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    ms = np.mean(np.square(x[idx], dtype=np.float64), axis=1)
    with np.errstate(divide="ignore"):
        return np.maximum(np.where(ms > 0, 10 * np.log10(ms), SILENCE_DB), SILENCE_DB)


def passes_gate(x: np.ndarray) -> bool:
    return float(np.mean(frame_levels(x) >= VOICE_FLOOR_DB)) >= MIN_VOICED_FRACTION


def fit_peak(x: np.ndarray) -> np.ndarray:
    """Lowers the window if it would clip (like the dev mixes' peak normalisation)."""
    peak = float(np.max(np.abs(x)))
    return x * (0.99 / peak) if peak > 0.99 else x


def set_rms(x: np.ndarray, dbfs: float) -> np.ndarray:
    return x * (db(dbfs) / rms(x))


def window_of(y: np.ndarray, rng, n: int = WIN) -> np.ndarray:
    """A random n-sample excerpt of y (zero-padded at a random place when y is shorter)."""
    if len(y) >= n:
        s = int(rng.integers(0, len(y) - n + 1))
        return y[s:s + n].astype(np.float64)
    out = np.zeros(n)
    s = int(rng.integers(0, n - len(y) + 1))
    out[s:s + len(y)] = y
    return out


def window_length(rng) -> int:
    """Samples of one window: mostly the model's full window; sometimes fewer frames (down to
    MIN_FRAMES), as the analyzer embeds at the start of a stream and when it trims silent edges."""
    if rng.random() < SHORT_FRACTION:
        return (int(rng.integers(MIN_FRAMES, WINDOW_FRAMES)) - 1) * HOP + FRAME
    return WIN


class Audio:
    """Loads (and keeps) 16 kHz audio on first use."""

    def __init__(self):
        self.cache = {}

    def __call__(self, path: Path) -> np.ndarray:
        if path not in self.cache:
            self.cache[path] = common.load_audio_16k(path)
        return self.cache[path]


def voice_sources(also_train=()):
    """{split: {"sung"|"speech": {identity: [paths]}}} from the manifest. `also_train`: prefixes
    of v2.heldout identities to put in the training split instead (an experiment of v2.adapt)."""
    out = {s: {"sung": defaultdict(list), "speech": defaultdict(list)} for s in ("train", "held")}
    with open(common.DATA_DIR / "manifest.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            path, ident, ds = row["path"], row["identity"], row["dataset"]
            if path.startswith("gtsinger-dev/") or ds.startswith("gtsinger"):
                continue  # validation only
            if row["domain"] == "sung" and (ds == "utau" or path.startswith("more/")):
                held = is_heldout(ident) and not ident.startswith(tuple(also_train))
                out["held" if held else "train"]["sung"][ident].append(path)
            elif ds.startswith("librispeech"):
                out["held" if ds == "librispeech-test-other" else "train"]["speech"][ident].append(path)
    return {s: {d: {i: sorted(p) for i, p in sorted(v.items())} for d, v in dom.items()} for s, dom in out.items()}


def music_tracks():
    tracks = sorted((common.DATA_DIR / "music").glob("*.ogg"))
    held = [t for t in tracks if HELD_APART_TRACK in t.name]
    assert len(held) == 1 and len(tracks) == 4, tracks
    return [t for t in tracks if t not in held], held


def noise_window(rng, n: int) -> np.ndarray:
    kind = rng.choice(["white", "pink", "brown", "hum"])
    if kind == "hum":
        t = np.arange(n) / SR
        f0 = rng.choice([50.0, 60.0])
        x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 8))
        x = x + 0.1 * rng.standard_normal(n)
    else:
        w = rng.standard_normal(n)
        if kind == "white":
            x = w
        else:
            spec = np.fft.rfft(w)
            f = np.maximum(np.fft.rfftfreq(n, 1 / SR), 20.0)
            spec /= f ** (0.5 if kind == "pink" else 1.0)
            x = np.fft.irfft(spec, n)
    return set_rms(x, rng.uniform(VOICE_FLOOR_DB + 1, -25.0))  # just above the floor: passes the gate


def build_windows(split: str, rng, audio: Audio, log):
    """[(category, samples)] for one split."""
    k = 0 if split == "train" else 1
    voices = voice_sources()[split]
    train_tracks, held_tracks = music_tracks()
    tracks = [audio(t) for t in (train_tracks if split == "train" else held_tracks)]
    # Synthetic backing: 30-s renders, seeds 1000.. for training and 5000.. held apart.
    n_synth = 12 if split == "train" else 4
    synth = [accompaniment.render(30.0, (1000 if split == "train" else 5000) + i) for i in range(n_synth)]

    def accomp(rng, n):
        """An accompaniment window: a music track or a synthetic one (held apart: Brahms only)."""
        if split == "held" or rng.random() < 0.5:
            return window_of(tracks[int(rng.integers(len(tracks)))], rng, n)
        return window_of(synth[int(rng.integers(len(synth)))], rng, n)

    def voice_window(domain, rng, n):
        pool = voices[domain]
        idents = list(pool)
        for _ in range(20):
            ident = idents[int(rng.integers(len(idents)))]  # identity-balanced
            paths = pool[ident]
            y = audio(common.DATA_DIR / paths[int(rng.integers(len(paths)))])
            w = window_of(y, rng, n)
            if rms(w) < 1e-6:
                continue
            w = set_rms(w, rng.uniform(-32.0, -12.0))
            if passes_gate(w):  # the vocal alone would reach the model
                return w
        raise RuntimeError(f"no gated {domain} window found")

    out = []
    for cat, counts in COUNTS.items():
        n = counts[k]
        t0 = time.time()
        for i in range(n):
            length = window_length(rng)
            if cat.endswith("_clean"):
                x = voice_window(cat.split("_")[0], rng, length)
            elif cat.endswith("_mix"):
                v = voice_window(cat.split("_")[0], rng, length)
                a = accomp(rng, length)
                while rms(a) < 1e-4:
                    a = accomp(rng, length)
                var = rng.uniform(-5.0, 20.0)
                x = v + a * (rms(v) / rms(a)) / db(var)
                x = set_rms(x, rng.uniform(-30.0, -8.0))
            elif cat == "music":
                a = window_of(tracks[i % len(tracks)], rng, length)  # held apart: the Brahms alone
                x = set_rms(a, rng.uniform(-40.0, 0.0)) if rms(a) > 1e-6 else a
            elif cat == "synthetic":
                a = window_of(synth[i % len(synth)], rng, length)
                x = set_rms(a, rng.uniform(-40.0, 0.0))
            else:
                x = noise_window(rng, length)
            out.append((cat, fit_peak(x).astype(np.float32)))
        log(f"  {split} {cat}: {n} windows ({time.time() - t0:.1f} s)")
    return out


class V1FrontendEmbedder:
    """An exported model on v1's frontend (v2's fast student), embedding a window as the analyzer
    embeds one hop of it: the window's last `window_frames` frames, the energy gate over them,
    the frames under the voice floor left out (no `keep_pauses`), looped to a full window when
    fewer remain; onnxruntime on the f32 file. None when the gate reads the window as no voice."""

    def __init__(self, metadata: Path):
        from v1 import frontend as v1_frontend

        meta = json.loads(metadata.read_text())
        assert meta["frontend"] == v1_frontend.FRONTEND, f"{metadata}: not on v1's frontend"
        self.frames = meta["window_frames"]
        self.input = meta["input_name"]
        self.frontend = v1_frontend
        self.logmel = v1_frontend.LogMel()
        self.session = common.ort_session(metadata.parent / meta["onnx_file"])

    @torch.no_grad()
    def __call__(self, x: np.ndarray):
        x = x[-self.frontend.window_samples(self.frames):].astype(np.float32)
        mel = self.logmel(torch.from_numpy(x)[None])[0].numpy()
        voiced = self.frontend.frame_levels_db(x)[:len(mel)] >= VOICE_FLOOR_DB
        if len(mel) == 0 or voiced.mean() < MIN_VOICED_FRACTION:
            return None
        m = mel[voiced]
        m = m[np.arange(self.frames) % len(m)]
        e = self.session.run(None, {self.input: m[None].astype(np.float32)})[0][0].astype(np.float64)
        return e / np.linalg.norm(e)


@torch.no_grad()
def embed(encoder, x: np.ndarray):
    """The analyzer's embedding of one window: the voiced span's fbank through the encoder,
    L2-normalised; None when the energy gate reads the window as no voice."""
    levels = frame_levels(x)
    voiced = levels >= VOICE_FLOOR_DB
    if voiced.mean() < MIN_VOICED_FRACTION:
        return None
    first, last = int(np.argmax(voiced)), len(voiced) - 1 - int(np.argmax(voiced[::-1]))
    f = fbank.fbank(x)
    assert f.shape[0] == len(levels) <= WINDOW_FRAMES
    e = encoder(f[first:last + 1][None])[0].numpy().astype(np.float64)
    return e / np.linalg.norm(e)


def build(log, weights: Path | None, cache: Path, model: Path | None = None):
    rng = np.random.default_rng(SEED)
    audio = Audio()
    if model is not None:
        embed_window = V1FrontendEmbedder(model)
    else:
        encoder = load_encoder(weights)
        embed_window = lambda x: embed(encoder, x)  # noqa: E731
    data = {}
    for split in ("train", "held"):
        windows = build_windows(split, rng, audio, log)
        t0 = time.time()
        X, cats, gated = [], [], defaultdict(int)
        for cat, x in windows:
            e = embed_window(x)
            if e is None:
                gated[cat] += 1
                continue
            X.append(e)
            cats.append(cat)
        log(f"  {split}: embedded {len(X)} windows in {time.time() - t0:.0f} s; energy-gated (left out): "
            f"{dict(gated) or 'none'}")
        data[f"{split}_X"] = np.array(X, dtype=np.float32)
        data[f"{split}_cat"] = np.array(cats)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **data)
    return data


def metrics(p, y, cats, threshold):
    pred = p >= threshold
    tp = int(np.sum(pred & y))
    tn = int(np.sum(~pred & ~y))
    fp = int(np.sum(pred & ~y))
    fn = int(np.sum(~pred & y))
    recall, specificity = tp / max(tp + fn, 1), tn / max(tn + fp, 1)
    per_cat = {c: round(float(np.mean(pred[cats == c] == y[cats == c])), 4) for c in COUNTS if np.any(cats == c)}
    return {
        "windows": int(len(y)),
        "accuracy": round(float(np.mean(pred == y)), 4),
        "balanced_accuracy": round((recall + specificity) / 2, 4),
        "voice_recall": round(recall, 4),
        "no_voice_recall": round(specificity, 4),
        "confusion": {"voice_as_voice": tp, "voice_as_no_voice": fn, "no_voice_as_voice": fp,
                      "no_voice_as_no_voice": tn},
        "accuracy_by_category": per_cat,
    }


def pick_threshold(p, y):
    """Best balanced accuracy with voice recall >= MIN_VOICE_RECALL (ties: the lower threshold)."""
    best = None
    for t in np.unique(np.round(p, 4)):
        if not 0.0 < t < 1.0:
            continue
        pred = p >= t
        recall = np.mean(pred[y])
        if recall < MIN_VOICE_RECALL:
            continue
        bal = (recall + np.mean(~pred[~y])) / 2
        if best is None or bal > best[0] + 1e-12:
            best = (bal, float(t))
    return best[1] if best else 0.5


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rebuild", action="store_true", help="embed the windows again even if cached")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--weights", type=Path, help="a fine-tuned CAM++ (v2.adapt) instead of the pretrained one")
    which.add_argument("--model", type=Path, metavar="JSON",
                       help="an exported model on v1's frontend (v2's fast student), by its metadata")
    ap.add_argument("--out", type=Path, default=OUT, help=f"head to write (default {OUT.name})")
    args = ap.parse_args()
    source = args.model or args.weights
    cache = CACHE if source is None else CACHE.with_name(f"voice_head_windows_{source.stem}.npz")
    torch.set_num_threads(1)
    from sklearn.linear_model import LogisticRegression

    if cache.exists() and not args.rebuild:
        print(f"windows: cached {cache}")
        data = dict(np.load(cache))
    else:
        print("windows: building and embedding")
        data = build(print, args.weights, cache, args.model)
    Xtr, ctr = data["train_X"].astype(np.float64), data["train_cat"]
    Xho, cho = data["held_X"].astype(np.float64), data["held_cat"]
    ytr, yho = np.isin(ctr, VOICE_CATEGORIES), np.isin(cho, VOICE_CATEGORIES)

    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)
    clf.fit(Xtr, ytr)
    w, b = clf.coef_[0].astype(np.float32), np.float32(clf.intercept_[0])

    def prob(X):  # exactly what the engine computes (f32 weights)
        z = X.astype(np.float32) @ w + b
        return 1.0 / (1.0 + np.exp(-z.astype(np.float64)))

    p_tr, p_ho = prob(Xtr), prob(Xho)
    threshold = pick_threshold(p_ho, yho)
    train_m = metrics(p_tr, ytr, ctr, threshold)
    held_m = metrics(p_ho, yho, cho, threshold)
    held_at_half = metrics(p_ho, yho, cho, 0.5)
    print(f"threshold {threshold:.4f} (best held-apart balanced accuracy with voice recall >= {MIN_VOICE_RECALL})")
    print("train:", json.dumps(train_m))
    print("held apart:", json.dumps(held_m, indent=2))
    print("held apart at threshold 0.5:", json.dumps(held_at_half))

    counts = {s: {c: int(np.sum(cats == c)) for c in COUNTS} for s, cats in (("train", ctr), ("held", cho))}
    encoder_name = "pretrained CAM++" if args.weights is None else f"CAM++ adapted by v2.adapt ({args.weights.stem})"
    frames = f"{WINDOW_FRAMES} frames; {SHORT_FRACTION:.0%} of them {MIN_FRAMES}-{WINDOW_FRAMES - 1}"
    if args.model is not None:
        meta = json.loads(args.model.read_text())
        encoder_name = f"{meta['name']} (v1 frontend)"
        frames = f"the last {meta['window_frames']} frames of {WINDOW_FRAMES}-frame windows, {SHORT_FRACTION:.0%} shorter"
    out = {
        "weights": [round(float(v), 7) for v in w],
        "bias": round(float(b), 7),
        "threshold": round(threshold, 4),
        "trained_on": (
            f"logistic regression (C=1, balanced) on {encoder_name} L2-normalised window embeddings "
            f"({frames}), seed {SEED}: "
            f"{int(ytr.sum())} voice windows (training-identity singing from utau + more/ without the v2.heldout "
            f"singers, clean and over accompaniment at -5..+20 dB; LibriSpeech "
            f"train-clean-100 speech, clean and mixed) vs {int((~ytr).sum())} no-voice windows (3 music/ tracks "
            f"without the Brahms, v1 synthetic backing tracks, at -40..0 dBFS; low noise and hum). "
            f"Threshold: best held-apart balanced accuracy with voice recall >= {MIN_VOICE_RECALL}."),
        "held_apart": {
            "set": "v2.heldout singers (clean and over the Brahms Hungarian Dance), LibriSpeech test-other speakers, "
                   "the Brahms alone, synthetic tracks of unseen seeds, noise",
            **held_m,
            "at_threshold_0.5": {k: held_at_half[k] for k in ("accuracy", "balanced_accuracy", "voice_recall",
                                                              "no_voice_recall")},
        },
        "windows": counts,
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
