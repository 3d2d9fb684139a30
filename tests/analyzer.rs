//! The analyzer gives identical decisions however the audio is split into blocks, and gates
//! silence as "no voice".

mod common;

use std::sync::Arc;

use common::{default_model, repo_path, Rng};
use singer_id::analyzer::{Analyzer, AnalyzerConfig};
use singer_id::audio::decode_file;
use singer_id::decision::{Decision, Verdict};
use singer_id::library::SingerLibrary;
use singer_id::model::metadata::VoiceHead;
use singer_id::model::{Model, ModelMetadata};

fn demo_library() -> Arc<SingerLibrary> {
    Arc::new(common::demo_library(&default_model()))
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

/// Model v2 (int8) with its metadata's voice head replaced by `head` (`None`: no head).
fn v2_with_voice_head(head: Option<VoiceHead>) -> Arc<Model> {
    let path = repo_path("models/v2-campp-int8.json");
    let mut meta = ModelMetadata::load(&path).unwrap();
    meta.voice_head = head;
    let onnx = meta.onnx_path(&path);
    Arc::new(Model::from_parts(meta, &std::fs::read(&onnx).unwrap(), &onnx).unwrap())
}

/// The demo track's decisions by `model`, with the demo singers enrolled by it.
fn demo_track_decisions(model: &Arc<Model>) -> (Vec<Decision>, Analyzer) {
    let library = common::demo_library(model);
    let audio = decode_file(&repo_path("demo/demo-track.flac")).unwrap();
    let cfg = AnalyzerConfig::for_model(model);
    let mut analyzer = Analyzer::new(model.clone(), Arc::new(library), cfg, audio.sample_rate).unwrap();
    let mut out = Vec::new();
    analyzer.push(&audio.samples, &mut out).unwrap();
    analyzer.finish(&mut out).unwrap();
    (out, analyzer)
}

/// Hops whose whole analysis window lies in `[start_s, end_s)` of the demo track.
fn hops_within(decisions: &[Decision], window_s: f64, start_s: f64, end_s: f64) -> Vec<&Decision> {
    decisions.iter().filter(|d| d.end_s - window_s >= start_s - 1e-6 && d.end_s <= end_s + 1e-6).collect()
}

#[test]
fn a_voice_head_that_hears_no_voice_makes_every_hop_no_voice() {
    // p(voice) = sigmoid(-6) ≈ 0.0025 for every embedding: under any threshold in (0, 1) used here.
    let deaf = VoiceHead { weights: vec![0.0; 192], bias: -6.0, threshold: 0.5 };
    let model = v2_with_voice_head(Some(deaf));
    let (decisions, analyzer) = demo_track_decisions(&model);
    assert!(decisions.len() >= 80, "{} decisions", decisions.len());
    for d in &decisions {
        assert_eq!(d.verdict, Verdict::NoVoice, "{d:?}");
        assert!(d.top.is_empty(), "{d:?}");
    }
    // Energy-gated hops keep 1 - voiced fraction as confidence; head-gated ones say 1 - p(voice).
    let head_gated = decisions.iter().filter(|d| (d.confidence - (1.0 - 1.0 / (1.0 + 6f32.exp()))).abs() < 1e-6);
    assert!(head_gated.count() >= 70, "most hops pass the energy gate and are stopped by the head");
    // Nothing was remembered for "enrol what was just heard".
    assert!(analyzer.recent_embeddings(1000.0).is_empty());
}

#[test]
fn instrumental_passages_read_no_voice_with_the_voice_head() {
    let sections = common::demo_sections();
    let with_head =
        v2_with_voice_head(ModelMetadata::load(&repo_path("models/v2-campp-int8.json")).unwrap().voice_head);
    assert!(with_head.metadata().voice_head.is_some(), "v2 ships a voice head");
    let window_s = with_head.metadata().window_s();
    let (decisions, _) = demo_track_decisions(&with_head);
    let (without, _) = demo_track_decisions(&v2_with_voice_head(None));

    let (mut instrumental, mut loud_instrumental, mut sung, mut sung_voiced) = (0, 0, 0, 0);
    for (start, end, label) in &sections {
        let hops = hops_within(&decisions, window_s, *start, *end);
        if label == "instrumental" {
            // The accompaniment (the Brahms, which the head never saw in training) reads no voice...
            for d in &hops {
                assert_eq!(d.verdict, Verdict::NoVoice, "{label} {start}-{end}: {d:?}");
            }
            instrumental += hops.len();
            // ...even where it is loud enough to pass the energy gate: without the head it is judged.
            loud_instrumental +=
                hops_within(&without, window_s, *start, *end).iter().filter(|d| d.verdict != Verdict::NoVoice).count();
        } else {
            sung += hops.len();
            sung_voiced += hops.iter().filter(|d| d.verdict != Verdict::NoVoice).count();
        }
    }
    assert!(instrumental >= 4, "{instrumental} instrumental hops");
    assert!(loud_instrumental >= 2, "only {loud_instrumental} instrumental hops pass the energy gate");
    // Singing over the same accompaniment still reaches the singer scores.
    assert!(sung >= 50 && sung_voiced as f64 >= 0.95 * sung as f64, "{sung_voiced} of {sung} sung hops judged");
}

#[test]
fn enrolment_embeddings_do_not_depend_on_blocks_and_long_clips_go_in_pieces() {
    use singer_id::embed::{clip_window_embeddings, ClipEmbedder, CLIP_PIECE_S};
    use singer_id::frontend::{frames_of_clip, frames_to_embed};
    let model = Model::load_named("v1-cnn-int8").unwrap();
    let demo = decode_file(&repo_path("demo/demo-track.flac")).unwrap();
    let rate = demo.sample_rate;
    // A clip shorter than a piece is embedded whole, exactly as frames → voiced → windows.
    let meta = model.metadata();
    let frames = frames_of_clip(&meta.frontend, &demo.samples, rate).unwrap();
    let voiced = frames_to_embed(&frames.mel, &frames.level_db, meta.frontend.n_mels, -45.0, meta.keep_pauses);
    let whole = model.window_embeddings(&voiced).unwrap();
    assert_eq!(clip_window_embeddings(&model, &demo.samples, rate, -45.0).unwrap(), whole);
    // A clip of 2.3 pieces: two pieces (the second takes the remainder), and the same windows
    // whether it arrives at once or in odd blocks.
    let long: Vec<f32> =
        demo.samples.iter().copied().cycle().take((2.3 * CLIP_PIECE_S) as usize * rate as usize).collect();
    let at_once = clip_window_embeddings(&model, &long, rate, -45.0).unwrap();
    let mut embedder = ClipEmbedder::new(&model, rate, -45.0).unwrap();
    let mut rng = Rng::new(7);
    let mut rest = &long[..];
    while !rest.is_empty() {
        let (block, tail) = rest.split_at((1 + rng.below(20_000) as usize).min(rest.len()));
        embedder.push(block).unwrap();
        rest = tail;
    }
    assert_eq!(embedder.finish().unwrap(), at_once);
    let frames = frames_of_clip(&meta.frontend, &long, rate).unwrap();
    let voiced = frames_to_embed(&frames.mel, &frames.level_db, meta.frontend.n_mels, -45.0, meta.keep_pauses);
    let unsplit = model.window_embeddings(&voiced).unwrap().len();
    assert!(
        at_once.len() < unsplit && at_once.len() + 3 >= unsplit,
        "{} windows in pieces, {unsplit} whole",
        at_once.len()
    );
}
