//! The plugin's parameters (stable `#[id]`s, see docs/plugin-contract.md) and its persisted
//! fields: the singer library, the latest decisions, a status line and the editor's settings.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use nice_plug::params::persist::PersistentField;
use nice_plug::plugin::UNREADABLE_PARAM_PREFIX;
use nice_plug::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::decision::Decision;
use crate::library::{SingerLibrary, LIBRARY_FORMAT, LIBRARY_VERSION};
use crate::live::{InputSource, LiveControls};
use crate::model::embedded;
use crate::rig::{default_program, RigSettings, PROGRAMS};

/// Decisions kept for the state's `decisions` field (256 s at the 0.5 s hop).
pub const MAX_SAVED_DECISIONS: usize = 512;
/// Singers (the first ones in the library's order) with their own enable switch and program
/// parameters; later singers are always considered and get their position as program.
pub const SINGER_SLOTS: usize = 16;

/// Which part of the input the analysis listens to. Audio always passes through untouched.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputChannel {
    /// The first channel.
    #[id = "left"]
    Left,
    /// The second channel (the only one on a mono track).
    #[id = "right"]
    Right,
    /// The mean of all main input channels.
    #[id = "mid"]
    Mid,
    /// The mean of the side-chain input's channels (the main input when none is connected).
    #[id = "sidechain"]
    #[name = "Side-chain"]
    SideChain,
}

impl InputChannel {
    /// The engine's name for this input.
    pub fn source(self) -> InputSource {
        match self {
            InputChannel::Left => InputSource::Left,
            InputChannel::Right => InputSource::Right,
            InputChannel::Mid => InputSource::Mid,
            InputChannel::SideChain => InputSource::SideChain,
        }
    }
}

/// The rig settings of the singer at one position in the library: automatable, saved with the
/// project. Parameters are by position because a plugin's parameter list is fixed; the editor
/// moves the settings along when a singer is deleted, so each singer keeps its own.
#[derive(Params)]
pub struct SingerSlot {
    /// Considered at all (tonight's set list).
    #[id = "singer_on"]
    pub on: BoolParam,
    /// Program Change sent when this singer is shown, 1–128 as consoles number them.
    #[id = "singer_program"]
    pub program: IntParam,
}

impl SingerSlot {
    fn new(position: usize) -> Self {
        let number = position + 1;
        Self {
            on: BoolParam::new(format!("Singer {number} on"), true),
            program: IntParam::new(
                format!("Singer {number} program"),
                i32::from(default_program(position)) + 1,
                IntRange::Linear { min: 1, max: i32::from(PROGRAMS) },
            ),
        }
    }
}

/// An integer parameter from 0 to `max`, default 0, where 0 reads `zero` ("none", "off").
fn zero_means(name: &str, max: i32, zero: &'static str) -> IntParam {
    IntParam::new(name, 0, IntRange::Linear { min: 0, max })
        .with_value_to_string(Arc::new(move |v| if v == 0 { zero.into() } else { v.to_string() }))
        .with_string_to_value(Arc::new(|s| match s.trim() {
            "none" | "off" | "" => Some(0),
            number => number.parse().ok(),
        }))
}

/// A program parameter where 0 means "send nothing".
fn program_or_none(name: &str) -> IntParam {
    zero_means(name, i32::from(PROGRAMS), "none")
}

/// A program parameter (0 = none, else 1–128) as a wire program.
fn wire_program(value: i32) -> Option<u8> {
    (1..=i32::from(PROGRAMS)).contains(&value).then(|| (value - 1) as u8)
}

#[derive(Params)]
pub struct SingerIdParams {
    /// Window size and enrolment settings of the editor.
    #[persist = "editor_state"]
    pub editor_state: Arc<Mutex<EditorPrefs>>,
    /// The singer library; replaced whole (never edited in place) so readers can hold an `Arc`.
    #[persist = "library"]
    pub library: Arc<Mutex<LibraryState>>,
    /// The most recent decisions, written by the worker thread (output only).
    #[persist = "decisions"]
    pub decisions: DecisionLog,
    /// "ok" or why the model or the library was refused (output only).
    #[persist = "status"]
    pub status: StatusField,
    /// Parameters the last loaded state could not give a value (filled in by `filter_state`).
    #[persist = "restored_defaults"]
    pub restored_defaults: RestoredDefaults,

