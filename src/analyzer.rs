//! The streaming analysis state machine shared by the CLI and the plugin: push samples in any
//! block sizes, get a [`Decision`] every hop. Output depends only on the samples, never on how
//! they were split into calls, so a file analysed offline and the same audio played live agree.
//!
//! Per hop: the most recent `window_frames` frames → voice-activity gate → embedding of their
//! voiced frames → scores against the library → averaged over the last ~1 s of voiced hops →
//! singer / unknown / no voice.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::decision::{Candidate, Decision, Verdict};
use crate::frontend::{frames_to_embed, Frames, Frontend};
use crate::library::{Scoring, SingerLibrary};
use crate::model::{Model, ModelError};

/// Decisions report at most this many candidates.
pub const TOP_CANDIDATES: usize = 3;
/// Seconds of per-hop embeddings kept for "enrol what was just heard".
pub const RECENT_EMBEDDINGS_S: f64 = 120.0;

/// Tunables of the analyzer; the defaults are what the CLI and plugin start with.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzerConfig {
    /// Seconds between decisions.
    pub hop_s: f64,
    /// Scores are averaged over the voiced hops of this many trailing seconds.
    pub smoothing_s: f64,
    /// Frames quieter than this (dBFS RMS) count as silence.
    pub voice_floor_db: f32,
    /// A window needs at least this fraction of loud-enough frames to be judged at all.
    pub min_voiced_fraction: f32,
    /// Best score below this is reported as unknown.
    pub threshold: f32,
    /// Song mode: the same for a whole turn (see [`crate::model::ModelMetadata::turn_threshold`]).
    pub turn_threshold: f32,
    pub scoring: Scoring,
}

impl AnalyzerConfig {
    /// Defaults for a model, using its calibrated threshold.
    pub fn for_model(model: &Model) -> Self {
        Self {
            hop_s: 0.5,
            smoothing_s: 1.0,
            voice_floor_db: DEFAULT_VOICE_FLOOR_DB,
            min_voiced_fraction: 0.5,
            threshold: model.metadata().default_threshold,
            turn_threshold: model.metadata().turn_threshold.unwrap_or(model.metadata().default_threshold),
            scoring: Scoring::Centroid,
        }
    }

    /// These settings with another unknown-singer threshold; the turn threshold moves by as
    /// much, so raising one raises both.
    pub fn with_threshold(&self, threshold: f32) -> Self {
        let turn_threshold = (self.turn_threshold + threshold - self.threshold).clamp(-1.0, 1.0);
        Self { threshold, turn_threshold, ..self.clone() }
    }
}

/// Level under which a frame is treated as silence. Low enough for quiet vocals, high enough
/// to ignore the noise floor of a typical recording.
pub const DEFAULT_VOICE_FLOOR_DB: f32 = -45.0;

/// An embedding of one hop's window, kept for enrolment from recent audio.
#[derive(Debug, Clone)]
pub struct HopEmbedding {
    pub end_s: f64,
    pub embedding: Vec<f32>,
}

/// What one hop's window holds, before any smoothing: the per-hop evidence that the live
/// decision ([`Analyzer::push`]) and song mode ([`crate::song`]) both decide from.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Start of the window that was analysed (later than `end_s - window` at a stream's start).
    pub window_start_s: f64,
    /// End of the window, i.e. the time at which the live analyzer decides.
    pub end_s: f64,
    /// Fraction of the window's frames at or above the voice floor.
    pub voiced_fraction: f32,
    pub voice: HopVoice,
}

impl Observation {
    /// This hop scored against another library (e.g. one with singers enrolled since).
    pub fn rescored(&self, library: &SingerLibrary, scoring: Scoring) -> Observation {
        let voice = match &self.voice {
            HopVoice::Voiced { embedding, .. } => {
                HopVoice::Voiced { scores: library.score(embedding, scoring), embedding: embedding.clone() }
            }
            no_voice => no_voice.clone(),
        };
        Observation {
            window_start_s: self.window_start_s,
            end_s: self.end_s,
            voiced_fraction: self.voiced_fraction,
            voice,
        }
    }
}

