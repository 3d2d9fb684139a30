"""Synthetic accompaniment: chords of harmonic tones, a bass line and drum hits, random timbres.
The 4 music tracks in shared/data/music are few (and the dev mixes use them), so training
mashups also draw from this endless, seeded supply; no rendered audio is committed."""
import numpy as np

SR = 16000


def _tone(freq: float, n: int, tilt: float, rng) -> np.ndarray:
    t = np.arange(n) / SR
    out = np.zeros(n)
    for k in range(1, int(min(30, (SR / 2 - 200) / freq)) + 1):
        out += np.sin(2 * np.pi * k * freq * t + rng.uniform(0, 2 * np.pi)) / k ** tilt
    return out


def _envelope(n: int, rng) -> np.ndarray:
    attack = max(1, int(rng.uniform(0.002, 0.08) * SR))
    decay = rng.uniform(0.1, 2.0)
    env = np.exp(-np.arange(n) / SR / decay)
    env[:attack] *= np.linspace(0, 1, attack)
    return env


def _drum(kind: str, n: int, rng) -> np.ndarray:
    t = np.arange(n) / SR
    if kind == "kick":
        f = 50 + 60 * np.exp(-t * 40)
        return np.sin(2 * np.pi * np.cumsum(f) / SR) * np.exp(-t * rng.uniform(8, 20))
    noise = rng.standard_normal(n)
    if kind == "hat":
        noise = np.diff(noise, prepend=0.0)
        return noise * np.exp(-t * rng.uniform(30, 80)) * 0.3
    return (noise * 0.6 + np.sin(2 * np.pi * 190 * t)) * np.exp(-t * rng.uniform(15, 30)) * 0.6


def render(seconds: float, seed: int) -> np.ndarray:
    """`seconds` of accompaniment at 16 kHz, peak 0.9."""
    rng = np.random.default_rng(seed)
    n_total = int(seconds * SR)
    out = np.zeros(n_total + SR * 3)
    pos = 0
    while pos < n_total:
        bar = int(rng.uniform(1.2, 3.0) * SR)  # one chord per bar
        beat = bar // 4
        root = rng.integers(45, 60)
        chord = root + np.array([0, rng.choice([3, 4]), 7, rng.choice([10, 11, 12])])
        tilt = rng.uniform(0.7, 2.2)
        for note in chord:
            if rng.random() < 0.85:
                hz = 440.0 * 2 ** ((note - 69) / 12)
                out[pos:pos + bar] += 0.25 * _tone(hz, bar, tilt, rng) * _envelope(bar, rng)
        for b in range(4):  # bass on the beats
            hz = 440.0 * 2 ** ((root - 12 - 69 + rng.choice([0, 0, 7, 12])) / 12)
            out[pos + b * beat:pos + (b + 1) * beat] += 0.4 * _tone(hz, beat, 1.5, rng) * _envelope(beat, rng)
        if rng.random() < 0.7:  # drums in most bars
            for b in range(8):
                start = pos + b * beat // 2
                kind = "kick" if b % 4 == 0 else ("snare" if b % 4 == 2 else "hat")
                length = min(SR // 2, len(out) - start)
                out[start:start + length] += _drum(kind, length, rng)
        pos += bar
    out = out[:n_total]
    return (out * 0.9 / (np.max(np.abs(out)) + 1e-9)).astype(np.float32)
