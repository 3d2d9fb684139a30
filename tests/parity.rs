//! The Rust frontend and tract reproduce the Python reference (librosa features, resemblyzer's
//! torch encoder, onnxruntime) on committed golden fixtures made by `models/make_fixtures.py`.

mod common;

use common::repo_path;
use serde_json::Value;
use singer_id::audio::decode_file;
use singer_id::frontend::frames_of_clip;
use singer_id::model::{cosine, Model};

/// Largest allowed difference between Rust and librosa mel values (the fixture's values reach
/// ~10, so this is a relative error of ~1e-4 at the top of the range).
const MEL_TOLERANCE: f32 = 1e-3;
/// Smallest allowed cosine between a Rust/tract embedding and its Python reference.
const EMBEDDING_MIN_COSINE: f32 = 0.999;

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

fn rust_mel_of_fixture_clip() -> Vec<f32> {
    let audio = decode_file(&repo_path("tests/fixtures/v0_clip.wav")).unwrap();
    let meta = model("v0-ge2e-f32").metadata().clone();
    frames_of_clip(&meta.frontend, &audio.samples, audio.sample_rate).unwrap().mel
}

#[test]
fn log_mel_matches_librosa() {
    let reference = fixture("v0_clip_mel.json");
    let expected: Vec<f32> = reference["mel"].as_array().unwrap().iter().flat_map(floats).collect();
    let actual = rust_mel_of_fixture_clip();
    assert_eq!(actual.len(), expected.len(), "frame count differs");
    let max_err = actual.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(max_err <= MEL_TOLERANCE, "max abs error {max_err}");
}

#[test]
fn embedding_matches_the_torch_encoder() {
    let reference = fixture("v0_clip_embedding.json");
    let frames = reference["input_frames"].as_u64().unwrap() as usize;
    let mel = rust_mel_of_fixture_clip();
    for name in ["v0-ge2e-f32", "v0-ge2e-int8"] {
        let m = model(name);
        let embedding = m.embed_window(&mel[..frames * m.metadata().frontend.n_mels]).unwrap();
        let c = cosine(&embedding, &floats(&reference["torch"]));
        assert!(c >= EMBEDDING_MIN_COSINE, "{name}: cosine to torch {c}");
    }
}

/// tract against onnxruntime on the same input, for both the f32 and the int8 model: this is
/// what proves the int8 graph (weights through DequantizeLinear) survives tract's optimiser.
#[test]
fn tract_matches_onnxruntime_on_the_same_input() {
    let reference = fixture("v0_ort_random_input.json");
    let input: Vec<f32> = reference["input"].as_array().unwrap().iter().flat_map(floats).collect();
    for (name, key) in [("v0-ge2e-f32", "ort_f32"), ("v0-ge2e-int8", "ort_int8")] {
        let embedding = model(name).embed_window(&input).unwrap();
        let expected = floats(&reference[key]);
        let max_err = embedding.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let c = cosine(&embedding, &expected);
        assert!(max_err < 1e-4 && c >= 0.99999, "{name}: max abs error {max_err}, cosine {c}");
    }
}
