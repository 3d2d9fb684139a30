//! A minimal headless CLAP host (clack-host) for testing the Singer ID plugin end to end: load the
//! `.clap`, load or save its state, choose realtime or offline rendering, and push stereo audio
//! through it in whatever block sizes a test asks for, collecting the MIDI it sends out.

use std::ffi::CString;
use std::path::Path;

use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::MidiEvent;
use clack_host::prelude::*;

/// The plugin's CLAP id (docs/plugin-contract.md).
pub const PLUGIN_ID: &str = "org.singer-id.singer-id";
/// Largest block the harness asks the plugin to process.
pub const MAX_BLOCK: usize = 16384;

/// Host callbacks: the harness drives everything itself, so requests are ignored.
struct Shared;

impl<'a> SharedHandler<'a> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

struct Host;

impl HostHandlers for Host {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

/// A MIDI message the plugin sent: the sample (from the start of the audio) it is stamped with,
/// and its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MidiOut {
    pub sample: u64,
    pub data: [u8; 3],
}

/// One loaded plugin instance (the entry stays loaded as long as the instance lives).
pub struct Instance {
    /// The plugin instance, inactive between [`Instance::process`] calls.
    instance: PluginInstance<Host>,
    /// Keeps the shared library loaded.
    _entry: PluginEntry,
}

impl Instance {
    pub fn load(bundle: &Path) -> Result<Self, String> {
        // SAFETY: loading a CLAP binary runs its code; the harness trusts the plugin under test.
        let entry = unsafe { PluginEntry::load(bundle) }.map_err(|e| format!("{}: {e}", bundle.display()))?;
        let host = HostInfo::new("singer-id clap harness", "Singer ID", "https://example.invalid", "0.1")
            .map_err(|e| e.to_string())?;
        let id = CString::new(PLUGIN_ID).unwrap();
        let instance =
            PluginInstance::<Host>::new(|_| Shared, |_| (), &entry, &id, &host).map_err(|e| e.to_string())?;
        Ok(Self { instance, _entry: entry })
    }

    /// The plugin's state as the host stores it: nice-plug's CLAP wrapper writes an 8-byte
    /// little-endian length, then the state JSON (see [`state_json`]).
    pub fn save_state(&mut self) -> Result<Vec<u8>, String> {
        let handle = self.instance.plugin_handle();
        let state = handle.get_extension::<PluginState>().ok_or("no state extension")?;
        let mut bytes = Vec::new();
        state.save(&handle, &mut bytes).map_err(|e| e.to_string())?;
        Ok(bytes)
    }

    /// Loads a state; `Err` when the plugin refuses it.
    pub fn load_state(&mut self, bytes: &[u8]) -> Result<(), String> {
        let handle = self.instance.plugin_handle();
        let state = handle.get_extension::<PluginState>().ok_or("no state extension")?;
        state.load(&handle, &mut std::io::Cursor::new(bytes)).map_err(|e| e.to_string())
    }

    /// Offline bounce (the plugin must not drop audio) or realtime playback.
    pub fn set_offline(&mut self, offline: bool) -> Result<(), String> {
        let handle = self.instance.plugin_handle();
        let render = handle.get_extension::<PluginRender>().ok_or("no render extension")?;
        let mode = if offline { RenderMode::Offline } else { RenderMode::Realtime };
        render.set(&handle, mode).map_err(|e| e.to_string())
    }

    /// Activates at `rate`, processes `left`/`right` in the given block sizes (cycled until the
    /// audio ends; 0-sample blocks included) with a silent side-chain, deactivates, and returns
    /// the output channels.
    pub fn process(
        &mut self,
        rate: f64,
        left: &[f32],
        right: &[f32],
        blocks: &[usize],
    ) -> Result<[Vec<f32>; 2], String> {
        self.process_with_midi(rate, left, right, blocks).map(|(out, _)| out)
    }

