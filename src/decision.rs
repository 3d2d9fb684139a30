//! What the analyzer says about one stretch of audio: the engine's output type, shared by the
//! CLI's timeline writers and the plugin's GUI.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who (if anyone) is singing in a stretch of audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Verdict {
    /// An enrolled singer, by name.
    Singer(String),
    /// Someone is singing, but no enrolled singer scores above the threshold.
    Unknown,
    /// Too little voiced audio in the window to say anything (silence, instruments only).
    NoVoice,
}

impl Verdict {
    /// Short human-readable label: the singer's name, `unknown` or `no voice`.
    pub fn label(&self) -> &str {
        match self {
            Verdict::Singer(name) => name,
            Verdict::Unknown => "unknown",
            Verdict::NoVoice => "no voice",
        }
    }
}

/// One scored candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub singer: String,
    /// Cosine-based score in [-1, 1]; higher is more alike.
    pub score: f32,
}

/// The analyzer's decision for the hop ending at `end_s`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Start of the audio the decision covers, in seconds from the start of the stream.
    pub start_s: f64,
    /// End of the audio the decision covers, in seconds from the start of the stream.
    pub end_s: f64,
    /// The smoothed verdict.
    pub verdict: Verdict,
    /// Confidence of the verdict in [0, 1].
    pub confidence: f32,
    /// Best-scoring enrolled singers for this hop (at most three), best first.
    pub top: Vec<Candidate>,
}

/// A run of consecutive decisions with the same verdict, as written to timelines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start_s: f64,
    pub end_s: f64,
    pub verdict: Verdict,
    /// Mean confidence over the merged decisions.
    pub confidence: f32,
}

/// Merges consecutive decisions with equal verdicts into segments.
pub fn merge_segments(decisions: &[Decision]) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut count = 0usize;
    for d in decisions {
        match segments.last_mut() {
            Some(last) if last.verdict == d.verdict => {
                last.end_s = d.end_s;
                last.confidence += d.confidence;
                count += 1;
            }
            _ => {
                if let Some(last) = segments.last_mut() {
                    last.confidence /= count as f32;
                }
                segments.push(Segment {
                    start_s: d.start_s,
                    end_s: d.end_s,
                    verdict: d.verdict.clone(),
                    confidence: d.confidence,
                });
                count = 1;
            }
        }
    }
    if let Some(last) = segments.last_mut() {
        last.confidence /= count as f32;
    }
    segments
}

/// Seconds of `decisions` given to each enrolled singer (by name, in name order) and to
/// `unknown`; `no voice` is not counted.
pub fn seconds_per_singer(decisions: &[Decision]) -> (BTreeMap<&str, f64>, f64) {
    let mut singers: BTreeMap<&str, f64> = BTreeMap::new();
    let mut unknown = 0.0;
    for d in decisions {
        match &d.verdict {
            Verdict::Singer(name) => *singers.entry(name).or_default() += d.end_s - d.start_s,
            Verdict::Unknown => unknown += d.end_s - d.start_s,
            Verdict::NoVoice => {}
        }
    }
    (singers, unknown)
}
