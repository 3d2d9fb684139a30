//! Runs a singer-embedding network with tract: a window of mel frames in, an L2-normalised
//! embedding out. Loading checks the model's checksum and metadata, so a damaged or mismatched
//! file is a clear error rather than wrong answers.

pub mod embedded;
pub mod metadata;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tract_onnx::prelude::*;

pub use metadata::{InputLevel, ModelMetadata};

use crate::frontend::{apply_gain_db, mean_level_db, Frames};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model file {path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("model metadata {path} is invalid: {reason}")]
    Metadata { path: PathBuf, reason: String },
    #[error("model file {path} is damaged: its SHA-256 is {actual}, the metadata says {expected}")]
    Checksum { path: PathBuf, expected: String, actual: String },
    #[error("model file {path} could not be loaded by tract: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error(
        "no model named '{name}' in {}: only {DEFAULT_MODEL} is built into singer-id; give the path to a \
         model's .json, or set SINGER_ID_MODELS_DIR to the folder that holds it (the repository's models/)",
        dir.display()
    )]
    NotFound { name: String, dir: PathBuf },
    #[error("inference failed: {0}")]
    Run(String),
}

/// tract's optimised, runnable plan (already reference-counted).
type Plan = Arc<TypedRunnableModel>;

/// A loaded, optimised model. Cheap to share (`Arc`) between threads and plugin instances:
/// running it needs only `&self`.
pub struct Model {
    meta: ModelMetadata,
    /// Fixed to `window_frames` frames: the fastest plan, for every full window.
    plan: Plan,
    /// Any number of frames up to `max_frames`, for models that declare it.
    any_length_plan: Option<Plan>,
}

/// Shorter inputs are looped up to this many frames before a variable-length network sees
/// them: its time-strided layers and standard-deviation pooling need a few frames to work on.
const MIN_ANY_LENGTH_FRAMES: usize = 32;

/// Where models given by name are looked up: `SINGER_ID_MODELS_DIR` when set, else the crate's
/// `models/` folder as it was at build time. The default model never needs it: it is built in
/// ([`embedded`]).
pub fn bundled_models_dir() -> PathBuf {
    match std::env::var_os("SINGER_ID_MODELS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models"),
    }
}

/// Name of the model used when none is given. f32 rather than v2's int8 twin: tract folds the
/// int8 model's weight-only quantisation at load and computes in f32 either way, so int8 saves
/// file size (9 MB against 28 MB), not time, and its rounding costs timeline accuracy
/// (models/README.md, "Which v2 is the default").
pub const DEFAULT_MODEL: &str = "v2-campp-f32";

/// Resolves a model argument: a path to a `.json` metadata file, or the name of a model in
/// `models/` (e.g. `v0-ge2e-f32`).
pub fn resolve_model_path(name_or_path: &str) -> PathBuf {
    let as_path = Path::new(name_or_path);
    if name_or_path.ends_with(".json") || as_path.components().count() > 1 {
        as_path.to_path_buf()
    } else {
        bundled_models_dir().join(format!("{name_or_path}.json"))
    }
}

impl Model {
    /// Loads `<name>.json` and the ONNX file it names, verifying the checksum.
    pub fn load(metadata_path: &Path) -> Result<Self, ModelError> {
        let meta = ModelMetadata::load(metadata_path)?;
        let onnx_path = meta.onnx_path(metadata_path);
        let bytes =
            std::fs::read(&onnx_path).map_err(|source| ModelError::Io { path: onnx_path.clone(), cause: source })?;
        Self::from_parts(meta, &bytes, &onnx_path)
    }

