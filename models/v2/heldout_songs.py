"""Multi-singer songs from the held-out singers of `calibration_v2.csv`, built the way
`shared/data/dev-songs` is built, for choosing song mode's settings on singers that no model
was trained on and that are not the dev set.

Each song strings 6 sections (test clips of the calibration manifest: an enrolled singer's or an
impostor's, each clip used once) with instrumental gaps of 2-4 s and an instrumental intro,
every clip level-normalised to the same RMS. `<song>.mono.flac` is a cappella (gaps: silence
plus -60 dBFS noise); `<song>.mix.flac` lays one `music/` track (looped) under the whole song at
a vocal-to-accompaniment ratio of +6, +3 or 0 dB. `songs.csv` and `enroll.csv` follow the eval
protocol ("Timelines"), so `singer-id eval-songs` scores them. Deterministic (seed 2026).

Usage (from models/): python -m v2.heldout_songs [OUT_DIR]   (default .cache/v2/heldout-songs)
Needs numpy and soundfile only.
"""
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402

RATE = 22050
SECTIONS_PER_SONG = 6
TARGET_RMS_DB = -20.0
VAR_DB = (6.0, 3.0, 0.0)
SEED = 2026


def load(path: Path) -> np.ndarray:
    y, rate = sf.read(path, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if rate != RATE:
        # Linear interpolation is enough here: the clips are 22.05 kHz already; this only
        # guards against a future source at another rate.
        t = np.arange(int(len(y) * RATE / rate)) * rate / RATE
        y = np.interp(t, np.arange(len(y)), y).astype(np.float32)
    return y


def rms_db(y: np.ndarray) -> float:
    return 10 * np.log10(np.mean(y.astype(np.float64) ** 2) + 1e-12)


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else common.MODELS_DIR / ".cache" / "v2" / "heldout-songs"
    out.mkdir(parents=True, exist_ok=True)
    manifest = common.MODELS_DIR / "calibration_v2.csv"
    rows = list(csv.DictReader(open(manifest, newline="", encoding="utf-8")))
    base = manifest.parent
    enrolled = sorted({r["singer"] for r in rows if r["role"] == "enroll"})
    tests = [r for r in rows if r["role"] == "test"]
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(tests))
    music = sorted((common.DATA_DIR / "music").glob("*.ogg"))
    tracks = [load(p) for p in music]

    with open(out / "enroll.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["singer", "path"])
        for r in rows:
            if r["role"] == "enroll":
                w.writerow([r["singer"], (base / r["path"]).resolve().as_posix()])

    truth = []
    n_songs = len(order) // SECTIONS_PER_SONG
    for s in range(n_songs):
        name = f"heldout{s:02d}"
        picks = [tests[i] for i in order[s * SECTIONS_PER_SONG:(s + 1) * SECTIONS_PER_SONG]]
        voice, sections = [], []
        t = 0

        def gap():
            nonlocal t
            n = int(rng.uniform(2.0, 4.0) * RATE)
            voice.append(np.zeros(n, np.float32))
            sections.append((t, t + n, "instrumental"))
            t += n

        gap()
        for k, r in enumerate(picks):
            y = load(base / r["path"])
            y = y * 10 ** ((TARGET_RMS_DB - rms_db(y)) / 20)
            voice.append(y.astype(np.float32))
            label = r["singer"] if r["singer"] in enrolled else "unknown"
            sections.append((t, t + len(y), label))
            t += len(y)
            if k + 1 < len(picks):
                gap()
        gap()
        v = np.concatenate(voice)
        mono = v + rng.normal(0, 10 ** (-60 / 20), len(v)).astype(np.float32)
        var_db = VAR_DB[s % len(VAR_DB)]
        track = tracks[s % len(tracks)]
        bed = np.tile(track, len(v) // len(track) + 1)[: len(v)]
        sung = np.concatenate([seg for seg, (_, _, lab) in zip(voice, sections) if lab != "instrumental"])
        gain = 10 ** ((rms_db(sung) - var_db - rms_db(bed)) / 20)
        mix = v + gain * bed
        peak = np.abs(mix).max()
        if peak > 0.89:
            mix *= 0.89 / peak
        sf.write(out / f"{name}.mono.flac", np.clip(mono, -1, 1), RATE)
        sf.write(out / f"{name}.mix.flac", mix, RATE)
        for a, b, lab in sections:
            truth.append([name, f"{a / RATE:.3f}", f"{b / RATE:.3f}", lab, f"{var_db:g}"])

    with open(out / "songs.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["song", "start_s", "end_s", "label", "var_db"])
        w.writerows(truth)
    labels = [row[3] for row in truth]
    print(
        f"wrote {out}: {n_songs} songs, {sum(l in enrolled for l in labels)} enrolled sections, "
        f"{labels.count('unknown')} impostor sections, {len(enrolled)} enrolled singers"
    )


if __name__ == "__main__":
    main()
