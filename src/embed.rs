//! Whole-clip embeddings, for enrolment and evaluation: decoded audio → frames → voiced frames
//! (or the voiced span, pauses kept, for models that ask for it) → window embeddings. The
//! analyzer does the same per hop on a stream.

use crate::frontend::{frames_of_clip, frames_to_embed};
use crate::model::{mean_direction, Model};

/// The window embeddings of a clip's voiced frames: what enrolment stores for a singer.
/// Empty if the clip has no voiced frames.
pub fn clip_window_embeddings(
    model: &Model,
    samples: &[f32],
    rate: u32,
    floor_db: f32,
) -> Result<Vec<Vec<f32>>, String> {
    let meta = model.metadata();
    let frames = frames_of_clip(&meta.frontend, samples, rate)?;
    let voiced = frames_to_embed(&frames.mel, &frames.level_db, meta.frontend.n_mels, floor_db, meta.keep_pauses);
    model.window_embeddings(&voiced).map_err(|e| e.to_string())
}

/// One embedding for a test unit. A unit is always scored, so when none of its frames is
/// voiced the whole unit is embedded instead. `None` only for a unit shorter than one frame.
pub fn unit_embedding(model: &Model, samples: &[f32], rate: u32, floor_db: f32) -> Result<Option<Vec<f32>>, String> {
    let meta = model.metadata();
    let frames = frames_of_clip(&meta.frontend, samples, rate)?;
    let mut voiced = frames_to_embed(&frames.mel, &frames.level_db, meta.frontend.n_mels, floor_db, meta.keep_pauses);
    if voiced.is_empty() {
        voiced = frames;
    }
    let windows = model.window_embeddings(&voiced).map_err(|e| e.to_string())?;
    Ok((!windows.is_empty()).then(|| mean_direction(&windows)))
}