    /// Which input the analysis listens to.
    #[id = "input"]
    pub input: EnumParam<InputChannel>,
    /// Best score under this reads as "unknown".
    #[id = "threshold"]
    pub threshold: FloatParam,
    /// Seconds of scores averaged into each decision.
    #[id = "smoothing"]
    pub smoothing: FloatParam,
    /// Analysis on or off (audio passes through either way).
    #[id = "enabled"]
    pub enabled: BoolParam,
    /// Never skip audio: the audio thread waits for the analysis, as in an offline render. For
    /// renderers that run faster than real time without reporting offline mode; in live use it
    /// can cause dropouts, so it is off by default.
    #[id = "every_sample"]
    pub every_sample: BoolParam,

    /// "Hold current singer": the shown verdict stops driving the rig (MIDI, OSC) while set.
    #[id = "hold"]
    pub hold: BoolParam,
    /// Program Changes on or off.
    #[id = "midi_out"]
    pub midi_out: BoolParam,
    /// MIDI channel 1–16.
    #[id = "midi_channel"]
    pub midi_channel: IntParam,
    /// Seconds after a Program Change during which no other is sent.
    #[id = "hold_time"]
    pub hold_time: FloatParam,
    /// Program for `unknown` (0: none, keep the last).
    #[id = "unknown_program"]
    pub unknown_program: IntParam,
    /// Program for `no voice` (0: none, keep the last).
    #[id = "no_voice_program"]
    pub no_voice_program: IntParam,
    /// Controller carrying the confidence every hop (0: off).
    #[id = "confidence_cc"]
    pub confidence_cc: IntParam,
    /// Per-singer enable switch and program, by library position.
    #[nested(array, group = "Singer")]
    pub singers: [SingerSlot; SINGER_SLOTS],
}

impl Default for SingerIdParams {
    fn default() -> Self {
        let library = Arc::new(Mutex::new(LibraryState::default()));
        let model_error = Arc::new(Mutex::new(None));
        let restored_defaults = RestoredDefaults::default();
        Self {
            editor_state: Arc::new(Mutex::new(EditorPrefs::default())),
            status: StatusField { library: library.clone(), model_error, restored_defaults: restored_defaults.clone() },
            restored_defaults,
            library,
            decisions: DecisionLog::default(),
            input: EnumParam::new("Input", InputChannel::Mid),
            threshold: FloatParam::new(
                "Unknown threshold",
                embedded::metadata().default_threshold,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_step_size(0.01),
            smoothing: FloatParam::new("Smoothing", 1.0, FloatRange::Linear { min: 0.0, max: 5.0 })
                .with_unit(" s")
                .with_step_size(0.1),
            enabled: BoolParam::new("Analysis enabled", true),
            every_sample: BoolParam::new("Analyse every sample", false),
            hold: BoolParam::new("Hold singer", false),
            midi_out: BoolParam::new("MIDI out", true),
            midi_channel: IntParam::new("MIDI channel", 1, IntRange::Linear { min: 1, max: 16 }),
            hold_time: FloatParam::new("Change hold", 1.0, FloatRange::Linear { min: 0.0, max: 10.0 })
                .with_unit(" s")
                .with_step_size(0.1),
            unknown_program: program_or_none("Program for unknown"),
            no_voice_program: program_or_none("Program for no voice"),
            confidence_cc: zero_means("Confidence CC", 119, "off"),
            singers: std::array::from_fn(SingerSlot::new),
        }
    }
}

/// The live analysis reads its settings here and keeps the library and decisions in the state.
impl LiveControls for SingerIdParams {
    fn threshold(&self) -> f32 {
        self.threshold.value()
    }

    fn smoothing_s(&self) -> f64 {
        f64::from(self.smoothing.value())
    }

    fn never_drop(&self) -> bool {
        self.every_sample.value()
    }

    fn library(&self) -> Option<Arc<SingerLibrary>> {
        self.library.lock().unwrap_or_else(|e| e.into_inner()).library.clone()
    }

