//! End-to-end tests of the Singer ID plugin through a real (headless) CLAP host: bit-exact
//! pass-through in random block sizes at 44.1/48/96 kHz, state round trip, refusal of damaged
//! state, offline parity with the engine, and identification of the demo track's singers.
//!
//! The plugin binary is `$SINGER_ID_CLAP` when set (e.g. `target/bundled/Singer ID.clap`, or
//! the alloc-check build of `.ci/plugin-alloc-check`), else the `libsinger_id.so` cargo built
//! next to this test.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use clap_harness::{state_from_json, state_json, Instance};
use serde::Deserialize;
use singer_id::analyzer::{analyze_samples, AnalyzerConfig, DEFAULT_VOICE_FLOOR_DB};
use singer_id::audio::decode_file;
use singer_id::decision::{Decision, Verdict};
use singer_id::embed::clip_window_embeddings;
use singer_id::frontend::resample::StreamResampler;
use singer_id::library::SingerLibrary;
use singer_id::model::{Model, DEFAULT_MODEL};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn plugin_path() -> PathBuf {
    if let Some(path) = std::env::var_os("SINGER_ID_CLAP") {
        return PathBuf::from(path);
    }
    // The plugin built by this same `cargo test` run sits beside this test binary in
    // target/<profile>/deps/. (target/<profile>/libsinger_id.so is only refreshed when the
    // library is built as a root target, so it can be stale here.)
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().join("libsinger_id.so")
}

/// The demo track (mono) and its sample rate.
fn demo() -> &'static (Vec<f32>, u32) {
    static DEMO: OnceLock<(Vec<f32>, u32)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let audio = decode_file(&repo().join("demo/demo-track.flac")).unwrap();
        (audio.samples, audio.sample_rate)
    })
}

fn model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL.get_or_init(|| Arc::new(Model::load_named(DEFAULT_MODEL).unwrap())).clone()
}

/// The three demo singers, enrolled with the engine exactly as `singer-id enroll` does (once
/// per test run: every test starts from a copy).
fn demo_library() -> SingerLibrary {
    static LIBRARY: OnceLock<SingerLibrary> = OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            let model = model();
            let mut library = SingerLibrary::new(model.metadata());
            for name in ["yuki", "scott", "erithacus"] {
                let audio = decode_file(&repo().join(format!("demo/enroll/{name}.flac"))).unwrap();
                let windows =
                    clip_window_embeddings(&model, &audio.samples, audio.sample_rate, DEFAULT_VOICE_FLOOR_DB).unwrap();
                library.enroll(name, windows).unwrap();
            }
            library
        })
        .clone()
}

fn resample(samples: &[f32], from: u32, to: u32) -> Vec<f32> {
    let mut resampler = StreamResampler::new(from, to).unwrap();
    let mut out = Vec::new();
    resampler.push(samples, &mut out);
    resampler.flush(&mut out);
    out
}

