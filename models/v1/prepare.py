"""Builds the v1 training cache in models/.cache/v1/ from shared/data (training folders only):

- every utau/ and speech/ clip at 16 kHz with its unvoiced frames removed (the analyzer's
  -45 dBFS frame gate, as the network will only ever see voiced frames);
- a sung version of every speech clip (WORLD, v1/sing.py): same speaker identity;
- model v0's window embeddings of every clip (the distillation targets);
- accompaniment: shared/data/music + synthetic (v1/accompaniment.py).

The fast student of model v2 (models/v2/student.sh) is v1's recipe with two changes, both
options here: `--teacher v2` takes the targets from the shipped v2 (`v2-campp-f32.onnx`,
onnxruntime) instead of v0, and `--more` adds the `more/` training rows: its 23 speakers and
the 8 of its 37 singers that v2.heldout does not keep back (those 29 calibrate v2's thresholds).
`--cache` keeps that cache apart from v1's.

gtsinger-dev is never read here. Deterministic (fixed seeds). ~10 min on 2 cores.
Usage (from models/): .venv/bin/python -m v1.prepare [--manifest EXTRA.csv ...] [--teacher v2 --more --cache DIR]
"""
import argparse
import csv
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402
from v1 import accompaniment, frontend, sing  # noqa: E402

CACHE = common.MODELS_DIR / ".cache" / "v1"
TRAIN_DATASETS = ("utau", "librispeech-test-other", "librispeech-train-clean-100")
TEACHER_STEP = 24  # v0 frames between teacher windows (0.24 s)
TEACHER_WINDOW = {"v0": 160, "v2": 150}  # frames per teacher window (both frontends hop 10 ms)
V2_TEACHER_STEP = 50  # v2 frames between teacher windows (0.5 s, the analyzer's hop)
V2_TEACHER = common.MODELS_DIR / "v2-campp-f32.onnx"
CROSSFADE = 64  # samples between joined voiced runs
SYNTH_SECONDS = 600.0


def voiced_only(y: np.ndarray) -> np.ndarray:
    """The clip with frames under the voice floor removed (runs of >= 10 frames, joined with
    short crossfades so no click is created)."""
    f = frontend.FRONTEND
    levels = frontend.frame_levels_db(y)
    if len(levels) == 0:
        return np.zeros(0, dtype=np.float32)
    voiced = levels >= frontend.VOICE_FLOOR_DB
    # Keep each voiced frame's neighbours too: closes gaps of up to 2 frames, so a run is not
    # cut at every short dip, and keeps the soft edges of notes.
    voiced = np.convolve(voiced.astype(int), np.ones(3, dtype=int), mode="same") > 0
    runs, start = [], None
    for i, v in enumerate(np.append(voiced, False)):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start >= 10:
                # The span runs to the end of the last voiced frame, so two runs separated by a
                # short gap can share a few ms of audio; the crossfade below blends them.
                runs.append((start * f["hop_length"], (i - 1) * f["hop_length"] + f["n_fft"]))
            start = None
    out = np.zeros(0, dtype=np.float32)
    ramp = np.linspace(0, 1, CROSSFADE, dtype=np.float32)
    for a, b in runs:
        piece = y[a:b]
        if len(out) >= CROSSFADE and len(piece) >= CROSSFADE:
            out[-CROSSFADE:] = out[-CROSSFADE:] * (1 - ramp) + piece[:CROSSFADE] * ramp
            piece = piece[CROSSFADE:]
        out = np.concatenate([out, piece])
    return out


def load_row(path):
    y = common.load_audio_16k(common.DATA_DIR / path)
    return voiced_only(y)


def sing_row(args):
    y, seed = args
    return voiced_only(sing.sing(y, frontend.FRONTEND["sample_rate"], np.random.default_rng(seed)))