/// Whether a hop's window holds a voice and, if so, how it scores.
#[derive(Debug, Clone, PartialEq)]
pub enum HopVoice {
    /// The energy gate (too little audio above the voice floor) or the model's voice head
    /// (sound, but no voice in it) says no voice; `confidence` in [0, 1].
    NoVoice { confidence: f32 },
    /// A voice: its embedding and its score against each enrolled singer (library order).
    Voiced { embedding: Vec<f32>, scores: Vec<f32> },
}

pub struct Analyzer {
    model: Arc<Model>,
    library: Arc<SingerLibrary>,
    cfg: AnalyzerConfig,
    frontend: Frontend,
    /// Recent frames; trimmed to the model window after each decision.
    frames: Frames,
    /// Frames produced since the stream started.
    total_frames: u64,
    /// Frame count at which the next decision is due.
    next_decision_at: u64,
    hop_frames: u64,
    /// Score vectors of the last hops inside the smoothing span (`None` = unvoiced hop).
    history: VecDeque<Option<Vec<f32>>>,
    history_len: usize,
    recent: VecDeque<HopEmbedding>,
    /// Sample rate of the pushed audio.
    input_rate: u32,
    /// Seconds of input that were skipped (never pushed), added to every reported time so the
    /// timeline stays true to the stream after a live plugin drops audio it could not analyse.
    skipped_s: f64,
    /// Reused between calls: the observations of the hops that fell due.
    due: Vec<Observation>,
    /// Samples pushed since the stream started.
    pushed: u64,
}

impl Analyzer {
    /// `input_rate` is the sample rate of the audio that will be pushed.
    pub fn new(
        model: Arc<Model>,
        library: Arc<SingerLibrary>,
        cfg: AnalyzerConfig,
        input_rate: u32,
    ) -> Result<Self, String> {
        library.check_model(model.metadata()).map_err(|e| e.to_string())?;
        if !(cfg.hop_s > 0.0 && cfg.smoothing_s >= 0.0) {
            return Err(format!(
                "hop ({} s) must be positive and smoothing ({} s) non-negative",
                cfg.hop_s, cfg.smoothing_s
            ));
        }
        let meta = model.metadata();
        let frontend = Frontend::new(&meta.frontend, input_rate)?;
        let period = meta.frontend.frame_period_s();
        let hop_frames = ((cfg.hop_s / period).round() as u64).max(1);
        let history_len = smoothing_hops(cfg.smoothing_s, cfg.hop_s);
        Ok(Self {
            model,
            library,
            frontend,
            frames: Frames::default(),
            total_frames: 0,
            next_decision_at: hop_frames,
            hop_frames,
            history: VecDeque::with_capacity(history_len + 1),
            history_len,
            recent: VecDeque::new(),
            input_rate,
            skipped_s: 0.0,
            due: Vec::new(),
            pushed: 0,
            cfg,
        })
    }

    pub fn config(&self) -> &AnalyzerConfig {
        &self.cfg
    }

    /// Swaps in a new library (after an enrolment, say). Smoothing restarts, since old scores
    /// refer to the old singer list.
    pub fn set_library(&mut self, library: Arc<SingerLibrary>) -> Result<(), String> {
        library.check_model(self.model.metadata()).map_err(|e| e.to_string())?;
        self.library = library;
        self.history.clear();
        Ok(())
    }

    pub fn set_threshold(&mut self, threshold: f32) {
        self.cfg.threshold = threshold;
    }

    /// Changes how many trailing seconds of scores are averaged (takes effect at the next hop).
    pub fn set_smoothing_s(&mut self, smoothing_s: f64) {
        self.cfg.smoothing_s = smoothing_s.max(0.0);
        self.history_len = smoothing_hops(self.cfg.smoothing_s, self.cfg.hop_s);
    }