/// Block sizes from a fixed-seed generator: 0, 1, host-like powers of two and odd sizes up to 16384.
fn random_blocks(seed: u64, count: usize) -> Vec<usize> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            match (state >> 33) % 6 {
                0 => 0,
                1 => 1 << ((state >> 40) % 15),
                2 => 16384,
                _ => ((state >> 20) % 16384) as usize + 1,
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct SavedState {
    fields: std::collections::BTreeMap<String, String>,
}

fn fields(state: &[u8]) -> std::collections::BTreeMap<String, String> {
    serde_json::from_slice::<SavedState>(state_json(state)).expect("state is nice-plug JSON").fields
}

/// A saved state from a fresh instance with `library` put in its `library` field (as a host
/// or the Python tests inject one).
fn state_with_library(library_json: &str) -> Vec<u8> {
    let mut plugin = Instance::load(&plugin_path()).unwrap();
    let mut state: serde_json::Value = serde_json::from_slice(state_json(&plugin.save_state().unwrap())).unwrap();
    state["fields"]["library"] = serde_json::Value::String(library_json.to_string());
    state_from_json(&serde_json::to_vec(&state).unwrap())
}

fn assert_bit_exact(input: &[f32], output: &[f32], what: &str) {
    assert_eq!(input.len(), output.len());
    let first_diff = input.iter().zip(output).position(|(a, b)| a.to_bits() != b.to_bits());
    assert_eq!(first_diff, None, "{what}: output differs from input");
}

/// Runs the demo at `rate` offline with the demo library; returns the saved decisions.
fn identify_at(rate: u32, seed: u64) -> Vec<Decision> {
    let (samples, native) = demo();
    let mono = resample(samples, *native, rate);
    let mut plugin = Instance::load(&plugin_path()).unwrap();
    plugin.load_state(&state_with_library(&demo_library().to_json())).unwrap();
    plugin.set_offline(true).unwrap();
    let [l, r] = plugin.process(rate as f64, &mono, &mono, &random_blocks(seed, 4000)).unwrap();
    assert_bit_exact(&mono, &l, "left");
    assert_bit_exact(&mono, &r, "right");
    let fields = fields(&plugin.save_state().unwrap());
    assert_eq!(serde_json::from_str::<String>(&fields["status"]).unwrap(), "ok");
    serde_json::from_str(&fields["decisions"]).unwrap()
}

/// ≥75% of the decisions inside each sung section (after its first 2 s) name its singer.
fn assert_right_singers(decisions: &[Decision], rate: u32) {
    for (start, end, label) in demo_sections() {
        let label = label.as_str();
        if label == "instrumental" {
            continue;
        }
        let inside: Vec<&Decision> = decisions.iter().filter(|d| d.end_s > start + 2.0 && d.end_s <= end).collect();
        let right = inside.iter().filter(|d| d.verdict == Verdict::Singer(label.to_string())).count();
        assert!(!inside.is_empty(), "{rate} Hz: no decisions in {label} {start}-{end} s");
        let share = right as f64 / inside.len() as f64;
        eprintln!("{rate} Hz: {label} {start}-{end} s: {right}/{} right", inside.len());
        assert!(
            share >= 0.75,
            "{rate} Hz: only {right}/{} decisions in {label} {start}-{end} s name {label}",
            inside.len()
        );
    }
}

#[test]
fn identifies_the_demo_singers_offline_at_48_and_96_khz() {
    for (rate, seed) in [(48_000, 7), (96_000, 11)] {
        assert_right_singers(&identify_at(rate, seed), rate);
    }
}

#[test]
fn offline_bounce_equals_the_engine() {
    let (samples, rate) = demo();
    let library = demo_library();
    let mut plugin = Instance::load(&plugin_path()).unwrap();
    plugin.load_state(&state_with_library(&library.to_json())).unwrap();
    plugin.set_offline(true).unwrap();
    plugin.process(*rate as f64, samples, samples, &random_blocks(3, 4000)).unwrap();
    let saved: Vec<Decision> = serde_json::from_str(&fields(&plugin.save_state().unwrap())["decisions"]).unwrap();
    let model = model();
    let cfg = AnalyzerConfig::for_model(&model);
    let engine = analyze_samples(model, Arc::new(library), cfg, samples, *rate, 4096, |_| ()).unwrap();
    // The engine's end-of-stream flush may add a last decision a live plugin never reaches.
    assert!(engine.len() - saved.len() <= 1, "plugin {} decisions, engine {}", saved.len(), engine.len());
    assert_eq!(saved, engine[..saved.len()]);
}

#[test]
fn realtime_44k1_random_blocks_and_special_values_pass_through_bit_exactly() {
    let (samples, native) = demo();
    let mut left = resample(samples, *native, 44_100);
    let mut right: Vec<f32> = left.iter().map(|x| -x * 0.5).collect();
    // Denormals, NaN and infinities must come out exactly as they went in.
    for (i, special) in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e-40, -1e-45, f32::MAX].into_iter().enumerate() {
        left[1000 + i * 7919] = special;
        right[5000 + i * 104729] = special;
    }
    let mut plugin = Instance::load(&plugin_path()).unwrap();
    let [l, r] = plugin.process(44_100.0, &left, &right, &random_blocks(5, 4000)).unwrap();
    assert_bit_exact(&left, &l, "left");
    assert_bit_exact(&right, &r, "right");
    // Activating again (a new sample rate) works and still passes audio through.
    let [l, _] = plugin.process(8_000.0, &left[..20_000], &right[..20_000], &[0, 3, 512, 16384]).unwrap();
    assert_bit_exact(&left[..20_000], &l, "left after re-activation");
}