def teacher_windows(encoder, y: np.ndarray) -> np.ndarray:
    """v0's embeddings of 160-frame windows every TEACHER_STEP frames ([n, 256]); short clips
    are looped to one window, as the Rust runner does. Each window is raised to -30 dBFS
    (never lowered), v0's input level."""
    import torch

    mels = common.mel(y)
    level = frontend.frame_levels_db(y, common.FRONTEND["n_fft"], common.FRONTEND["hop_length"])[:len(mels)]
    w = common.WINDOW_FRAMES
    if len(mels) < w:
        idx = np.arange(w) % len(mels)
        mels, level = mels[idx], level[idx]
    starts = list(range(0, len(mels) - w + 1, TEACHER_STEP))
    batch = np.stack([mels[s:s + w] for s in starts])
    for i, s in enumerate(starts):
        mean_db = 10 * np.log10(np.mean(10 ** (level[s:s + w] / 10)) + 1e-30)
        batch[i] *= 10 ** (max(0.0, -30.0 - mean_db) / 10)
    with torch.no_grad():
        return encoder(torch.from_numpy(batch.astype(np.float32))).numpy()


class V2Teacher:
    """The shipped v2's embeddings of 150-frame windows every V2_TEACHER_STEP frames ([n, 192]),
    computed as the engine computes a hop: Kaldi fbank of the window, mean normalisation inside
    the graph. Short clips are looped to one window."""

    def __init__(self):
        from v2 import fbank

        self.session = common.ort_session(V2_TEACHER, threads=2)  # batches of windows: both cores
        self.fbank = fbank.fbank

    def __call__(self, y: np.ndarray) -> np.ndarray:
        feats = self.fbank(y).numpy()
        w = TEACHER_WINDOW["v2"]
        if len(feats) < w:
            feats = feats[np.arange(w) % len(feats)]
        starts = list(range(0, len(feats) - w + 1, V2_TEACHER_STEP))
        out = []
        for k in range(0, len(starts), 64):
            batch = np.stack([feats[s:s + w] for s in starts[k:k + 64]]).astype(np.float32)
            out.append(self.session.run(None, {"mels": batch})[0])
        e = np.concatenate(out)
        return e / np.linalg.norm(e, axis=1, keepdims=True)


