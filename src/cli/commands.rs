//! The commands: each loads what it needs, calls the library, formats the result.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;

use singer_id::analyzer::DEFAULT_VOICE_FLOOR_DB;
use singer_id::embed::{file_window_embeddings, FileEmbeddings};
use singer_id::eval::manifest::Manifest;
use singer_id::eval::metrics::{compute_metrics, eer_threshold, per_singer, ScoredUnit, SingerResult};
use singer_id::eval::runner::{enroll_clips, run_eval, EvalOptions, EvalProgress, EvalReport};
use singer_id::eval::songs::{
    find_audio, load_enroll_list, load_songs, score_song, summarize, unenrolled_labels, AUDIO_EXTENSIONS, COLLAR_S,
    GRID_S,
};
use singer_id::library::{clean_name, Scoring, SingerLibrary};
use singer_id::model::Model;

use singer_id::analyzer::AnalyzerConfig;
use singer_id::decision::Decision;
use singer_id::eval::songs::{Song, TimelineMetrics};
use singer_id::plot::{check_destination, draw_confusion, draw_song_lanes, SongLanes};

use super::analyze::{analyze_file, analyzer_config, Analysis, Extras};
use super::args::{GlobalArgs, LibraryAction, Mode, Tuning};
use super::progress::bar;
use super::{load_library_for, load_model};

pub fn enroll(global: &GlobalArgs, library_path: &Path, name: &str, files: &[PathBuf]) -> Result<()> {
    let model = load_model(&global.model)?;
    // Refuse a bad library or name before the slow part; the change itself happens under the
    // library's lock below, against whatever the library holds by then.
    if library_path.exists() {
        load_library_for(library_path, &model)?;
    }
    let name = clean_name(name).map_err(anyhow::Error::msg)?;
    let progress = bar(global.quiet, files.len() as u64, "enrolling");
    let mut windows = Vec::new();
    let mut seconds = 0.0;
    for file in files {
        let FileEmbeddings { windows: found, duration_s, damage } =
            file_window_embeddings(&model, file, DEFAULT_VOICE_FLOOR_DB).map_err(anyhow::Error::msg)?;
        if let Some(damage) = damage {
            progress.suspend(|| eprintln!("warning: {}: {damage}", file.display()));
        }
        if found.is_empty() {
            progress.suspend(|| eprintln!("warning: {}: no voiced audio found, skipped", file.display()));
        }
        seconds += duration_s;
        windows.extend(found);
        progress.inc(1);
    }
    progress.finish_and_clear();
    let count = windows.len();
    let singers = SingerLibrary::update(
        library_path,
        || Ok(SingerLibrary::new(model.metadata())),
        |library| -> Result<usize> {
            library.check_model(model.metadata())?;
            library.enroll(&name, windows)?;
            Ok(library.singers.len())
        },
    )?;
    let line = format!(
        "enrolled '{}' from {} file(s), {seconds:.1} s of audio, {count} voiced window(s); library {} now has {} singer(s)",
        name,
        files.len(),
        library_path.display(),
        singers
    );
    // The library is saved: a full or closed stdout must not read as a failed enrolment.
    if let Err(e) = writeln!(std::io::stdout(), "{line}") {
        eprintln!("warning: the library is saved, but the summary could not be printed: {e}");
    }
    Ok(())
}

pub fn library(path: &Path, action: LibraryAction) -> Result<()> {
    // remove and rename need a library: load says why there is none, in the usual words.
    let missing = || SingerLibrary::load(path);
    match action {
        LibraryAction::List => {
            let library = SingerLibrary::load(path)?;
            println!("{} singer(s), embedding space {}", library.singers.len(), library.embedding_space);
            for singer in &library.singers {
                println!("  {:<24} {} reference window(s)", singer.name, singer.references.len());
            }
            return Ok(());
        }
        LibraryAction::Remove { name } => SingerLibrary::update(path, missing, |lib| lib.remove(&name))?,
        LibraryAction::Rename { from, to } => SingerLibrary::update(path, missing, |lib| lib.rename(&from, &to))?,
    }
    println!("saved {}", path.display());
    Ok(())
}

