//! The frontend's parameters, read from a model's metadata file so that a new model can change
//! them without touching code.

use serde::{Deserialize, Serialize};

/// How mel energies are compressed before they reach the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogCompression {
    /// Linear mel energies (the GE2E encoder was trained on these).
    None,
    /// `ln(max(x, floor))`.
    Ln,
    /// `log10(max(x, floor))`.
    Log10,
    /// `10 * log10(max(x, floor))`.
    Db,
}

/// Which mel scale the filterbank is spaced on, and how its triangles are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MelScale {
    /// librosa's default scale; triangles linear in Hz.
    Slaney,
    /// librosa's `htk=True` (2595·log10(1 + f/700)); triangles linear in Hz.
    Htk,
    /// Kaldi's filterbank (`torchaudio.compliance.kaldi.fbank`): 1127·ln(1 + f/700), triangles
    /// linear in mel, peak one, the Nyquist bin left out. Speaker encoders trained on Kaldi
    /// features (CAM++) expect exactly these.
    Kaldi,
}

/// How mel filters are normalised (librosa's `norm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MelNorm {
    /// Each filter has unit area (librosa `norm="slaney"`).
    Slaney,
    /// Peak-one triangles.
    None,
}

/// Analysis window applied before the FFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// Periodic Hann, as `scipy.signal.get_window("hann", n, fftbins=True)`.
    Hann,
    /// Kaldi's "povey" window: the symmetric Hann window raised to the power 0.85.
    Povey,
}

/// Where the `win_length` analysis window sits inside the `n_fft`-point FFT frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowPosition {
    /// librosa: a frame is `n_fft` samples and the window is centred in it (`pad_center`).
    #[default]
    Center,
    /// Kaldi: a frame is `win_length` samples, windowed, then zero-padded at the end to `n_fft`.
    Start,
}

/// Every parameter of the log-mel frontend. See `docs/model-format.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontendConfig {
    /// Rate the model expects, in Hz; input at any other rate is resampled to it.
    pub sample_rate: u32,
    /// FFT size in samples; also the frame length.
    pub n_fft: usize,
    /// Window length in samples (`<= n_fft`, centred in the frame).
    pub win_length: usize,
    /// Samples between frame starts.
    pub hop_length: usize,
    pub window: WindowKind,
    pub n_mels: usize,
    /// Lowest filter edge, in Hz.
    pub fmin: f64,
    /// Highest filter edge, in Hz.
    pub fmax: f64,
    pub mel_scale: MelScale,
    pub mel_norm: MelNorm,
    /// Exponent applied to the magnitude spectrum (2 = power).
    pub power: f64,
    pub log: LogCompression,
    /// Values below this are clamped before the log.
    pub log_floor: f64,
    /// Where the window sits in the FFT frame (and so how many samples a frame spans).
    #[serde(default)]
    pub window_position: WindowPosition,
    /// Subtract each frame's mean before anything else (Kaldi's `remove_dc_offset`).
    #[serde(default)]
    pub remove_dc: bool,
    /// Pre-emphasis coefficient applied within each frame, `x[i] -= k·x[i-1]` with the first
    /// sample emphasised against itself, as Kaldi does (0 = off).
    #[serde(default)]
    pub preemphasis: f64,
}

impl FrontendConfig {
    /// Checks that the numbers make sense together, so a bad metadata file fails at load time
    /// with a message instead of producing garbage features.
    pub fn validate(&self) -> Result<(), String> {
        let nyquist = self.sample_rate as f64 / 2.0;
        if self.sample_rate < 4000 {
            return Err(format!("sample_rate {} Hz is too low", self.sample_rate));
        }
        if self.n_fft < 16 || self.n_fft > 1 << 16 {
            return Err(format!("n_fft {} is out of range 16..=65536", self.n_fft));
        }
        if self.win_length == 0 || self.win_length > self.n_fft {
            return Err(format!("win_length {} must be in 1..=n_fft ({})", self.win_length, self.n_fft));
        }
        if self.hop_length == 0 {
            return Err("hop_length must be positive".into());
        }
        if self.n_mels == 0 || self.n_mels > 512 {
            return Err(format!("n_mels {} is out of range 1..=512", self.n_mels));
        }
        if !(self.fmin >= 0.0 && self.fmin < self.fmax && self.fmax <= nyquist + 1e-6) {
            return Err(format!("need 0 <= fmin ({}) < fmax ({}) <= sample_rate/2 ({nyquist})", self.fmin, self.fmax));
        }
        if !(self.power > 0.0 && self.power.is_finite()) {
            return Err(format!("power {} must be positive", self.power));
        }
        if !(self.log_floor > 0.0 && self.log_floor.is_finite()) {
            return Err(format!("log_floor {} must be positive", self.log_floor));
        }
        if !(0.0..1.0).contains(&self.preemphasis) {
            return Err(format!("preemphasis {} must be in [0, 1)", self.preemphasis));
        }
        if self.mel_scale == MelScale::Kaldi && self.mel_norm != MelNorm::None {
            return Err("mel_scale \"kaldi\" draws peak-one triangles: mel_norm must be \"none\"".into());
        }
        Ok(())
    }

    /// Samples one frame spans: `n_fft` for a centred window, `win_length` for Kaldi framing.
    pub fn frame_length(&self) -> usize {
        match self.window_position {
            WindowPosition::Center => self.n_fft,
            WindowPosition::Start => self.win_length,
        }
    }

    /// Number of FFT bins in a one-sided spectrum.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Seconds between two consecutive frames.
    pub fn frame_period_s(&self) -> f64 {
        self.hop_length as f64 / self.sample_rate as f64
    }
}

#[cfg(test)]
pub(crate) fn ge2e_config() -> FrontendConfig {
    FrontendConfig {
        sample_rate: 16000,
        n_fft: 400,
        win_length: 400,
        hop_length: 160,
        window: WindowKind::Hann,
        n_mels: 40,
        fmin: 0.0,
        fmax: 8000.0,
        mel_scale: MelScale::Slaney,
        mel_norm: MelNorm::Slaney,
        power: 2.0,
        log: LogCompression::None,
        log_floor: 1e-10,
        window_position: WindowPosition::Center,
        remove_dc: false,
        preemphasis: 0.0,
    }
}

/// CAM++'s Kaldi fbank: 80 bins, 25 ms Povey windows every 10 ms, DC removal, pre-emphasis.
#[cfg(test)]
pub(crate) fn kaldi_config() -> FrontendConfig {
    FrontendConfig {
        sample_rate: 16000,
        n_fft: 512,
        win_length: 400,
        hop_length: 160,
        window: WindowKind::Povey,
        n_mels: 80,
        fmin: 20.0,
        fmax: 8000.0,
        mel_scale: MelScale::Kaldi,
        mel_norm: MelNorm::None,
        power: 2.0,
        log: LogCompression::Ln,
        log_floor: f32::EPSILON as f64,
        window_position: WindowPosition::Start,
        remove_dc: true,
        preemphasis: 0.97,
    }
}
