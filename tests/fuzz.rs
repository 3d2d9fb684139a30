//! Seeded fuzzing of everything that reads outside input: mutated audio files through decode
//! and analysis, mutated library files through load and update, mutated plugin-state library
//! fields, and random option values on the command line. Each case must end in a result or a
//! clear error: no panic, no hang (a watchdog aborts a case that runs over 20 s), memory bounded
//! (peak RSS checked at the end), and a library file unchanged unless the change succeeded.
//!
//! CI runs about 17 000 cases (well under a minute here). For a long run set SINGER_ID_FUZZ_SCALE (e.g.
//! 100: a hundred times as many cases) and SINGER_ID_FUZZ_SEED; every test prints its counts.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{cut, repo_path};
use singer_id::analyzer::{Analyzer, AnalyzerConfig};
use singer_id::audio::decode_file_in_blocks;
use singer_id::library::{LibraryError, SingerLibrary};
use singer_id::model::{embedded, Model};
use singer_id::plugin::params::{filter_library_field, LibraryState};

fn scale() -> u64 {
    std::env::var("SINGER_ID_FUZZ_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1).max(1)
}

fn seed() -> u64 {
    std::env::var("SINGER_ID_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x005e_ed1d)
}

/// xorshift64*: a fixed, dependency-free sequence, so a failing case can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four random edits: flipped bytes, extreme values over a header-sized region,
/// truncation, a duplicated or deleted chunk, inserted noise.
fn mutate(base: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        if bytes.is_empty() {
            bytes.push(rng.next() as u8);
            continue;
        }
        let at = rng.below(bytes.len());
        match rng.below(6) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
            }
            1 => {
                // Headers live in the first bytes: write 0 or all-ones over a field there.
                let i = rng.below(bytes.len().min(96));
                let fill = if rng.below(2) == 0 { 0x00 } else { 0xff };
                let end = (i + 1 + rng.below(4)).min(bytes.len());
                bytes[i..end].fill(fill);
            }
            2 => bytes.truncate(at),
            3 => {
                let len = rng.below(4096).min(bytes.len() - at);
                let chunk = bytes[at..at + len].to_vec();
                let to = rng.below(bytes.len());
                bytes.splice(to..to, chunk);
            }
            4 => {
                let len = rng.below(4096).min(bytes.len() - at);
                bytes.drain(at..at + len);
            }
            _ => {
                let noise: Vec<u8> = (0..1 + rng.below(64)).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, noise);
            }
        }
    }
    bytes
}

/// Aborts the whole test process if one case runs over 20 s: a hang must fail CI, not stall it.
struct Watchdog {
    /// Milliseconds from `epoch` at which the running case started (`u64::MAX`: none running).
    started_ms: Arc<AtomicU64>,
    epoch: Instant,
}

impl Watchdog {
    fn new(what: &'static str) -> Watchdog {
        let (epoch, started_ms) = (Instant::now(), Arc::new(AtomicU64::new(u64::MAX)));
        let watched = started_ms.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let started = watched.load(Ordering::Relaxed);
            if started != u64::MAX && epoch.elapsed().as_millis() as u64 > started + 20_000 {
                eprintln!("fuzz: a {what} case ran over 20 s (hang)");
                std::process::abort();
            }
        });
        Watchdog { started_ms, epoch }
    }

    fn case<T>(&self, work: impl FnOnce() -> T) -> T {
        /// Ends the case even when it panics, so a failing assertion is reported, not a hang.
        struct Running<'a>(&'a AtomicU64);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                self.0.store(u64::MAX, Ordering::Relaxed);
            }
        }
        self.started_ms.store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        let _running = Running(&self.started_ms);
        work()
    }
}

fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}

fn v1() -> Arc<Model> {
    // The small model keeps the analysis path affordable; every model shares that path.
    Arc::new(Model::load_named("v1-cnn-int8").unwrap())
}