fn evaluate(global: &GlobalArgs, manifest_path: &Path, opts: &EvalOptions, model: &Model) -> Result<EvalReport> {
    let manifest = Manifest::load(manifest_path)?;
    let progress = bar(global.quiet, 0, "evaluating");
    let report = run_eval(model, &manifest, opts, |event| match event {
        EvalProgress::Start(n) => progress.set_length(n as u64),
        EvalProgress::Clip => progress.inc(1),
    })
    .map_err(|e| anyhow::anyhow!("{}: {e}", manifest_path.display()))?;
    progress.finish_and_clear();
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(report)
}

pub fn eval(
    global: &GlobalArgs,
    manifest: &Path,
    segment: Option<f64>,
    json: bool,
    scoring: Scoring,
    threshold: Option<f32>,
    plot: Option<&Path>,
) -> Result<()> {
    check_segment(segment)?;
    if let Some(path) = plot {
        check_destination(path)?;
    }
    let model = load_model(&global.model)?;
    let opts = EvalOptions {
        segment_s: segment,
        scoring,
        threshold: threshold.unwrap_or(model.metadata().default_threshold),
        voice_floor_db: DEFAULT_VOICE_FLOOR_DB,
    };
    let report = evaluate(global, manifest, &opts, &model)?;
    let (per_singer, confusion) = per_singer(&report.singers, &report.units)?;
    // The protocol's keys, then the per-singer breakdown, the confusion matrix and warnings.
    let mut value = serde_json::to_value(&report.metrics)?;
    value["per_singer"] = serde_json::to_value(&per_singer)?;
    value["confusion"] = serde_json::json!({ "singers": report.singers, "counts": confusion });
    value["warnings"] = serde_json::to_value(&report.warnings)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        let unit = segment.map_or("whole clips".to_string(), |s| format!("{s} s segments"));
        println!("model {} on {} ({unit}, {:?} scoring)", model.metadata().name, manifest.display(), scoring);
        println!("{}", serde_json::to_string_pretty(&report.metrics)?);
        print_breakdown(&per_singer, &confusion);
    }
    if let Some(path) = plot {
        let unit = segment.map_or("whole clips".to_string(), |s| format!("{s} s segments"));
        let title = format!("{}: model {}, {unit}", manifest.display(), model.metadata().name);
        draw_confusion(path, &title, &report.singers, &confusion)?;
    }
    Ok(())
}

/// Per-singer table and confusion matrix (rows: true singer, columns: argmax), for the terminal.
fn print_breakdown(results: &[SingerResult], confusion: &[Vec<usize>]) {
    let value = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    let width = results.iter().map(|r| r.singer.chars().count()).max().unwrap_or(6).max(6);
    println!();
    println!("{:<width$}  {:>5}  {:>9}  {:>6}  {:>5}", "singer", "units", "precision", "recall", "f1");
    for r in results {
        println!(
            "{:<width$}  {:>5}  {:>9}  {:>6}  {:>5.3}",
            r.singer,
            r.units,
            value(r.precision),
            value(r.recall),
            r.f1
        );
    }
    println!();
    println!("confusion (rows: true singer, columns: best-scoring singer, in the order above)");
    for (r, row) in results.iter().zip(confusion) {
        let cells: Vec<String> = row.iter().map(|c| format!("{c:>4}")).collect();
        println!("{:<width$}  {}", r.singer, cells.join(""));
    }
}

/// Conditions `eval-songs` knows, in report order.
const SONG_CONDITIONS: [&str; 2] = ["mono", "mix"];