    fn enroll(&self, name: &str, embeddings: Vec<Vec<f32>>) -> Result<(), String> {
        let mut state = self.library.lock().unwrap_or_else(|e| e.into_inner());
        let mut library = (*state.current()).clone();
        library.enroll(name, embeddings).map_err(|e| e.to_string())?;
        *state = LibraryState::checked(library);
        Ok(())
    }

    fn clear_decisions(&self) {
        self.decisions.clear();
    }

    fn record_decision(&self, decision: &Decision) {
        self.decisions.push(decision.clone());
    }

    fn bounce_timeline_path(&self) -> Option<PathBuf> {
        let prefs = self.editor_state.lock().unwrap_or_else(|e| e.into_inner());
        let path = prefs.bounce_timeline_path.trim();
        (!path.is_empty()).then(|| PathBuf::from(path))
    }

    fn osc_target(&self) -> Option<String> {
        let prefs = self.editor_state.lock().unwrap_or_else(|e| e.into_inner());
        let target = prefs.osc_target.trim();
        (!target.is_empty()).then(|| target.to_string())
    }

    fn rig(&self) -> RigSettings {
        RigSettings {
            midi: self.midi_out.value(),
            channel: (self.midi_channel.value() - 1).clamp(0, 15) as u8,
            hold: self.hold.value(),
            hold_time_s: f64::from(self.hold_time.value()),
            unknown_program: wire_program(self.unknown_program.value()),
            no_voice_program: wire_program(self.no_voice_program.value()),
            confidence_cc: u8::try_from(self.confidence_cc.value()).ok().filter(|&cc| cc > 0),
        }
    }

    fn singer_program(&self, position: usize) -> u8 {
        self.singers
            .get(position)
            .and_then(|slot| wire_program(slot.program.value()))
            .unwrap_or_else(|| default_program(position))
    }

    fn singer_enabled(&self, position: usize) -> bool {
        self.singers.get(position).is_none_or(|slot| slot.on.value())
    }
}

/// Editor settings worth keeping with a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditorPrefs {
    /// Editor width in logical pixels.
    pub width: u32,
    /// Editor height in logical pixels.
    pub height: u32,
    /// Seconds of recent voiced audio an enrolment uses.
    pub enroll_seconds: f32,
    /// Library file last used for import/export (where the file dialogs start).
    pub library_path: String,
    /// Where the song-mode timeline goes after each offline render (empty: nowhere).
    pub bounce_timeline_path: String,
    /// OSC listener for each decision, `HOST:PORT` (empty: none).
    pub osc_target: String,
}

impl Default for EditorPrefs {
    fn default() -> Self {
        Self {
            width: 960,
            height: 640,
            enroll_seconds: 20.0,
            library_path: String::new(),
            bounce_timeline_path: String::new(),
            osc_target: String::new(),
        }
    }
}

/// The library as loaded from state or edited in the editor, or why the saved one was refused.
#[derive(Debug, Clone, Default)]
pub struct LibraryState {
    /// The singers; `None` means an empty library for the current model.
    pub library: Option<Arc<SingerLibrary>>,
    /// Why the library in the loaded state was refused (the plugin then runs with none).
    pub refused: Option<String>,
    /// The refused library as it was loaded (when it was JSON at all), written back on save
    /// until the user changes the library: opening a project in an older build, or with
    /// another model, must not destroy its singers.
    pub refused_original: Option<serde_json::Value>,
}

impl LibraryState {
    /// Accepts `library` for the embedded model, or keeps an empty one and records why not.
    pub fn checked(library: SingerLibrary) -> Self {
        match library.check_model(embedded::metadata()) {
            Ok(()) => Self { library: Some(Arc::new(library)), ..Self::default() },
            Err(e) => Self { refused: Some(e.to_string()), ..Self::default() },
        }
    }

    /// Parses library JSON as the CLI writes it; anything else becomes an empty, refused library.
    pub fn from_json(text: &str) -> Self {
        let refused = match SingerLibrary::from_json(text, Path::new("plugin state")) {
            Ok(library) => Self::checked(library),
            Err(e) => Self { refused: Some(e.to_string()), ..Self::default() },
        };
        Self { refused_original: refused.refused.as_ref().and_then(|_| serde_json::from_str(text).ok()), ..refused }
    }

