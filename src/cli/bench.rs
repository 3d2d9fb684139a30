//! `singer-id bench`: real-time factors (seconds of audio processed per second of CPU time)
//! of each stage and of the whole pipeline, median of several runs, measured in one process so
//! the ratios between stages are comparable even on a noisy machine.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use singer_id::analyzer::{analyze_samples, AnalyzerConfig, DEFAULT_VOICE_FLOOR_DB};
use singer_id::audio::decode_file;
use singer_id::decision::Verdict;
use singer_id::embed::clip_window_embeddings;
use singer_id::frontend::frames_of_clip;
use singer_id::library::SingerLibrary;
use singer_id::model::ModelMetadata;

use super::args::GlobalArgs;
use super::load_model;

/// Length of the synthetic signal used when no file is given.
const SYNTHETIC_S: f64 = 20.0;
const SYNTHETIC_RATE: u32 = 44100;

/// Median seconds of each stage for one model on one input.
struct StageTimes {
    name: String,
    precision: String,
    window_s: f64,
    hop_s: f64,
    frontend: f64,
    one_inference: f64,
    inferences_at_hop: f64,
    pipeline: f64,
}

pub fn run(global: &GlobalArgs, file: Option<&Path>, runs: usize, compare: Option<&str>) -> Result<()> {
    let runs = runs.max(1);
    let (samples, rate, source) = bench_input(file)?;
    let seconds = samples.len() as f64 / rate as f64;
    let mut models = vec![global.model.as_str()];
    models.extend(compare);
    let results: Vec<StageTimes> =
        models.iter().map(|m| time_stages(m, &samples, rate, runs)).collect::<Result<_>>()?;

    println!("{source}; {runs} run(s) each, median, one thread");
    for r in &results {
        println!("model {} ({})", r.name, r.precision);
        println!("  frontend (resample + mel)   {:>9.1}x real time", seconds / r.frontend);
        println!("  model, one inference        {:>9.3} ms ({:.1} s window)", r.one_inference * 1e3, r.window_s);
        println!("  model at a {:.2} s hop       {:>9.1}x real time", r.hop_s, seconds / r.inferences_at_hop);
        println!("  whole pipeline (analyzer)   {:>9.1}x real time", seconds / r.pipeline);
    }
    if let [a, b] = &results[..] {
        println!(
            "{} inference takes {:.2}x the time of {}; whole pipeline {:.2}x",
            b.name,
            b.one_inference / a.one_inference,
            a.name,
            b.pipeline / a.pipeline
        );
    }
    Ok(())
}

