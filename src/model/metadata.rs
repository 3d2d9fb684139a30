//! The JSON file that travels with every ONNX model: what it expects, what it outputs, where it
//! came from. Format documented in `docs/model-format.md`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::frontend::FrontendConfig;

use super::ModelError;

/// The only metadata layout this build understands.
pub const METADATA_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    pub format_version: u32,
    /// File stem of the model, e.g. `v0-ge2e-int8`.
    pub name: String,
    /// Models whose embeddings can be compared share this id (an f32 model and its int8
    /// quantization); singer libraries remember it.
    pub embedding_space: String,
    pub version: String,
    pub description: String,
    pub license: String,
    pub source: String,
    /// `f32` or `int8`.
    pub precision: String,
    /// ONNX file name, relative to the metadata file.
    pub onnx_file: String,
    /// Lower-case hex SHA-256 of the ONNX file.
    pub onnx_sha256: String,
    pub input_name: String,
    pub output_name: String,
    /// Frames the network sees per inference (its fixed input length).
    pub window_frames: usize,
    pub embedding_size: usize,
    /// Cosine score under which the best match is reported as unknown.
    pub default_threshold: f32,
    pub frontend: FrontendConfig,
    /// Loudness the network was trained at; each window's features are brought to it.
    #[serde(default)]
    pub input_level: Option<InputLevel>,
}

/// Level normalisation the network expects (resemblyzer normalises every utterance to -30 dBFS,
/// only ever raising the level); applied per window in the feature domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputLevel {
    /// Target mean level of the voiced frames, dBFS.
    pub target_dbfs: f32,
    /// Only raise quiet input, never lower loud input.
    pub increase_only: bool,
}

impl ModelMetadata {
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ModelError::Io { path: path.to_path_buf(), source })?;
        Self::from_json(&text, path)
    }

    /// Parses and validates metadata text; `path` names its source in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, ModelError> {
        let meta: ModelMetadata = serde_json::from_str(text)
            .map_err(|e| ModelError::Metadata { path: path.to_path_buf(), reason: e.to_string() })?;
        meta.validate().map_err(|reason| ModelError::Metadata { path: path.to_path_buf(), reason })?;
        Ok(meta)
    }

    fn validate(&self) -> Result<(), String> {
        if self.format_version != METADATA_FORMAT_VERSION {
            return Err(format!(
                "format_version {} is not supported (this build reads version {METADATA_FORMAT_VERSION})",
                self.format_version
            ));
        }
        if self.window_frames == 0 || self.embedding_size == 0 {
            return Err("window_frames and embedding_size must be positive".into());
        }
        if !(-1.0..=1.0).contains(&self.default_threshold) {
            return Err(format!("default_threshold {} is outside [-1, 1]", self.default_threshold));
        }
        self.frontend.validate().map_err(|e| format!("frontend: {e}"))
    }

    /// Where the ONNX file lives, given the metadata file's own path.
    pub fn onnx_path(&self, metadata_path: &Path) -> PathBuf {
        metadata_path.parent().unwrap_or(Path::new(".")).join(&self.onnx_file)
    }

    /// Length of one inference window in seconds.
    pub fn window_s(&self) -> f64 {
        let f = &self.frontend;
        ((self.window_frames - 1) * f.hop_length + f.n_fft) as f64 / f.sample_rate as f64
    }
}