def read_rows(extra_manifests, more: bool = False) -> list[dict]:
    """Training rows {path, identity, domain}: the training folders of shared/data/manifest.csv,
    plus any manifest in the eval-protocol format (`path,singer,group,role`, paths relative to
    the manifest; optional `domain` column, `sung` or `speech`, default `sung`). That is how
    another singing dataset (VocalSet, NUS-48E, M4Singer, ...) joins training."""
    from v2.heldout import is_heldout

    def wanted(r) -> bool:
        if is_heldout(r["identity"]):
            return False
        return r["dataset"] in TRAIN_DATASETS or (more and r["path"].startswith("more/"))

    with open(common.DATA_DIR / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = [{"path": r["path"], "identity": r["identity"], "domain": r["domain"]}
                for r in csv.DictReader(fh) if wanted(r)]
    for manifest in extra_manifests:
        manifest = Path(manifest).resolve()
        with open(manifest, newline="", encoding="utf-8") as fh:
            for n, r in enumerate(csv.DictReader(fh), start=2):
                if not r.get("path") or not r.get("singer"):
                    raise SystemExit(f"{manifest}:{n}: need non-empty 'path' and 'singer' columns")
                path = manifest.parent / r["path"]
                if not path.is_file():
                    raise SystemExit(f"{manifest}:{n}: no such audio file {path}")
                if "gtsinger-dev" in path.parts:
                    raise SystemExit(f"{manifest}:{n}: gtsinger-dev is for validation only, never training")
                domain = r.get("domain") or "sung"
                if domain not in ("sung", "speech"):
                    raise SystemExit(f"{manifest}:{n}: domain must be 'sung' or 'speech', not {domain!r}")
                rows.append({"path": str(path), "identity": r["singer"], "domain": domain})
    rows.sort(key=lambda r: r["path"])
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", action="append", default=[], metavar="CSV",
                    help="extra training manifest (path,singer,group,role[,domain]); repeatable")
    ap.add_argument("--teacher", choices=("v0", "v2"), default="v0", help="model whose embeddings are the distillation targets")
    ap.add_argument("--more", action="store_true", help="also train on more/ (without the v2.heldout singers)")
    ap.add_argument("--cache", type=Path, default=CACHE, help=f"output folder (default {CACHE})")
    args = ap.parse_args()
    t0 = time.time()
    cache = args.cache
    cache.mkdir(parents=True, exist_ok=True)
    rows = read_rows(args.manifest, args.more)
    identities = sorted({r["identity"] for r in rows})
    ident_index = {name: i for i, name in enumerate(identities)}
    print(f"[prepare] {len(rows)} clips, {len(identities)} identities", flush=True)

    with ProcessPoolExecutor(2) as pool:
        waves = list(pool.map(load_row, [r["path"] for r in rows], chunksize=8))
        speech = [i for i, r in enumerate(rows) if r["domain"] == "speech"]
        sung = list(pool.map(sing_row, [(waves[i], 1000 + i) for i in speech], chunksize=4))
    print(f"[prepare] decoded + voiced-trimmed + WORLD-sung in {time.time() - t0:.0f} s", flush=True)

    import torch

    if args.teacher == "v2":
        targets_of = V2Teacher()
    else:
        encoder = common.load_encoder()
        torch.set_num_threads(2)  # load_encoder pins 1 thread; the targets are batched, use both cores
        targets_of = lambda y: teacher_windows(encoder, y)  # noqa: E731
    clips, audio, teacher = [], [], []
    offset = t_off = 0
    min_length = frontend.FRONTEND["n_fft"] * 4  # shorter clips (after the voice gate) are dropped

    def add(y, row, kind, targets):
        nonlocal offset, t_off
        clips.append({"identity": ident_index[row["identity"]], "kind": kind, "start": offset, "length": len(y),
                      "teacher_start": t_off, "teacher_count": len(targets), "path": row["path"]})
        audio.append(y)
        teacher.append(targets)
        offset += len(y)
        t_off += len(targets)

    spoken_targets = {}  # row index -> teacher windows of a speech clip
    for n, (row, y) in enumerate(zip(rows, waves)):
        if len(y) >= min_length:
            targets = targets_of(y)
            add(y, row, "sung" if row["domain"] == "sung" else "speech", targets)
            spoken_targets[n] = targets
        if n % 200 == 0:
            print(f"[prepare] teacher {n}/{len(rows)}", flush=True)
    for i, y in zip(speech, sung):
        # The sung version keeps the speaker: its target is the speaker's spoken embedding.
        if len(y) >= min_length and i in spoken_targets:
            mean = spoken_targets[i].mean(axis=0, keepdims=True)
            add(y, rows[i], "speech-sung", mean / np.linalg.norm(mean))
    np.save(cache / "audio.npy", np.concatenate(audio).astype(np.float32))
    np.save(cache / "teacher.npy", np.concatenate(teacher).astype(np.float32))

    music = [common.load_audio_16k(p) for p in sorted((common.DATA_DIR / "music").glob("*.ogg"))]
    np.save(cache / "music.npy", np.concatenate(music).astype(np.float32))
    np.save(cache / "synth.npy", accompaniment.render(SYNTH_SECONDS, seed=7))
    meta = {"identities": identities, "clips": clips, "teacher": args.teacher,
            "teacher_step_frames": V2_TEACHER_STEP if args.teacher == "v2" else TEACHER_STEP,
            "teacher_window_frames": TEACHER_WINDOW[args.teacher], "frontend": frontend.FRONTEND}
    (cache / "clips.json").write_text(json.dumps(meta))
    minutes = {k: sum(c["length"] for c in clips if c["kind"] == k) / 16000 / 60 for k in ("sung", "speech", "speech-sung")}
    print(f"[prepare] {len(clips)} clips, voiced minutes {json.dumps({k: round(v, 1) for k, v in minutes.items()})}, "
          f"{sum(len(t) for t in teacher)} teacher windows, {time.time() - t0:.0f} s total", flush=True)


if __name__ == "__main__":
    main()