    /// [`Instance::process`], also returning the MIDI the plugin sent, in order.
    pub fn process_with_midi(
        &mut self,
        rate: f64,
        left: &[f32],
        right: &[f32],
        blocks: &[usize],
    ) -> Result<([Vec<f32>; 2], Vec<MidiOut>), String> {
        assert_eq!(left.len(), right.len());
        let config =
            PluginAudioConfiguration { sample_rate: rate, min_frames_count: 1, max_frames_count: MAX_BLOCK as u32 };
        let stopped = self.instance.activate(|_, _| (), config).map_err(|e| e.to_string())?;
        let mut out = [vec![0.0f32; left.len()], vec![0.0f32; left.len()]];
        let mut midi = Vec::new();
        // Audio runs on its own thread, as in a real host.
        let stopped = std::thread::scope(|s| {
            s.spawn(|| -> Result<_, String> {
                let mut processor = stopped.start_processing().map_err(|e| e.to_string())?;
                let mut input = [vec![0.0f32; MAX_BLOCK], vec![0.0f32; MAX_BLOCK]];
                let mut side = [vec![0.0f32; MAX_BLOCK], vec![0.0f32; MAX_BLOCK]];
                let mut output = [vec![0.0f32; MAX_BLOCK], vec![0.0f32; MAX_BLOCK]];
                let mut input_ports = AudioPorts::with_capacity(4, 2);
                let mut output_ports = AudioPorts::with_capacity(2, 1);
                let (events_in, mut events_out) = (EventBuffer::new(), EventBuffer::new());
                let mut pos = 0;
                for &block in blocks.iter().cycle() {
                    if pos >= left.len() {
                        break;
                    }
                    let n = block.min(MAX_BLOCK).min(left.len() - pos);
                    input[0][..n].copy_from_slice(&left[pos..pos + n]);
                    input[1][..n].copy_from_slice(&right[pos..pos + n]);
                    let [in_l, in_r] = &mut input;
                    let [side_l, side_r] = &mut side;
                    let inputs = input_ports.with_input_buffers([
                        AudioPortBuffer {
                            latency: 0,
                            channels: AudioPortBufferType::f32_input_only([
                                InputChannel::variable(&mut in_l[..n]),
                                InputChannel::variable(&mut in_r[..n]),
                            ]),
                        },
                        AudioPortBuffer {
                            latency: 0,
                            channels: AudioPortBufferType::f32_input_only([
                                InputChannel::constant(&mut side_l[..n]),
                                InputChannel::constant(&mut side_r[..n]),
                            ]),
                        },
                    ]);
                    let [out_l, out_r] = &mut output;
                    let mut outputs = output_ports.with_output_buffers([AudioPortBuffer {
                        latency: 0,
                        channels: AudioPortBufferType::f32_output_only([&mut out_l[..n], &mut out_r[..n]].into_iter()),
                    }]);
                    processor
                        .process(
                            &inputs,
                            &mut outputs,
                            &InputEvents::from_buffer(&events_in),
                            &mut OutputEvents::from_buffer(&mut events_out),
                            None,
                            None,
                        )
                        .map_err(|e| e.to_string())?;
                    for event in events_out.iter() {
                        if let Some(event) = event.as_event::<MidiEvent>() {
                            let sample = (pos + event.header().time() as usize) as u64;
                            midi.push(MidiOut { sample, data: event.data() });
                        }
                    }
                    events_out.clear();
                    out[0][pos..pos + n].copy_from_slice(&out_l[..n]);
                    out[1][pos..pos + n].copy_from_slice(&out_r[..n]);
                    pos += n;
                }
                Ok(processor.stop_processing())
            })
            .join()
            .expect("audio thread panicked")
        })?;
        self.instance.deactivate(stopped);
        Ok((out, midi))
    }
}

/// The JSON part of a saved CLAP state (after nice-plug's 8-byte length prefix).
pub fn state_json(state: &[u8]) -> &[u8] {
    let length = u64::from_le_bytes(state[..8].try_into().expect("state has a length prefix")) as usize;
    &state[8..8 + length]
}

/// A CLAP state for nice-plug from state JSON (adds the length prefix).
pub fn state_from_json(json: &[u8]) -> Vec<u8> {
    let mut state = (json.len() as u64).to_le_bytes().to_vec();
    state.extend_from_slice(json);
    state
}
