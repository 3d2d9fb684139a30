"""CAM++'s input features, the metadata `frontend` block that makes the Rust engine compute
them, and the torchaudio reference the Rust frontend is tested against (tests/parity.rs).

Kaldi fbank as 3D-Speaker computes it: 16 kHz, 80 bins, 25 ms Povey windows every 10 ms
(snip_edges: no padding), per-frame DC removal, pre-emphasis 0.97, 512-point FFT, power
spectrum, Kaldi mel bank from 20 Hz to Nyquist, ln with a float32-epsilon floor, no dither.
The per-window mean normalisation happens inside the ONNX graph (campp.SpeakerEncoder).
"""
import numpy as np
import torch
import torchaudio

FRONTEND = {
    "sample_rate": 16000,
    "n_fft": 512,
    "win_length": 400,
    "hop_length": 160,
    "window": "povey",
    "n_mels": 80,
    "fmin": 20.0,
    "fmax": 8000.0,
    "mel_scale": "kaldi",
    "mel_norm": "none",
    "power": 2.0,
    "log": "ln",
    "log_floor": float(np.finfo(np.float32).eps),
    "window_position": "start",
    "remove_dc": True,
    "preemphasis": 0.97,
}


def fbank(samples_16k) -> torch.Tensor:
    """[frames, 80] Kaldi fbank of mono float samples at 16 kHz (numpy or torch, 1-D)."""
    wave = torch.as_tensor(np.asarray(samples_16k, dtype=np.float32))[None]
    return torchaudio.compliance.kaldi.fbank(
        wave, num_mel_bins=FRONTEND["n_mels"], frame_length=25.0, frame_shift=10.0, dither=0.0,
        preemphasis_coefficient=FRONTEND["preemphasis"], remove_dc_offset=FRONTEND["remove_dc"],
        window_type="povey", round_to_power_of_two=True, low_freq=FRONTEND["fmin"], high_freq=0.0,
        use_energy=False, use_log_fbank=True, use_power=True, snip_edges=True,
        sample_frequency=FRONTEND["sample_rate"])
