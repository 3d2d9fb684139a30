//! Song mode: the timeline of a whole recording, decided after hearing all of it.
//!
//! The live analyzer must name a singer from the last second, as it happens. A file offers
//! more: the evidence after a moment as well as before it, and every hop of a sung turn at once.
//! Song mode uses both, as a speaker-diarisation system would:
//!
//! 1. The analyzer's per-hop [`Observation`]s (voice gate, voice head, embedding, scores), each
//!    placed at the centre of its window rather than at its end (no live latency to pay).
//! 2. Viterbi decoding of an HMM over the hops, with states {each enrolled singer, unknown,
//!    no voice}: a hop's score for singer *i* is its evidence for state *i*, the threshold's is
//!    unknown's, and every change of state costs `switch_penalty`, so a turn changes singer
//!    only when several hops agree.
//! 3. Each voiced turn is then identified from all of its audio against the turn threshold
//!    (calibrated for whole turns): for a file, the turn's audio is read again and embedded in
//!    one pass, like a whole clip ([`SongPlan`], [`crate::embed::TurnEmbedder`]); where the audio
//!    is gone (the plugin), the mean direction of the turn's hop embeddings stands in.
//!
//! Memory is bounded by the number of hops (one embedding each, ~1 KB per 0.5 s: 14 MB for two
//! hours) and one turn's features in the second pass, never by the whole audio: samples are
//! pushed in blocks and dropped once framed.

use std::sync::Arc;

use crate::analyzer::{judge, rank, top_candidates, Analyzer, AnalyzerConfig, HopVoice, Observation};
use crate::decision::{Candidate, Decision, Verdict};
use crate::embed::TurnEmbedder;
use crate::library::SingerLibrary;
use crate::model::{mean_direction, Model, ModelError};

/// Song mode's own settings; the defaults were chosen on the dev songs
/// (`../shared/data/dev-songs`, models/README.md "Song mode").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SongConfig {
    /// Log-likelihood cost of a change of state between two hops. Higher: fewer, longer turns.
    pub switch_penalty: f32,
    /// Log-likelihood per unit of cosine score: how strongly one hop's scores count.
    pub score_scale: f32,
    /// Cost of labelling a hop against its voice gate (a voiced hop `no voice`, or a hop
    /// without voice a singer); low values let short breaths stay inside a sung turn.
    pub voice_cost: f32,
    /// Score a whole turn needs to name a singer (`None`: the analyzer's
    /// [`AnalyzerConfig::turn_threshold`], i.e. the model's calibrated one). A turn's mean
    /// embedding scores higher than one hop's for the right singer and an impostor's nearest
    /// one alike, so it needs a threshold of its own (models/README.md, "Song mode").
    pub turn_threshold: Option<f32>,
    /// Seconds each voiced turn is widened into the `no voice` beside it.
    pub pad_s: f64,
}

impl Default for SongConfig {
    fn default() -> Self {
        Self { switch_penalty: 8.0, score_scale: 20.0, voice_cost: 4.0, turn_threshold: None, pad_s: 0.75 }
    }
}

impl SongConfig {
    /// Checks that every setting is a finite, non-negative number (a NaN would make every path
    /// equally likely and the timeline arbitrary).
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("switch penalty", self.switch_penalty),
            ("score scale", self.score_scale),
            ("voice cost", self.voice_cost),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("song mode's {name} must be a finite number >= 0 (got {v})"));
            }
        }
        if !(self.pad_s.is_finite() && self.pad_s >= 0.0) {
            return Err(format!("song mode's padding must be a finite number of seconds >= 0 (got {})", self.pad_s));
        }
        match self.turn_threshold {
            Some(t) if !(-1.0..=1.0).contains(&t) => {
                Err(format!("song mode's turn threshold must be a score in -1..1 (got {t})"))
            }
            _ => Ok(()),
        }
    }
}

/// Analyses a stream for song mode: push all of it, then
/// [`SongAnalyzer::finish_observations`].
pub struct SongAnalyzer {
    analyzer: Analyzer,
    hops: Vec<Observation>,
}

impl SongAnalyzer {
    pub fn new(
        model: Arc<Model>,
        library: Arc<SingerLibrary>,
        cfg: AnalyzerConfig,
        song: SongConfig,
        input_rate: u32,
    ) -> Result<Self, String> {
        // Checked here, so bad settings fail before the stream is analysed.
        song.validate()?;
        let analyzer = Analyzer::new(model, library, cfg, input_rate)?;
        Ok(Self { analyzer, hops: Vec::new() })
    }