#[test]
fn state_round_trips() {
    let library = demo_library();
    let mut first = Instance::load(&plugin_path()).unwrap();
    first.load_state(&state_with_library(&library.to_json())).unwrap();
    let saved = first.save_state().unwrap();
    let saved_fields = fields(&saved);
    assert_eq!(saved_fields["library"], library.to_json(), "library field is the CLI's file");
    let mut second = Instance::load(&plugin_path()).unwrap();
    second.load_state(&saved).unwrap();
    let again = second.save_state().unwrap();
    let as_json = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(state_json(bytes)).unwrap();
    assert_eq!(as_json(&again), as_json(&saved));
}

#[test]
fn damaged_state_is_refused_cleanly() {
    let mut plugin = Instance::load(&plugin_path()).unwrap();
    // Whole state unreadable: refused, the plugin carries on.
    assert!(plugin.load_state(b"\x00\xffrandom bytes, not a state").is_err());
    assert!(plugin.load_state(&state_from_json(b"{\"version\":\"0.1.0\",\"params\":{}, \"fields\":")).is_err());
    assert!(plugin.load_state(&state_from_json(b"[1, 2, 3]")).is_err());
    let good = demo_library().to_json();
    for (library, expect) in [
        (good[..good.len() / 2].to_string(), "damaged"),
        (good.replace("\"version\":1", "\"version\":999"), "newer"),
        ("{\"format\":\"something-else\"}".to_string(), "damaged"),
        (good.replace("singer-id-v2-campp", "another-model"), "re-enrol"),
    ] {
        plugin.load_state(&state_with_library(&library)).unwrap();
        let fields = fields(&plugin.save_state().unwrap());
        let status: String = serde_json::from_str(&fields["status"]).unwrap();
        assert!(status.contains("refused") && status.contains(expect), "status: {status}");
        // The refused library is kept for the project (valid JSON verbatim; text that is not
        // JSON verbatim inside an object with the reason), while the plugin runs with an empty one.
        let saved: serde_json::Value = serde_json::from_str(&fields["library"]).unwrap();
        match serde_json::from_str::<serde_json::Value>(&library) {
            Ok(original) => assert_eq!(saved, original, "a refused library must survive a save"),
            Err(_) => {
                assert_eq!(saved["damaged_library_text"], library.as_str(), "the text must survive a save");
                assert!(saved["reason"].as_str().is_some_and(|s| s.contains("damaged")), "{saved}");
            }
        }
        let short: Vec<f32> = (0..48_000).map(|i| (i as f32 * 0.01).sin() * 0.3).collect();
        let [l, _] = plugin.process(48_000.0, &short, &short, &[4096]).unwrap();
        assert_bit_exact(&short, &l, "after a refused library");
    }
}

#[test]
fn an_unreadable_parameter_value_resets_that_parameter_and_keeps_the_library() {
    let mut plugin = Instance::load(&plugin_path()).unwrap();
    let library = demo_library();
    let mut state: serde_json::Value =
        serde_json::from_slice(state_json(&state_with_library(&library.to_json()))).unwrap();
    state["params"]["smoothing"] = serde_json::json!({ "f32": 2.5 });
    // serde_json cannot hold 1e999 in any number type: this must go in as raw text.
    let text = serde_json::to_string(&state).unwrap();
    let threshold = serde_json::to_string(&state["params"]["threshold"]).unwrap();
    let text = text.replacen(&format!("\"threshold\":{threshold}"), "\"threshold\":{\"f32\":1e999}", 1);
    assert!(text.contains("1e999"));
    plugin.load_state(&state_from_json(text.as_bytes())).unwrap();
    let saved = plugin.save_state().unwrap();
    let saved_fields = fields(&saved);
    let status: String = serde_json::from_str(&saved_fields["status"]).unwrap();
    assert_eq!(status, "ok; unreadable in the saved state, back to default: threshold");
    let kept =
        singer_id::library::SingerLibrary::from_json(&saved_fields["library"], std::path::Path::new("state")).unwrap();
    assert_eq!(kept.names(), library.names());
    // The readable parameter came back; the unreadable one is at its default.
    let params = &serde_json::from_slice::<serde_json::Value>(state_json(&saved)).unwrap()["params"];
    assert_eq!(params["smoothing"]["f32"], 2.5);
    let default = singer_id::model::embedded::metadata().default_threshold;
    assert!((params["threshold"]["f32"].as_f64().unwrap() - f64::from(default)).abs() < 1e-6, "{params}");
    // A clean state clears the note.
    plugin.load_state(&saved).unwrap();
    let status: String = serde_json::from_str(&fields(&plugin.save_state().unwrap())["status"]).unwrap();
    assert_eq!(status, "ok");
}

