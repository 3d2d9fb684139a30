//! `singer-id analyze`: one recording to standard output, or many (files and folders) to one
//! timeline each and/or a JSON Lines summary, several at once, going on past failures.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use singer_id::analyzer::{Analyzer, AnalyzerConfig, TOP_CANDIDATES};
use singer_id::audio::{decode_file_in_blocks, Damage};
use singer_id::decision::{merge_segments, seconds_per_singer, Candidate, Decision, Verdict};
use singer_id::embed::TurnEmbedder;
use singer_id::eval::songs::AUDIO_EXTENSIONS;
use singer_id::fsutil::write_atomically;
use singer_id::library::SingerLibrary;
use singer_id::model::Model;
use singer_id::osc::OscSender;
use singer_id::plot::{check_destination, draw_analysis, Envelope};
use singer_id::song::{decide_planned, SongAnalyzer, SongConfig, SongPlan};
use singer_id::timeline::{render, Format};

use super::args::{GlobalArgs, Mode, Tuning, TurnEmbedding};
use super::progress::bar;
use super::{load_library_for, load_model};

/// Where `analyze` sends its results.
pub struct Outputs<'a> {
    pub format: Format,
    pub output: Option<&'a Path>,
    pub output_dir: Option<&'a Path>,
    pub summary: Option<&'a Path>,
    pub jobs: Option<NonZeroUsize>,
    /// Picture of a single input's timeline (PNG).
    pub plot: Option<&'a Path>,
    /// OSC listener (`HOST:PORT`) for a single input's decisions.
    pub osc: Option<&'a str>,
}

pub fn analyze(
    global: &GlobalArgs,
    inputs: &[PathBuf],
    library_path: &Path,
    out: &Outputs,
    tuning: &Tuning,
) -> Result<()> {
    let jobs = collect_inputs(inputs)?;
    let batch = jobs.len() > 1 || inputs.iter().any(|p| p.is_dir());
    if batch && out.output.is_some() {
        bail!("--output takes the timeline of one file; for {} inputs use --output-dir DIR", jobs.len());
    }
    if batch && out.output_dir.is_none() && out.summary.is_none() {
        bail!("{} inputs: say where their timelines go with --output-dir DIR (and/or --summary FILE)", jobs.len());
    }
    if batch && out.plot.is_some() {
        bail!("--plot draws the timeline of one file; analyse the file you want to see on its own");
    }
    if batch && out.osc.is_some() {
        bail!("--osc sends the decisions of one file; analyse the file you want to send on its own");
    }
    if let Some(path) = out.plot {
        check_destination(path)?;
    }
    let mut osc = out.osc.map(OscSender::connect).transpose()?;
    let model = load_model(&global.model)?;
    let model_name = model.metadata().name.clone();
    let library = load_library_for(library_path, &model)?;
    if library.singers.is_empty() {
        bail!("library {} has no singers yet: enrol some with `singer-id enroll`", library_path.display());
    }
    let cfg = analyzer_config(&model, tuning);
    song_config(tuning).validate().map_err(anyhow::Error::msg)?;
    let library = Arc::new(library);
    if !batch {
        let file = &jobs[0].input;
        let progress = bar(global.quiet, 0, "analysing");
        let Analysis { decisions, duration_s, envelope, damage } = analyze_file(
            model,
            library,
            cfg,
            tuning,
            file,
            &progress,
            Extras { envelope: out.plot.is_some(), osc: osc.as_mut() },
        )?;
        progress.finish_and_clear();
        if let Some(damage) = &damage {
            eprintln!("warning: {}: {damage}", file.display());
        }
        if let Some(dir) = out.output_dir {
            write_timeline(&dir.join(&jobs[0].output_name), out.format, &decisions, file)?;
        }
        if let Some(path) = out.summary {
            write_summary(path, &[summary_line(file, Ok((&decisions, duration_s, damage.as_ref())))])?;
        }
        if out.output_dir.is_none() && out.summary.is_none() || out.output.is_some() {
            let text = render(out.format, &merge_segments(&decisions), &decisions, &file.display().to_string());
            match out.output {
                Some(path) => write_atomically(path, text.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
        }
        if let Some(path) = out.plot {
            let title = format!("{}: {} mode, model {model_name}", file.display(), tuning.mode.name());
            draw_analysis(path, &title, envelope.as_ref(), &decisions, duration_s)?;
        }
        return Ok(());
    }
    run_batch(global, &jobs, model, library, cfg, tuning, out)
}

/// One input file and the name of its timeline inside `--output-dir`.
#[derive(Debug, Clone, PartialEq)]
struct Job {
    input: PathBuf,
    /// Relative path (sub-folders kept for files found in a folder), format extension added
    /// by the caller.
    output_name: PathBuf,
}

/// The audio files named by `inputs`: files as given, folders searched recursively for audio
/// extensions (sorted, so runs are reproducible). Two inputs whose timelines would share a name
/// are refused before any work.
fn collect_inputs(inputs: &[PathBuf]) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found = Vec::new();
            for entry in walkdir::WalkDir::new(input).follow_links(true).sort_by_file_name() {
                let entry = entry.with_context(|| format!("cannot list {}", input.display()))?;
                if entry.file_type().is_file() && is_audio(entry.path()) {
                    let relative = entry.path().strip_prefix(input).unwrap_or(entry.path()).to_path_buf();
                    found.push(Job { input: entry.path().to_path_buf(), output_name: relative });
                }
            }
            if found.is_empty() {
                eprintln!(
                    "warning: {}: no audio files ({}) in this folder",
                    input.display(),
                    AUDIO_EXTENSIONS.join(", ")
                );
            }
            jobs.extend(found);
        } else {
            // Named files are taken whatever their extension: the decoder says if it is audio.
            let name = input.file_name().map(PathBuf::from).unwrap_or_else(|| input.clone());
            jobs.push(Job { input: input.clone(), output_name: name });
        }
    }
    if jobs.is_empty() {
        bail!("no audio files to analyse");
    }
    let mut seen: HashMap<PathBuf, &Path> = HashMap::new();
    for job in &jobs {
        if let Some(first) = seen.insert(job.output_name.clone(), &job.input) {
            bail!(
                "{} and {} would both write the timeline {}: analyse them in separate runs or pass their folder",
                first.display(),
                job.input.display(),
                job.output_name.display()
            );
        }
    }
    Ok(jobs)
}

fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// `name` with the format's extension in place of the audio one (`a/b.flac` → `a/b.json`).
fn timeline_name(name: &Path, format: Format) -> PathBuf {
    name.with_extension(format.extension())
}

fn write_timeline(path: &Path, format: Format, decisions: &[Decision], source: &Path) -> Result<()> {
    let path = timeline_name(path, format);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    let text = render(format, &merge_segments(decisions), decisions, &source.display().to_string());
    write_atomically(&path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

fn run_batch(
    global: &GlobalArgs,
    jobs: &[Job],
    model: Arc<Model>,
    library: Arc<SingerLibrary>,
    cfg: AnalyzerConfig,
    tuning: &Tuning,
    out: &Outputs,
) -> Result<()> {
    let threads =
        out.jobs.or_else(|| std::thread::available_parallelism().ok()).map_or(1, NonZeroUsize::get).min(jobs.len());
    if let Some(dir) = out.output_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    let progress = if global.quiet { ProgressBar::hidden() } else { ProgressBar::new(jobs.len() as u64) };
    progress.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} files, {per_sec} ({eta} left)")
            .expect("template is valid")
            .progress_chars("=> "),
    );
    progress.set_message("analysing");
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let audio_s = Mutex::new(0.0f64);
    let lines: Mutex<BTreeMap<usize, SummaryLine>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let silent = ProgressBar::hidden();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let result = analyze_file(
                        model.clone(),
                        library.clone(),
                        cfg.clone(),
                        tuning,
                        &job.input,
                        &silent,
                        Extras::default(),
                    )
                    .and_then(|Analysis { decisions, duration_s, damage, .. }| {
                        if let Some(dir) = out.output_dir {
                            write_timeline(&dir.join(&job.output_name), out.format, &decisions, &job.input)?;
                        }
                        Ok((decisions, duration_s, damage))
                    });
                    match &result {
                        Ok((_, duration_s, damage)) => {
                            *audio_s.lock().expect("no panics while held") += duration_s;
                            if let Some(damage) = damage {
                                progress.suspend(|| eprintln!("warning: {}: {damage}", job.input.display()));
                            }
                        }
                        Err(e) => progress.suspend(|| eprintln!("error: {e:#}")),
                    }
                    let line = summary_line(
                        &job.input,
                        result.as_ref().map(|(d, s, damage)| (d.as_slice(), *s, damage.as_ref())),
                    );
                    lines.lock().expect("no panics while held").insert(i, line);
                    progress.inc(1);
                }
            });
        }
    });
    progress.finish_and_clear();
    let lines: Vec<SummaryLine> = lines.into_inner().expect("workers are done").into_values().collect();
    let failed = lines.iter().filter(|l| l.error.is_some()).count();
    if let Some(path) = out.summary {
        write_summary(path, &lines)?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let audio_s = audio_s.into_inner().expect("workers are done");
    if !global.quiet {
        eprintln!(
            "analysed {} of {} file(s), {:.1} min of audio in {:.1} s ({:.0}x real time, {threads} job(s)){}",
            jobs.len() - failed,
            jobs.len(),
            audio_s / 60.0,
            elapsed,
            audio_s / elapsed.max(1e-9),
            out.output_dir.map_or(String::new(), |d| format!("; timelines in {}", d.display()))
        );
    }
    if failed > 0 {
        bail!("{failed} of {} file(s) failed (reasons above)", jobs.len());
    }
    Ok(())
}

