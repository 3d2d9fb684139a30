"""Builds the bundled demo audio from permissively licensed material in ../shared/data.

Run with the models/ virtual environment (models/setup_venv.sh):
    models/.venv/bin/python demo/make_demo.py [--data ../shared/data]

Writes (16 kHz mono 16-bit FLAC, deterministic):
  demo/enroll/{yuki,erithacus,scott}.flac   ~20 s of each singer, for enrolment
  demo/demo-track.flac                a 45 s track: instrumental intro, the three singers in
                                      turn over a quiet accompaniment, an instrumental break
  demo/demo-track.sections.csv        the ground truth of the track, one row per section
Enrolment and track use different recordings of each singer.
"""

import argparse
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

RATE = 16000
SINGERS = {
    # name: (folder in utau/, licence note)
    "yuki": "imagawa-yuki",  # Public Domain (kgs233/UTAU-Yuki)
    "erithacus": "erithacus",  # CC BY 4.0 (ErithacusProject/ErithacusVB)
    "scott": "scottpoid",  # SCOTTPOID terms: redistribution of edited parts with credit
}
MUSIC = "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).ogg"  # Public Domain
ENROLL_S = 20.0
# (start, end, who): "instrumental" sections have accompaniment only.
SECTIONS = [
    (0.0, 3.0, "instrumental"),
    (3.0, 13.0, "yuki"),
    (13.0, 23.0, "scott"),
    (23.0, 27.0, "instrumental"),
    (27.0, 37.0, "erithacus"),
    (37.0, 45.0, "yuki"),
]
# Accompaniment under the vocals, relative to the vocal RMS: audible but not masking.
BED_DB = -12.0


def load(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    return librosa.resample(audio, orig_sr=rate, target_sr=RATE, res_type="soxr_hq")


def voiced_clips(folder: Path):
    """Each clip with leading/trailing silence trimmed, in sorted file order."""
    for path in sorted(folder.glob("*.ogg")):
        trimmed, _ = librosa.effects.trim(load(path), top_db=35)
        if len(trimmed) > RATE // 2:
            yield trimmed


def fill(clips, seconds: float):
    """Concatenates clips (with 80 ms gaps) until `seconds` are filled, then cuts to length.
    Returns the audio and how many clips it used."""
    need = int(seconds * RATE)
    parts, have, used = [], 0, 0
    gap = np.zeros(int(0.08 * RATE), dtype=np.float32)
    for clip in clips:
        parts += [clip, gap]
        have += len(clip) + len(gap)
        used += 1
        if have >= need:
            break
    if have < need:
        raise SystemExit(f"not enough audio: wanted {seconds} s")
    return np.concatenate(parts)[:need], used


def at_level(audio: np.ndarray, target_rms: float = 0.1) -> np.ndarray:
    """Scales to an RMS of `target_rms` (about -20 dBFS)."""
    return audio * (target_rms / rms(audio))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)


def write(path: Path, audio: np.ndarray):
    path.parent.mkdir(parents=True, exist_ok=True)
    peak = np.max(np.abs(audio))
    if peak > 0.89:  # keep 1 dB of headroom
        audio = audio * (0.89 / peak)
    sf.write(path, audio, RATE, subtype="PCM_16", format="FLAC")
    print(f"wrote {path} ({len(audio) / RATE:.1f} s, {path.stat().st_size / 1024:.0f} KiB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = Path(__file__).resolve().parent
    parser.add_argument("--data", type=Path, default=here.parent.parent / "shared" / "data")
    args = parser.parse_args()

    # Enrolment takes clips from the start of each singer's sorted list, the track from the end.
    clips = {name: list(voiced_clips(args.data / "utau" / folder)) for name, folder in SINGERS.items()}
    for name, singer_clips in clips.items():
        enrol, _ = fill(singer_clips, ENROLL_S)
        write(here / "enroll" / f"{name}.flac", at_level(enrol))

    music = load(args.data / "music" / MUSIC)
    total = int(SECTIONS[-1][1] * RATE)
    music = np.tile(music, total // len(music) + 1)[:total]
    music = at_level(music)
    track = np.zeros(total, dtype=np.float32)
    used = {name: 0 for name in SINGERS}
    for start, end, who in SECTIONS:
        a, b = int(start * RATE), int(end * RATE)
        if who == "instrumental":
            track[a:b] = music[a:b]
            continue
        # Walk backwards through the singer's clips so the track never reuses enrolment audio.
        vocal, n = fill(clips[who][::-1][used[who]:], end - start)
        used[who] += n
        track[a:b] = at_level(vocal) + music[a:b] * 10 ** (BED_DB / 20)
    write(here / "demo-track.flac", track)
    with open(here / "demo-track.sections.csv", "w") as f:
        f.write("start_s,end_s,label\n")
        for start, end, who in SECTIONS:
            f.write(f"{start},{end},{who}\n")
    print(f"wrote {here / 'demo-track.sections.csv'}")


if __name__ == "__main__":
    main()
