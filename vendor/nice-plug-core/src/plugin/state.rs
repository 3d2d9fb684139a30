//! Utilities for saving a [`crate::plugin::Plugin`]'s state. The actual state object is also exposed
//! to plugins through the [`GuiContext`][crate::prelude::GuiContext].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// These state objects are also exposed directly to the plugin so it can do its own internal preset
// management

/// A plain, unnormalized value for a parameter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamValue {
    F32(f32),
    I32(i32),
    Bool(bool),
    /// Only used for enum parameters that have the `#[id = "..."]` attribute set.
    String(String),
}

/// A plugin's state so it can be restored at a later point. This object can be serialized and
/// deserialized using serde.
///
/// The fields are stored as `BTreeMap`s so the order in the serialized file is consistent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginState {
    /// The plugin version this state was saved with. Right now this is not used, but later versions
    /// of nice-plug may allow you to modify the plugin state object directly before it is loaded to
    /// allow migrating plugin states between breaking parameter changes.
    ///
    /// # Notes
    ///
    /// If the saved state is very old, then this field may be empty.
    #[serde(default)]
    pub version: String,

    /// The plugin's parameter values. These are stored unnormalized. This means the old values will
    /// be recalled when when the parameter's range gets increased. Doing so may still mess with
    /// parameter automation though, depending on how the host implements that.
    #[serde(deserialize_with = "readable_params")]
    pub params: BTreeMap<String, ParamValue>,
    /// Arbitrary fields that should be persisted together with the plugin's parameters. Any field
    /// on the [`Params`][crate::params::Params] struct that's annotated with `#[persist =
    /// "stable_name"]` will be persisted this way.
    ///
    /// The individual fields are also serialized as JSON so they can safely be restored
    /// independently of the other fields.
    pub fields: BTreeMap<String, String>,
}

/// Prefix of the id under which an unreadable saved value is noted (Singer ID's patch, below).
pub const UNREADABLE_PARAM_PREFIX: &str = "!unreadable:";

/// Singer ID's patch: the parameter values that can be read, each on its own. Upstream, one
/// unreadable value (a number out of range such as `1e999`, a wrong type) fails the whole
/// state, persisted fields included, so a project would come back with nothing. Here such a
/// value is replaced by a note, `UNREADABLE_PARAM_PREFIX` + its id (which no parameter has, so
/// loading skips it): that parameter keeps its default, and `Plugin::filter_state` can tell
/// an unreadable value from one the state never had (a parameter added since it was saved).
/// Each value is first taken as raw JSON text, which serde_json scans without evaluating
/// numbers.
fn readable_params<'de, D>(deserializer: D) -> Result<BTreeMap<String, ParamValue>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let raw: BTreeMap<String, Box<serde_json::value::RawValue>> = BTreeMap::deserialize(deserializer)?;
    Ok(raw
        .into_iter()
        .map(|(id, value)| match serde_json::from_str::<ParamValue>(value.get()) {
            Ok(value) => (id, value),
            Err(err) => {
                tracing::warn!("Parameter '{id}' has an unreadable saved value {}: {err}", value.get());
                (format!("{UNREADABLE_PARAM_PREFIX}{id}"), ParamValue::Bool(false))
            }
        })
        .collect())
}
