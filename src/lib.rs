//! Singer ID: tells which singer is singing.
//!
//! Data flows one way: [`audio`] (decode) → [`frontend`] (resample, frames, mel) → [`model`]
//! (embedding) → [`library`] (match against enrolled singers) → [`analyzer`] (gate, smooth,
//! decide live, or [`song`] for a whole recording) → [`decision`]s, rendered by [`timeline`] or
//! shown by the plugin. [`eval`]
//! measures accuracy by the project's protocol.

pub mod analyzer;
pub mod audio;
pub mod decision;
pub mod embed;
pub mod eval;
pub mod frontend;
pub mod fsutil;
pub mod library;
pub mod live;
pub mod model;
pub mod osc;
pub mod plot;
pub mod plugin;
pub mod rig;
pub mod song;
pub mod timeline;
