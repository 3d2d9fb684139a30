"""Batched waveform and spectral augmentation for v1 training (torch, CPU).

Vocal in, what a microphone or a bounce might give out: mashup with accompaniment at a random
vocal-to-accompaniment ratio (-5..+20 dB), white/pink noise, reverb, random EQ and band limits
(codec-like), then SpecAugment masks on the log-mel. All randomness comes from one generator."""
import torch

SR = 16000


def rms(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt((x * x).mean(dim=-1, keepdim=True) + 1e-10)


def random_crops(source: torch.Tensor, count: int, length: int, g: torch.Generator) -> torch.Tensor:
    starts = torch.randint(0, source.numel() - length, (count,), generator=g)
    return torch.stack([source[s:s + length] for s in starts.tolist()])


def pink_noise(count: int, length: int, g: torch.Generator) -> torch.Tensor:
    spec = torch.fft.rfft(torch.randn(count, length, generator=g))
    f = torch.arange(spec.shape[-1]).clamp(min=1).float()
    return torch.fft.irfft(spec / torch.sqrt(f), n=length)


def mix_at(vocal: torch.Tensor, other: torch.Tensor, ratio_db: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """vocal + other scaled so that rms(vocal)/rms(other) = ratio_db, where mask is set."""
    gain = rms(vocal) / rms(other) * 10 ** (-ratio_db[:, None] / 20)
    return vocal + other * gain * mask[:, None]


def reverb(x: torch.Tensor, mask: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Exponentially decaying noise impulse responses (RT60 0.15-0.8 s), wet/dry mixed."""
    n = x.shape[0]
    taps = SR // 2
    rt60 = torch.empty(n, 1).uniform_(0.15, 0.8, generator=g)
    t = torch.arange(taps).float()[None] / SR
    ir = torch.randn(n, taps, generator=g) * torch.exp(-6.9 * t / rt60)
    ir[:, 0] = 1.0
    ir = ir / torch.linalg.vector_norm(ir, dim=1, keepdim=True)
    size = x.shape[1] + taps
    wet = torch.fft.irfft(torch.fft.rfft(x, n=size) * torch.fft.rfft(ir, n=size), n=size)[:, :x.shape[1]]
    wet = wet * rms(x) / rms(wet)
    return torch.where(mask[:, None], wet, x)


def spectral_gains(count: int, bins: int, prob_eq: float, prob_band: float, g: torch.Generator) -> torch.Tensor:
    """[count, bins] power gains: smooth random EQ (3 bells of +-9 dB on a log-frequency axis)
    and, sometimes, a band limit (low-pass 3.5-7 kHz and/or high-pass 80-300 Hz)."""
    hz = torch.linspace(0, SR / 2, bins)
    octave = torch.log2(hz.clamp(min=20.0) / 20.0)
    db = torch.zeros(count, bins)
    for _ in range(3):
        centre = torch.empty(count, 1).uniform_(0, 9, generator=g)
        width = torch.empty(count, 1).uniform_(0.3, 2.0, generator=g)
        amount = torch.empty(count, 1).uniform_(-9, 9, generator=g)
        db = db + amount * torch.exp(-0.5 * ((octave[None] - centre) / width) ** 2)
    db = db * (torch.rand(count, 1, generator=g) < prob_eq)
    lowpass = torch.empty(count, 1).uniform_(3500, 7000, generator=g)
    highpass = torch.empty(count, 1).uniform_(80, 300, generator=g)
    band = torch.rand(count, 1, generator=g) < prob_band
    cut = -60 * torch.sigmoid((hz[None] - lowpass) / 150) - 60 * torch.sigmoid((highpass - hz[None]) / 20)
    db = db + cut * band
    return 10 ** (db / 10)


def spec_augment(mel: torch.Tensor, prob: float, g: torch.Generator) -> torch.Tensor:
    """Up to two frequency masks (<= 8 bands) and two time masks (<= 10 frames), filled with the
    example's mean, on a fraction `prob` of the batch."""
    out = mel.clone()
    n, frames, bands = mel.shape
    fill = mel.mean(dim=(1, 2))
    for i in range(n):
        if torch.rand(1, generator=g).item() >= prob:
            continue
        for _ in range(2):
            w = int(torch.randint(0, 9, (1,), generator=g))
            f0 = int(torch.randint(0, bands - w + 1, (1,), generator=g))
            out[i, :, f0:f0 + w] = fill[i]
            w = int(torch.randint(0, 11, (1,), generator=g))
            t0 = int(torch.randint(0, frames - w + 1, (1,), generator=g))
            out[i, t0:t0 + w, :] = fill[i]
    return out


def speed_warp(x: torch.Tensor, length: int) -> torch.Tensor:
    """Resamples [n, m] to [n, length] samples (band-limited, via the FFT): played at the
    same rate, pitch and formants move together by m/length, a different-sounding voice."""
    m = x.shape[-1]
    spec = torch.fft.rfft(x)
    keep = min(spec.shape[-1], length // 2 + 1)
    out = torch.zeros(x.shape[0], length // 2 + 1, dtype=spec.dtype)
    out[:, :keep] = spec[:, :keep]
    return torch.fft.irfft(out, n=length) * (length / m)


def db_to_gain(db: torch.Tensor) -> torch.Tensor:
    return 10 ** (db / 20)

