//! The default model, compiled into the library: the plugin bundle and the `singer-id` binary
//! carry it, so neither needs the repository's `models/` folder at run time (a copied or
//! installed binary keeps working after the clone is gone).

use std::path::Path;
use std::sync::OnceLock;

use super::{Model, ModelError, ModelMetadata};

const MODEL_JSON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/v2-campp-f32.json"));
/// ONNX weights of the embedded model (about 28 MB).
const MODEL_ONNX: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/v2-campp-f32.onnx"));

/// Name of the embedded model (the default model's name; a test checks they agree).
pub fn name() -> &'static str {
    &metadata().name
}

/// Metadata of the embedded model (parsed once; cheap, needs no tract).
pub fn metadata() -> &'static ModelMetadata {
    static META: OnceLock<ModelMetadata> = OnceLock::new();
    META.get_or_init(|| {
        ModelMetadata::from_json(MODEL_JSON, Path::new("embedded v2-campp-f32.json"))
            .expect("the embedded model metadata is valid (tested)")
    })
}

/// Builds the embedded model (checksum checked, tract plans optimised: this takes a moment).
pub fn load() -> Result<Model, ModelError> {
    Model::from_parts(metadata().clone(), MODEL_ONNX, Path::new("embedded v2-campp-f32.onnx"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DEFAULT_MODEL;

    #[test]
    fn embedded_model_is_the_default_and_matches_its_checksum() {
        assert_eq!(name(), DEFAULT_MODEL);
        assert!(super::super::hex_sha256(MODEL_ONNX).eq_ignore_ascii_case(&metadata().onnx_sha256));
    }
}
