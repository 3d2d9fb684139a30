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
        MelScale::Slaney if hz >= SLANEY_MIN_LOG_HZ => {
            SLANEY_MIN_LOG_MEL + (hz / SLANEY_MIN_LOG_HZ).ln() / slaney_log_step()
        }
        MelScale::Slaney => hz / SLANEY_F_SP,
    }
}

pub fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(mel / 2595.0) - 1.0),
        MelScale::Slaney if mel >= SLANEY_MIN_LOG_MEL => {
            SLANEY_MIN_LOG_HZ * (slaney_log_step() * (mel - SLANEY_MIN_LOG_MEL)).exp()
        }
        MelScale::Slaney => mel * SLANEY_F_SP,
    }
}

impl MelFilterbank {
    pub fn new(cfg: &FrontendConfig) -> Self {
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
                let first_bin = dense.iter().position(|&w| w > 0.0).unwrap_or(0);
                let last_bin = dense.iter().rposition(|&w| w > 0.0).unwrap_or(0);
                let weights = if dense[first_bin] > 0.0 {
                    dense[first_bin..=last_bin].iter().map(|&w| w as f32).collect()
                } else {
                    Vec::new() // a filter narrower than one bin: librosa leaves it empty too
                };
                Filter { first_bin, weights }
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