/// `singer-id eval-songs`: timeline accuracy on multi-singer songs (eval protocol, "Timelines").
pub fn eval_songs(
    global: &GlobalArgs,
    songs_path: &Path,
    condition: &str,
    enroll: Option<&Path>,
    json: bool,
    plot: Option<&Path>,
    tuning: &Tuning,
) -> Result<()> {
    if let Some(path) = plot {
        check_destination(path)?;
    }
    let SongsSetup { songs, enroll_path, plan, model, library, singers } =
        prepare_songs(global, songs_path, condition, enroll)?;
    let cfg = analyzer_config(&model, tuning);
    let total: usize = plan.iter().map(|(_, files)| files.len()).sum();
    let progress = bar(global.quiet, total as u64, "analysing");
    let mut conditions = serde_json::Map::new();
    let mut reports = Vec::new();
    // Decisions per condition and song, kept only for the picture.
    let mut drawn: Vec<(String, &Song, Vec<Decision>)> = Vec::new();
    for (cond, files) in &plan {
        let mut per_song = Vec::new();
        for (song, file) in songs.iter().zip(files) {
            let hidden = ProgressBar::hidden();
            let Analysis { decisions, duration_s, .. } =
                analyze_file(model.clone(), library.clone(), cfg.clone(), tuning, file, &hidden, Extras::default())?;
            if (duration_s - song.end_s()).abs() > 1.0 {
                progress.suspend(|| {
                    eprintln!(
                        "warning: {} lasts {duration_s:.2} s but its sections in {} end at {:.2} s",
                        file.display(),
                        songs_path.display(),
                        song.end_s()
                    )
                });
            }
            let counts = score_song(song, &decisions, &singers);
            if plot.is_some() {
                let acc = counts.accuracy().map_or("-".to_string(), |a| format!("{a:.3}"));
                drawn.push((format!("{} ({cond}): timeline_acc {acc}", song.name), song, decisions));
            }
            per_song.push((song.name.clone(), counts));
            progress.inc(1);
        }
        let metrics = summarize(&per_song);
        conditions.insert(cond.to_string(), serde_json::to_value(&metrics)?);
        reports.push((cond.as_str(), metrics));
    }
    progress.finish_and_clear();

    let report = serde_json::json!({
        "model": model.metadata().name,
        "songs_file": songs_path.display().to_string(),
        "enroll_file": enroll_path.display().to_string(),
        "singers": singers.len(),
        "threshold": cfg.threshold.to_string().parse::<f64>().unwrap_or(f64::from(cfg.threshold)),
        "scoring": cfg.scoring,
        "mode": tuning.mode.name(),
        "hop_s": cfg.hop_s,
        "smoothing_s": cfg.smoothing_s,
        "switch_penalty": tuning.switch_penalty,
        "voice_cost": tuning.voice_cost,
        "turn_threshold": tuning.turn_threshold.unwrap_or(cfg.turn_threshold),
        "turn_embedding": tuning.turn_embedding.name(),
        "pad_s": tuning.pad,
        "grid_s": GRID_S,
        "collar_s": COLLAR_S,
        "conditions": conditions,
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_song_report(&report, &reports, &model, songs_path, songs.len(), singers.len(), &cfg, tuning);
    }
    if let Some(path) = plot {
        let lanes: Vec<SongLanes> =
            drawn.iter().map(|(title, song, decisions)| SongLanes { title: title.clone(), song, decisions }).collect();
        let title = format!("{}: model {}, {} mode", songs_path.display(), model.metadata().name, tuning.mode.name());
        draw_song_lanes(path, &title, &singers, &lanes)?;
    }
    Ok(())
}

/// What `eval-songs` and `calibrate-songs` work on: the songs, each condition's audio files
/// (all found before any work), and the library enrolled from the enrolment list.
pub(super) struct SongsSetup {
    pub songs: Vec<Song>,
    pub enroll_path: PathBuf,
    pub plan: Vec<(String, Vec<PathBuf>)>,
    pub model: Arc<Model>,
    pub library: Arc<SingerLibrary>,
    pub singers: Vec<String>,
}

/// Reads a songs file and its enrolment list, finds the audio of `condition` (`all`: each
/// condition with audio) and enrols the singers.
pub(super) fn prepare_songs(
    global: &GlobalArgs,
    songs_path: &Path,
    condition: &str,
    enroll: Option<&Path>,
) -> Result<SongsSetup> {
    let songs = load_songs(songs_path)?;
    let dir = match songs_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let enroll_path = enroll.map_or_else(|| dir.join("enroll.csv"), Path::to_path_buf);
    let clips = load_enroll_list(&enroll_path)?;

    // Find every audio file before any work, so a missing one fails at once.
    let wanted: Vec<&str> = if condition == "all" { SONG_CONDITIONS.to_vec() } else { vec![condition] };
    let mut plan: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for cond in wanted {
        let found: Vec<Option<PathBuf>> = songs
            .iter()
            .map(|song| {
                find_audio(&dir, &song.name, cond).map_err(|e| anyhow::anyhow!("{}: {e}", songs_path.display()))
            })
            .collect::<Result<_>>()?;
        if condition == "all" && found.iter().all(Option::is_none) {
            eprintln!(
                "warning: {}: no `{cond}` audio for any song (<song>.{cond}.<ext>), condition skipped",
                dir.display()
            );
            continue;
        }
        let missing: Vec<String> = songs
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(song, _)| {
                dir.join(format!("{}.{cond}.{{{}}}", song.name, AUDIO_EXTENSIONS.join(","))).display().to_string()
            })
            .collect();
        if !missing.is_empty() {
            bail!(
                "{}: missing `{cond}` audio for {} song(s): {}",
                songs_path.display(),
                missing.len(),
                missing.join(", ")
            );
        }
        plan.push((cond.to_string(), found.into_iter().flatten().collect()));
    }
    if plan.is_empty() {
        bail!(
            "{}: no song audio found: expected <song>.<condition>.<ext> next to it (conditions {}, extensions {})",
            songs_path.display(),
            SONG_CONDITIONS.join(", "),
            AUDIO_EXTENSIONS.join(", ")
        );
    }

    let model = load_model(&global.model)?;
    let progress = bar(global.quiet, clips.len() as u64, "enrolling");
    let library =
        enroll_clips(&model, clips.iter().map(|(s, p)| (s.as_str(), p.as_path())), DEFAULT_VOICE_FLOOR_DB, || {
            progress.inc(1)
        })
        .map_err(|e| anyhow::anyhow!("enrolling from {}: {e}", enroll_path.display()))?;
    progress.finish_and_clear();
    let singers: Vec<String> = library.names().into_iter().map(String::from).collect();
    for (label, line) in unenrolled_labels(&songs, &singers) {
        eprintln!(
            "warning: {}, line {line}: `{label}` has no enrolment in {}: its sections count as impostor (unknown)",
            songs_path.display(),
            enroll_path.display()
        );
    }

    Ok(SongsSetup { songs, enroll_path, plan, model, library: Arc::new(library), singers })
}