    /// Builds a model from metadata and ONNX bytes already in memory (the plugin embeds its
    /// model, so a bundle needs no files beside it). Same checksum check as [`Model::load`];
    /// `onnx_path` names the ONNX source in errors.
    pub fn from_parts(meta: ModelMetadata, onnx: &[u8], onnx_path: &Path) -> Result<Self, ModelError> {
        let actual = hex_sha256(onnx);
        if !actual.eq_ignore_ascii_case(&meta.onnx_sha256) {
            return Err(ModelError::Checksum {
                path: onnx_path.to_path_buf(),
                expected: meta.onnx_sha256.clone(),
                actual,
            });
        }
        let load_error = |e: TractError| ModelError::Load { path: onnx_path.to_path_buf(), reason: format!("{e:#}") };
        let (plan, any_length_plan) = build_plans(onnx, &meta).map_err(load_error)?;
        Ok(Self { meta, plan, any_length_plan })
    }

    /// Loads a model given as a name or a path (see [`resolve_model_path`]). The default
    /// model's name loads the built-in copy, so it works wherever the binary is.
    pub fn load_named(name_or_path: &str) -> Result<Self, ModelError> {
        if name_or_path == embedded::name() {
            return embedded::load();
        }
        let path = resolve_model_path(name_or_path);
        let is_name = path != Path::new(name_or_path);
        match Self::load(&path) {
            Err(ModelError::Io { cause, .. }) if is_name && cause.kind() == std::io::ErrorKind::NotFound => {
                Err(ModelError::NotFound { name: name_or_path.to_string(), dir: bundled_models_dir() })
            }
            other => other,
        }
    }

    pub fn metadata(&self) -> &ModelMetadata {
        &self.meta
    }

    /// Embeds exactly `window_frames` frames (`window_frames * n_mels` values, time-major).
    pub fn embed_window(&self, mel: &[f32]) -> Result<Vec<f32>, ModelError> {
        self.check_window(mel)?;
        self.run(&self.plan, mel, self.meta.window_frames)
    }

    fn check_window(&self, mel: &[f32]) -> Result<(), ModelError> {
        let (frames, n_mels) = (self.meta.window_frames, self.meta.frontend.n_mels);
        if mel.len() != frames * n_mels {
            return Err(ModelError::Run(format!("expected {frames}x{n_mels} mel values, got {}", mel.len())));
        }
        Ok(())
    }

    /// The network's input: `frames` frames of `mel` as a [1, frames, n_mels] tensor.
    fn input_tensor(&self, mel: &[f32], frames: usize) -> Result<Tensor, ModelError> {
        Tensor::from_shape(&[1, frames, self.meta.frontend.n_mels], mel).map_err(|e| ModelError::Run(e.to_string()))
    }

    /// Embeds any number of frames from 1 to `max_frames` in one pass (models that declare
    /// `max_frames` only); inputs under [`MIN_ANY_LENGTH_FRAMES`] are looped to that length.
    pub fn embed_frames(&self, mel: &[f32]) -> Result<Vec<f32>, ModelError> {
        let n_mels = self.meta.frontend.n_mels;
        let frames = mel.len() / n_mels;
        match (&self.any_length_plan, self.meta.max_frames) {
            _ if frames == self.meta.window_frames => self.embed_window(mel),
            (Some(plan), Some(max)) if (1..=max).contains(&frames) && mel.len() == frames * n_mels => {
                if frames < MIN_ANY_LENGTH_FRAMES {
                    let looped: Vec<f32> = mel.iter().copied().cycle().take(MIN_ANY_LENGTH_FRAMES * n_mels).collect();
                    return self.run(plan, &looped, MIN_ANY_LENGTH_FRAMES);
                }
                self.run(plan, mel, frames)
            }
            _ => Err(ModelError::Run(format!(
                "{} mel values are not 1..={:?} frames of {n_mels} for this model",
                mel.len(),
                self.meta.max_frames
            ))),
        }
    }

