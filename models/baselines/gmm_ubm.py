#!/usr/bin/env python3
"""GMM-UBM on 13 MFCCs: the classic singer-ID baseline (seeds.md section 3).

    gmm_ubm.py train                                  # train (or load) the UBM, cached in .cache/
    gmm_ubm.py score MANIFEST [--segment S] -o SCORES.csv

Features: 13 MFCCs (librosa, 16 kHz, 25 ms window, 10 ms hop, 40 mel bands) + deltas = 26 dims;
energy-based voice activity (a frame is kept when its level is >= -45 dBFS and within 40 dB of
the unit's loudest frame); per-unit cepstral mean normalisation over the kept frames.
UBM: 128-component diagonal GMM fitted on a fixed random subsample of the voiced frames of the
TRAINING data only (utau/ + speech/ rows of the shared manifest.csv; never gtsinger-dev/).
Singer model: MAP adaptation of the UBM means (relevance factor 16) from the pooled frames of the
singer's `enroll` clips. Score of a unit vs a singer: mean per-frame log-likelihood ratio
log p(x|singer) - log p(x|UBM) over the unit's voiced frames.
Units (eval protocol): whole test clips, or with --segment S each consecutive non-overlapping
S-second piece of a test clip (remainder dropped), features computed inside the piece only.
A unit with fewer than MIN_FRAMES voiced frames gets NaN scores (`singer-id metrics` ranks NaN
last and never lets it pass a threshold, as the Rust eval does for units with no voice).

Output SCORES.csv: `truth,<singer>...` then one row per unit, for `singer-id metrics`.
Deterministic: sorted inputs, fixed seeds, one thread (set OMP/BLAS threads to 1; run.sh does).
"""
import argparse
import csv
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

import librosa
import numpy as np
from sklearn.mixture import GaussianMixture

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
DEFAULT_DATA = Path(os.environ.get("SINGER_ID_DATA", HERE / "../../../shared/data"))

# ---- configuration (part of the UBM cache key) ----
CFG = {
    "sr": 16000,
    "n_mfcc": 13,
    "n_mels": 40,
    "win": 400,          # 25 ms
    "hop": 160,          # 10 ms
    "n_fft": 512,
    "fmin": 20.0,
    "fmax": 7600.0,
    "delta_width": 9,
    "floor_dbfs": -45.0,  # absolute voice floor (the Rust analyzer's DEFAULT_VOICE_FLOOR_DB)
    "rel_db": 40.0,       # drop frames more than this below the unit's loudest frame
    "ubm_components": 128,
    "ubm_frames": 300_000,  # voiced training frames subsampled for the UBM fit
    "ubm_max_iter": 100,
    "ubm_reg_covar": 1e-3,
    "seed": 0,
    "train_datasets": ["utau", "librispeech-test-other", "librispeech-train-clean-100"],
}
RELEVANCE = 16.0
MIN_FRAMES = 10  # 0.1 s of voice


def log(msg):
    print(f"[gmm_ubm] {msg}", file=sys.stderr, flush=True)


def load(path):
    y, _ = librosa.load(path, sr=CFG["sr"], mono=True)  # soxr_hq resampling, deterministic
    return y.astype(np.float32)


def features(y):
    """(T, 26) voiced, mean-normalised MFCC+delta frames of one unit (may have T = 0)."""
    win, hop = CFG["win"], CFG["hop"]
    if len(y) < win:
        return np.zeros((0, 2 * CFG["n_mfcc"]), np.float32)
    mfcc = librosa.feature.mfcc(
        y=y, sr=CFG["sr"], n_mfcc=CFG["n_mfcc"], n_fft=CFG["n_fft"], win_length=win,
        hop_length=hop, window="hamming", center=False, n_mels=CFG["n_mels"],
        fmin=CFG["fmin"], fmax=CFG["fmax"], htk=True,
    )  # (13, T)
    t = mfcc.shape[1]
    # Deltas over the contiguous frame sequence, before voice selection.
    delta = librosa.feature.delta(mfcc, width=CFG["delta_width"], mode="nearest")
    frames = librosa.util.frame(y, frame_length=win, hop_length=hop)[:, :t]  # (win, T)
    db = 10.0 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=0) + 1e-12)
    keep = (db >= CFG["floor_dbfs"]) & (db >= db.max() - CFG["rel_db"])
    x = np.concatenate([mfcc, delta], axis=0)[:, keep].T.astype(np.float64)
    if len(x):
        x -= x.mean(axis=0)  # per-unit CMN (deltas are ~zero-mean already; harmless)
    return x


# ---------------------------------------------------------------- UBM
def train_rows(data):
    with open(data / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["dataset"] in CFG["train_datasets"]]
    assert all(not r["path"].startswith("gtsinger") for r in rows)
    return sorted(r["path"] for r in rows)


