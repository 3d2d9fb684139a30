//! Runs the evaluation protocol end to end with a model: enrol from the manifest's `enroll`
//! clips, score every test unit (whole clip or S-second segment), compute the metrics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::audio::decode_file;
use crate::embed::{clip_has_voice, file_window_embeddings, unit_embedding};
use crate::library::{Scoring, SingerLibrary};
use crate::model::Model;

use super::manifest::{Manifest, Role};
use super::metrics::{compute_metrics, Metrics, ScoredUnit};

#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// Split test clips into consecutive pieces of this many seconds (remainder dropped).
    pub segment_s: Option<f64>,
    pub scoring: Scoring,
    pub threshold: f32,
    pub voice_floor_db: f32,
}

/// Everything an evaluation produced: the metrics and the scored units behind them.
pub struct EvalReport {
    pub metrics: Metrics,
    pub singers: Vec<String>,
    pub units: Vec<ScoredUnit>,
    /// What the user should know about the numbers: rows dropped, clips skipped, singers that
    /// cannot be measured.
    pub warnings: Vec<String>,
}

/// Progress events, for a progress bar.
pub enum EvalProgress {
    /// About to process this many clips in total.
    Start(usize),
    /// One more clip done.
    Clip,
}

/// Builds a library from enrolment clips `(singer, audio file)`: each singer gets the window
/// embeddings of the voiced frames of all its clips (singers in name order). The protocol's
/// step 1, shared by `eval` and `eval-songs`. `clip_done` is called after each clip.
pub fn enroll_clips<'a>(
    model: &Model,
    clips: impl IntoIterator<Item = (&'a str, &'a Path)>,
    voice_floor_db: f32,
    mut clip_done: impl FnMut(),
) -> Result<SingerLibrary, String> {
    let mut library = SingerLibrary::new(model.metadata());
    let mut by_singer: BTreeMap<&str, Vec<Vec<f32>>> = BTreeMap::new();
    for (singer, path) in clips {
        let windows = file_window_embeddings(model, path, voice_floor_db)?.windows;
        by_singer.entry(singer).or_default().extend(windows);
        clip_done();
    }
    for (singer, windows) in by_singer {
        library.enroll(singer, windows).map_err(|e| e.to_string())?;
    }
    Ok(library)
}

pub fn run_eval(
    model: &Model,
    manifest: &Manifest,
    opts: &EvalOptions,
    mut progress: impl FnMut(EvalProgress),
) -> Result<EvalReport, String> {
    progress(EvalProgress::Start(manifest.entries.len()));
    let enroll = manifest.with_role(Role::Enroll).map(|e| (e.singer.as_str(), e.path.as_path()));
    let library = enroll_clips(model, enroll, opts.voice_floor_db, || progress(EvalProgress::Clip))?;
    let singers: Vec<String> = library.names().into_iter().map(String::from).collect();

    let mut warnings = manifest.warnings.clone();
    let tested: BTreeSet<&str> = manifest.with_role(Role::Test).map(|e| e.singer.as_str()).collect();
    for singer in singers.iter().filter(|s| !tested.contains(s.as_str())) {
        warnings
            .push(format!("`{singer}` is enrolled but has no test clip: it is left out of macro_f1 unless predicted"));
    }
    let (mut units, mut longest_s) = (Vec::new(), 0f64);
    for entry in manifest.entries.iter().filter(|e| e.role == Role::Test) {
        let audio = decode_file(&entry.path).map_err(|e| e.to_string())?;
        let rate = audio.sample_rate;
        longest_s = longest_s.max(audio.duration_s());
        let named = |e: String| format!("{}: {e}", entry.path.display());
        // A clip without any voice says nothing about who sings; scored, it would count as a
        // wrong answer. (Silent stretches inside a voiced clip are scored: live meets them too.)
        if !clip_has_voice(model, &audio.samples, rate, opts.voice_floor_db).map_err(named)? {
            warnings.push(format!(
                "{}: silent (no frame reaches {} dBFS); skipped",
                entry.path.display(),
                opts.voice_floor_db
            ));
            progress(EvalProgress::Clip);
            continue;
        }
        let pieces: Vec<&[f32]> = match opts.segment_s {
            None => vec![&audio.samples[..]],
            Some(s) => {
                let len = (s * rate as f64).round().min(usize::MAX as f64) as usize;
                audio.samples.chunks_exact(len.max(1)).collect()
            }
        };
        for piece in pieces {
            let embedding = unit_embedding(model, piece, rate, opts.voice_floor_db).map_err(named)?;
            let scores = match embedding {
                Some(e) => library.score(&e, opts.scoring),
                None => vec![f32::NAN; singers.len()],
            };
            units.push(ScoredUnit { truth: entry.singer.clone(), scores });
        }
        progress(EvalProgress::Clip);
    }
    if units.is_empty() {
        return Err(match opts.segment_s {
            Some(s) if s > longest_s => {
                let segment = if s < 1e6 { s.to_string() } else { format!("{s:e}") };
                format!(
                    "no test units: every test clip is shorter than the {segment} s segment (the longest is {longest_s:.1} s)"
                )
            }
            _ => "no test units: every test clip is silent".to_string(),
        });
    }
    let metrics = compute_metrics(&singers, &units, opts.threshold).map_err(|e| e.to_string())?;
    Ok(EvalReport { metrics, singers, units, warnings })
}
