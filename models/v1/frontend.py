"""The v1 log-mel frontend in torch, batched, for training.

The Rust frontend (src/frontend/) is the reference: this module reproduces it for the config in
FRONTEND (which export.py writes into the model's metadata), and tests/parity.rs checks the two
agree on a golden clip (tests/fixtures/v1_clip_*.json, written by make_fixtures.py).
"""
import numpy as np
import torch

FRONTEND = {
    "sample_rate": 16000,
    "n_fft": 512,
    "win_length": 400,
    "hop_length": 160,
    "window": "hann",
    "n_mels": 64,
    "fmin": 40.0,
    "fmax": 8000.0,
    "mel_scale": "slaney",
    "mel_norm": "slaney",
    "power": 2.0,
    "log": "ln",
    "log_floor": 1e-8,
}
# ~1 s per inference (96 frames = 0.982 s of audio), as KNN-Net's 1-s blocks.
WINDOW_FRAMES = 96
# Frames under this RMS level are not voice (the analyzer's DEFAULT_VOICE_FLOOR_DB).
VOICE_FLOOR_DB = -45.0


def window_samples(frames: int = WINDOW_FRAMES) -> int:
    return (frames - 1) * FRONTEND["hop_length"] + FRONTEND["n_fft"]


def analysis_window() -> np.ndarray:
    """Periodic Hann of win_length, zero-padded and centred to n_fft (as the Rust side)."""
    f = FRONTEND
    n = f["win_length"]
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    left = (f["n_fft"] - n) // 2
    out = np.zeros(f["n_fft"])
    out[left:left + n] = w
    return out


def mel_filterbank() -> np.ndarray:
    """[n_mels, n_fft/2+1], librosa's slaney filterbank (the Rust one is tested against it)."""
    import librosa

    f = FRONTEND
    return librosa.filters.mel(sr=f["sample_rate"], n_fft=f["n_fft"], n_mels=f["n_mels"], fmin=f["fmin"],
                               fmax=f["fmax"], htk=f["mel_scale"] == "htk", norm="slaney")


class LogMel(torch.nn.Module):
    """[batch, samples] at 16 kHz -> [batch, frames, n_mels]; frame t covers samples
    [t*hop, t*hop + n_fft) (no centring, so the Rust side can stream)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.tensor(analysis_window(), dtype=torch.float32))
        self.register_buffer("fb", torch.tensor(mel_filterbank().T, dtype=torch.float32))

    def power_mel(self, wave: torch.Tensor, gains: torch.Tensor | None = None) -> torch.Tensor:
        """Mel energies; `gains` [batch, bins], if given, multiplies each example's power
        spectrum first (training's EQ augmentation)."""
        f = FRONTEND
        frames = wave.unfold(-1, f["n_fft"], f["hop_length"]) * self.window
        spec = torch.fft.rfft(frames, dim=-1)
        power = spec.real ** 2 + spec.imag ** 2
        if gains is not None:
            power = power * gains[:, None, :]
        return power @ self.fb

    def forward(self, wave: torch.Tensor, gains: torch.Tensor | None = None) -> torch.Tensor:
        return torch.log(torch.clamp(self.power_mel(wave, gains), min=FRONTEND["log_floor"]))


def frame_levels_db(wave: np.ndarray, n_fft: int = FRONTEND["n_fft"], hop: int = FRONTEND["hop_length"]) -> np.ndarray:
    """RMS level of each frame's n_fft samples in dBFS, floored at -120, as the Rust frontend's
    level_db (n_fft/hop default to v1's; v0's teacher windows use its own)."""
    if len(wave) < n_fft:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(wave.astype(np.float64), n_fft)[::hop]
    ms = np.mean(frames ** 2, axis=1)
    return np.maximum(10 * np.log10(np.maximum(ms, 1e-30)), -120.0)
