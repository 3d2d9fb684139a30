//! Audio in, mel features out: mono samples at any rate → resampled to the model's rate →
//! overlapping frames → mel energies (plus each frame's level, for voice-activity gating).
//! Every parameter comes from the model's [`FrontendConfig`].

pub mod config;
pub mod mel;
pub mod resample;
pub mod spectrum;

pub use config::FrontendConfig;

use resample::StreamResampler;
use spectrum::MelSpectrum;

/// Level reported for a frame of digital silence, in dBFS.
pub const SILENCE_DB: f32 = -120.0;

/// Features of consecutive frames, appended to by [`Frontend::push`].
#[derive(Debug, Clone, Default)]
pub struct Frames {
    /// `n_mels` values per frame, frame after frame.
    pub mel: Vec<f32>,
    /// RMS level of each frame's samples, in dBFS.
    pub level_db: Vec<f32>,
}

impl Frames {
    pub fn len(&self) -> usize {
        self.level_db.len()
    }

    pub fn is_empty(&self) -> bool {
        self.level_db.is_empty()
    }

    pub fn clear(&mut self) {
        self.mel.clear();
        self.level_db.clear();
    }
}

/// Largest sample magnitude analysed. Real audio stays near ±1; a damaged float file can hold
/// values near 1e38, whose spectra overflow to infinity and then NaN inside the resampler's
/// FFT (found by tests/fuzz.rs). Clipping there keeps every later number finite.
pub const MAX_SAMPLE: f32 = 1e4;

/// Streaming frontend: push samples in any block sizes, get identical frames.
pub struct Frontend {
    cfg: FrontendConfig,
    resampler: StreamResampler,
    spectrum: MelSpectrum,
    /// Resampled samples not yet fully consumed by framing.
    samples: Vec<f32>,
    /// Scratch for one frame's mel values.
    mel_frame: Vec<f32>,
    /// Scratch for the resampler's output of one push.
    resampled: Vec<f32>,
}

impl Frontend {
    /// `input_rate` is the rate of the audio that will be pushed.
    pub fn new(cfg: &FrontendConfig, input_rate: u32) -> Result<Self, String> {
        cfg.validate()?;
        Ok(Self {
            resampler: StreamResampler::new(input_rate, cfg.sample_rate)?,
            spectrum: MelSpectrum::new(cfg),
            samples: Vec::with_capacity(cfg.n_fft * 4),
            mel_frame: vec![0.0; cfg.n_mels],
            resampled: Vec::new(),
            cfg: cfg.clone(),
        })
    }

    pub fn config(&self) -> &FrontendConfig {
        &self.cfg
    }

    /// Consumes mono `input` samples; appends every completed frame to `frames`.
    /// Non-finite samples (NaN, ±Inf) are treated as silence, and absurd ones (beyond
    /// ±[`MAX_SAMPLE`], 80 dB over full scale: a damaged float file) are clipped there.
    pub fn push(&mut self, input: &[f32], frames: &mut Frames) {
        self.resampled.clear();
        let mut rest = input;
        // Sanitise in small stack pieces so a NaN never reaches the resampler's filters.
        let mut clean = [0.0f32; 256];
        while !rest.is_empty() {
            let n = rest.len().min(clean.len());
            for (c, &x) in clean.iter_mut().zip(&rest[..n]) {
                *c = if x.is_finite() { x.clamp(-MAX_SAMPLE, MAX_SAMPLE) } else { 0.0 };
            }
            self.resampler.push(&clean[..n], &mut self.resampled);
            rest = &rest[n..];
        }
        self.frame_resampled(frames);
    }

    /// Ends the stream: flushes the resampler and frames what it held back. Frames are only
    /// ever made from whole frames (`frame_length()` samples), so a short tail adds none.
    pub fn finish(&mut self, frames: &mut Frames) {
        self.resampled.clear();
        self.resampler.flush(&mut self.resampled);
        self.frame_resampled(frames);
    }