    /// Consumes mono samples (any block size).
    pub fn push(&mut self, samples: &[f32]) -> Result<(), ModelError> {
        self.analyzer.observe(samples, &mut self.hops)
    }

    /// Ends the stream without deciding: every hop's observation and where the audio ends, to
    /// plan the turns ([`SongPlan`]) and name them ([`decide_planned`]), with the turns' audio
    /// embedded again or not, and with several settings (`singer-id calibrate-songs`).
    pub fn finish_observations(mut self) -> Result<(Vec<Observation>, f64), ModelError> {
        self.analyzer.observe_finish(&mut self.hops)?;
        // The timeline ends where the audio does.
        Ok((self.hops, self.analyzer.input_end_s()))
    }
}

/// Song mode's decisions from a whole stream's observations (their scores in `library`'s
/// order): one decision per hop, covering `0..end_of_stream` without gaps, each turn named from
/// the mean of its hop embeddings. The plugin decides this way from the observations of its
/// live analyzer; the CLI embeds each turn's audio again ([`SongPlan`], [`decide_planned`]).
pub fn decide_song(
    hops: &[Observation],
    library: &SingerLibrary,
    cfg: &AnalyzerConfig,
    song: &SongConfig,
    end_of_stream: f64,
) -> Vec<Decision> {
    let plan = SongPlan::new(hops, library.singers.len(), cfg, song, end_of_stream);
    decide_planned(hops, library, cfg, song, &plan, None)
}

/// The turns of a stream before they are named: the Viterbi path over its hops and the span of
/// stream each hop stands for. What a second pass over the audio needs to embed each turn.
#[derive(Debug, Clone)]
pub struct SongPlan {
    states: Vec<State>,
    /// Hop i stands for `bounds[i]..bounds[i + 1]`: from halfway after the previous hop's
    /// window centre to halfway before the next one's; the first from 0, the last to the end.
    bounds: Vec<f64>,
}

impl SongPlan {
    pub fn new(
        hops: &[Observation],
        singers: usize,
        cfg: &AnalyzerConfig,
        song: &SongConfig,
        end_of_stream: f64,
    ) -> Self {
        let states = viterbi(hops, singers, cfg.threshold, song);
        let centres: Vec<f64> = hops.iter().map(|h| 0.5 * (h.window_start_s + h.end_s)).collect();
        let bounds: Vec<f64> = (0..=centres.len())
            .map(|i| match i {
                0 => 0.0,
                i if i == centres.len() => end_of_stream.max(centres[i - 1]),
                i => 0.5 * (centres[i - 1] + centres[i]),
            })
            .collect();
        Self { states, bounds }
    }

    /// Runs of hops in one state, as hop index ranges.
    fn runs(&self) -> Vec<std::ops::Range<usize>> {
        let mut runs = Vec::new();
        let mut start = 0;
        while start < self.states.len() {
            let end =
                (start..self.states.len()).find(|&i| self.states[i] != self.states[start]).unwrap_or(self.states.len());
            runs.push(start..end);
            start = end;
        }
        runs
    }

    /// The stream spans (seconds, in order, not overlapping) of the turns that hold a voice: one
    /// embedding each is what [`decide_planned`] can take instead of the hops' mean.
    pub fn voiced_turn_spans(&self) -> Vec<(f64, f64)> {
        self.runs()
            .into_iter()
            .filter(|r| self.states[r.start] != State::NoVoice)
            .map(|r| (self.bounds[r.start], self.bounds[r.end]))
            .collect()
    }
}

/// [`decide_song`] on a plan, naming the k-th voiced turn from `turn_embeddings[k]` (an
/// embedding of all its audio, as [`SongPlan::voiced_turn_spans`] lists them) where one is
/// given, else from the mean of its hop embeddings.
pub fn decide_planned(
    hops: &[Observation],
    library: &SingerLibrary,
    cfg: &AnalyzerConfig,
    song: &SongConfig,
    plan: &SongPlan,
    turn_embeddings: Option<&[Option<Vec<f32>>]>,
) -> Vec<Decision> {
    let turn_threshold = song.turn_threshold.unwrap_or(cfg.turn_threshold);
    let decider = Decider { hops, library, cfg, song, turn_threshold };
    decider.decisions(plan, turn_embeddings)
}

