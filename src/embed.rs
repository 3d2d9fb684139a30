//! Whole-clip embeddings, for enrolment and evaluation: decoded audio → frames → voiced frames
//! (or the voiced span, pauses kept, for models that ask for it) → window embeddings. The
//! analyzer does the same per hop on a stream.

use std::path::Path;

use crate::audio::{decode_file_in_blocks, AudioError, Damage};
use crate::frontend::{frames_of_clip, frames_to_embed, Frames, Frontend};
use crate::model::{mean_direction, Model};

/// The window embeddings of a clip's voiced frames: what enrolment stores for a singer.
/// Empty if the clip has no voiced frames.
pub fn clip_window_embeddings(
    model: &Model,
    samples: &[f32],
    rate: u32,
    floor_db: f32,
) -> Result<Vec<Vec<f32>>, String> {
    let mut embedder = ClipEmbedder::new(model, rate, floor_db)?;
    embedder.push(samples)?;
    embedder.finish()
}

/// What [`file_window_embeddings`] found in a file.
pub struct FileEmbeddings {
    pub windows: Vec<Vec<f32>>,
    pub duration_s: f64,
    /// Part of the file that could not be read (truncated, damaged packets).
    pub damage: Option<Damage>,
}

/// [`clip_window_embeddings`] of an audio file, its duration in seconds and any damage, decoded
/// and embedded block by block: a 2-hour recording takes no more memory than a song. Errors
/// name the file.
pub fn file_window_embeddings(model: &Model, path: &Path, floor_db: f32) -> Result<FileEmbeddings, String> {
    /// The two ways a block can fail, so decoding stops at the first of either.
    enum Failure {
        Audio(AudioError),
        Embed(String),
    }
    impl From<AudioError> for Failure {
        fn from(e: AudioError) -> Self {
            Failure::Audio(e)
        }
    }
    let mut embedder = None;
    let mut rate = 0;
    let decoded = decode_file_in_blocks(path, |block, info| -> Result<(), Failure> {
        let embedder = match &mut embedder {
            Some(embedder) => embedder,
            None => {
                rate = info.sample_rate;
                embedder.insert(ClipEmbedder::new(model, rate, floor_db).map_err(Failure::Embed)?)
            }
        };
        embedder.push(block).map_err(Failure::Embed)
    });
    let named = |e: String| format!("{}: {e}", path.display());
    let decoded = decoded.map_err(|failure| match failure {
        Failure::Audio(e) => e.to_string(),
        Failure::Embed(e) => named(e),
    })?;
    // decode_file_in_blocks fails when nothing decodes, so a block arrived and set the embedder.
    let windows = embedder.map_or(Ok(Vec::new()), ClipEmbedder::finish).map_err(named)?;
    Ok(FileEmbeddings { windows, duration_s: decoded.samples as f64 / rate.max(1) as f64, damage: decoded.damage })
}

/// Longest run of frames embedded at once, in seconds. A clip up to this long is embedded as
/// one piece; a longer one (a whole concert used for enrolment) in consecutive pieces of this
/// length (the last one up to twice as long, never a scrap), so memory stays bounded whatever
/// the duration and the result does not depend on how the clip was split into blocks. An
/// enrolment clip is rarely over 2 minutes; for a recording that is, a window lost at each
/// 1-minute seam is nothing.
pub const CLIP_PIECE_S: f64 = 60.0;

/// [`clip_window_embeddings`] for a clip that arrives in blocks (a file being decoded).
pub struct ClipEmbedder<'m> {
    model: &'m Model,
    frontend: Frontend,
    frames: Frames,
    piece_frames: usize,
    floor_db: f32,
    windows: Vec<Vec<f32>>,
}

impl<'m> ClipEmbedder<'m> {
    pub fn new(model: &'m Model, rate: u32, floor_db: f32) -> Result<Self, String> {
        let cfg = &model.metadata().frontend;
        let piece_frames = (CLIP_PIECE_S / cfg.frame_period_s()).ceil() as usize;
        Ok(Self {
            model,
            frontend: Frontend::new(cfg, rate)?,
            frames: Frames::default(),
            piece_frames,
            floor_db,
            windows: Vec::new(),
        })
    }

    pub fn push(&mut self, samples: &[f32]) -> Result<(), String> {
        self.frontend.push(samples, &mut self.frames);
        while self.frames.len() >= 2 * self.piece_frames {
            self.embed_first(self.piece_frames)?;
        }
        Ok(())
    }

