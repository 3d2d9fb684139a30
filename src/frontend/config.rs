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

/// Which mel scale the filterbank is spaced on (librosa's `htk` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MelScale {
    Slaney,
    Htk,
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
        Ok(())
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
    }
}
