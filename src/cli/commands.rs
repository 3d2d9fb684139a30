//! The commands: each loads what it needs, calls the library, formats the result.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use singer_id::analyzer::{analyze_samples, AnalyzerConfig, DEFAULT_VOICE_FLOOR_DB};
use singer_id::audio::decode_file;
use singer_id::decision::merge_segments;
use singer_id::embed::clip_window_embeddings;
use singer_id::eval::manifest::Manifest;
use singer_id::eval::metrics::{compute_metrics, eer_threshold, ScoredUnit};
use singer_id::eval::runner::{run_eval, EvalOptions, EvalProgress, EvalReport};
use singer_id::fsutil::write_atomically;
use singer_id::library::{Scoring, SingerLibrary};
use singer_id::timeline::{render, Format};

use super::args::{GlobalArgs, LibraryAction, Tuning};
use super::progress::bar;
use super::{load_library_for, load_model};

/// Samples per analyzer call when analysing a file: about a host block's worth of work.
const ANALYZE_BLOCK: usize = 4096;

pub fn enroll(global: &GlobalArgs, library_path: &Path, name: &str, files: &[PathBuf]) -> Result<()> {
    let model = load_model(&global.model)?;
    let mut library = if library_path.exists() {
        load_library_for(library_path, &model)?
    } else {
        SingerLibrary::new(model.metadata())
    };
    let progress = bar(global.quiet, files.len() as u64, "enrolling");
    let mut windows = Vec::new();
    let mut seconds = 0.0;
    for file in files {
        let audio = decode_file(file)?;
        let found = clip_window_embeddings(&model, &audio.samples, audio.sample_rate, DEFAULT_VOICE_FLOOR_DB)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        if found.is_empty() {
            progress.suspend(|| eprintln!("warning: {}: no voiced audio found, skipped", file.display()));
        }
        seconds += audio.duration_s();
        windows.extend(found);
        progress.inc(1);
    }
    progress.finish_and_clear();
    let count = windows.len();
    library.enroll(name, windows)?;
    library.save(library_path)?;
    println!(
        "enrolled '{}' from {} file(s), {seconds:.1} s of audio, {count} voiced window(s); library {} now has {} singer(s)",
        name.trim(),
        files.len(),
        library_path.display(),
        library.singers.len()
    );
    Ok(())
}