fn library_for(model: &Model, singers: usize, rng: &mut Rng) -> SingerLibrary {
    let mut library = SingerLibrary::new(model.metadata());
    let size = model.metadata().embedding_size;
    for s in 0..singers {
        let refs = (0..3).map(|_| (0..size).map(|_| (rng.below(2001) as f32 - 1000.0) / 1000.0).collect()).collect();
        library.enroll(&format!("singer {s}"), refs).unwrap();
    }
    library
}

#[test]
fn mutated_audio_decodes_or_fails_cleanly_and_analyses_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    // Seeds: a 1.5-s WAV cut from the demo, and the first 48 KB of a demo FLAC.
    cut(dir.path(), "seed.wav", "demo/demo-track.flac", 3.0, 4.5);
    let seeds = [
        std::fs::read(dir.path().join("seed.wav")).unwrap(),
        std::fs::read(repo_path("demo/enroll/yuki.flac")).unwrap()[..48_000].to_vec(),
    ];
    let model = v1();
    let mut rng = Rng::new(seed());
    let library = Arc::new(library_for(&model, 3, &mut rng));
    let watchdog = Watchdog::new("audio");
    let cases = 2000 * scale();
    let (mut decoded, mut refused, mut blocks) = (0u64, 0u64, 0u64);
    let path = dir.path().join("case.bin");
    for case in 0..cases {
        let bytes = mutate(&seeds[case as usize % seeds.len()], &mut rng);
        std::fs::write(&path, &bytes).unwrap();
        let analyse = case % 4 == 0;
        let result = watchdog.case(|| {
            let mut analyzer: Option<Analyzer> = None;
            let mut decisions = Vec::new();
            decode_file_in_blocks(&path, |block, info| -> Result<(), singer_id::audio::AudioError> {
                blocks += 1;
                if analyse {
                    let analyzer = analyzer.get_or_insert_with(|| {
                        let cfg = AnalyzerConfig::for_model(&model);
                        Analyzer::new(model.clone(), library.clone(), cfg, info.sample_rate).unwrap()
                    });
                    analyzer.push(block, &mut decisions).unwrap();
                }
                Ok(())
            })
            .map(|_| {
                if let Some(analyzer) = &mut analyzer {
                    analyzer.finish(&mut decisions).unwrap();
                }
                assert!(decisions.iter().all(|d| d.confidence.is_finite() && d.end_s >= d.start_s));
            })
        });
        match result {
            Ok(()) => decoded += 1,
            Err(e) => {
                assert!(e.to_string().contains("case.bin"), "case {case}: the error must name the file: {e}");
                refused += 1;
            }
        }
    }
    let peak = peak_rss_mb();
    eprintln!("fuzz audio: {cases} mutated files ({decoded} decoded, {refused} refused), {blocks} audio blocks, peak RSS {peak:?} MB");
    assert!(peak.is_none_or(|mb| mb < 1500), "memory grew to {peak:?} MB");
}

#[test]
fn mutated_library_files_load_or_are_refused_and_stay_untouched_unless_saved() {
    let dir = tempfile::tempdir().unwrap();
    let meta = embedded::metadata();
    let mut rng = Rng::new(seed() ^ 1);
    let mut base = SingerLibrary::new(meta);
    for s in 0..3 {
        let refs =
            (0..2).map(|_| (0..meta.embedding_size).map(|_| rng.below(100) as f32 / 50.0 - 1.0).collect()).collect();
        base.enroll(&format!("Singer {s}"), refs).unwrap();
    }
    let seed_json = base.to_json().into_bytes();
    let watchdog = Watchdog::new("library");
    let cases = 5000 * scale();
    let (mut loaded, mut refused) = (0u64, 0u64);
    let path = dir.path().join("lib.json");
    for case in 0..cases {
        let bytes = mutate(&seed_json, &mut rng);
        std::fs::write(&path, &bytes).unwrap();
        let embedding: Vec<f32> =
            (0..meta.embedding_size).map(|i| if i == case as usize % 7 { 1.0 } else { 0.1 }).collect();
        let result: Result<(), LibraryError> = watchdog.case(|| {
            SingerLibrary::update(&path, || Ok(SingerLibrary::new(meta)), |lib| lib.enroll("new one", vec![embedding]))
        });
        match result {
            Ok(()) => {
                loaded += 1;
                let saved = SingerLibrary::load(&path).expect("a saved library loads");
                assert!(saved.get("new one").is_some(), "case {case}");
            }
            Err(_) => {
                refused += 1;
                assert_eq!(std::fs::read(&path).unwrap(), bytes, "case {case}: a refused library must be untouched");
            }
        }
    }
    eprintln!("fuzz libraries: {cases} mutated files ({loaded} loaded and updated, {refused} refused untouched)");
    assert!(loaded > 0 && refused > 0, "the mutations should both break and spare some files");
}