/// One line of the `--summary` JSON Lines file.
#[derive(Debug, Serialize)]
struct SummaryLine {
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_s: Option<f64>,
    /// Enrolled singers named, by total time, longest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    singers: Option<Vec<SingerTime>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unknown_s: Option<f64>,
    /// Part of the file could not be read (see [`Damage`]); the rest was analysed.
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct SingerTime {
    name: String,
    seconds: f64,
}

fn summary_line(path: &Path, result: Result<(&[Decision], f64, Option<&Damage>), &anyhow::Error>) -> SummaryLine {
    let path = path.display().to_string();
    match result {
        Err(e) => SummaryLine {
            path,
            duration_s: None,
            singers: None,
            unknown_s: None,
            warning: None,
            error: Some(format!("{e:#}")),
        },
        Ok((decisions, duration_s, damage)) => {
            let (totals, unknown) = seconds_per_singer(decisions);
            let mut singers: Vec<SingerTime> = totals
                .into_iter()
                .map(|(name, s)| SingerTime { name: name.to_string(), seconds: round_ms(s) })
                .collect();
            singers.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
            SummaryLine {
                path,
                duration_s: Some(round_ms(duration_s)),
                singers: Some(singers),
                unknown_s: Some(round_ms(unknown)),
                warning: damage.map(Damage::to_string),
                error: None,
            }
        }
    }
}

fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

fn write_summary(path: &Path, lines: &[SummaryLine]) -> Result<()> {
    let mut text = String::new();
    for line in lines {
        text.push_str(&serde_json::to_string(line)?);
        text.push('\n');
    }
    write_atomically(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// The analyzer settings for `model` with the command line's tuning applied.
pub fn analyzer_config(model: &Model, tuning: &Tuning) -> AnalyzerConfig {
    let mut cfg = AnalyzerConfig::for_model(model);
    cfg.hop_s = tuning.hop;
    cfg.smoothing_s = tuning.smoothing;
    cfg.scoring = tuning.scoring;
    match tuning.threshold {
        Some(t) => cfg.with_threshold(t),
        None => cfg,
    }
}

pub fn song_config(tuning: &Tuning) -> SongConfig {
    SongConfig {
        switch_penalty: tuning.switch_penalty,
        voice_cost: tuning.voice_cost,
        turn_threshold: tuning.turn_threshold,
        pad_s: tuning.pad,
        ..SongConfig::default()
    }
}

/// What [`analyze_file`] found in one recording.
pub struct Analysis {
    pub decisions: Vec<Decision>,
    pub duration_s: f64,
    /// The waveform's envelope, when asked for (for `--plot`).
    pub envelope: Option<Envelope>,
    /// Part of the file that could not be read (truncated, damaged packets): the timeline
    /// covers the rest.
    pub damage: Option<Damage>,
}

/// Analyses `file` in the chosen mode while decoding it, so memory depends on the number of
/// hops, never on the length of the audio; errors name `file`. `progress` counts samples.
pub fn analyze_file(
    model: Arc<Model>,
    library: Arc<SingerLibrary>,
    cfg: AnalyzerConfig,
    tuning: &Tuning,
    file: &Path,
    progress: &ProgressBar,
    extras: Extras<'_>,
) -> Result<Analysis> {
    let Extras { envelope: with_envelope, mut osc } = extras;
    enum Runner {
        Live(Analyzer, Vec<Decision>, CompactDecisions),
        Song(SongAnalyzer),
    }
    let named = |e: String| anyhow::anyhow!("{}: {e}", file.display());
    let mut runner = None;
    let mut envelope = None;
    let mut rate = 0;
    let decoded = decode_file_in_blocks(file, |block, info| -> Result<()> {
        let runner = match &mut runner {
            Some(runner) => runner,
            None => {
                rate = info.sample_rate;
                envelope = with_envelope.then(|| Envelope::new(rate));
                // Song mode reads the file twice when it embeds each turn's audio.
                let passes =
                    if tuning.mode == Mode::Song && tuning.turn_embedding == TurnEmbedding::Audio { 2 } else { 1 };
                progress.set_length(passes * info.expected_samples.unwrap_or(0));
                let (model, library, cfg) = (model.clone(), library.clone(), cfg.clone());
                runner.insert(match tuning.mode {
                    Mode::Live => {
                        let analyzer = Analyzer::new(model, library, cfg, rate).map_err(named)?;
                        Runner::Live(analyzer, Vec::new(), CompactDecisions::default())
                    }
                    Mode::Song => {
                        Runner::Song(SongAnalyzer::new(model, library, cfg, song_config(tuning), rate).map_err(named)?)
                    }
                })
            }
        };
        match runner {
            Runner::Live(analyzer, due, kept) => analyzer.push(block, due).map(|()| {
                send_osc(&mut osc, due, progress);
                kept.take(due)
            }),
            Runner::Song(analyzer) => analyzer.push(block),
        }
        .map_err(|e| named(e.to_string()))?;
        if let Some(envelope) = &mut envelope {
            envelope.push(block);
        }
        progress.inc(block.len() as u64);
        Ok(())
    })?;
    let decisions = match runner {
        Some(Runner::Live(mut analyzer, mut due, mut kept)) => analyzer
            .finish(&mut due)
            .map(|()| {
                send_osc(&mut osc, &due, progress);
                kept.take(&mut due);
                kept.expand()
            })
            .map_err(|e| e.to_string()),
        // Song mode decides once the whole recording is in: its decisions go out at the end.
        Some(Runner::Song(analyzer)) => {
            let song = song_config(tuning);
            analyzer
                .finish_observations()
                .map_err(|e| e.to_string())
                .and_then(|(hops, end_s)| {
                    let plan = SongPlan::new(&hops, library.singers.len(), &cfg, &song, end_s);
                    let turns = embed_turns(tuning.turn_embedding, &model, &cfg, file, rate, &plan, progress)
                        .map_err(|e| format!("{e:#}"))?;
                    Ok(decide_planned(&hops, &library, &cfg, &song, &plan, turns.as_deref()))
                })
                .inspect(|decisions| send_osc(&mut osc, decisions, progress))
        }
        None => Ok(Vec::new()),
    }
    .map_err(named)?;
    Ok(Analysis {
        decisions,
        duration_s: if rate == 0 { 0.0 } else { decoded.samples as f64 / f64::from(rate) },
        envelope: envelope.map(Envelope::finish),
        damage: decoded.damage,
    })
}

/// Song mode's second pass, for [`TurnEmbedding::Audio`]: `file` decoded again, each voiced
/// turn of `plan` embedded from all of its audio. `None` for [`TurnEmbedding::Hops`] (turns are
/// then named from their hops).
pub fn embed_turns(
    how: TurnEmbedding,
    model: &Model,
    cfg: &AnalyzerConfig,
    file: &Path,
    rate: u32,
    plan: &SongPlan,
    progress: &ProgressBar,
) -> Result<Option<Vec<Option<Vec<f32>>>>> {
    if how == TurnEmbedding::Hops {
        return Ok(None);
    }
    let spans = plan.voiced_turn_spans();
    if spans.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut embedder = TurnEmbedder::new(model, rate, cfg.voice_floor_db, &spans);
    decode_file_in_blocks(file, |block, info| -> Result<()> {
        if info.sample_rate != rate {
            bail!("sample rate changed between readings ({rate} Hz, then {} Hz)", info.sample_rate);
        }
        embedder.push(block).map_err(anyhow::Error::msg)?;
        progress.inc(block.len() as u64);
        Ok(())
    })?;
    embedder.finish().map(Some).map_err(anyhow::Error::msg)
}

/// What an analysis produces besides its decisions.
#[derive(Default)]
pub struct Extras<'a> {
    /// The waveform's envelope, for a picture.
    pub envelope: bool,
    /// Each decision sent as OSC as it is made.
    pub osc: Option<&'a mut OscSender>,
}

/// Sends `decisions` to the OSC listener, if any. A failed send is reported once and the
/// listener let go; the analysis goes on (the timeline is the result that must not be lost).
fn send_osc(osc: &mut Option<&mut OscSender>, decisions: &[Decision], progress: &ProgressBar) {
    let Some(sender) = osc else { return };
    if let Some(error) = decisions.iter().find_map(|d| sender.send(d, false).err()) {
        progress.suspend(|| eprintln!("warning: {error}; no more OSC messages are sent"));
        *osc = None;
    }
}

/// The decisions of a live analysis, kept without a heap allocation per decision. Each
/// `Decision` owns a few small strings; kept alive between the network's short-lived work
/// buffers, those pinned freed memory so that glibc's heap grew with the length of the file
/// (a 2-hour analysis passed 430 MB). Here they are rows of plain numbers, names by index,
/// turned back into decisions once the network is done.
#[derive(Default)]
struct CompactDecisions {
    names: Vec<String>,
    rows: Vec<CompactDecision>,
}

#[derive(Clone, Copy)]
struct CompactDecision {
    start_s: f64,
    end_s: f64,
    /// Index into `names`, or [`UNKNOWN`] / [`NO_VOICE`].
    verdict: u32,
    confidence: f32,
    top: [(u32, f32); TOP_CANDIDATES],
    top_len: u8,
}

const UNKNOWN: u32 = u32::MAX;
const NO_VOICE: u32 = u32::MAX - 1;

impl CompactDecisions {
    /// Moves `decisions` in (leaving it empty, its capacity reused).
    fn take(&mut self, decisions: &mut Vec<Decision>) {
        for d in decisions.drain(..) {
            let verdict = match &d.verdict {
                Verdict::Singer(name) => self.index_of(name),
                Verdict::Unknown => UNKNOWN,
                Verdict::NoVoice => NO_VOICE,
            };
            let mut top = [(0, 0.0); TOP_CANDIDATES];
            let top_len = d.top.len().min(TOP_CANDIDATES);
            for (slot, candidate) in top.iter_mut().zip(&d.top) {
                *slot = (self.index_of(&candidate.singer), candidate.score);
            }
            let (start_s, end_s, confidence) = (d.start_s, d.end_s, d.confidence);
            self.rows.push(CompactDecision { start_s, end_s, verdict, confidence, top, top_len: top_len as u8 });
        }
    }

    fn index_of(&mut self, name: &str) -> u32 {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i as u32,
            None => {
                self.names.push(name.to_string());
                (self.names.len() - 1) as u32
            }
        }
    }

    fn expand(self) -> Vec<Decision> {
        let name = |i: u32| self.names[i as usize].clone();
        self.rows
            .iter()
            .map(|row| Decision {
                start_s: row.start_s,
                end_s: row.end_s,
                verdict: match row.verdict {
                    UNKNOWN => Verdict::Unknown,
                    NO_VOICE => Verdict::NoVoice,
                    i => Verdict::Singer(name(i)),
                },
                confidence: row.confidence,
                top: row.top[..usize::from(row.top_len)]
                    .iter()
                    .map(|&(i, score)| Candidate { singer: name(i), score })
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_decisions_come_back_unchanged() {
        let candidate = |singer: &str, score| Candidate { singer: singer.into(), score };
        let decision =
            |start_s: f64, verdict, top| Decision { start_s, end_s: start_s + 0.5, verdict, confidence: 0.7, top };
        let decisions = vec![
            decision(0.0, Verdict::NoVoice, vec![]),
            decision(
                0.5,
                Verdict::Singer("Ann".into()),
                vec![candidate("Ann", 0.9), candidate("Bo", 0.2), candidate("Cy", 0.1)],
            ),
            decision(1.0, Verdict::Unknown, vec![candidate("Cy", 0.3)]),
            decision(1.5, Verdict::Singer("Bo".into()), vec![candidate("Bo", 0.8), candidate("Ann", 0.4)]),
        ];
        let (mut compact, mut due) = (CompactDecisions::default(), decisions[..2].to_vec());
        compact.take(&mut due);
        assert!(due.is_empty());
        compact.take(&mut decisions[2..].to_vec());
        assert_eq!(compact.expand(), decisions);
    }

    #[test]
    fn folders_are_searched_for_audio_and_keep_their_layout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("live/set2")).unwrap();
        for name in ["b.wav", "a.FLAC", "notes.txt", "live/x.ogg", "live/set2/y.mp3", "live/cover.jpg"] {
            std::fs::write(root.join(name), b"").unwrap();
        }
        let jobs = collect_inputs(&[root.to_path_buf()]).unwrap();
        let names: Vec<&Path> = jobs.iter().map(|j| j.output_name.as_path()).collect();
        assert_eq!(
            names,
            [Path::new("a.FLAC"), Path::new("b.wav"), Path::new("live/set2/y.mp3"), Path::new("live/x.ogg")]
        );
        assert_eq!(timeline_name(names[2], Format::Csv), Path::new("live/set2/y.csv"));
        assert_eq!(timeline_name(names[0], Format::Audacity), Path::new("a.txt"));
    }

    #[test]
    fn inputs_that_would_share_a_timeline_are_refused_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["one", "two"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join("take.wav"), b"").unwrap();
        }
        let err = collect_inputs(&[dir.path().join("one/take.wav"), dir.path().join("two/take.wav")]).unwrap_err();
        assert!(err.to_string().contains("would both write the timeline take.wav"), "{err}");
    }

    #[test]
    fn summary_totals_each_singer_and_unknown() {
        let d = |start_s: f64, end_s: f64, verdict: Verdict| Decision {
            start_s,
            end_s,
            verdict,
            confidence: 0.9,
            top: vec![],
        };
        let decisions = [
            d(0.0, 1.0, Verdict::NoVoice),
            d(1.0, 3.5, Verdict::Singer("ann".into())),
            d(3.5, 4.0, Verdict::Unknown),
            d(4.0, 9.0, Verdict::Singer("bo".into())),
            d(9.0, 9.5, Verdict::Singer("ann".into())),
        ];
        let line = summary_line(Path::new("x.wav"), Ok((&decisions, 9.75, None)));
        let json = serde_json::to_value(&line).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"path": "x.wav", "duration_s": 9.75, "unknown_s": 0.5,
                "singers": [{"name": "bo", "seconds": 5.0}, {"name": "ann", "seconds": 3.0}]})
        );
        let err = anyhow::anyhow!("x.wav: corrupt");
        let json = serde_json::to_value(summary_line(Path::new("x.wav"), Err(&err))).unwrap();
        assert_eq!(json, serde_json::json!({"path": "x.wav", "error": "x.wav: corrupt"}));
    }
}
