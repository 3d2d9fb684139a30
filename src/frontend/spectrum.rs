//! One frame of audio in, one column of (log-)mel energies out.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::config::{FrontendConfig, LogCompression, WindowKind, WindowPosition};
use super::mel::MelFilterbank;

/// Computes mel features for frames of `frame_length()` samples. Every buffer is allocated
/// once in `new()`, so `compute()` never allocates.
pub struct MelSpectrum {
    fft: Arc<dyn RealToComplex<f32>>,
    /// The analysis window over one frame (`frame_length()` samples; for a centred window
    /// already zero-padded to `n_fft`).
    window: Vec<f32>,
    /// FFT input: the windowed frame, zero-padded to `n_fft`.
    windowed: Vec<f32>,
    /// FFT output.
    bins: Vec<Complex<f32>>,
    /// `|X|^power` per bin.
    power: Vec<f32>,
    scratch: Vec<Complex<f32>>,
    filterbank: MelFilterbank,
    cfg: FrontendConfig,
}

impl MelSpectrum {
    pub fn new(cfg: &FrontendConfig) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(cfg.n_fft);
        Self {
            window: frame_window(cfg),
            windowed: fft.make_input_vec(),
            bins: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; cfg.n_bins()],
            filterbank: MelFilterbank::new(cfg),
            fft,
            cfg: cfg.clone(),
        }
    }

    /// Writes the `n_mels` features of `frame` (exactly `frame_length()` samples) into `out`.
    pub fn compute(&mut self, frame: &[f32], out: &mut [f32]) {
        let len = self.window.len();
        debug_assert_eq!(frame.len(), len);
        let (head, tail) = self.windowed.split_at_mut(len);
        head.copy_from_slice(frame);
        // The FFT may use its input as scratch, so the padding is rewritten every frame.
        tail.fill(0.0);
        if self.cfg.remove_dc {
            let mean = (head.iter().map(|&x| x as f64).sum::<f64>() / len as f64) as f32;
            head.iter_mut().for_each(|x| *x -= mean);
        }
        let k = self.cfg.preemphasis as f32;
        if k != 0.0 {
            for i in (1..len).rev() {
                head[i] -= k * head[i - 1];
            }
            head[0] -= k * head[0];
        }
        head.iter_mut().zip(&self.window).for_each(|(x, &w)| *x *= w);
        self.fft
            .process_with_scratch(&mut self.windowed, &mut self.bins, &mut self.scratch)
            .expect("buffers were sized by the planner");
        let power = self.cfg.power as f32;
        for (p, c) in self.power.iter_mut().zip(&self.bins) {
            let energy = c.norm_sqr();
            *p = if power == 2.0 { energy } else { energy.sqrt().powf(power) };
        }
        self.filterbank.apply(&self.power, out);
        let floor = self.cfg.log_floor as f32;
        match self.cfg.log {
            LogCompression::None => {}
            LogCompression::Ln => out.iter_mut().for_each(|v| *v = v.max(floor).ln()),
            LogCompression::Log10 => out.iter_mut().for_each(|v| *v = v.max(floor).log10()),
            LogCompression::Db => out.iter_mut().for_each(|v| *v = 10.0 * v.max(floor).log10()),
        }
    }
}

/// The analysis window over one frame: `win_length` samples, centred in `n_fft` zeros
/// (librosa's `pad_center`) or, for Kaldi framing, the frame itself.
fn frame_window(cfg: &FrontendConfig) -> Vec<f32> {
    let n = cfg.win_length;
    let offset = match cfg.window_position {
        WindowPosition::Center => (cfg.n_fft - n) / 2,
        WindowPosition::Start => 0,
    };
    let mut window = vec![0.0f32; cfg.frame_length()];
    let tau = 2.0 * std::f64::consts::PI;
    for i in 0..n {
        let w = match cfg.window {
            WindowKind::Hann => 0.5 - 0.5 * (tau * i as f64 / n as f64).cos(),
            WindowKind::Povey => (0.5 - 0.5 * (tau * i as f64 / (n - 1).max(1) as f64).cos()).powf(0.85),
        };
        window[offset + i] = w as f32;
    }
    window
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::config::ge2e_config;

    #[test]
    fn sine_energy_lands_in_the_filter_around_its_frequency() {
        let cfg = ge2e_config();
        let mut spec = MelSpectrum::new(&cfg);
        let frame: Vec<f32> =
            (0..cfg.n_fft).map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin()).collect();
        let mut out = vec![0.0; cfg.n_mels];
        spec.compute(&frame, &mut out);
        let peak = out.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        // 1 kHz is 15 slaney mels; the 40 bands span 0..~51.3 mels, ~1.25 mel per band.
        assert!((10..=13).contains(&peak), "peak band {peak}");
    }

    #[test]
    fn kaldi_frames_are_win_length_samples_and_ignore_dc() {
        let cfg = crate::frontend::config::kaldi_config();
        let mut spec = MelSpectrum::new(&cfg);
        let tone: Vec<f32> =
            (0..cfg.win_length).map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16000.0).sin() * 0.1).collect();
        let offset: Vec<f32> = tone.iter().map(|x| x + 0.25).collect();
        let (mut a, mut b) = (vec![0.0; cfg.n_mels], vec![0.0; cfg.n_mels]);
        spec.compute(&tone, &mut a);
        spec.compute(&offset, &mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-3, "DC changed a band: {x} vs {y}");
        }
    }

    #[test]
    fn silence_gives_zero_or_floor() {
        let cfg = FrontendConfig { log: LogCompression::Db, ..ge2e_config() };
        let mut spec = MelSpectrum::new(&cfg);
        let mut out = vec![1.0; cfg.n_mels];
        spec.compute(&vec![0.0; cfg.n_fft], &mut out);
        assert!(out.iter().all(|&v| (v - (-100.0)).abs() < 1e-3), "{out:?}");
    }
}