/// What [`decide_planned`] needs after the Viterbi search.
struct Decider<'a> {
    hops: &'a [Observation],
    library: &'a SingerLibrary,
    cfg: &'a AnalyzerConfig,
    song: &'a SongConfig,
    turn_threshold: f32,
}

impl Decider<'_> {
    fn decisions(&self, plan: &SongPlan, turn_embeddings: Option<&[Option<Vec<f32>>]>) -> Vec<Decision> {
        let bounds = &plan.bounds;
        // Turns: runs of one state, with their span, verdict and hops.
        let mut turns: Vec<Turn> = Vec::new();
        let mut voiced_turns = 0;
        for run in plan.runs() {
            let (start, end) = (run.start, run.end);
            let hops = &self.hops[run];
            let state = plan.states[start];
            let whole = match state {
                State::NoVoice => None,
                _ => {
                    voiced_turns += 1;
                    turn_embeddings.and_then(|e| e.get(voiced_turns - 1)).and_then(Option::as_ref)
                }
            };
            let (verdict, confidence) = self.turn_verdict(state, hops, whole);
            // How far silent hops (energy-gated: too little sound to judge) reach in from either
            // end of the turn.
            let min_voiced = self.cfg.min_voiced_fraction;
            let silent = |h: &Observation| h.voiced_fraction < min_voiced;
            let lead = hops.iter().take_while(|h| silent(h)).count();
            let tail = hops.iter().rev().take_while(|h| silent(h)).count();
            turns.push(Turn {
                start_s: bounds[start],
                end_s: bounds[end],
                verdict,
                confidence,
                silent_lead_s: bounds[start + lead] - bounds[start],
                silent_tail_s: bounds[end] - bounds[end - tail],
            });
        }
        pad_voiced_turns(&mut turns, self.song.pad_s);
        // One decision per hop and turn it overlaps: a hop cut by a padded boundary gives two.
        let mut out = Vec::with_capacity(self.hops.len() + 2 * turns.len());
        for turn in &turns {
            let first = bounds[1..].partition_point(|&end| end <= turn.start_s);
            for i in first..self.hops.len() {
                if bounds[i] >= turn.end_s {
                    break;
                }
                let (start_s, end_s) = (bounds[i].max(turn.start_s), bounds[i + 1].min(turn.end_s));
                if end_s > start_s {
                    out.push(Decision {
                        start_s,
                        end_s,
                        verdict: turn.verdict.clone(),
                        confidence: turn.confidence,
                        top: self.hop_candidates(&self.hops[i]),
                    });
                }
            }
        }
        out
    }

    /// A turn's verdict from all its voiced hops at once, or from `whole`, an embedding of all
    /// of its audio.
    fn turn_verdict(&self, state: State, hops: &[Observation], whole: Option<&Vec<f32>>) -> (Verdict, f32) {
        if state == State::NoVoice {
            let confidences: Vec<f32> = hops
                .iter()
                .filter_map(|h| match h.voice {
                    HopVoice::NoVoice { confidence, .. } => Some(confidence),
                    HopVoice::Voiced { .. } => None,
                })
                .collect();
            let mean = confidences.iter().sum::<f32>() / confidences.len().max(1) as f32;
            return (Verdict::NoVoice, if confidences.is_empty() { 0.5 } else { mean });
        }
        let voiced = || {
            hops.iter().filter_map(|h| match &h.voice {
                HopVoice::Voiced { embedding, .. } => Some(embedding),
                HopVoice::NoVoice { .. } => None,
            })
        };
        let library = self.library;
        if voiced().next().is_none() || library.singers.is_empty() {
            return (Verdict::Unknown, 0.5);
        }
        // The hops' embeddings are copied only when no embedding of the whole turn was made.
        let embedding = match whole {
            Some(whole) => whole.clone(),
            None => mean_direction(&voiced().cloned().collect::<Vec<_>>()),
        };
        let scores = library.score(&embedding, self.cfg.scoring);
        judge(library, &rank(&scores), self.turn_threshold)
    }

    fn hop_candidates(&self, hop: &Observation) -> Vec<Candidate> {
        let HopVoice::Voiced { scores, .. } = &hop.voice else { return Vec::new() };
        top_candidates(self.library, &rank(scores))
    }
}

