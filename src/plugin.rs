//! The Singer ID audio plugin (CLAP + VST3, nice-plug): audio passes through bit-exactly while
//! the engine's [`Analyzer`](crate::analyzer::Analyzer) names the singer on a worker thread.
//! This module is glue only: parameters in `params` (which also serve as the live stream's
//! [`LiveControls`](crate::live::LiveControls)), the egui editor in `editor`; the real-time
//! hand-off and worker are the engine's (`crate::live`). Contract: docs/plugin-contract.md.

pub mod editor;
pub mod params;

use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};

use nice_plug::prelude::*;

use crate::library::SingerLibrary;
use crate::live::{AudioSide, GuiFeed, WorkerHandle};
use crate::rig::{RigEvent, RigMessage};
use params::{LibraryState, SingerIdParams};

/// What a standalone front door (`singer-id-live`) gives every instance the wrapper creates:
/// a library to start with, an OSC target, and whether to open no window (a headless rig or
/// a test). Plugin hosts never set it.
#[derive(Debug, Clone, Default)]
pub struct StandaloneSetup {
    pub library: Option<SingerLibrary>,
    pub osc_target: Option<String>,
    pub headless: bool,
}

static STANDALONE: OnceLock<StandaloneSetup> = OnceLock::new();

/// Sets the [`StandaloneSetup`], once per process, before the wrapper creates the plugin.
pub fn set_standalone_setup(setup: StandaloneSetup) -> Result<(), String> {
    if let Some(library) = &setup.library {
        library.check_model(crate::model::embedded::metadata()).map_err(|e| e.to_string())?;
    }
    STANDALONE.set(setup).map_err(|_| "the standalone set-up was already made".to_string())
}

/// One plugin instance.
pub struct SingerId {
    /// Parameters and persisted fields, shared with the worker and the editor.
    params: Arc<SingerIdParams>,
    /// Results for the editor, shared with the worker.
    feed: Arc<GuiFeed>,
    /// The audio thread's side of the ring; `None` until activated or when the model failed.
    audio: Option<AudioSide>,
    /// The running worker; stopped and joined on deactivate and drop.
    worker: Option<WorkerHandle>,
    /// Where the editor sends enrolment requests (shared so a restarted worker is reached).
    requests: editor::RequestSlot,
}

impl Default for SingerId {
    fn default() -> Self {
        let params = SingerIdParams::default();
        if let Some(setup) = STANDALONE.get() {
            if let Some(library) = &setup.library {
                *params.library.lock().unwrap_or_else(|e| e.into_inner()) = LibraryState::checked(library.clone());
            }
            if let Some(target) = &setup.osc_target {
                params.editor_state.lock().unwrap_or_else(|e| e.into_inner()).osc_target = target.clone();
            }
        }
        Self {
            params: Arc::new(params),
            feed: Arc::new(GuiFeed::default()),
            audio: None,
            worker: None,
            requests: Arc::default(),
        }
    }
}

impl SingerId {
    fn stop_worker(&mut self) {
        self.audio = None;
        *self.requests.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if let Some(mut worker) = self.worker.take() {
            worker.stop();
        }
    }
}

/// Main in/out of `channels` plus a stereo side-chain. Every layout has the same buses: VST3
/// cannot switch an optional bus on or off, so a layout without the side-chain would be
/// unreachable there; hosts that leave the side-chain unconnected send silence or nothing.
const fn with_side_chain(channels: u32) -> AudioIOLayout {
    const STEREO_SIDE_CHAIN: &[NonZeroU32] = &[new_nonzero_u32(2)];
    AudioIOLayout {
        main_input_channels: NonZeroU32::new(channels),
        main_output_channels: NonZeroU32::new(channels),
        aux_input_ports: STEREO_SIDE_CHAIN,
        names: PortNames { aux_inputs: &["Side-chain"], ..PortNames::const_default() },
        ..AudioIOLayout::const_default()
    }
}

impl Plugin for SingerId {
    const NAME: &'static str = "Singer ID";
    const VENDOR: &'static str = "Singer ID";
    const URL: &'static str = "https://github.com/singer-id/singer-id";
    const EMAIL: &'static str = "singer-id@users.noreply.github.com";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[with_side_chain(2), with_side_chain(1)];
    // Program Changes (and the optional confidence CC) for the rig: `crate::rig`.
    const MIDI_OUTPUT: MidiConfig = MidiConfig::MidiCCs;

    type Editor = editor::SingerIdEditor;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        if STANDALONE.get().is_some_and(|setup| setup.headless) {
            return None;
        }
        editor::create(self.params.clone(), self.feed.clone(), self.requests.clone())
    }

    fn filter_state(state: &mut PluginState) {
        params::filter_library_field(&mut state.fields);
        params::note_unreadable_params(state);
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        // A host may activate again without deactivating (e.g. on a state load): restart cleanly.
        self.stop_worker();
        let offline = config.process_mode == ProcessMode::Offline;
        match crate::live::start(self.params.clone(), self.feed.clone(), config.sample_rate, offline) {
            Ok((audio, worker)) => {
                *self.params.status.model_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
                *self.requests.lock().unwrap_or_else(|e| e.into_inner()) = Some(worker.requests.clone());
                self.audio = Some(audio);
                self.worker = Some(worker);
            }
            // Audio still passes through; the status and the editor say why nothing is analysed.
            Err(e) => *self.params.status.model_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e),
        }
        true
    }

    // `reset()` keeps the analysis history on purpose: a transport jump is not a new song.

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        // nice-plug has already copied input to output; we never write to the buffers, so the
        // output is the input, bit for bit (NaN, Inf and denormals included).
        if let Some(audio) = &mut self.audio {
            if self.params.enabled.value() && buffer.samples() > 0 && buffer.channels() > 0 {
                let side = aux
                    .inputs
                    .first()
                    .map(|b| b.as_slice_immutable())
                    .filter(|c| c.first().is_some_and(|ch| !ch.is_empty()));
                let wait = self.params.every_sample.value();
                audio.push_block(buffer.as_slice_immutable(), side, self.params.input.value().source(), wait);
                // A host without an event output, or with a full one, loses the event; audio goes on.
                audio.rig_events(|timing, event| {
                    let _ = context.try_send_event(note_event(timing, event));
                });
            }
        }
        ProcessStatus::Normal
    }

    fn deactivate(&mut self) {
        self.stop_worker();
    }
}

/// A rig event as nice-plug's MIDI output event.
fn note_event(timing: u32, event: RigEvent) -> NoteEvent<()> {
    let channel = event.channel;
    match event.message {
        RigMessage::Program(program) => NoteEvent::MidiProgramChange { timing, channel, program },
        RigMessage::Control { cc, value } => NoteEvent::MidiCC { timing, channel, cc, value: f32::from(value) / 127.0 },
    }
}

impl ClapPlugin for SingerId {
    const CLAP_ID: &'static str = "org.singer-id.singer-id";
    const CLAP_DESCRIPTION: Option<&'static str> = Some("Tells which singer is singing");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] =
        &[ClapFeature::AudioEffect, ClapFeature::Analyzer, ClapFeature::Stereo, ClapFeature::Mono];
}

impl Vst3Plugin for SingerId {
    const VST3_CLASS_ID: [u8; 16] = *b"SingerIdMonitor!";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Fx, Vst3SubCategory::Analyzer];
}

nice_export_clap!(SingerId);
nice_export_vst3!(SingerId);