/// The demo rendered offline at 48 kHz with the demo library and these parameter values
/// (`id`, saved JSON value); returns the MIDI sent and the decisions saved in the state.
fn render_demo_midi(params: &[(&str, serde_json::Value)], seed: u64) -> (Vec<clap_harness::MidiOut>, Vec<Decision>) {
    let (samples, native) = demo();
    let mono = resample(samples, *native, 48_000);
    let mut state: serde_json::Value =
        serde_json::from_slice(state_json(&state_with_library(&demo_library().to_json()))).unwrap();
    for (id, value) in params {
        assert!(state["params"].get(*id).is_some(), "no parameter {id}");
        state["params"][*id] = value.clone();
    }
    let mut plugin = Instance::load(&plugin_path()).unwrap();
    plugin.load_state(&state_from_json(&serde_json::to_vec(&state).unwrap())).unwrap();
    plugin.set_offline(true).unwrap();
    let ([l, _], midi) = plugin.process_with_midi(48_000.0, &mono, &mono, &random_blocks(seed, 4000)).unwrap();
    assert_bit_exact(&mono, &l, "left");
    let decisions = serde_json::from_str(&fields(&plugin.save_state().unwrap())["decisions"]).unwrap();
    (midi, decisions)
}

/// The demo's sections as (start, end, label).
fn demo_sections() -> Vec<(f64, f64, String)> {
    let text = std::fs::read_to_string(repo().join("demo/demo-track.sections.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            (cols[0].parse().unwrap(), cols[1].parse().unwrap(), cols[2].to_string())
        })
        .collect()
}

/// Program Changes as (seconds, channel, program).
fn program_changes(midi: &[clap_harness::MidiOut]) -> Vec<(f64, u8, u8)> {
    midi.iter()
        .filter(|m| m.data[0] & 0xf0 == 0xc0)
        .map(|m| (m.sample as f64 / 48_000.0, m.data[0] & 0x0f, m.data[1]))
        .collect()
}

/// The longest block `random_blocks` gives, and the analysis hop, in seconds at 48 kHz.
const MAX_BLOCK_S: f64 = 16384.0 / 48_000.0;
const HOP_S: f64 = 0.5;

#[test]
fn program_changes_follow_the_demo_singers_in_order_and_time() {
    // The library's order: yuki 0, scott 1, erithacus 2 (default programs = positions).
    let program = |label: &str| ["yuki", "scott", "erithacus"].iter().position(|n| *n == label).unwrap() as u8;
    let sections = demo_sections();
    let mut runs = Vec::new();
    for seed in [31, 32] {
        let (midi, decisions) = render_demo_midi(&[("midi_channel", serde_json::json!({"i32": 3}))], seed);
        let changes = program_changes(&midi);
        eprintln!("seed {seed}: {changes:?}");
        // Channel 3 (wire 2), one change per sung section, in the sections' order; nothing for
        // the instrumentals (`no voice` sends nothing by default).
        let expected: Vec<u8> = sections.iter().filter(|s| s.2 != "instrumental").map(|s| program(&s.2)).collect();
        assert_eq!(changes.iter().map(|c| c.2).collect::<Vec<_>>(), expected, "seed {seed}");
        assert!(changes.iter().all(|c| c.1 == 2));
        let sung = sections.iter().filter(|s| s.2 != "instrumental");
        for (&(at, _, p), (start, end, label)) in changes.iter().zip(sung) {
            // Timing: where the shown verdict first names the section's singer, within one hop
            // and one block...
            let shown = decisions
                .iter()
                .find(|d| d.end_s > *start && d.verdict == Verdict::Singer(label.clone()))
                .unwrap_or_else(|| panic!("{label} never shown"));
            assert!(
                at >= shown.end_s - 1e-3 && at <= shown.end_s + HOP_S + MAX_BLOCK_S,
                "seed {seed}: program {p} at {at:.3} s, {label} shown at {:.3} s",
                shown.end_s
            );
            // ...and early in the section itself.
            assert!(at > *start && at < (start + 2.0).min(*end), "seed {seed}: {label} ({start}-{end} s) at {at:.3} s");
        }
        runs.push(changes);
    }
    // Other block sizes, the same events (times within one block).
    for (a, b) in runs[0].iter().zip(&runs[1]) {
        assert_eq!((a.1, a.2), (b.1, b.2));
        assert!((a.0 - b.0).abs() <= MAX_BLOCK_S, "{a:?} vs {b:?}");
    }
}

