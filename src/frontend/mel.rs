//! Mel filterbank, built exactly as `librosa.filters.mel` builds it, so features computed here
//! match the ones the model was trained on.

use super::config::{FrontendConfig, MelNorm, MelScale};

/// One triangular filter, stored sparsely: the first FFT bin it touches and its weights.
#[derive(Debug, Clone)]
struct Filter {
    first_bin: usize,
    weights: Vec<f32>,
}

/// A bank of `n_mels` triangular filters over a one-sided spectrum of `n_fft / 2 + 1` bins.
#[derive(Debug, Clone)]
pub struct MelFilterbank {
    filters: Vec<Filter>,
}

const SLANEY_F_SP: f64 = 200.0 / 3.0;
const SLANEY_MIN_LOG_HZ: f64 = 1000.0;
const SLANEY_MIN_LOG_MEL: f64 = SLANEY_MIN_LOG_HZ / SLANEY_F_SP;

fn slaney_log_step() -> f64 {
    6.4f64.ln() / 27.0
}

pub fn hz_to_mel(hz: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + hz / 700.0).log10(),
        MelScale::Kaldi => 1127.0 * (1.0 + hz / 700.0).ln(),
        MelScale::Slaney if hz >= SLANEY_MIN_LOG_HZ => {
            SLANEY_MIN_LOG_MEL + (hz / SLANEY_MIN_LOG_HZ).ln() / slaney_log_step()
        }
        MelScale::Slaney => hz / SLANEY_F_SP,
    }
}

pub fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(mel / 2595.0) - 1.0),
        MelScale::Kaldi => 700.0 * ((mel / 1127.0).exp() - 1.0),
        MelScale::Slaney if mel >= SLANEY_MIN_LOG_MEL => {
            SLANEY_MIN_LOG_HZ * (slaney_log_step() * (mel - SLANEY_MIN_LOG_MEL)).exp()
        }
        MelScale::Slaney => mel * SLANEY_F_SP,
    }
}

impl Filter {
    /// Keeps the non-zero span of a dense filter.
    fn from_dense(dense: &[f64]) -> Self {
        match (dense.iter().position(|&w| w > 0.0), dense.iter().rposition(|&w| w > 0.0)) {
            (Some(first), Some(last)) => {
                Self { first_bin: first, weights: dense[first..=last].iter().map(|&w| w as f32).collect() }
            }
            _ => Self { first_bin: 0, weights: Vec::new() },
        }
    }
}

impl MelFilterbank {
    pub fn new(cfg: &FrontendConfig) -> Self {
        if cfg.mel_scale == MelScale::Kaldi {
            return Self::kaldi(cfg);
        }
        let n_bins = cfg.n_bins();
        let fft_freqs: Vec<f64> = (0..n_bins).map(|k| k as f64 * cfg.sample_rate as f64 / cfg.n_fft as f64).collect();
        let mel_min = hz_to_mel(cfg.fmin, cfg.mel_scale);
        let mel_max = hz_to_mel(cfg.fmax, cfg.mel_scale);
        let n_points = cfg.n_mels + 2;
        let edges_hz: Vec<f64> = (0..n_points)
            .map(|i| {
                let mel = mel_min + (mel_max - mel_min) * i as f64 / (n_points - 1) as f64;
                mel_to_hz(mel, cfg.mel_scale)
            })
            .collect();

        let filters = (0..cfg.n_mels)
            .map(|m| {
                let (lo, centre, hi) = (edges_hz[m], edges_hz[m + 1], edges_hz[m + 2]);
                let norm = match cfg.mel_norm {
                    MelNorm::Slaney => 2.0 / (hi - lo),
                    MelNorm::None => 1.0,
                };
                let dense: Vec<f64> = fft_freqs
                    .iter()
                    .map(|&f| {
                        let rising = (f - lo) / (centre - lo);
                        let falling = (hi - f) / (hi - centre);
                        rising.min(falling).max(0.0) * norm
                    })
                    .collect();
                Filter::from_dense(&dense) // a filter narrower than one bin stays empty, as in librosa
            })
            .collect();
        Self { filters }
    }