/// Time per kind of operator in one window's inference of the model, slowest first, with its
/// share of the profiled total and the plain (unprofiled) median for comparison.
pub fn profile(global: &GlobalArgs, file: Option<&Path>, runs: usize) -> Result<()> {
    let runs = runs.max(1);
    let model = load_model(&global.model)?;
    let meta = model.metadata().clone();
    let (samples, rate, _) = bench_input(file)?;
    let frames = frames_of_clip(&meta.frontend, &samples, rate).map_err(anyhow::Error::msg)?;
    let window = one_window(&meta, &frames.mel);
    // Warm up (first-run allocations), then the plain time, then the profile.
    model.embed_window(&window)?;
    let plain = median_time(runs, || {
        model.embed_window(&window).expect("window has the model's shape");
    });
    let kinds = model.profile_window(&window, runs)?;
    let total: f64 = kinds.iter().map(|k| k.seconds).sum();
    println!(
        "model {} ({}), one {:.2} s window, {runs} run(s), one thread: {:.3} ms per inference profiled, \
         {:.3} ms plain (median)",
        meta.name,
        meta.precision,
        meta.window_s(),
        total / runs as f64 * 1e3,
        plain * 1e3
    );
    println!("  {:<36} {:>5} {:>12} {:>7}", "operator module", "nodes", "ms/inference", "share");
    for k in &kinds {
        println!(
            "  {:<36} {:>5} {:>12.3} {:>6.1}%",
            k.kind,
            k.nodes,
            k.seconds / runs as f64 * 1e3,
            100.0 * k.seconds / total.max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}

/// The audio to time: FILE decoded, or the synthetic signal; with a description of it.
fn bench_input(file: Option<&Path>) -> Result<(Vec<f32>, u32, String)> {
    Ok(match file {
        Some(path) => {
            let audio = decode_file(path)?;
            (audio.samples, audio.sample_rate, path.display().to_string())
        }
        None => (synthetic_voice(), SYNTHETIC_RATE, format!("{SYNTHETIC_S} s synthetic vowel at {SYNTHETIC_RATE} Hz")),
    })
}

/// One model window of mel frames from the start of `mel`, looped if the input is shorter.
fn one_window(meta: &ModelMetadata, mel: &[f32]) -> Vec<f32> {
    mel.iter().copied().cycle().take(meta.window_frames * meta.frontend.n_mels).collect()
}

fn time_stages(model_name: &str, samples: &[f32], rate: u32, runs: usize) -> Result<StageTimes> {
    let model = load_model(model_name)?;
    let seconds = samples.len() as f64 / rate as f64;
    let meta = model.metadata().clone();

    // A one-singer library so the pipeline run includes scoring.
    let mut library = SingerLibrary::new(&meta);
    let enrol = &samples[..samples.len().min(rate as usize * 5)];
    let refs = clip_window_embeddings(&model, enrol, rate, DEFAULT_VOICE_FLOOR_DB).map_err(anyhow::Error::msg)?;
    if !refs.is_empty() {
        library.enroll("bench", refs)?;
    }
    let library = Arc::new(library);
    let cfg = AnalyzerConfig::for_model(&model);

    let frames = frames_of_clip(&meta.frontend, samples, rate).map_err(anyhow::Error::msg)?;
    let window = one_window(&meta, &frames.mel);
    // The analyzer runs one inference per hop; time that many.
    let inferences = (seconds / cfg.hop_s).floor().max(1.0) as usize;

    Ok(StageTimes {
        frontend: median_time(runs, || {
            frames_of_clip(&meta.frontend, samples, rate).expect("config validated at load");
        }),
        one_inference: median_time(runs, || {
            model.embed_window(&window).expect("window has the model's shape");
        }),
        inferences_at_hop: median_time(runs, || {
            for _ in 0..inferences {
                model.embed_window(&window).expect("window has the model's shape");
            }
        }),
        pipeline: median_time(runs, || {
            analyze_samples(model.clone(), library.clone(), cfg.clone(), samples, rate, 4096, |_| {})
                .expect("bench audio analyses");
        }),
        name: meta.name.clone(),
        precision: meta.precision.clone(),
        window_s: meta.window_s(),
        hop_s: cfg.hop_s,
    })
}

/// For each sung section of a labelled track: seconds from the section's start to the end of
/// the first decision that names its singer (what a user waits before the display is right).
pub fn onset_latency(global: &GlobalArgs, file: &Path, library_path: &Path, sections_path: &Path) -> Result<()> {
    let model = load_model(&global.model)?;
    let library = super::load_library_for(library_path, &model)?;
    let audio = decode_file(file)?;
    let cfg = AnalyzerConfig::for_model(&model);
    let decisions =
        analyze_samples(model, Arc::new(library), cfg.clone(), &audio.samples, audio.sample_rate, 4096, |_| {})
            .map_err(anyhow::Error::msg)?;
    let text =
        std::fs::read_to_string(sections_path).with_context(|| format!("cannot read {}", sections_path.display()))?;
    let mut latencies = Vec::new();
    println!(
        "onset to first correct decision ({}, hop {} s, smoothing {} s):",
        file.display(),
        cfg.hop_s,
        cfg.smoothing_s
    );
    for (n, line) in text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [start, end, label] = fields[..] else {
            bail!("{}:{}: expected start_s,end_s,label", sections_path.display(), n + 1);
        };
        let (start, end): (f64, f64) = (start.parse()?, end.parse()?);
        if label == "instrumental" {
            continue;
        }
        let first = decisions
            .iter()
            .find(|d| d.end_s > start && d.start_s < end && d.verdict == Verdict::Singer(label.to_string()));
        match first {
            Some(d) => {
                println!("  {label:<12} {start:>6.1}-{end:<6.1} s  {:.2} s", d.end_s - start);
                latencies.push(d.end_s - start);
            }
            None => println!("  {label:<12} {start:>6.1}-{end:<6.1} s  never named"),
        }
    }
    latencies.sort_by(f64::total_cmp);
    if let Some(median) = latencies.get(latencies.len() / 2) {
        println!("median {median:.2} s over {} section(s)", latencies.len());
    }
    Ok(())
}

/// The plugin's real-time cost: median time of one `process()` hand-off (mix to mono + ring
/// push) for common block sizes while the worker analyses, and the worker's CPU share at 48 kHz.
/// Timing each call with `Instant` adds ~20-40 ns of its own, so small blocks read high.
pub fn plugin_costs(runs: usize) -> Result<()> {
    use singer_id::live::{shared_model, start, FixedControls, GuiFeed, InputSource, RING_SECONDS};

    const RATE: f32 = 48_000.0;
    const SAMPLES_PER_SIZE: usize = 2000;
    // Holding the model keeps it cached across the bridges started below.
    let _model = shared_model().map_err(anyhow::Error::msg)?;
    let signal = synthetic_voice();
    let (mut left, mut right) = (signal.clone(), signal);
    println!("plugin audio thread at {RATE} Hz, stereo, Mid input, worker running, ring never full");
    for block in [64usize, 512, 4096] {
        let mut times = Vec::with_capacity(SAMPLES_PER_SIZE);
        // Each round pushes at most 90% of the ring (which holds RING_SECONDS), so every call
        // measures a complete push, never the cheaper full-ring path.
        let calls_per_round = ((RATE * RING_SECONDS * 0.9) as usize / block).max(1);
        while times.len() < SAMPLES_PER_SIZE {
            let (mut audio, mut worker) =
                start(Arc::new(FixedControls::default()), Arc::new(GuiFeed::default()), RATE, false)
                    .map_err(anyhow::Error::msg)?;
            for call in 0..calls_per_round.min(SAMPLES_PER_SIZE - times.len()) {
                let at = (call * block) % (left.len() - block);
                let (l, r) = (&mut left[at..at + block], &mut right[at..at + block]);
                let main: [&mut [f32]; 2] = [l, r];
                let started = Instant::now();
                audio.push_block(&main, None, InputSource::Mid, false);
                times.push(started.elapsed().as_nanos() as u64);
            }
            worker.stop();
        }
        times.sort_unstable();
        let median = times[times.len() / 2];
        let budget_ns = block as f64 / RATE as f64 * 1e9;
        println!(
            "  {block:>5}-sample block: {median:>7} ns median of {} calls ({:.4}% of the block's {:.2} ms)",
            times.len(),
            median as f64 / budget_ns * 100.0,
            budget_ns / 1e6
        );
    }

    // The worker's share of one core while keeping up with live 48 kHz input = the time it
    // needs per second of audio: the inverse of the analyzer's real-time factor at that rate.
    let model = load_model(singer_id::model::DEFAULT_MODEL)?;
    let meta = model.metadata().clone();
    let samples = voice_at(RATE as u32);
    let seconds = samples.len() as f64 / RATE as f64;
    let library = Arc::new(SingerLibrary::new(&meta));
    let cfg = AnalyzerConfig::for_model(&model);
    let pipeline = median_time(runs.max(1), || {
        analyze_samples(model.clone(), library.clone(), cfg.clone(), &samples, RATE as u32, 4096, |_| {})
            .expect("bench audio analyses");
    });
    println!(
        "worker: {:.1}x real time at 48 kHz → {:.2}% of one core for live input (median of {runs} runs)",
        seconds / pipeline,
        pipeline / seconds * 100.0
    );
    Ok(())
}

fn median_time(runs: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up: caches, lazy plans
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// A harmonic tone with vibrato and syllable-like amplitude envelope: voiced, so every stage
/// (gate, model, scoring) runs as it would on singing.
fn synthetic_voice() -> Vec<f32> {
    voice_at(SYNTHETIC_RATE)
}

/// The synthetic voice rendered at `rate`.
fn voice_at(rate: u32) -> Vec<f32> {
    let n = (SYNTHETIC_S * rate as f64) as usize;
    let mut phase = 0.0f64;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate as f64;
            let f0 = 220.0 * (1.0 + 0.01 * (2.0 * std::f64::consts::PI * 5.5 * t).sin());
            phase += 2.0 * std::f64::consts::PI * f0 / rate as f64;
            let tone: f64 = (1..=12).map(|h| (h as f64 * phase).sin() / h as f64).sum();
            let envelope = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 2.0 * t).sin();
            (0.1 * tone * envelope) as f32
        })
        .collect()
}
