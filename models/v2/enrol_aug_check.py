"""Does enrolling from accompanied copies of the enrolment clips help v2? Measured, not shipped.

A singer is usually enrolled from a clean vocal and then heard over a band. The question: should
each enrolment clip also be embedded mixed over accompaniment, so the singer's centroid sits
between its clean and its accompanied sound? The accompaniment is v1's synthetic backing
(`v1.accompaniment`, seeds 9000.., never used for training), so nothing of the dev or held-out
mixes' music is seen. Each enrolment clip gives its clean embedding plus the mean of `COPIES`
embeddings of it over backing at `VAR_DB` dB vocal-to-accompaniment, weighted equally; the
centroid is their mean direction. Everything else is the dev proxy of v2.adapt (torch, whole
clips embedded in one pass in pieces of at most `max_frames`, no voice gate).

Two sets, each a cappella and mixed, whole clips and 1-s units, top-1 / EER:
- dev: dev_mono and dev_mono2mix (its mixes are over the 4 music/ tracks; the adaptation
  trained over 3 of them, never the Brahms);
- held out: calibration_v2.csv (the 29 singers held out of all v2 training; 15 enrolled from one
  song), its test clips clean and over the held-apart Brahms at 0 dB.
Result (models/README.md, "Enrolment over accompaniment"): small gains on mixed 1-s units in both
sets, a whole-clip loss on dev, so the engine keeps clean enrolment.

Usage (from models/): .venv/bin/python -m v2.enrol_aug_check [--weights PT]
(default: the shipped adaptation, .cache/v2/adapt/adapt-block3-aam.pt; about 5 min on 2 cores)
"""
import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402
from v1 import accompaniment  # noqa: E402
from v2 import fbank  # noqa: E402
from v2.adapt import CACHE, SHIPPED, mean_normalised, pieces, top1_and_eer  # noqa: E402
from v2.export import load_encoder  # noqa: E402
from v2.voice_head import Audio, db, music_tracks, rms  # noqa: E402

COPIES = 3
VAR_DB = 10.0  # the best of 0 / 5 / 10 dB on the dev proxy (mixed 1-s units)
BACKING_SEEDS = range(9000, 9008)
SEED = 5


class Embedder:
    def __init__(self, weights: Path):
        self.encoder = load_encoder(weights)

    @torch.no_grad()
    def __call__(self, y: np.ndarray) -> np.ndarray:
        f = fbank.fbank(y)
        es = [F.normalize(self.encoder(mean_normalised(f[a:b])[None])[0], dim=0) for a, b in pieces(f.shape[0])]
        return F.normalize(torch.stack(es).mean(0), dim=0).numpy()


def over(y: np.ndarray, music: np.ndarray, var_db: float, rng) -> np.ndarray:
    """y with an excerpt of `music` under it at var_db dB vocal-to-accompaniment (RMS)."""
    start = int(rng.integers(0, max(1, len(music) - len(y))))
    a = np.resize(music[start:], len(y))
    return y + a * (rms(y) / rms(a)) / db(var_db)


def scores(centroids: dict, tests: list) -> tuple:
    names = sorted(centroids)
    C = np.stack([centroids[n] / np.linalg.norm(centroids[n]) for n in names])
    S = np.stack([e for _, e in tests]) @ C.T
    return top1_and_eer(S, np.array([s for s, _ in tests]), names)


def evaluate(embed, manifest: Path, base: Path, mix_tests, rng, backing) -> dict:
    """{condition/unit: (top1, eer)} for clean and augmented enrolment. mix_tests: None (the
    manifest's own test clips are the condition) or music to put under each test clip at 0 dB."""
    clean, augmented = defaultdict(list), defaultdict(list)
    tests = defaultdict(list)
    with open(manifest, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        y = common.load_audio_16k(base / r["path"])
        if r["role"] == "enroll":
            e = embed(y)
            copies = [embed(over(y, backing[int(rng.integers(len(backing)))], VAR_DB, rng)) for _ in range(COPIES)]
            clean[r["singer"]].append(e)
            augmented[r["singer"]].append(e + np.mean(copies, 0))
            continue
        versions = {"": y} if mix_tests is None else {"clean": y, "mixed": over(y, mix_tests, 0.0, rng)}
        for cond, z in versions.items():
            tests[(cond, "whole")].append((r["singer"], embed(z)))
            for i in range(len(z) // 16000):
                tests[(cond, "1 s")].append((r["singer"], embed(z[i * 16000:(i + 1) * 16000])))
    out = {}
    for label, enrol in (("clean enrolment", clean), ("+ accompanied copies", augmented)):
        cents = {s: np.sum(v, 0) for s, v in enrol.items()}
        out[label] = {key: scores(cents, ts) for key, ts in tests.items()}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, default=CACHE / f"{SHIPPED}.pt",
                    help="CAM++ state dict (default: the shipped adaptation)")
    args = ap.parse_args()
    if not args.weights.exists():
        sys.exit(f"{args.weights}: not found; train it first (models/v2.sh, or python -m v2.adapt train {SHIPPED})")
    torch.set_num_threads(2)
    embed = Embedder(args.weights)
    rng = np.random.default_rng(SEED)
    backing = [accompaniment.render(30.0, s) for s in BACKING_SEEDS]
    _, (brahms_path,) = music_tracks()
    brahms = Audio()(brahms_path)
    results = {}
    for man in ("dev_mono", "dev_mono2mix"):
        r = evaluate(embed, common.DATA_DIR / f"{man}.csv", common.DATA_DIR, None, rng, backing)
        for label, cells in r.items():
            results.setdefault(label, {}).update({f"dev {man} {u}": v for (_, u), v in cells.items()})
    r = evaluate(embed, common.MODELS_DIR / "calibration_v2.csv", common.MODELS_DIR, brahms, rng, backing)
    for label, cells in r.items():
        results[label].update({f"held-out {c} {u}": v for (c, u), v in cells.items()})
    columns = list(next(iter(results.values())))
    print("| enrolment | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for label, cells in results.items():
        print(f"| {label} | " + " | ".join("%.3f / %.3f" % cells[c] for c in columns) + " |")


if __name__ == "__main__":
    main()