    /// Where one window's inference spends its time: `runs` inferences of `mel` (as
    /// [`Model::embed_window`] takes it), each operator of tract's optimised plan timed, summed
    /// by operator kind. The kinds come with their total seconds over all runs and how many
    /// nodes of the plan are of that kind, slowest first (`singer-id bench --profile`).
    pub fn profile_window(&self, mel: &[f32], runs: usize) -> Result<Vec<OpTime>, ModelError> {
        self.check_window(mel)?;
        let input = self.input_tensor(mel, self.meta.window_frames)?;
        let mut state =
            tract_onnx::tract_core::plan::SimpleState::new(&self.plan).map_err(|e| ModelError::Run(e.to_string()))?;
        let mut per_node: std::collections::HashMap<usize, (String, f64)> = Default::default();
        for _ in 0..runs.max(1) {
            state
                .run_plan_with_eval(tvec!(input.clone().into_tvalue()), |ctx, op_state, node, inputs| {
                    let start = std::time::Instant::now();
                    let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                    let entry = per_node
                        .entry(node.id)
                        .or_insert_with(|| (format!("{} {}", node.op().name(), graph_module(&node.name)), 0.0));
                    entry.1 += start.elapsed().as_secs_f64();
                    out
                })
                .map_err(|e| ModelError::Run(e.to_string()))?;
        }
        let mut kinds: Vec<OpTime> = Vec::new();
        for (kind, seconds) in per_node.into_values() {
            match kinds.iter_mut().find(|k| k.kind == kind) {
                Some(k) => {
                    k.seconds += seconds;
                    k.nodes += 1;
                }
                None => kinds.push(OpTime { kind, seconds, nodes: 1 }),
            }
        }
        kinds.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        Ok(kinds)
    }

    fn run(&self, plan: &Plan, mel: &[f32], frames: usize) -> Result<Vec<f32>, ModelError> {
        let input = self.input_tensor(mel, frames)?;
        let outputs = plan.run(tvec!(input.into_tvalue())).map_err(|e| ModelError::Run(e.to_string()))?;
        let view = outputs[0].to_plain_array_view::<f32>().map_err(|e| ModelError::Run(e.to_string()))?;
        let mut embedding: Vec<f32> = view.iter().copied().collect();
        if embedding.len() != self.meta.embedding_size {
            return Err(ModelError::Run(format!(
                "model returned {} values, metadata says {}",
                embedding.len(),
                self.meta.embedding_size
            )));
        }
        l2_normalize(&mut embedding);
        Ok(embedding)
    }

    /// Embeddings of an utterance of any length. A fixed-window network gives one per window
    /// of `window_frames` with 50% overlap (as resemblyzer's `embed_utterance`), input shorter
    /// than a window looped to fill one, so a 1-second unit still gets an embedding. A network
    /// with `max_frames` gives one per piece: the utterance cut into the fewest equal pieces of
    /// at most `max_frames`. Empty if there are no frames.
    pub fn window_embeddings(&self, frames: &Frames) -> Result<Vec<Vec<f32>>, ModelError> {
        let n_mels = self.meta.frontend.n_mels;
        let n_frames = frames.len();
        let window = self.meta.window_frames;
        if n_frames == 0 {
            return Ok(Vec::new());
        }
        if let Some(max) = self.meta.max_frames {
            let pieces = n_frames.div_ceil(max);
            return (0..pieces)
                .map(|p| {
                    let (start, end) = (p * n_frames / pieces, (p + 1) * n_frames / pieces);
                    self.embed_frames(&frames.mel[start * n_mels..end * n_mels])
                })
                .collect();
        }
        if n_frames < window {
            let looped: Vec<f32> = frames.mel.iter().copied().cycle().take(window * n_mels).collect();
            return Ok(vec![self.embed_leveled(looped, &frames.level_db)?]);
        }
        let step = (window / 2).max(1);
        let mut starts: Vec<usize> = (0..=n_frames - window).step_by(step).collect();
        // Cover the tail too when the last window stops short of it by more than half a step.
        if n_frames - window - starts.last().copied().unwrap_or(0) > step / 2 {
            starts.push(n_frames - window);
        }
        starts
            .into_iter()
            .map(|s| {
                let mel = frames.mel[s * n_mels..(s + window) * n_mels].to_vec();
                self.embed_leveled(mel, &frames.level_db[s..s + window])
            })
            .collect()
    }