def ubm_key(paths):
    h = hashlib.sha256(json.dumps(CFG, sort_keys=True).encode())
    for p in paths:
        h.update(p.encode() + b"\0")
    return h.hexdigest()[:16]


def get_ubm(data=DEFAULT_DATA):
    paths = train_rows(data)
    key = ubm_key(paths)
    cache = CACHE / f"ubm-{key}.npz"
    if cache.exists():
        z = np.load(cache)
        log(f"UBM loaded from {cache.relative_to(HERE)}")
        return make_gmm(z["weights"], z["means"], z["covariances"])
    t0 = time.time()
    log(f"UBM: features of {len(paths)} training clips (utau + speech)")
    feats = [features(load(data / p)) for p in paths]
    allf = np.concatenate(feats)
    n_utau = sum(len(f) for p, f in zip(paths, feats) if p.startswith("utau/"))
    rng = np.random.default_rng(CFG["seed"])
    n = min(CFG["ubm_frames"], len(allf))
    sub = allf[np.sort(rng.choice(len(allf), n, replace=False))]
    log(f"UBM: {len(allf)} voiced frames ({n_utau} utau, {len(allf) - n_utau} speech), "
        f"fitting {CFG['ubm_components']} diag components on {n} ({time.time() - t0:.0f} s so far)")
    gmm = GaussianMixture(
        n_components=CFG["ubm_components"], covariance_type="diag", max_iter=CFG["ubm_max_iter"],
        reg_covar=CFG["ubm_reg_covar"], random_state=CFG["seed"], init_params="kmeans",
    ).fit(sub)
    log(f"UBM: converged={gmm.converged_} after {gmm.n_iter_} iterations, "
        f"avg log-lik {gmm.score(sub):.3f}/frame, {time.time() - t0:.0f} s")
    CACHE.mkdir(exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, weights=gmm.weights_, means=gmm.means_, covariances=gmm.covariances_)
    tmp.replace(cache)
    return make_gmm(gmm.weights_, gmm.means_, gmm.covariances_)


def make_gmm(weights, means, covariances):
    g = GaussianMixture(n_components=len(weights), covariance_type="diag")
    g.weights_, g.means_, g.covariances_ = weights, means, covariances
    g.precisions_cholesky_ = 1.0 / np.sqrt(covariances)
    return g


def map_adapt(ubm, x, r=RELEVANCE):
    """Singer model: UBM with MAP-adapted means (weights and covariances kept)."""
    gamma = ubm.predict_proba(x)            # (T, K)
    n = gamma.sum(axis=0)                   # (K,)
    ex = gamma.T @ x / np.maximum(n, 1e-10)[:, None]
    alpha = (n / (n + r))[:, None]
    return make_gmm(ubm.weights_, alpha * ex + (1 - alpha) * ubm.means_, ubm.covariances_)


# ---------------------------------------------------------------- scoring
def read_manifest(path):
    base = Path(path).resolve().parent
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [(base / r["path"], r["singer"], r["role"].strip()) for r in rows]


def units_of(y, segment):
    if segment is None:
        return [y]
    n = int(round(segment * CFG["sr"]))
    return [y[i:i + n] for i in range(0, len(y) - n + 1, n)]


def score(manifest, segment, out, data):
    ubm = get_ubm(data)
    rows = read_manifest(manifest)
    enroll = {}
    for p, s, role in rows:
        if role == "enroll":
            enroll.setdefault(s, []).append(features(load(p)))
    singers = sorted(enroll)
    models = {}
    for s in singers:
        x = np.concatenate(enroll[s])
        models[s] = map_adapt(ubm, x)
        log(f"enrolled {s}: {len(enroll[s])} clips, {len(x)} voiced frames")
    n_units = n_nan = 0
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["truth"] + singers)
        for p, truth, role in rows:
            if role != "test":
                continue
            for piece in units_of(load(p), segment):
                x = features(piece)
                if len(x) < MIN_FRAMES:
                    sc = [math.nan] * len(singers)
                    n_nan += 1
                else:
                    base = ubm.score_samples(x)
                    sc = [float(np.mean(models[s].score_samples(x) - base)) for s in singers]
                w.writerow([truth] + [f"{v:.6f}" if not math.isnan(v) else "NaN" for v in sc])
                n_units += 1
    log(f"{manifest}: {len(singers)} singers, {n_units} units ({n_nan} without voice -> NaN) -> {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder (manifest.csv) for the UBM")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("train", help="train the UBM (cached in .cache/)")
    sc = sub.add_parser("score", help="enrol from a manifest and write SCORES.csv for `singer-id metrics`")
    sc.add_argument("manifest")
    sc.add_argument("--segment", type=float, default=None, help="score S-second pieces of each test clip")
    sc.add_argument("-o", "--out", required=True)
    a = ap.parse_args()
    if a.cmd == "train":
        get_ubm(a.data)
    else:
        score(a.manifest, a.segment, a.out, a.data)


if __name__ == "__main__":
    main()