    /// The library to analyse with (empty when none was accepted).
    pub fn current(&self) -> Arc<SingerLibrary> {
        self.library.clone().unwrap_or_else(|| Arc::new(SingerLibrary::new(embedded::metadata())))
    }
}

/// The CLI's file layout (`SingerLibrary::to_json`), as a serde value so the state holds the
/// library as JSON rather than as a string inside JSON. Must match `storage::FileOut` (tested).
#[derive(Serialize)]
struct LibraryFile<'a> {
    format: &'a str,
    version: u32,
    #[serde(flatten)]
    library: &'a SingerLibrary,
}

impl Serialize for LibraryState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(original) = &self.refused_original {
            return original.serialize(serializer);
        }
        let library = self.current();
        LibraryFile { format: LIBRARY_FORMAT, version: LIBRARY_VERSION, library: &library }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for LibraryState {
    /// Never fails on valid JSON: a wrong, damaged or future library is recorded as refused, so a
    /// bad state cannot leave the previous library silently in place.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(match value {
            // `filter_state` turns text that is not JSON at all into such a string.
            serde_json::Value::String(reason) => Self {
                refused: Some(reason.clone()),
                refused_original: Some(serde_json::Value::String(reason)),
                library: None,
            },
            serde_json::Value::Object(ref map) if map.contains_key(DAMAGED_TEXT_KEY) => {
                let reason = map.get("reason").and_then(|r| r.as_str()).unwrap_or("damaged library text");
                Self { refused: Some(reason.to_string()), refused_original: Some(value.clone()), library: None }
            }
            other => Self::from_json(&other.to_string()),
        })
    }
}

/// The last [`MAX_SAVED_DECISIONS`] decisions, for the state. Loading a state leaves it alone:
/// saved decisions describe audio this instance has not heard.
#[derive(Debug, Default)]
pub struct DecisionLog {
    /// Oldest first; locked by the worker (append) and by state saves (copy), never by audio.
    pub decisions: Mutex<VecDeque<Decision>>,
}

impl DecisionLog {
    pub fn push(&self, decision: Decision) {
        let mut log = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() == MAX_SAVED_DECISIONS {
            log.pop_front();
        }
        log.push_back(decision);
    }

    pub fn clear(&self) {
        self.decisions.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl<'a> PersistentField<'a, Vec<Decision>> for DecisionLog {
    fn set(&self, _saved: Vec<Decision>) {}

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Vec<Decision>) -> R,
    {
        let log: Vec<Decision> = self.decisions.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect();
        f(&log)
    }
}

/// The status line, derived when read from the library and model states, so a saved state
/// always tells the truth even when no audio has been processed.
#[derive(Debug)]
pub struct StatusField {
    /// Shared with [`SingerIdParams::library`].
    library: Arc<Mutex<LibraryState>>,
    /// Why the model failed to load, if it did.
    pub model_error: Arc<Mutex<Option<String>>>,
    /// Shared with [`SingerIdParams::restored_defaults`].
    restored_defaults: RestoredDefaults,
}

impl StatusField {
    pub fn text(&self) -> String {
        if let Some(e) = self.model_error.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            return format!("model not loaded: {e}");
        }
        let library = match &self.library.lock().unwrap_or_else(|e| e.into_inner()).refused {
            Some(reason) => format!("library refused, running with an empty one: {reason}"),
            None => "ok".to_string(),
        };
        match self.restored_defaults.0.lock().unwrap_or_else(|e| e.into_inner()).as_slice() {
            [] => library,
            ids => format!("{library}; unreadable in the saved state, back to default: {}", ids.join(", ")),
        }
    }
}

impl<'a> PersistentField<'a, String> for StatusField {
    fn set(&self, _saved: String) {}

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&String) -> R,
    {
        f(&self.text())
    }
}

/// Ids of the parameters that the last loaded state held no readable value for (a damaged or
/// hand-edited project, or one saved before the parameter existed); they start at their
/// defaults, and the status line names them. Never saved: it describes one load.
#[derive(Debug, Clone, Default)]
pub struct RestoredDefaults(Arc<Mutex<Vec<String>>>);