    /// One embedding for a whole utterance: the re-normalised mean of its window embeddings.
    /// `None` if there are no frames.
    pub fn embed_utterance(&self, frames: &Frames) -> Result<Option<Vec<f32>>, ModelError> {
        let windows = self.window_embeddings(frames)?;
        if windows.is_empty() {
            return Ok(None);
        }
        Ok(Some(mean_direction(&windows)))
    }

    /// Brings a window to the model's expected input level (if it has one), then embeds it.
    fn embed_leveled(&self, mut mel: Vec<f32>, level_db: &[f32]) -> Result<Vec<f32>, ModelError> {
        if let Some(level) = &self.meta.input_level {
            let mut gain_db = level.target_dbfs - mean_level_db(level_db);
            if level.increase_only {
                gain_db = gain_db.max(0.0);
            }
            apply_gain_db(&mut mel, &self.meta.frontend, gain_db);
        }
        self.embed_window(&mel)
    }
}

/// The top-level module of an exported network a node comes from (`/net/head/conv1/Conv` →
/// `head`: CAM++'s 2-D front), as `models/v2/ort_speed.py --profile` groups onnxruntime's
/// nodes; `-` for nodes outside one.
fn graph_module(node: &str) -> &str {
    let mut parts = node.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("net"), Some(module), Some(_)) => module,
        _ => "-",
    }
}

/// Time one kind of operator took in [`Model::profile_window`].
#[derive(Debug, Clone, PartialEq)]
pub struct OpTime {
    /// tract's name for the operator after optimisation and the module it comes from (e.g.
    /// `DirectSpatialConv head`).
    pub kind: String,
    pub seconds: f64,
    /// Nodes of this kind in the plan.
    pub nodes: usize,
}

/// The re-normalised mean of unit vectors: the direction they agree on.
pub fn mean_direction(vectors: &[Vec<f32>]) -> Vec<f32> {
    let mut sum = vec![0.0f32; vectors.first().map_or(0, Vec::len)];
    for v in vectors {
        sum.iter_mut().zip(v).for_each(|(s, x)| *s += x);
    }
    l2_normalize(&mut sum);
    sum
}

/// tract's plans: one for inputs of `window_frames` frames and, for models that declare
/// `max_frames`, one for any number of frames (a symbolic time axis, resolved on each run).
///
/// Parsing, typing and decluttering the graph is most of a model's load time, so it is done
/// once, with a symbolic time axis, and the window plan is that graph with the axis set to
/// `window_frames`: the same plan, bit for bit, as one built for that length from scratch,
/// without parsing and decluttering the graph a second time.
fn build_plans(bytes: &[u8], meta: &ModelMetadata) -> TractResult<(Plan, Option<Plan>)> {
    let mut reader = std::io::Cursor::new(bytes);
    let mut model = tract_onnx::onnx().model_for_read(&mut reader)?;
    let frames = model.symbols.sym("frames");
    model.set_input_fact(0, f32::fact(&[1.to_dim(), frames.to_dim(), meta.frontend.n_mels.to_dim()]).into())?;
    let any_length = model.into_typed()?.into_decluttered()?;
    let fixed = any_length.set_symbols(&[(frames, meta.window_frames.to_dim())].into_iter().collect())?;
    let plan = fixed.into_decluttered()?.into_optimized()?.into_runnable()?;
    let any_length_plan =
        if meta.max_frames.is_some() { Some(any_length.into_optimized()?.into_runnable()?) } else { None };
    Ok((plan, any_length_plan))
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Scales `v` to unit length (left as is when it is all zeros).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Cosine similarity of two vectors (0 when either is all zeros).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}