/// The terminal table of `eval-songs`.
#[allow(clippy::too_many_arguments)]
fn print_song_report(
    report: &serde_json::Value,
    reports: &[(&str, TimelineMetrics)],
    model: &Model,
    songs_path: &Path,
    songs: usize,
    singers: usize,
    cfg: &AnalyzerConfig,
    tuning: &Tuning,
) {
    let mode = match tuning.mode {
        Mode::Song => {
            format!(
                "song mode (switch penalty {}, voice cost {}, padding {} s, turn threshold {}, turns from {})",
                tuning.switch_penalty,
                tuning.voice_cost,
                tuning.pad,
                tuning.turn_threshold.unwrap_or(cfg.turn_threshold),
                tuning.turn_embedding.name()
            )
        }
        Mode::Live => format!("live mode (smoothing {} s)", cfg.smoothing_s),
    };
    println!(
        "model {} on {} ({} song(s), {} enrolled singer(s), threshold {}, {:?} scoring, hop {} s, {mode}, \
         {} s collar)",
        model.metadata().name,
        songs_path.display(),
        songs,
        singers,
        report["threshold"],
        cfg.scoring,
        cfg.hop_s,
        COLLAR_S
    );
    let value = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    for (cond, m) in reports {
        println!();
        println!("{cond} ({} song(s))", m.songs);
        println!("  {:<14} {:>8}  {:<14} {:>6}", "sections", "points", "metric", "value");
        let rows = [
            ("enrolled", m.named_points, "named_acc", m.named_acc),
            ("impostor", m.impostor_points, "impostor_ok", m.impostor_ok),
            ("instrumental", m.instrumental_points, "instr_clean", m.instr_clean),
            ("all", m.scored_points, "timeline_acc", m.timeline_acc),
        ];
        for (kind, points, metric, v) in rows {
            println!("  {kind:<14} {points:>8}  {metric:<14} {:>6}", value(v));
        }
        println!("  {:<14} {:>8}  {:<14} {:>6}", "", "", "instr_no_voice", value(m.instr_no_voice));
        let songs_line: Vec<String> = m.per_song.iter().map(|(s, v)| format!("{s} {}", value(*v))).collect();
        println!("  timeline_acc per song: {}", songs_line.join(", "));
    }
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
