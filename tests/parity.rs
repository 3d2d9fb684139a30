//! The Rust frontend and tract reproduce the Python reference on committed golden fixtures:
//! for model v0, librosa features, resemblyzer's torch encoder and onnxruntime
//! (`models/make_fixtures.py`); for model v1, the torch frontend and network it was trained
//! with and onnxruntime (`models/v1/fixtures.py`); for model v2, torchaudio's Kaldi fbank, the
//! torch CAM++ network and onnxruntime (`models/v2/fixtures.py`). All read the same clip,
//! `v0_clip.wav`.

mod common;

use common::repo_path;
use serde_json::Value;
use singer_id::audio::decode_file;
use singer_id::frontend::frames_of_clip;
use singer_id::model::{cosine, l2_normalize, Model};

/// Largest allowed difference between Rust and Python features (v0's linear mel values reach
/// ~10, v1's and v2's natural-log values span about -18..5 and -16..12).
const MEL_TOLERANCE: f32 = 1e-3;
/// Smallest allowed cosine between a Rust/tract embedding and its Python reference.
const EMBEDDING_MIN_COSINE: f32 = 0.999;

/// A shipped model pair and the prefix of its fixtures.
struct Family {
    fixtures: &'static str,
    f32: &'static str,
    int8: &'static str,
}

const V0: Family = Family { fixtures: "v0", f32: "v0-ge2e-f32", int8: "v0-ge2e-int8" };
const V1: Family = Family { fixtures: "v1", f32: "v1-cnn-f32", int8: "v1-cnn-int8" };
const V2: Family = Family { fixtures: "v2", f32: "v2-campp-f32", int8: "v2-campp-int8" };

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(repo_path(&format!("tests/fixtures/{name}"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn model(name: &str) -> Model {
    Model::load_named(name).unwrap()
}

fn rust_mel_of_fixture_clip(model_name: &str) -> Vec<f32> {
    let audio = decode_file(&repo_path("tests/fixtures/v0_clip.wav")).unwrap();
    let meta = model(model_name).metadata().clone();
    frames_of_clip(&meta.frontend, &audio.samples, audio.sample_rate).unwrap().mel
}

fn check_mel(family: &Family, fixture_name: &str) {
    let reference = fixture(&format!("{}_{fixture_name}.json", family.fixtures));
    let expected: Vec<f32> = reference["mel"].as_array().unwrap().iter().flat_map(floats).collect();
    let actual = rust_mel_of_fixture_clip(family.f32);
    assert_eq!(actual.len(), expected.len(), "{}: frame count differs", family.f32);
    let max_err = actual.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(max_err <= MEL_TOLERANCE, "{}: max abs error {max_err}", family.f32);
}

fn check_embedding(family: &Family) {
    let reference = fixture(&format!("{}_clip_embedding.json", family.fixtures));
    let frames = reference["input_frames"].as_u64().unwrap() as usize;
    let mel = rust_mel_of_fixture_clip(family.f32);
    // The f32 model must reproduce the torch network; the int8 one, its own graph in
    // onnxruntime (how far int8 moves from f32 is an accuracy question: the model card's table).
    for (name, key) in [(family.f32, "torch"), (family.int8, "ort_int8")] {
        let m = model(name);
        let embedding = m.embed_window(&mel[..frames * m.metadata().frontend.n_mels]).unwrap();
        let c = cosine(&embedding, &floats(&reference[key]));
        assert!(c >= EMBEDDING_MIN_COSINE, "{name}: cosine to {key} {c}");
    }
}

/// tract against onnxruntime on the same input, for the f32 and the int8 model: this is what
/// proves the int8 graph (weights through DequantizeLinear) survives tract's optimiser.
fn check_tract_vs_onnxruntime(family: &Family) {
    let reference = fixture(&format!("{}_ort_random_input.json", family.fixtures));
    let input: Vec<f32> = reference["input"].as_array().unwrap().iter().flat_map(floats).collect();
    for (name, key) in [(family.f32, "ort_f32"), (family.int8, "ort_int8")] {
        let embedding = model(name).embed_window(&input).unwrap();
        // The engine L2-normalises what the network returns (v2's raw output is not unit-length).
        let mut expected = floats(&reference[key]);
        l2_normalize(&mut expected);
        let max_err = embedding.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let c = cosine(&embedding, &expected);
        assert!(max_err < 1e-4 && c >= 0.99999, "{name}: max abs error {max_err}, cosine {c}");
    }
}

#[test]
fn v0_log_mel_matches_librosa() {
    check_mel(&V0, "clip_mel");
}

#[test]
fn v0_embedding_matches_the_torch_encoder() {
    check_embedding(&V0);
}

#[test]
fn v0_tract_matches_onnxruntime_on_the_same_input() {
    check_tract_vs_onnxruntime(&V0);
}

#[test]
fn v1_log_mel_matches_the_training_frontend() {
    check_mel(&V1, "clip_mel");
}

#[test]
fn v1_embedding_matches_the_torch_network() {
    check_embedding(&V1);
}

#[test]
fn v1_tract_matches_onnxruntime_on_the_same_input() {
    check_tract_vs_onnxruntime(&V1);
}

#[test]
fn v2_kaldi_fbank_matches_torchaudio() {
    check_mel(&V2, "clip_fbank");
}

#[test]
fn v2_embedding_matches_the_torch_network() {
    check_embedding(&V2);
}

#[test]
fn v2_tract_matches_onnxruntime_on_the_same_input() {
    check_tract_vs_onnxruntime(&V2);
}
