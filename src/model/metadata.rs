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
    /// Song mode: the score a whole turn's mean embedding needs to name a singer (`None`: the
    /// default threshold). A turn averages many hops, so impostors and enrolled singers both
    /// score higher than one hop does; calibrated on songs of held-out singers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_threshold: Option<f32>,
    pub frontend: FrontendConfig,
    /// Loudness the network was trained at; each window's features are brought to it.
    #[serde(default)]
    pub input_level: Option<InputLevel>,
    /// Set for networks that take any number of frames (fully convolutional + statistics
    /// pooling, like CAM++): the most frames embedded in one pass. Utterances are then embedded
    /// whole (in equal pieces of at most this many frames) instead of in fixed windows, and a
    /// window with some unvoiced frames is embedded from its voiced frames alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frames: Option<usize>,
    /// Embed the pauses between voiced frames too (from the first voiced frame to the last)
    /// instead of the voiced frames alone: for networks trained on continuous audio, which
    /// cutting pauses out hurts (CAM++). The voice gate still decides what is judged at all.
    #[serde(default)]
    pub keep_pauses: bool,
    /// Learned voice detector on the window embedding: a hop whose embedding it reads as
    /// accompaniment or noise (no voice) is reported as `no voice`, like an energy-gated one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_head: Option<VoiceHead>,
}

/// Logistic regression on the model's L2-normalised embedding: p(voice) = sigmoid(w·e + b);
/// below `threshold` the window holds no voice (accompaniment alone, noise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceHead {
    /// One weight per embedding dimension.
    pub weights: Vec<f32>,
    pub bias: f32,
    /// Probability under which a window is `no voice`, in (0, 1).
    pub threshold: f32,
}

impl VoiceHead {
    /// Probability that `embedding` (L2-normalised) holds a voice.
    pub fn p_voice(&self, embedding: &[f32]) -> f32 {
        let z = self.weights.iter().zip(embedding).map(|(w, e)| w * e).sum::<f32>() + self.bias;
        1.0 / (1.0 + (-z).exp())
    }

    fn validate(&self, embedding_size: usize) -> Result<(), String> {
        if self.weights.len() != embedding_size {
            return Err(format!("{} weights for a {embedding_size}-d embedding", self.weights.len()));
        }
        if !self.weights.iter().all(|w| w.is_finite()) || !self.bias.is_finite() {
            return Err("weights and bias must be finite".into());
        }
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(format!("threshold {} is outside (0, 1)", self.threshold));
        }
        Ok(())
    }
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
        let text = std::fs::read_to_string(path)
            .map_err(|source| ModelError::Io { path: path.to_path_buf(), cause: source })?;
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
        if self.max_frames.is_some_and(|max| max < self.window_frames) {
            return Err(format!("max_frames must be at least window_frames ({})", self.window_frames));
        }
        if !(-1.0..=1.0).contains(&self.default_threshold) {
            return Err(format!("default_threshold {} is outside [-1, 1]", self.default_threshold));
        }
        if let Some(t) = self.turn_threshold.filter(|t| !(-1.0..=1.0).contains(t)) {
            return Err(format!("turn_threshold {t} is outside [-1, 1]"));
        }
        if let Some(head) = &self.voice_head {
            head.validate(self.embedding_size).map_err(|e| format!("voice_head: {e}"))?;
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
        ((self.window_frames - 1) * f.hop_length + f.frame_length()) as f64 / f.sample_rate as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_head_probability_is_the_logistic_of_the_dot_product() {
        let head = VoiceHead { weights: vec![2.0, -1.0, 0.5], bias: -0.25, threshold: 0.5 };
        // z = 2·0.6 − 1·0.8 + 0.5·0 − 0.25 = 0.15
        let p = head.p_voice(&[0.6, 0.8, 0.0]);
        assert!((p - 1.0 / (1.0 + (-0.15f32).exp())).abs() < 1e-6, "{p}");
        assert!((head.p_voice(&[0.0, 0.0, 0.0]) - 0.437_823_5).abs() < 1e-6);
        let sure = VoiceHead { weights: vec![100.0, 0.0, 0.0], bias: 0.0, threshold: 0.5 };
        assert_eq!(sure.p_voice(&[1.0, 0.0, 0.0]), 1.0);
        assert!(sure.p_voice(&[-1.0, 0.0, 0.0]) < 1e-30);
    }

    #[test]
    fn turn_threshold_is_optional_and_must_be_a_score() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/v2-campp-f32.json");
        let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        json["turn_threshold"] = serde_json::json!(0.5);
        let meta = ModelMetadata::from_json(&json.to_string(), &path).unwrap();
        assert_eq!(meta.turn_threshold, Some(0.5));
        json.as_object_mut().unwrap().remove("turn_threshold");
        assert_eq!(ModelMetadata::from_json(&json.to_string(), &path).unwrap().turn_threshold, None);
        json["turn_threshold"] = serde_json::json!(1.5);
        let err = ModelMetadata::from_json(&json.to_string(), &path).unwrap_err().to_string();
        assert!(err.contains("turn_threshold 1.5"), "{err}");
    }

    #[test]
    fn voice_head_is_validated_with_the_metadata() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/v2-campp-f32.json");
        let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let with_head = |json: &mut serde_json::Value, weights: serde_json::Value, bias: f64, threshold: f64| {
            json["voice_head"] = serde_json::json!({ "weights": weights, "bias": bias, "threshold": threshold });
            ModelMetadata::from_json(&json.to_string(), &path)
        };
        let ok = with_head(&mut json, vec![0.01f32; 192].into(), 0.5, 0.4).unwrap();
        assert_eq!(ok.voice_head.as_ref().map(|h| h.weights.len()), Some(192));
        // Serialising and parsing again keeps the head.
        let again = ModelMetadata::from_json(&serde_json::to_string(&ok).unwrap(), &path).unwrap();
        assert_eq!(again, ok);

        let err = with_head(&mut json, vec![0.01f32; 191].into(), 0.5, 0.4).unwrap_err().to_string();
        assert!(err.contains("voice_head") && err.contains("191 weights"), "{err}");
        // JSON has no NaN: an overflowing weight parses to infinity in f32.
        let mut weights: Vec<serde_json::Value> = vec![0.01.into(); 192];
        weights[7] = serde_json::json!(1e60);
        let err = with_head(&mut json, weights.into(), 0.5, 0.4).unwrap_err().to_string();
        assert!(err.contains("finite"), "{err}");
        for threshold in [0.0, 1.0, -0.2, 1.5] {
            let err = with_head(&mut json, vec![0.01f32; 192].into(), 0.5, threshold).unwrap_err().to_string();
            assert!(err.contains("threshold"), "{threshold}: {err}");
        }
        let nan = VoiceHead { weights: vec![f32::NAN; 192], bias: 0.0, threshold: 0.5 };
        assert!(nan.validate(192).unwrap_err().contains("finite"));
        let nan_bias = VoiceHead { weights: vec![0.0; 192], bias: f32::NAN, threshold: 0.5 };
        assert!(nan_bias.validate(192).is_err());
        let nan_threshold = VoiceHead { weights: vec![0.0; 192], bias: 0.0, threshold: f32::NAN };
        assert!(nan_threshold.validate(192).is_err());

        // Metadata without a head (older models) still loads, and writes no `voice_head` key.
        json.as_object_mut().unwrap().remove("voice_head");
        let none = ModelMetadata::from_json(&json.to_string(), &path).unwrap();
        assert!(none.voice_head.is_none());
        assert!(!serde_json::to_string(&none).unwrap().contains("\"voice_head\""));
    }
}