    /// Kaldi's bank (`torchaudio.compliance.kaldi.get_mel_banks` without VTLN): edges evenly
    /// spaced in Kaldi mel, each bin weighted by where its centre frequency falls in mel.
    fn kaldi(cfg: &FrontendConfig) -> Self {
        let scale = MelScale::Kaldi;
        let bin_hz = cfg.sample_rate as f64 / cfg.n_fft as f64;
        // Kaldi's bank covers bins 0..n_fft/2; the Nyquist bin gets no weight.
        let bin_mels: Vec<f64> = (0..cfg.n_fft / 2).map(|k| hz_to_mel(k as f64 * bin_hz, scale)).collect();
        let (mel_low, mel_high) = (hz_to_mel(cfg.fmin, scale), hz_to_mel(cfg.fmax, scale));
        let delta = (mel_high - mel_low) / (cfg.n_mels + 1) as f64;
        let filters = (0..cfg.n_mels)
            .map(|m| {
                let left = mel_low + m as f64 * delta;
                let (centre, right) = (left + delta, left + 2.0 * delta);
                let dense: Vec<f64> = bin_mels
                    .iter()
                    .map(|&mel| ((mel - left) / (centre - left)).min((right - mel) / (right - centre)).max(0.0))
                    .collect();
                Filter::from_dense(&dense)
            })
            .collect();
        Self { filters }
    }

    pub fn n_mels(&self) -> usize {
        self.filters.len()
    }

    /// Applies the bank to a one-sided spectrum (`spectrum.len() == n_fft / 2 + 1`).
    pub fn apply(&self, spectrum: &[f32], out: &mut [f32]) {
        for (filter, out) in self.filters.iter().zip(out.iter_mut()) {
            let bins = &spectrum[filter.first_bin..filter.first_bin + filter.weights.len()];
            *out = bins.iter().zip(&filter.weights).map(|(s, w)| s * w).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::config::ge2e_config;

    #[test]
    fn slaney_scale_round_trips_and_is_linear_below_1khz() {
        for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 8000.0] {
            let back = mel_to_hz(hz_to_mel(hz, MelScale::Slaney), MelScale::Slaney);
            assert!((back - hz).abs() < 1e-6, "{hz} -> {back}");
        }
        assert!((hz_to_mel(500.0, MelScale::Slaney) - 7.5).abs() < 1e-12);
    }

    #[test]
    fn kaldi_filters_peak_at_one_and_skip_nyquist() {
        let cfg = crate::frontend::config::kaldi_config();
        let bank = MelFilterbank::new(&cfg);
        assert_eq!(bank.n_mels(), 80);
        for (m, f) in bank.filters.iter().enumerate() {
            let peak = f.weights.iter().copied().fold(0.0f32, f32::max);
            // The lowest filters are only a bin or two wide, so no bin sits near their centre.
            let min_peak = if m < 20 { 0.0 } else { 0.5 };
            assert!(peak > min_peak && peak <= 1.0, "filter {m}: peak {peak}");
            assert!(f.first_bin + f.weights.len() <= cfg.n_fft / 2);
        }
        let back = mel_to_hz(hz_to_mel(1234.5, MelScale::Kaldi), MelScale::Kaldi);
        assert!((back - 1234.5).abs() < 1e-9);
    }

    #[test]
    fn htk_scale_matches_formula() {
        assert!((hz_to_mel(700.0, MelScale::Htk) - 2595.0 * 2f64.log10()).abs() < 1e-9);
    }

    #[test]
    fn slaney_filters_have_unit_area_in_hz() {
        // With slaney norm each triangle has height 2/(hi-lo), so its area over Hz is 1; the
        // discrete sum times the bin spacing approximates that for filters many bins wide.
        let cfg = FrontendConfig { n_fft: 4096, win_length: 4096, ..ge2e_config() };
        let bank = MelFilterbank::new(&cfg);
        let bin_hz = cfg.sample_rate as f64 / cfg.n_fft as f64;
        let last = bank.filters.last().unwrap();
        let area: f64 = last.weights.iter().map(|&w| w as f64 * bin_hz).sum();
        assert!((area - 1.0).abs() < 0.02, "area {area}");
    }
}
