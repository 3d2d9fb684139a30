//! Runs the evaluation protocol end to end with a model: enrol from the manifest's `enroll`
//! clips, score every test unit (whole clip or S-second segment), compute the metrics.

use std::collections::BTreeMap;
use std::path::Path;

use crate::audio::decode_file;
use crate::embed::{clip_window_embeddings, unit_embedding};
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
        let audio = decode_file(path).map_err(|e| e.to_string())?;
        let windows = clip_window_embeddings(model, &audio.samples, audio.sample_rate, voice_floor_db)
            .map_err(|e| format!("{}: {e}", path.display()))?;
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

    let mut units = Vec::new();
    for entry in manifest.entries.iter().filter(|e| e.role == Role::Test) {
        let audio = decode_file(&entry.path).map_err(|e| e.to_string())?;
        let rate = audio.sample_rate;
        let pieces: Vec<&[f32]> = match opts.segment_s {
            None => vec![&audio.samples[..]],
            Some(s) => {
                let len = (s * rate as f64).round() as usize;
                audio.samples.chunks_exact(len.max(1)).collect()
            }
        };
        for piece in pieces {
            let embedding = unit_embedding(model, piece, rate, opts.voice_floor_db)
                .map_err(|e| format!("{}: {e}", entry.path.display()))?;
            let scores = match embedding {
                Some(e) => library.score(&e, opts.scoring),
                None => vec![f32::NAN; singers.len()],
            };
            units.push(ScoredUnit { truth: entry.singer.clone(), scores });
        }
        progress(EvalProgress::Clip);
    }
    let metrics = compute_metrics(&singers, &units, opts.threshold).map_err(|e| e.to_string())?;
    Ok(EvalReport { metrics, singers, units })
}