    fn frame_resampled(&mut self, frames: &mut Frames) {
        self.samples.extend_from_slice(&self.resampled);
        let (frame_len, hop) = (self.cfg.frame_length(), self.cfg.hop_length);
        let mut start = 0;
        while start + frame_len <= self.samples.len() {
            let frame = &self.samples[start..start + frame_len];
            self.spectrum.compute(frame, &mut self.mel_frame);
            frames.mel.extend_from_slice(&self.mel_frame);
            frames.level_db.push(rms_db(frame));
            start += hop;
        }
        self.samples.drain(..start.min(self.samples.len()));
    }
}

/// RMS level of `samples` in dBFS, floored at [`SILENCE_DB`].
pub fn rms_db(samples: &[f32]) -> f32 {
    let mean_square = samples.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>() / samples.len().max(1) as f64;
    if mean_square <= 0.0 {
        return SILENCE_DB;
    }
    ((10.0 * mean_square.log10()) as f32).max(SILENCE_DB)
}

/// The frames at or above `floor_db`, in order, from a run of frames given as its mel values
/// (`n_mels` per frame) and levels: silence between phrases says nothing about who sings, so
/// enrolment, evaluation and the analyzer embed only voiced frames.
pub fn voiced_frames(mel: &[f32], level_db: &[f32], n_mels: usize, floor_db: f32) -> Frames {
    let mut voiced = Frames::default();
    for (frame, &db) in mel.chunks_exact(n_mels).zip(level_db) {
        if db >= floor_db {
            voiced.mel.extend_from_slice(frame);
            voiced.level_db.push(db);
        }
    }
    voiced
}

/// The frames from the first at or above `floor_db` to the last, pauses between included;
/// empty when none reaches it.
pub fn voiced_span(mel: &[f32], level_db: &[f32], n_mels: usize, floor_db: f32) -> Frames {
    let first = level_db.iter().position(|&db| db >= floor_db);
    let last = level_db.iter().rposition(|&db| db >= floor_db);
    match (first, last) {
        (Some(first), Some(last)) => Frames {
            mel: mel[first * n_mels..(last + 1) * n_mels].to_vec(),
            level_db: level_db[first..=last].to_vec(),
        },
        _ => Frames::default(),
    }
}

/// What a model embeds of a run of frames: its voiced frames, or its voiced span with the
/// pauses kept for models that ask for them (`keep_pauses` in the metadata).
pub fn frames_to_embed(mel: &[f32], level_db: &[f32], n_mels: usize, floor_db: f32, keep_pauses: bool) -> Frames {
    if keep_pauses {
        voiced_span(mel, level_db, n_mels, floor_db)
    } else {
        voiced_frames(mel, level_db, n_mels, floor_db)
    }
}

/// Mean level of frames in dBFS (power average), [`SILENCE_DB`] for none.
pub fn mean_level_db(level_db: &[f32]) -> f32 {
    if level_db.is_empty() {
        return SILENCE_DB;
    }
    let mean_square = level_db.iter().map(|&db| 10f64.powf(db as f64 / 10.0)).sum::<f64>() / level_db.len() as f64;
    ((10.0 * mean_square.log10()) as f32).max(SILENCE_DB)
}

/// Changes mel features as if the audio had been `gain_db` louder, whatever the compression:
/// power mel scales by the gain, log features shift by it.
pub fn apply_gain_db(mel: &mut [f32], cfg: &FrontendConfig, gain_db: f32) {
    let power_gain_db = gain_db as f64 * cfg.power / 2.0;
    match cfg.log {
        config::LogCompression::None => {
            let factor = 10f64.powf(power_gain_db / 10.0) as f32;
            mel.iter_mut().for_each(|v| *v *= factor);
        }
        config::LogCompression::Ln => {
            let shift = (power_gain_db / 10.0 * std::f64::consts::LN_10) as f32;
            mel.iter_mut().for_each(|v| *v += shift);
        }
        config::LogCompression::Log10 => mel.iter_mut().for_each(|v| *v += (power_gain_db / 10.0) as f32),
        config::LogCompression::Db => mel.iter_mut().for_each(|v| *v += power_gain_db as f32),
    }
}