/// A run of hops in one state.
#[derive(Debug)]
struct Turn {
    start_s: f64,
    end_s: f64,
    verdict: Verdict,
    confidence: f32,
    /// Seconds from the turn's start (end) covered by silent hops only.
    silent_lead_s: f64,
    silent_tail_s: f64,
}

/// Widens every voiced turn by up to `pad_s` into the silence beside it: the level gate misses
/// the soft first and last moments of a phrase (and the breath before it), which belong to the
/// singer's turn. Only silence is taken (never a passage the voice detector heard as music: on
/// the dev songs that cost more instrumental time than it won sung time), and at most half of a
/// `no voice` turn between two voiced ones.
fn pad_voiced_turns(turns: &mut [Turn], pad_s: f64) {
    for k in 0..turns.len() {
        if turns[k].verdict != Verdict::NoVoice {
            continue;
        }
        let voiced = |j: Option<usize>| j.and_then(|j| turns.get(j)).is_some_and(|t| t.verdict != Verdict::NoVoice);
        let (before, after) = (voiced(k.checked_sub(1)), voiced(Some(k + 1)));
        let length = turns[k].end_s - turns[k].start_s;
        let share = if before && after { length / 2.0 } else { length };
        if before {
            turns[k].start_s += pad_s.min(share).min(turns[k].silent_lead_s);
            turns[k - 1].end_s = turns[k].start_s;
        }
        if after {
            turns[k].end_s -= pad_s.min(share).min(turns[k].silent_tail_s);
            turns[k + 1].start_s = turns[k].end_s;
        }
    }
}

/// Runs a whole clip through song mode as the CLI runs a file: observed in blocks of `block`
/// samples, then each voiced turn embedded again from all of its audio.
pub fn analyze_song_samples(
    model: Arc<Model>,
    library: Arc<SingerLibrary>,
    cfg: AnalyzerConfig,
    song: SongConfig,
    samples: &[f32],
    rate: u32,
    block: usize,
) -> Result<Vec<Decision>, String> {
    let mut analyzer = SongAnalyzer::new(model.clone(), library.clone(), cfg.clone(), song, rate)?;
    for chunk in samples.chunks(block.max(1)) {
        analyzer.push(chunk).map_err(|e| e.to_string())?;
    }
    let (hops, end_s) = analyzer.finish_observations().map_err(|e| e.to_string())?;
    let plan = SongPlan::new(&hops, library.singers.len(), &cfg, &song, end_s);
    let mut embedder = TurnEmbedder::new(&model, rate, cfg.voice_floor_db, &plan.voiced_turn_spans());
    for chunk in samples.chunks(block.max(1)) {
        embedder.push(chunk)?;
    }
    let turns = embedder.finish()?;
    Ok(decide_planned(&hops, &library, &cfg, &song, &plan, Some(&turns)))
}

/// An HMM state of song mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Singer(usize),
    Unknown,
    NoVoice,
}

impl State {
    fn of(index: usize, singers: usize) -> State {
        match index {
            i if i < singers => State::Singer(i),
            i if i == singers => State::Unknown,
            _ => State::NoVoice,
        }
    }
}

/// Log-likelihood of each state (library order, then unknown, then no voice) for one hop.
fn emissions(hop: &Observation, singers: usize, threshold: f32, cfg: &SongConfig, out: &mut [f32]) {
    match &hop.voice {
        HopVoice::NoVoice { .. } => {
            out.fill(-cfg.voice_cost);
            out[singers + 1] = 0.0;
        }
        HopVoice::Voiced { scores, .. } => {
            for (o, s) in out.iter_mut().zip(scores) {
                *o = cfg.score_scale * s;
            }
            out[singers] = cfg.score_scale * threshold;
            let best = out[..=singers].iter().copied().fold(f32::NEG_INFINITY, f32::max);
            out[singers + 1] = best - cfg.voice_cost;
        }
    }
}