impl<'a> PersistentField<'a, Vec<String>> for RestoredDefaults {
    fn set(&self, ids: Vec<String>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = ids;
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&Vec<String>) -> R,
    {
        f(&Vec::new())
    }
}

/// Records in `state` which parameters had a value it could not read (dropped on reading by
/// nice-plug-core, as patched in `vendor/`, and noted under a marked id), for
/// [`RestoredDefaults`] to pick up when the fields are loaded. Parameters the state has no
/// value for at all (added since it was saved) are not named: they simply start at their
/// defaults.
pub fn note_unreadable_params(state: &mut PluginState) {
    let mut unreadable = Vec::new();
    state.params.retain(|id, _| match id.strip_prefix(UNREADABLE_PARAM_PREFIX) {
        Some(original) => {
            unreadable.push(original.to_string());
            false
        }
        None => true,
    });
    state.fields.insert("restored_defaults".into(), serde_json::to_string(&unreadable).unwrap_or_default());
}

/// Key of the object that stands for library text in a state that is not JSON at all.
const DAMAGED_TEXT_KEY: &str = "damaged_library_text";

/// Prepares a saved state before nice-plug reads it: a `library` field that is not JSON at all
/// would otherwise fail to deserialise and silently keep the previous library.
pub fn filter_library_field(fields: &mut std::collections::BTreeMap<String, String>) {
    if let Some(text) = fields.get_mut("library") {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
            let reason = format!("singer library in plugin state is damaged (not JSON: {e})");
            // Keep the text itself: it is saved back until the user changes the library, so a
            // damaged project can still be repaired by hand.
            *text = serde_json::json!({ DAMAGED_TEXT_KEY: text.as_str(), "reason": reason }).to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> SingerLibrary {
        let meta = embedded::metadata();
        let mut lib = SingerLibrary::new(meta);
        let mut e = vec![0.0; meta.embedding_size];
        e[0] = 1.0;
        lib.enroll("Ann", vec![e]).unwrap();
        lib
    }

    #[test]
    fn library_field_is_the_cli_file_layout() {
        let lib = library();
        let state = LibraryState::checked(lib.clone());
        assert_eq!(serde_json::to_string(&state).unwrap(), lib.to_json());
        let back: LibraryState = serde_json::from_str(&lib.to_json()).unwrap();
        assert_eq!(back.current().as_ref(), &lib);
        assert!(back.refused.is_none());
    }

    #[test]
    fn a_refused_library_is_saved_back_unchanged() {
        let newer = library().to_json().replace("\"version\":1", "\"version\":7");
        let state: LibraryState = serde_json::from_str(&newer).unwrap();
        assert!(state.refused.is_some() && state.current().singers.is_empty());
        let saved: serde_json::Value = serde_json::to_value(&state).unwrap();
        assert_eq!(saved, serde_json::from_str::<serde_json::Value>(&newer).unwrap());
        // Once the user enrols, the new library replaces it.
        assert_eq!(serde_json::to_string(&LibraryState::checked(library())).unwrap(), library().to_json());
    }

    #[test]
    fn bad_libraries_are_refused_not_kept() {
        let json = library().to_json();
        for bad in [
            json.replace("\"version\":1", "\"version\":7"),
            "{\"random\":[1,2,3]}".to_string(),
            json.replace(&embedded::metadata().embedding_space, "other-space"),
            "42".to_string(),
        ] {
            let state: LibraryState = serde_json::from_str(&bad).unwrap();
            assert!(state.refused.is_some(), "{bad:.60}");
            assert!(state.current().singers.is_empty());
        }
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("library".to_string(), "{not json".to_string());
        filter_library_field(&mut fields);
        let state: LibraryState = serde_json::from_str(&fields["library"]).unwrap();
        assert!(state.refused.as_ref().unwrap().contains("damaged"));
        // Saved back with the text as it was, and refused the same way on the next load.
        let saved = serde_json::to_string(&state).unwrap();
        assert!(saved.contains("{not json"), "{saved}");
        let again: LibraryState = serde_json::from_str(&saved).unwrap();
        assert_eq!(again.refused, state.refused);
    }
}