    /// Seconds of the stream seen so far: analysed plus skipped.
    pub fn position_s(&self) -> f64 {
        self.total_frames as f64 * self.model.metadata().frontend.frame_period_s() + self.skipped_s
    }

    /// Seconds of input received so far, pushed plus skipped: where the audio ends, while
    /// [`Analyzer::position_s`] stops at the last complete frame.
    pub fn input_end_s(&self) -> f64 {
        self.pushed as f64 / f64::from(self.input_rate) + self.skipped_s
    }

    /// Records that `samples` of the stream were dropped before reaching the analyzer, so later
    /// decisions carry the times at which their audio really played.
    pub fn skip_input(&mut self, samples: u64) {
        self.skipped_s += samples as f64 / self.input_rate as f64;
    }

    pub fn library(&self) -> &Arc<SingerLibrary> {
        &self.library
    }

    /// Embeddings of the voiced hops of the last `seconds`, oldest first.
    pub fn recent_embeddings(&self, seconds: f64) -> Vec<Vec<f32>> {
        let now = self.position_s();
        self.recent.iter().filter(|h| h.end_s > now - seconds).map(|h| h.embedding.clone()).collect()
    }

    /// Consumes mono samples; appends every decision that became due.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<Decision>) -> Result<(), ModelError> {
        self.decide_due(out, None, |analyzer, due| analyzer.observe(samples, due))
    }

    /// Ends the stream: frames whatever the resampler still held and takes the decisions due.
    pub fn finish(&mut self, out: &mut Vec<Decision>) -> Result<(), ModelError> {
        self.decide_due(out, None, Self::observe_finish)
    }

    /// [`Analyzer::push`] that also appends each decided hop's observation to `kept`, so a live
    /// stream can later be decided again in song mode (the plugin's timeline export).
    pub fn push_keeping(
        &mut self,
        samples: &[f32],
        out: &mut Vec<Decision>,
        kept: &mut Vec<Observation>,
    ) -> Result<(), ModelError> {
        self.decide_due(out, Some(kept), |analyzer, due| analyzer.observe(samples, due))
    }

    /// [`Analyzer::finish`] keeping the observations, as [`Analyzer::push_keeping`].
    pub fn finish_keeping(&mut self, out: &mut Vec<Decision>, kept: &mut Vec<Observation>) -> Result<(), ModelError> {
        self.decide_due(out, Some(kept), Self::observe_finish)
    }

    /// Runs `observe` into the reused buffer of due hops and appends their live decisions (and
    /// copies of the observations to `kept`).
    fn decide_due(
        &mut self,
        out: &mut Vec<Decision>,
        kept: Option<&mut Vec<Observation>>,
        observe: impl FnOnce(&mut Self, &mut Vec<Observation>) -> Result<(), ModelError>,
    ) -> Result<(), ModelError> {
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        let result = observe(self, &mut due);
        if let Some(kept) = kept {
            kept.extend(due.iter().cloned());
        }
        out.extend(due.drain(..).map(|obs| self.decide(obs)));
        self.due = due;
        result
    }

    /// Consumes mono samples; appends the observation of every hop that became due, without
    /// deciding anything (song mode decides once it has seen the whole recording).
    pub fn observe(&mut self, samples: &[f32], out: &mut Vec<Observation>) -> Result<(), ModelError> {
        self.pushed += samples.len() as u64;
        let before = self.frames.len();
        self.frontend.push(samples, &mut self.frames);
        self.take_due_observations(before, out)
    }

    /// Ends the stream for [`Analyzer::observe`]: frames what the resampler still held.
    pub fn observe_finish(&mut self, out: &mut Vec<Observation>) -> Result<(), ModelError> {
        let before = self.frames.len();
        self.frontend.finish(&mut self.frames);
        self.take_due_observations(before, out)
    }

    /// Counts the frames added since `frames` held `before`, then observes every hop now due.
    fn take_due_observations(&mut self, before: usize, out: &mut Vec<Observation>) -> Result<(), ModelError> {
        self.total_frames += (self.frames.len() - before) as u64;
        // Hops fall due at fixed frame counts from the frames held, so block size only changes
        // how many are due per call, never their content.
        while self.total_frames >= self.next_decision_at {
            out.push(self.observe_window(self.next_decision_at)?);
            self.next_decision_at += self.hop_frames;
        }
        self.trim_frames();
        Ok(())
    }

    /// The observation of the window ending at frame `end_frame` (exclusive).
    fn observe_window(&mut self, end_frame: u64) -> Result<Observation, ModelError> {
        let meta = self.model.metadata();
        let n_mels = meta.frontend.n_mels;
        let period = meta.frontend.frame_period_s();
        // Frames held: those in `self.frames` end at `total_frames`.
        let held_start = self.total_frames - self.frames.len() as u64;
        let end = (end_frame - held_start) as usize;
        let start = end.saturating_sub(meta.window_frames);
        let end_s = end_frame as f64 * period + self.skipped_s;
        let window_start_s = end_s - (end - start) as f64 * period;

        let (mel, level_db) = (&self.frames.mel[start * n_mels..end * n_mels], &self.frames.level_db[start..end]);
        let floor_db = self.cfg.voice_floor_db;
        let voiced_fraction =
            level_db.iter().filter(|&&db| db >= floor_db).count() as f32 / (end - start).max(1) as f32;
        let mut no_voice = HopVoice::NoVoice { confidence: 1.0 - voiced_fraction };
        if voiced_fraction >= self.cfg.min_voiced_fraction {
            let voiced = frames_to_embed(mel, level_db, n_mels, floor_db, meta.keep_pauses);
            if let Some(embedding) = self.model.embed_utterance(&voiced)? {
                match meta.voice_head.as_ref().map(|head| (head.p_voice(&embedding), head.threshold)) {
                    // The model's voice head hears accompaniment or noise alone: no voice.
                    Some((p_voice, threshold)) if p_voice < threshold => {
                        no_voice = HopVoice::NoVoice { confidence: 1.0 - p_voice };
                    }
                    _ => {
                        let scores = self.library.score(&embedding, self.cfg.scoring);
                        let voice = HopVoice::Voiced { embedding, scores };
                        return Ok(Observation { window_start_s, end_s, voiced_fraction, voice });
                    }
                }
            }
        }
        Ok(Observation { window_start_s, end_s, voiced_fraction, voice: no_voice })
    }

    /// The live (causal) decision for one hop: its scores averaged with those of the voiced
    /// hops of the last `smoothing_s`.
    fn decide(&mut self, obs: Observation) -> Decision {
        let end_s = obs.end_s;
        let start_s = (end_s - self.cfg.hop_s).max(0.0);
        let (scores, no_voice_confidence) = match obs.voice {
            HopVoice::NoVoice { confidence, .. } => (None, confidence),
            HopVoice::Voiced { embedding, scores } => {
                self.remember(end_s, embedding);
                (Some(scores), 0.0)
            }
        };
        let voiced = scores.is_some();
        self.history.push_back(scores);
        while self.history.len() > self.history_len {
            self.history.pop_front();
        }
        if voiced {
            self.smoothed_decision(start_s, end_s)
        } else {
            Decision { start_s, end_s, verdict: Verdict::NoVoice, confidence: no_voice_confidence, top: Vec::new() }
        }
    }

    fn smoothed_decision(&self, start_s: f64, end_s: f64) -> Decision {
        let n = self.library.singers.len();
        let voiced: Vec<&Vec<f32>> = self.history.iter().flatten().filter(|s| s.len() == n).collect();
        let mut mean = vec![0.0f32; n];
        for s in &voiced {
            mean.iter_mut().zip(s.iter()).for_each(|(m, v)| *m += v / voiced.len() as f32);
        }
        let ranked = rank(&mean);
        let (verdict, confidence) = judge(&self.library, &ranked, self.cfg.threshold);
        Decision { start_s, end_s, verdict, confidence, top: top_candidates(&self.library, &ranked) }
    }

    fn remember(&mut self, end_s: f64, embedding: Vec<f32>) {
        self.recent.push_back(HopEmbedding { end_s, embedding });
        while self.recent.front().is_some_and(|h| h.end_s < end_s - RECENT_EMBEDDINGS_S) {
            self.recent.pop_front();
        }
    }

    /// Keeps only the frames a future decision can still need.
    fn trim_frames(&mut self) {
        let meta = self.model.metadata();
        let keep = meta.window_frames;
        let held_start = self.total_frames - self.frames.len() as u64;
        // The next window ends at `next_decision_at` and starts `window_frames` before it.
        let needed_from = self.next_decision_at.saturating_sub(keep as u64);
        let drop = needed_from.saturating_sub(held_start).min(self.frames.len() as u64) as usize;
        if drop > 0 {
            let n_mels = meta.frontend.n_mels;
            self.frames.mel.drain(..drop * n_mels);
            self.frames.level_db.drain(..drop);
        }
    }
}