#[test]
fn mutated_plugin_state_library_fields_never_panic() {
    let meta = embedded::metadata();
    let mut rng = Rng::new(seed() ^ 2);
    let mut base = SingerLibrary::new(meta);
    base.enroll("Ann", vec![(0..meta.embedding_size).map(|i| (i % 5) as f32).collect()]).unwrap();
    let seed_json = base.to_json().into_bytes();
    let watchdog = Watchdog::new("state");
    let cases = 10_000 * scale();
    let mut accepted = 0u64;
    for _ in 0..cases {
        let text = String::from_utf8_lossy(&mutate(&seed_json, &mut rng)).into_owned();
        let mut fields = std::collections::BTreeMap::from([("library".to_string(), text.clone())]);
        watchdog.case(|| {
            filter_library_field(&mut fields);
            let state: LibraryState = serde_json::from_str(&fields["library"]).expect("the filtered field is JSON");
            // Saving never loses what was loaded: either the library or the text as it was.
            let saved = serde_json::to_string(&state).unwrap();
            if state.refused.is_none() {
                accepted += 1;
            } else if serde_json::from_str::<serde_json::Value>(&text).is_err() {
                let back: serde_json::Value = serde_json::from_str(&saved).unwrap();
                assert_eq!(back["damaged_library_text"], text.as_str());
            }
        });
    }
    eprintln!("fuzz plugin states: {cases} mutated library fields ({accepted} accepted)");
}

#[test]
fn random_option_values_are_refused_or_used_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let track = cut(dir.path(), "take.wav", "demo/demo-track.flac", 3.0, 6.0);
    let track = dir.path().join(track);
    let model = v1();
    let mut rng = Rng::new(seed() ^ 3);
    let library = dir.path().join("lib.json");
    library_for(&model, 2, &mut rng).save(&library).unwrap();
    let values = ["nan", "inf", "-inf", "1e999", "-1", "0", "0.5", "1", "2", "1e9", "-0", "x", "", "0.05", "60"];
    let flags =
        ["--threshold", "--hop", "--smoothing", "--pad", "--switch-penalty", "--voice-cost", "--turn-threshold"];
    // A process per case: the long run scales these least.
    let cases = 80 * scale().min(10);
    let (mut ran, mut refused) = (0u64, 0u64);
    for case in 0..cases {
        let mut args: Vec<String> = vec!["--quiet".into(), "--model".into(), "v1-cnn-int8".into(), "analyze".into()];
        args.push(track.display().to_string());
        args.extend(["--library".into(), library.display().to_string()]);
        for _ in 0..1 + rng.below(3) {
            let flag = flags[rng.below(flags.len())];
            args.push(format!("{flag}={}", values[rng.below(values.len())]));
        }
        if case % 2 == 0 {
            args.extend(["--mode".into(), "live".into()]);
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_singer-id")).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked") && matches!(out.status.code(), Some(0..=2)), "{args:?}: {err}");
        if out.status.success() {
            ran += 1;
        } else {
            refused += 1;
        }
    }
    eprintln!("fuzz options: {cases} command lines ({ran} ran, {refused} refused)");
}