pub fn analyze(
    global: &GlobalArgs,
    file: &Path,
    library_path: &Path,
    format: Format,
    output: Option<&Path>,
    tuning: &Tuning,
) -> Result<()> {
    let model = load_model(&global.model)?;
    let library = load_library_for(library_path, &model)?;
    if library.singers.is_empty() {
        bail!("library {} has no singers yet: enrol some with `singer-id enroll`", library_path.display());
    }
    let audio = decode_file(file)?;
    let mut cfg = AnalyzerConfig::for_model(&model);
    cfg.hop_s = tuning.hop;
    cfg.smoothing_s = tuning.smoothing;
    cfg.scoring = tuning.scoring;
    if let Some(t) = tuning.threshold {
        cfg.threshold = t;
    }
    let progress = bar(global.quiet, audio.samples.len() as u64, "analysing");
    let decisions =
        analyze_samples(model, Arc::new(library), cfg, &audio.samples, audio.sample_rate, ANALYZE_BLOCK, |n| {
            progress.inc(n as u64)
        })
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    progress.finish_and_clear();
    let segments = merge_segments(&decisions);
    let text = render(format, &segments, &decisions, &file.display().to_string());
    match output {
        Some(path) => {
            write_atomically(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}

pub fn library(path: &Path, action: LibraryAction) -> Result<()> {
    let mut library = SingerLibrary::load(path)?;
    match action {
        LibraryAction::List => {
            println!("{} singer(s), embedding space {}", library.singers.len(), library.embedding_space);
            for singer in &library.singers {
                println!("  {:<24} {} reference window(s)", singer.name, singer.references.len());
            }
            return Ok(());
        }
        LibraryAction::Remove { name } => library.remove(&name)?,
        LibraryAction::Rename { from, to } => library.rename(&from, &to)?,
    }
    library.save(path)?;
    println!("saved {}", path.display());
    Ok(())
}

fn evaluate(
    global: &GlobalArgs,
    manifest_path: &Path,
    opts: &EvalOptions,
    model: &singer_id::model::Model,
) -> Result<EvalReport> {
    let manifest = Manifest::load(manifest_path)?;
    let progress = bar(global.quiet, 0, "evaluating");
    let report = run_eval(model, &manifest, opts, |event| match event {
        EvalProgress::Start(n) => progress.set_length(n as u64),
        EvalProgress::Clip => progress.inc(1),
    })
    .map_err(|e| anyhow::anyhow!(e))?;
    progress.finish_and_clear();
    Ok(report)
}

pub fn eval(
    global: &GlobalArgs,
    manifest: &Path,
    segment: Option<f64>,
    json: bool,
    scoring: Scoring,
    threshold: Option<f32>,
) -> Result<()> {
    check_segment(segment)?;
    let model = load_model(&global.model)?;
    let opts = EvalOptions {
        segment_s: segment,
        scoring,
        threshold: threshold.unwrap_or(model.metadata().default_threshold),
        voice_floor_db: DEFAULT_VOICE_FLOOR_DB,
    };
    let report = evaluate(global, manifest, &opts, &model)?;
    let metrics_json = serde_json::to_string_pretty(&report.metrics)?;
    if json {
        println!("{metrics_json}");
    } else {
        let unit = segment.map_or("whole clips".to_string(), |s| format!("{s} s segments"));
        println!("model {} on {} ({unit}, {:?} scoring)", model.metadata().name, manifest.display(), scoring);
        println!("{metrics_json}");
    }
    Ok(())
}

pub fn calibrate(global: &GlobalArgs, manifest: &Path, segment: Option<f64>, scoring: Scoring) -> Result<()> {
    check_segment(segment)?;
    let model = load_model(&global.model)?;
    let opts = EvalOptions { segment_s: segment, scoring, threshold: 0.0, voice_floor_db: DEFAULT_VOICE_FLOOR_DB };
    let report = evaluate(global, manifest, &opts, &model)?;
    let threshold = eer_threshold(&report.singers, &report.units)?
        .context("the manifest gives no impostor or no genuine trials: cannot calibrate")?;
    println!(
        "{}",
        serde_json::json!({ "model": model.metadata().name, "threshold": threshold, "eer": report.metrics.eer, "units": report.metrics.units })
    );
    Ok(())
}

pub fn metrics(scores_path: &Path, threshold: Option<f32>) -> Result<()> {
    let (singers, units) = read_scores(scores_path)?;
    match threshold {
        Some(t) => println!("{}", serde_json::to_string_pretty(&compute_metrics(&singers, &units, t)?)?),
        None => {
            let t = eer_threshold(&singers, &units)?
                .context("the scores give no impostor or no genuine trials: cannot calibrate")?;
            let metrics = compute_metrics(&singers, &units, t)?;
            println!("{}", serde_json::json!({ "threshold": t, "eer": metrics.eer, "units": metrics.units }));
        }
    }
    Ok(())
}

/// Reads a scores CSV: header `truth,<singer>...`, rows `<truth>,<score>...`.
fn read_scores(path: &Path) -> Result<(Vec<String>, Vec<ScoredUnit>)> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read scores file {}", path.display()))?;
    let header = reader.headers().with_context(|| format!("{}: no header row", path.display()))?.clone();
    if header.get(0) != Some("truth") || header.len() < 2 {
        bail!("{}: the header must be `truth,<singer>,<singer>,...`", path.display());
    }
    let singers: Vec<String> = header.iter().skip(1).map(String::from).collect();
    let mut units = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("{}:{line}: malformed row", path.display()))?;
        let scores = row
            .iter()
            .skip(1)
            .map(|v| v.trim().parse::<f32>())
            .collect::<Result<Vec<f32>, _>>()
            .with_context(|| format!("{}:{line}: scores must be numbers", path.display()))?;
        if scores.len() != singers.len() {
            bail!("{}:{line}: {} scores for {} singers", path.display(), scores.len(), singers.len());
        }
        units.push(ScoredUnit { truth: row[0].to_string(), scores });
    }
    if units.is_empty() {
        bail!("{}: no scored units", path.display());
    }
    Ok((singers, units))
}

fn check_segment(segment: Option<f64>) -> Result<()> {
    match segment {
        Some(s) if !(s > 0.0 && s.is_finite()) => bail!("--segment must be a positive number of seconds, got {s}"),
        _ => Ok(()),
    }
}
