"""Speech -> singing with the WORLD vocoder (pyworld): keep the speaker's spectral envelope and
aperiodicity, replace the spoken f0 by a sung melody (held notes, legato steps, 5-7 Hz vibrato)
and stretch the timing so vowels are held. Each LibriSpeech speaker becomes a sung identity."""
import numpy as np
import pyworld

FRAME_MS = 5.0
SCALE = np.array([0, 2, 4, 5, 7, 9, 11])  # major scale degrees, semitones


def melody_f0(n_frames: int, base_hz: float, rng: np.random.Generator) -> np.ndarray:
    """A note sequence around base_hz: notes 0.25-0.9 s, steps within the scale, glides of
    ~40 ms between notes, vibrato 5-7 Hz of 0-60 cents starting 0.15 s into each note."""
    fps = 1000.0 / FRAME_MS
    degrees = np.concatenate([SCALE - 12, SCALE, SCALE + 12])
    degrees = degrees[(degrees >= -7) & (degrees <= 9)]
    semis = np.zeros(n_frames)
    vib = np.zeros(n_frames)
    t = 0
    while t < n_frames:
        length = int(rng.uniform(0.25, 0.9) * fps)
        semis[t:t + length] = rng.choice(degrees)
        rate, depth = rng.uniform(5.0, 7.0), rng.uniform(0.0, 0.6)
        k = np.arange(min(length, n_frames - t))
        onset = np.clip((k / fps - 0.15) / 0.2, 0.0, 1.0)
        vib[t:t + len(k)] = depth * onset * np.sin(2 * np.pi * rate * k / fps)
        t += length
    glide = max(1, int(0.04 * fps))
    semis = np.convolve(np.pad(semis, (glide // 2, glide - 1 - glide // 2), mode="edge"),
                        np.ones(glide) / glide, mode="valid")
    return base_hz * 2.0 ** ((semis + vib) / 12.0)


def sing(y: np.ndarray, sr: int, rng: np.random.Generator, stretch: float = 1.5) -> np.ndarray:
    """The sung version of speech `y` (float, mono, rate sr)."""
    x = y.astype(np.float64)
    f0, t = pyworld.dio(x, sr, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(x, f0, t, sr)
    sp = pyworld.cheaptrick(x, f0, t, sr)
    ap = pyworld.d4c(x, f0, t, sr)
    voiced = f0 > 0
    if voiced.sum() < 10:
        return np.zeros(0, dtype=np.float32)
    # Hold vowels: repeat frames (envelope, aperiodicity, voicing) by the stretch factor.
    idx = np.minimum((np.arange(int(len(f0) * stretch)) / stretch).astype(int), len(f0) - 1)
    sp, ap, voiced = sp[idx], ap[idx], voiced[idx]
    # Sing around the speaker's own register (+-3 semitones), so the identity stays plausible.
    base = float(np.median(f0[f0 > 0])) * 2.0 ** (rng.uniform(-3, 3) / 12.0)
    new_f0 = np.where(voiced, melody_f0(len(idx), base, rng), 0.0)
    out = pyworld.synthesize(new_f0, np.ascontiguousarray(sp), np.ascontiguousarray(ap), sr, FRAME_MS)
    peak = np.max(np.abs(out)) + 1e-9
    return (out * min(1.0, 0.9 / peak) * np.sqrt(np.mean(x ** 2) / (np.mean(out ** 2) + 1e-12))).clip(-1, 1).astype(np.float32)