/// Convenience for whole clips: the frames of `samples` recorded at `rate`.
pub fn frames_of_clip(cfg: &FrontendConfig, samples: &[f32], rate: u32) -> Result<Frames, String> {
    let mut frontend = Frontend::new(cfg, rate)?;
    let mut frames = Frames::default();
    frontend.push(samples, &mut frames);
    frontend.finish(&mut frames);
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::config::ge2e_config;

    #[test]
    fn frame_count_follows_hop() {
        let cfg = ge2e_config();
        let frames = frames_of_clip(&cfg, &vec![0.1; 16000], 16000).unwrap();
        // (16000 - 400) / 160 + 1 = 98 frames
        assert_eq!(frames.len(), 98);
        assert_eq!(frames.mel.len(), 98 * 40);
    }

    #[test]
    fn any_block_split_gives_identical_frames() {
        let cfg = ge2e_config();
        let input: Vec<f32> = (0..30000).map(|i| ((i as f32) * 0.01).sin() * 0.3).collect();
        let whole = frames_of_clip(&cfg, &input, 44100).unwrap();
        for block in [1usize, 3, 100, 511, 4096] {
            let mut fe = Frontend::new(&cfg, 44100).unwrap();
            let mut frames = Frames::default();
            for chunk in input.chunks(block) {
                fe.push(chunk, &mut frames);
            }
            fe.finish(&mut frames);
            assert_eq!(frames.mel, whole.mel, "block {block}");
            assert_eq!(frames.level_db, whole.level_db, "block {block}");
        }
    }

    #[test]
    fn absurd_sample_values_keep_every_feature_finite() {
        // 1e38 overflowed the resampler's FFT to NaN (a rubato panic) before clipping.
        let cfg = ge2e_config();
        let input: Vec<f32> = (0..48_000).map(|i| if i % 7 == 0 { 3e38 } else { -1e37 }).collect();
        let frames = frames_of_clip(&cfg, &input, 48_000).unwrap();
        assert!(!frames.is_empty());
        assert!(frames.mel.iter().chain(&frames.level_db).all(|v| v.is_finite()));
    }

    #[test]
    fn non_finite_samples_are_silence() {
        let cfg = ge2e_config();
        let mut input = vec![0.0f32; 4000];
        input[100] = f32::NAN;
        input[200] = f32::INFINITY;
        let frames = frames_of_clip(&cfg, &input, 16000).unwrap();
        assert!(frames.mel.iter().all(|v| *v == 0.0));
        assert!(frames.level_db.iter().all(|v| *v == SILENCE_DB));
    }

    #[test]
    fn gain_in_the_feature_domain_equals_gain_on_the_samples() {
        let cfg = ge2e_config();
        let input: Vec<f32> = (0..8000).map(|i| ((i as f32) * 0.03).sin() * 0.05).collect();
        let louder: Vec<f32> = input.iter().map(|x| x * 10f32.powf(6.0 / 20.0)).collect();
        let mut shifted = frames_of_clip(&cfg, &input, 16000).unwrap().mel;
        apply_gain_db(&mut shifted, &cfg, 6.0);
        let direct = frames_of_clip(&cfg, &louder, 16000).unwrap().mel;
        for (a, b) in shifted.iter().zip(&direct) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
        }
        assert!((mean_level_db(&[-20.0, -20.0]) + 20.0).abs() < 1e-4);
    }

    #[test]
    fn voiced_span_keeps_inner_pauses_and_trims_the_edges() {
        let level = [-90.0, -20.0, -90.0, -20.0, -90.0];
        let mel = [0.0, 1.0, 2.0, 3.0, 4.0];
        let span = frames_to_embed(&mel, &level, 1, -45.0, true);
        assert_eq!(span.mel, vec![1.0, 2.0, 3.0]);
        let voiced = frames_to_embed(&mel, &level, 1, -45.0, false);
        assert_eq!(voiced.mel, vec![1.0, 3.0]);
        assert!(frames_to_embed(&mel, &[-90.0; 5], 1, -45.0, true).is_empty());
    }

    #[test]
    fn rms_of_full_scale_square_is_zero_db() {
        assert!((rms_db(&[1.0, -1.0, 1.0, -1.0])).abs() < 1e-6);
    }
}