/// The most likely state sequence (one state per hop).
fn viterbi(hops: &[Observation], singers: usize, threshold: f32, cfg: &SongConfig) -> Vec<State> {
    let n = singers + 2;
    if hops.is_empty() {
        return Vec::new();
    }
    // Back-pointers: the best previous state of each state at each hop. u32 per entry keeps
    // two hours at 0.5 s with 100 singers under 6 MB.
    let mut back = vec![0u32; hops.len() * n];
    let mut score = vec![0.0f32; n];
    let mut next = vec![0.0f32; n];
    let mut emit = vec![0.0f32; n];
    emissions(&hops[0], singers, threshold, cfg, &mut score);
    for (t, hop) in hops.iter().enumerate().skip(1) {
        emissions(hop, singers, threshold, cfg, &mut emit);
        let (best_prev, best_score) =
            score.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).expect("at least two states");
        for k in 0..n {
            let (from, s) = if score[k] >= best_score - cfg.switch_penalty {
                (k, score[k])
            } else {
                (best_prev, best_score - cfg.switch_penalty)
            };
            next[k] = s + emit[k];
            back[t * n + k] = from as u32;
        }
        // Keep the numbers small over hours of audio: only differences between states matter.
        let top = next.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for (s, v) in score.iter_mut().zip(&next) {
            *s = v - top;
        }
    }
    let mut k = score.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).map_or(0, |(k, _)| k);
    let mut path = vec![State::NoVoice; hops.len()];
    for t in (0..hops.len()).rev() {
        path[t] = State::of(k, singers);
        k = back[t * n + k] as usize;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voiced(t: f64, scores: &[f32]) -> Observation {
        Observation {
            window_start_s: t - 1.5,
            end_s: t,
            voiced_fraction: 1.0,
            voice: HopVoice::Voiced { embedding: vec![1.0, 0.0], scores: scores.to_vec() },
        }
    }

    fn silent(t: f64) -> Observation {
        let voice = HopVoice::NoVoice { confidence: 0.9 };
        Observation { window_start_s: t - 1.5, end_s: t, voiced_fraction: 0.1, voice }
    }

    fn states(hops: &[Observation], cfg: SongConfig) -> Vec<State> {
        viterbi(hops, 2, 0.3, &cfg)
    }

    #[test]
    fn one_stray_hop_does_not_switch_singer_but_a_run_of_them_does() {
        let a = [0.6, 0.2];
        let b = [0.2, 0.6];
        let mut hops: Vec<Observation> = (0..6).map(|i| voiced(i as f64, &a)).collect();
        hops.push(voiced(6.0, &b));
        hops.extend((7..12).map(|i| voiced(i as f64, &a)));
        let path = states(&hops, SongConfig::default());
        assert!(path.iter().all(|&s| s == State::Singer(0)), "{path:?}");

        let mut hops: Vec<Observation> = (0..6).map(|i| voiced(i as f64, &a)).collect();
        hops.extend((6..12).map(|i| voiced(i as f64, &b)));
        let path = states(&hops, SongConfig::default());
        assert_eq!(path[..6], [State::Singer(0); 6]);
        assert_eq!(path[6..], [State::Singer(1); 6]);
    }

    #[test]
    fn no_penalty_follows_every_hop_and_a_huge_one_never_switches() {
        let hops = vec![voiced(0.0, &[0.6, 0.2]), voiced(1.0, &[0.2, 0.6]), voiced(2.0, &[0.1, 0.1]), silent(3.0)];
        let free = SongConfig { switch_penalty: 0.0, ..SongConfig::default() };
        assert_eq!(states(&hops, free), [State::Singer(0), State::Singer(1), State::Unknown, State::NoVoice]);
        let stuck = SongConfig { switch_penalty: 1e6, ..SongConfig::default() };
        let path = states(&hops, stuck);
        assert!(path.iter().all(|&s| s == path[0]), "{path:?}");
    }

    #[test]
    fn silence_between_voiced_runs_is_no_voice() {
        let mut hops: Vec<Observation> = (0..5).map(|i| voiced(i as f64, &[0.6, 0.2])).collect();
        hops.extend((5..10).map(|i| silent(i as f64)));
        hops.extend((10..15).map(|i| voiced(i as f64, &[0.2, 0.6])));
        let path = states(&hops, SongConfig::default());
        assert_eq!(path[..5], [State::Singer(0); 5]);
        assert_eq!(path[5..10], [State::NoVoice; 5]);
        assert_eq!(path[10..], [State::Singer(1); 5]);
    }

    #[test]
    fn bad_settings_are_refused() {
        for bad in [f32::NAN, -1.0, f32::INFINITY] {
            assert!(SongConfig { switch_penalty: bad, ..SongConfig::default() }.validate().is_err());
            assert!(SongConfig { voice_cost: bad, ..SongConfig::default() }.validate().is_err());
        }
        assert!(SongConfig::default().validate().is_ok());
    }

    fn turn(start_s: f64, end_s: f64, verdict: Verdict) -> Turn {
        let silent = if verdict == Verdict::NoVoice { end_s - start_s } else { 0.0 };
        Turn { start_s, end_s, verdict, confidence: 0.9, silent_lead_s: silent, silent_tail_s: silent }
    }

    #[test]
    fn padding_widens_voiced_turns_into_no_voice_but_at_most_half_a_gap() {
        let ann = || Verdict::Singer("ann".into());
        let mut turns = vec![
            turn(0.0, 2.0, Verdict::NoVoice),
            turn(2.0, 5.0, ann()),
            turn(5.0, 6.0, Verdict::NoVoice),
            turn(6.0, 9.0, Verdict::Unknown),
            turn(9.0, 12.0, Verdict::NoVoice),
        ];
        pad_voiced_turns(&mut turns, 0.75);
        let spans: Vec<(f64, f64)> = turns.iter().map(|t| (t.start_s, t.end_s)).collect();
        assert_eq!(spans, [(0.0, 1.25), (1.25, 5.5), (5.5, 5.5), (5.5, 9.75), (9.75, 12.0)]);
        let mut alone = vec![turn(0.0, 4.0, Verdict::NoVoice)];
        pad_voiced_turns(&mut alone, 0.75);
        assert_eq!((alone[0].start_s, alone[0].end_s), (0.0, 4.0));
        // Music the voice detector rejected is not taken; the silence after it is.
        let mut music = vec![turn(0.0, 3.0, ann()), turn(3.0, 6.0, Verdict::NoVoice), turn(6.0, 9.0, ann())];
        music[1].silent_lead_s = 0.0;
        music[1].silent_tail_s = 0.5;
        pad_voiced_turns(&mut music, 0.75);
        let spans: Vec<(f64, f64)> = music.iter().map(|t| (t.start_s, t.end_s)).collect();
        assert_eq!(spans, [(0.0, 3.0), (3.0, 5.5), (5.5, 9.0)]);
    }

    fn config(threshold: f32, turn_threshold: f32) -> AnalyzerConfig {
        AnalyzerConfig {
            hop_s: 1.0,
            smoothing_s: 1.0,
            voice_floor_db: -45.0,
            min_voiced_fraction: 0.5,
            threshold,
            turn_threshold,
            scoring: crate::library::Scoring::Centroid,
        }
    }

    #[test]
    fn a_turn_is_named_against_the_turn_threshold_which_follows_the_hop_threshold() {
        use crate::library::tests::{library_3d, unit};
        let library = library_3d();
        // Every hop scores 0.5 against ann (centroid [1, 0, 0]) and 0 against bob.
        let embedding = unit(&[0.5, 0.0, 0.75f32.sqrt()]);
        let hops: Vec<Observation> = (1..=8)
            .map(|i| Observation {
                window_start_s: i as f64 - 1.5,
                end_s: i as f64,
                voiced_fraction: 1.0,
                voice: HopVoice::Voiced {
                    scores: library.score(&embedding, crate::library::Scoring::Centroid),
                    embedding: embedding.clone(),
                },
            })
            .collect();
        let verdicts = |cfg: &AnalyzerConfig, song: &SongConfig| -> Vec<Verdict> {
            decide_song(&hops, &library, cfg, song, 8.0).into_iter().map(|d| d.verdict).collect()
        };
        let ann = Verdict::Singer("ann".into());
        let song = SongConfig::default();
        assert!(verdicts(&config(0.3, 0.45), &song).iter().all(|v| *v == ann));
        assert!(verdicts(&config(0.3, 0.55), &song).iter().all(|v| *v == Verdict::Unknown));
        // Raising the hop threshold by 0.1 raises the turn threshold by as much.
        let raised = config(0.3, 0.45).with_threshold(0.4);
        assert!((raised.turn_threshold - 0.55).abs() < 1e-6, "{raised:?}");
        assert!(verdicts(&raised, &song).iter().all(|v| *v == Verdict::Unknown));
        // An explicit turn threshold wins over the model's.
        let explicit = SongConfig { turn_threshold: Some(0.45), ..song };
        assert!(verdicts(&config(0.3, 0.55), &explicit).iter().all(|v| *v == ann));
    }

    #[test]
    fn empty_stream_has_no_states() {
        assert!(viterbi(&[], 3, 0.3, &SongConfig::default()).is_empty());
    }
}