#[test]
fn no_voice_and_hold_settings_shape_the_midi() {
    let sections = demo_sections();
    let in_instrumental =
        |t: f64| sections.iter().any(|(start, end, label)| label == "instrumental" && t > *start && t <= *end + 1.0);
    // `no voice` on program 100 (wire 99): sent in the instrumental sections.
    let (midi, _) = render_demo_midi(&[("no_voice_program", serde_json::json!({"i32": 100}))], 33);
    let changes = program_changes(&midi);
    let no_voice: Vec<f64> = changes.iter().filter(|c| c.2 == 99).map(|c| c.0).collect();
    assert!(!no_voice.is_empty(), "{changes:?}");
    assert!(no_voice.iter().all(|&t| in_instrumental(t)), "{changes:?}");
    // A singer's own program follows the parameter: scott (position 2) on program 42.
    let (midi, _) = render_demo_midi(&[("singer_program_2", serde_json::json!({"i32": 42}))], 34);
    assert!(program_changes(&midi).iter().any(|c| c.2 == 41), "{midi:?}");
    // Held: no Program Change at all, and the confidence CC still rides every hop.
    let (midi, decisions) = render_demo_midi(
        &[("hold", serde_json::json!({"bool": true})), ("confidence_cc", serde_json::json!({"i32": 20}))],
        35,
    );
    assert_eq!(program_changes(&midi), []);
    let ccs = midi.iter().filter(|m| m.data[0] == 0xb0 && m.data[1] == 20).count();
    assert_eq!(ccs, decisions.len());
    // MIDI off: nothing.
    let (midi, _) = render_demo_midi(&[("midi_out", serde_json::json!({"bool": false}))], 36);
    assert_eq!(midi, []);
}

#[test]
fn a_disabled_singer_is_never_named() {
    // scott (position 2) is not in tonight's set: his section is someone else or unknown.
    let (midi, decisions) = render_demo_midi(&[("singer_on_2", serde_json::json!({"bool": false}))], 37);
    assert!(decisions.iter().all(|d| d.verdict != Verdict::Singer("scott".into())));
    assert!(program_changes(&midi).iter().all(|c| c.2 != 1), "{midi:?}");
    // The others still are.
    assert!(decisions.iter().any(|d| d.verdict == Verdict::Singer("yuki".into())));
}

#[test]
fn a_state_saved_before_a_parameter_existed_loads_without_a_note() {
    let mut state: serde_json::Value =
        serde_json::from_slice(state_json(&state_with_library(&demo_library().to_json()))).unwrap();
    for id in ["hold", "midi_out", "singer_on_1", "singer_program_16"] {
        state["params"].as_object_mut().unwrap().remove(id);
    }
    let mut plugin = Instance::load(&plugin_path()).unwrap();
    plugin.load_state(&state_from_json(&serde_json::to_vec(&state).unwrap())).unwrap();
    let status: String = serde_json::from_str(&fields(&plugin.save_state().unwrap())["status"]).unwrap();
    assert_eq!(status, "ok");
}