/// How many hops of scores a smoothing span covers (at least the current one).
fn smoothing_hops(smoothing_s: f64, hop_s: f64) -> usize {
    ((smoothing_s / hop_s).round() as usize).max(1)
}

/// Enrolled singers by `scores` (library order), best first: (library index, score).
pub(crate) fn rank(scores: &[f32]) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = scores.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked
}

/// The verdict on `ranked` scores: the best singer if it reaches `threshold`, else unknown; its
/// confidence grows with the distance from the threshold.
pub(crate) fn judge(library: &SingerLibrary, ranked: &[(usize, f32)], threshold: f32) -> (Verdict, f32) {
    let (verdict, margin) = match ranked.first() {
        Some(&(i, score)) if score >= threshold => {
            (Verdict::Singer(library.singers[i].name.clone()), score - threshold)
        }
        Some(&(_, score)) => (Verdict::Unknown, threshold - score),
        None => (Verdict::Unknown, 1.0),
    };
    (verdict, confidence_from_margin(margin))
}

/// The best [`TOP_CANDIDATES`] of `ranked`, named.
pub(crate) fn top_candidates(library: &SingerLibrary, ranked: &[(usize, f32)]) -> Vec<Candidate> {
    ranked
        .iter()
        .take(TOP_CANDIDATES)
        .map(|&(i, score)| Candidate { singer: library.singers[i].name.clone(), score })
        .collect()
}

/// Maps how far a score is past the threshold (in cosine units) to a confidence in [0.5, 1):
/// a logistic with a 0.05 scale, so a margin of 0.1 reads as ~0.88.
pub fn confidence_from_margin(margin: f32) -> f32 {
    1.0 / (1.0 + (-margin.max(0.0) / 0.05).exp())
}

/// Runs a whole clip through a fresh analyzer, in blocks of `block` samples.
pub fn analyze_samples(
    model: Arc<Model>,
    library: Arc<SingerLibrary>,
    cfg: AnalyzerConfig,
    samples: &[f32],
    rate: u32,
    block: usize,
    mut progress: impl FnMut(usize),
) -> Result<Vec<Decision>, String> {
    let mut analyzer = Analyzer::new(model, library, cfg, rate)?;
    let mut decisions = Vec::new();
    for chunk in samples.chunks(block.max(1)) {
        analyzer.push(chunk, &mut decisions).map_err(|e| e.to_string())?;
        progress(chunk.len());
    }
    analyzer.finish(&mut decisions).map_err(|e| e.to_string())?;
    Ok(decisions)
}
