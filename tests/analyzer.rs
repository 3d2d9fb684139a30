//! The analyzer gives identical decisions however the audio is split into blocks, and gates
//! silence as "no voice".

mod common;

use std::sync::Arc;

use common::{default_model, repo_path, Rng};
use singer_id::analyzer::{Analyzer, AnalyzerConfig, DEFAULT_VOICE_FLOOR_DB};
use singer_id::audio::decode_file;
use singer_id::decision::{Decision, Verdict};
use singer_id::embed::clip_window_embeddings;
use singer_id::library::SingerLibrary;

fn demo_library() -> Arc<SingerLibrary> {
    let model = default_model();
    let mut library = SingerLibrary::new(model.metadata());
    for name in common::demo_singers() {
        let audio = decode_file(&repo_path(&format!("demo/enroll/{name}.flac"))).unwrap();
        let refs = clip_window_embeddings(&model, &audio.samples, audio.sample_rate, DEFAULT_VOICE_FLOOR_DB).unwrap();
        library.enroll(&name, refs).unwrap();
    }
    Arc::new(library)
}

fn run(samples: &[f32], rate: u32, blocks: &mut dyn FnMut() -> usize) -> Vec<Decision> {
    let model = default_model();
    let cfg = AnalyzerConfig::for_model(&model);
    let mut analyzer = Analyzer::new(model, demo_library(), cfg, rate).unwrap();
    let mut out = Vec::new();
    let mut rest = samples;
    while !rest.is_empty() {
        let n = blocks().min(rest.len());
        analyzer.push(&rest[..n], &mut out).unwrap();
        rest = &rest[n..];
    }
    analyzer.finish(&mut out).unwrap();
    out
}

#[test]
fn block_size_does_not_change_decisions() {
    let audio = decode_file(&repo_path("demo/demo-track.flac")).unwrap();
    let clip = &audio.samples[..(audio.sample_rate as usize * 12).min(audio.samples.len())];
    let whole = run(clip, audio.sample_rate, &mut || usize::MAX);
    assert!(whole.len() >= 20, "{} decisions", whole.len());
    for fixed in [1usize, 64, 441, 16384] {
        assert_eq!(run(clip, audio.sample_rate, &mut || fixed), whole, "block size {fixed}");
    }
    let mut rng = Rng::new(7);
    assert_eq!(
        run(clip, audio.sample_rate, &mut || rng.below(5000) as usize),
        whole,
        "random blocks (zero-length included)"
    );
}

#[test]
fn silence_is_no_voice_and_resampled_rates_work() {
    for rate in [8000u32, 44100, 96000] {
        let silence = vec![0.0f32; rate as usize * 3];
        let decisions = run(&silence, rate, &mut || 512);
        // 3 s at 16 kHz = 48000 samples = (48000 - 400) / 160 + 1 = 298 whole frames; a decision
        // every 50 frames (0.5 s) gives 5.
        assert_eq!(decisions.len(), 5, "{rate} Hz: one decision per 0.5 s");
        assert!(decisions.iter().all(|d| d.verdict == Verdict::NoVoice), "{rate} Hz: {decisions:?}");
    }
}

#[test]
fn non_finite_input_is_treated_as_silence() {
    let mut samples = vec![0.0f32; 48000 * 2];
    for (i, s) in samples.iter_mut().enumerate() {
        *s = match i % 3 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            _ => f32::NEG_INFINITY,
        };
    }
    let decisions = run(&samples, 48000, &mut || 1000);
    assert!(decisions.iter().all(|d| d.verdict == Verdict::NoVoice));
}

#[test]
fn skipped_input_moves_the_clock_on() {
    let model = default_model();
    let cfg = AnalyzerConfig::for_model(&model);
    let mut analyzer = Analyzer::new(model, demo_library(), cfg, 16000).unwrap();
    let second = vec![0.0f32; 16000];
    let mut out = Vec::new();
    analyzer.push(&second, &mut out).unwrap();
    analyzer.skip_input(10 * 16000);
    analyzer.push(&second, &mut out).unwrap();
    analyzer.push(&second, &mut out).unwrap();
    let ends: Vec<f64> = out.iter().map(|d| (d.end_s * 100.0).round() / 100.0).collect();
    // Frames: 98 after 1 s, so one decision (frame 50) before the skip; the rest are 10 s later.
    assert_eq!(ends, vec![0.5, 11.0, 11.5, 12.0, 12.5], "{ends:?}");
    assert!((analyzer.position_s() - 12.98).abs() < 0.01, "{}", analyzer.position_s());
}