    /// The window embeddings of everything pushed.
    pub fn finish(mut self) -> Result<Vec<Vec<f32>>, String> {
        self.frontend.finish(&mut self.frames);
        while self.frames.len() >= 2 * self.piece_frames {
            self.embed_first(self.piece_frames)?;
        }
        self.embed_first(self.frames.len())?;
        Ok(self.windows)
    }

    /// Embeds the first `count` frames held and lets them go.
    fn embed_first(&mut self, count: usize) -> Result<(), String> {
        let meta = self.model.metadata();
        let n_mels = meta.frontend.n_mels;
        let (mel, level_db) = (&self.frames.mel[..count * n_mels], &self.frames.level_db[..count]);
        let voiced = frames_to_embed(mel, level_db, n_mels, self.floor_db, meta.keep_pauses);
        self.windows.extend(self.model.window_embeddings(&voiced).map_err(|e| e.to_string())?);
        self.frames.mel.drain(..count * n_mels);
        self.frames.level_db.drain(..count);
        Ok(())
    }
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

/// Whether any frame of a clip reaches `floor_db`: a clip with none holds no voice to identify.
pub fn clip_has_voice(model: &Model, samples: &[f32], rate: u32, floor_db: f32) -> Result<bool, String> {
    let frames = frames_of_clip(&model.metadata().frontend, samples, rate)?;
    Ok(frames.level_db.iter().any(|&db| db >= floor_db))
}

/// Song mode's second pass over a recording: one embedding for each voiced turn, from all of its
/// audio at once (as a whole clip is embedded), instead of the mean of its 1.5-s hop windows.
/// CAM++ pools statistics over everything it is given, so one pass over a whole phrase names
/// its singer better than averaged windows (models/README.md). Push the recording again in
/// blocks of any size; memory holds one turn's features at most (in 60-s pieces).
pub struct TurnEmbedder<'m> {
    model: &'m Model,
    rate: u32,
    floor_db: f32,
    /// Sample ranges of the turns, in order, not overlapping.
    spans: Vec<(u64, u64)>,
    /// Samples pushed so far.
    pos: u64,
    current: Option<ClipEmbedder<'m>>,
    embeddings: Vec<Option<Vec<f32>>>,
}

impl<'m> TurnEmbedder<'m> {
    /// `spans` in seconds of the stream (as [`crate::song::SongPlan::voiced_turn_spans`] gives
    /// them); `rate` is the sample rate of the audio that will be pushed.
    pub fn new(model: &'m Model, rate: u32, floor_db: f32, spans: &[(f64, f64)]) -> Self {
        let at = |t: f64| (t.max(0.0) * f64::from(rate)).round() as u64;
        let spans = spans.iter().map(|&(a, b)| (at(a), at(b).max(at(a)))).collect();
        Self { model, rate, floor_db, spans, pos: 0, current: None, embeddings: Vec::new() }
    }

    pub fn push(&mut self, samples: &[f32]) -> Result<(), String> {
        let end = self.pos + samples.len() as u64;
        while let Some(&(a, b)) = self.spans.get(self.embeddings.len()) {
            let (from, to) = (a.max(self.pos), b.min(end));
            if from < to {
                let embedder = match &mut self.current {
                    Some(e) => e,
                    None => self.current.insert(ClipEmbedder::new(self.model, self.rate, self.floor_db)?),
                };
                embedder.push(&samples[(from - self.pos) as usize..(to - self.pos) as usize])?;
            }
            if b > end {
                break;
            }
            self.close_turn()?;
        }
        self.pos = end;
        Ok(())
    }

    /// One embedding per span, in order: `None` for a span without voiced frames (or past the
    /// end of what was pushed).
    pub fn finish(mut self) -> Result<Vec<Option<Vec<f32>>>, String> {
        while self.embeddings.len() < self.spans.len() {
            self.close_turn()?;
        }
        Ok(self.embeddings)
    }

    fn close_turn(&mut self) -> Result<(), String> {
        let windows = match self.current.take() {
            Some(embedder) => embedder.finish()?,
            None => Vec::new(),
        };
        self.embeddings.push((!windows.is_empty()).then(|| mean_direction(&windows)));
        Ok(())
    }
}
