//! VST3 event output, observed by a host: the Python VST3 hosts the project tests with
//! (pedalboard, DawDreamer) give no access to a plugin's MIDI output, so this is a minimal VST3
//! host of its own (the `vst3` crate's bindings) that loads the bundled `Singer ID.vst3`, gives
//! it a state, renders silence offline through `IAudioProcessor::process` with an output event
//! list, and records what the plugin adds to it. Offline, the plugin analyses every sample, so
//! the events are deterministic; this is also what found nice-plug's VST3 wrapper activating
//! the plugin with a stale process mode (patched in `vendor/nice-plug`).
//!
//! The bundle is `$SINGER_ID_VST3` (run by `.ci/plugin-check` after `cargo xtask bundle`).

use std::cell::RefCell;
use std::ffi::c_void;
use std::path::PathBuf;

use vst3::Steinberg::Vst::Event_::EventTypes_::kLegacyMIDICCOutEvent;
use vst3::Steinberg::Vst::{
    AudioBusBuffers, AudioBusBuffers__type0, BusDirections_::*, Event, IAudioProcessor, IAudioProcessorTrait,
    IComponent, IComponentTrait, IEventList, IEventListTrait, MediaTypes_::*, ProcessData, ProcessModes_::kOffline,
    ProcessSetup, SymbolicSampleSizes_::kSample32,
};
use vst3::Steinberg::{
    kInvalidArgument, kResultOk, tresult, IBStream, IBStreamTrait, IBStream_::IStreamSeekMode_::*, IPluginBaseTrait,
    IPluginFactory, IPluginFactoryTrait, TUID,
};
use vst3::{Class, ComPtr, ComWrapper, Interface};

/// The plugin's VST3 class id (docs/plugin-contract.md).
const CLASS_ID: &[u8; 16] = b"SingerIdMonitor!";
/// VST3's controller number for a Program Change in a legacy MIDI CC out event.
const PROGRAM_CHANGE: u8 = 130;
const RATE: f64 = 48_000.0;
const BLOCK: usize = 1024;

/// An `IBStream` over bytes in memory (the state handed to `setState`).
struct Stream {
    data: Vec<u8>,
    pos: RefCell<usize>,
}

impl Class for Stream {
    type Interfaces = (IBStream,);
}

impl IBStreamTrait for Stream {
    unsafe fn read(&self, buffer: *mut c_void, num_bytes: i32, num_bytes_read: *mut i32) -> tresult {
        let mut pos = self.pos.borrow_mut();
        let n = (num_bytes.max(0) as usize).min(self.data.len() - *pos);
        std::ptr::copy_nonoverlapping(self.data[*pos..].as_ptr(), buffer as *mut u8, n);
        *pos += n;
        if !num_bytes_read.is_null() {
            *num_bytes_read = n as i32;
        }
        kResultOk
    }

    unsafe fn write(&self, _buffer: *mut c_void, _num_bytes: i32, _num_bytes_written: *mut i32) -> tresult {
        kInvalidArgument
    }

    unsafe fn seek(&self, offset: i64, mode: i32, result: *mut i64) -> tresult {
        let mut pos = self.pos.borrow_mut();
        let base = match mode as u32 {
            m if m == kIBSeekSet as u32 => 0,
            m if m == kIBSeekCur as u32 => *pos as i64,
            _ => self.data.len() as i64,
        };
        *pos = (base + offset).clamp(0, self.data.len() as i64) as usize;
        if !result.is_null() {
            *result = *pos as i64;
        }
        kResultOk
    }

    unsafe fn tell(&self, pos: *mut i64) -> tresult {
        *pos = *self.pos.borrow() as i64;
        kResultOk
    }
}

/// The output event list: keeps what the plugin adds.
#[derive(Default)]
struct Events {
    events: RefCell<Vec<Event>>,
}

impl Class for Events {
    type Interfaces = (IEventList,);
}

impl IEventListTrait for Events {
    unsafe fn getEventCount(&self) -> i32 {
        self.events.borrow().len() as i32
    }

    unsafe fn getEvent(&self, index: i32, event: *mut Event) -> tresult {
        match self.events.borrow().get(index as usize) {
            Some(e) => {
                *event = *e;
                kResultOk
            }
            None => kInvalidArgument,
        }
    }

    unsafe fn addEvent(&self, event: *mut Event) -> tresult {
        self.events.borrow_mut().push(*event);
        kResultOk
    }
}

/// A MIDI message the plugin sent: sample from the start, controller number (130 = Program
/// Change), channel, value.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sent {
    sample: usize,
    control: u8,
    channel: i8,
    value: i8,
}

fn bundle_binary() -> PathBuf {
    let bundle = std::env::var_os("SINGER_ID_VST3")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bundled/Singer ID.vst3"));
    bundle.join("Contents/x86_64-linux/Singer ID.so")
}

/// Loads the plugin, sets a state with these parameter values (saved JSON), renders `seconds`
/// of silence offline in 1024-sample blocks, and returns the MIDI it sent.
fn render_silence(params: &str, seconds: f64) -> Vec<Sent> {
    let path = bundle_binary();
    // SAFETY: loading the plugin runs its code; the harness trusts the plugin under test.
    let library = unsafe { libloading::Library::new(&path) }.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    unsafe {
        let entry: libloading::Symbol<unsafe extern "C" fn(*mut c_void) -> bool> = library.get(b"ModuleEntry").unwrap();
        assert!(entry(std::ptr::null_mut()));
        let factory: libloading::Symbol<unsafe extern "system" fn() -> *mut IPluginFactory> =
            library.get(b"GetPluginFactory").unwrap();
        let factory = ComPtr::from_raw(factory()).expect("a plugin factory");
        let cid: TUID = CLASS_ID.map(|b| b as _);
        let mut object = std::ptr::null_mut();
        let created = factory.createInstance(cid.as_ptr(), IComponent::IID.as_ptr() as *const _, &mut object);
        assert_eq!(created, kResultOk, "createInstance");
        let component = ComPtr::<IComponent>::from_raw(object as *mut IComponent).unwrap();
        assert_eq!(component.initialize(std::ptr::null_mut()), kResultOk);
        let processor = component.cast::<IAudioProcessor>().expect("an audio processor");

        let state = format!(r#"{{"version":"0.1.0","params":{params},"fields":{{}}}}"#);
        let stream = ComWrapper::new(Stream { data: state.into_bytes(), pos: RefCell::new(0) });
        assert_eq!(component.setState(stream.to_com_ptr::<IBStream>().unwrap().as_ptr()), kResultOk, "setState");
        assert_eq!(component.activateBus(kEvent as _, kOutput as _, 0, 1), kResultOk, "event output bus");

        let mut setup = ProcessSetup {
            processMode: kOffline as _,
            symbolicSampleSize: kSample32 as _,
            maxSamplesPerBlock: BLOCK as _,
            sampleRate: RATE,
        };
        assert_eq!(processor.setupProcessing(&mut setup), kResultOk);
        assert_eq!(component.setActive(1), kResultOk);
        processor.setProcessing(1);

        let events = ComWrapper::new(Events::default());
        let event_list = events.to_com_ptr::<IEventList>().unwrap();
        let mut buffers = vec![vec![0.0f32; BLOCK]; 6];
        let mut sent = Vec::new();
        let blocks = (seconds * RATE / BLOCK as f64).ceil() as usize;
        for block in 0..blocks {
            let mut pointers: Vec<*mut f32> = buffers.iter_mut().map(|b| b.as_mut_ptr()).collect();
            let bus = |channels: &mut [*mut f32]| AudioBusBuffers {
                numChannels: channels.len() as _,
                silenceFlags: 0,
                __field0: AudioBusBuffers__type0 { channelBuffers32: channels.as_mut_ptr() },
            };
            let (main_in, rest) = pointers.split_at_mut(2);
            let (side_in, main_out) = rest.split_at_mut(2);
            let mut inputs = [bus(main_in), bus(side_in)];
            let mut outputs = [bus(main_out)];
            let mut data = ProcessData {
                processMode: kOffline as _,
                symbolicSampleSize: kSample32 as _,
                numSamples: BLOCK as _,
                numInputs: 2,
                numOutputs: 1,
                inputs: inputs.as_mut_ptr(),
                outputs: outputs.as_mut_ptr(),
                inputParameterChanges: std::ptr::null_mut(),
                outputParameterChanges: std::ptr::null_mut(),
                inputEvents: std::ptr::null_mut(),
                outputEvents: event_list.as_ptr(),
                processContext: std::ptr::null_mut(),
            };
            assert_eq!(processor.process(&mut data), kResultOk, "process");
            for event in events.events.borrow_mut().drain(..) {
                assert_eq!(u32::from(event.r#type), kLegacyMIDICCOutEvent as u32, "only MIDI CC-type events");
                let midi = event.__field0.midiCCOut;
                sent.push(Sent {
                    sample: block * BLOCK + event.sampleOffset as usize,
                    control: midi.controlNumber,
                    channel: midi.channel,
                    value: midi.value,
                });
            }
        }
        processor.setProcessing(0);
        component.setActive(0);
        component.terminate();
        sent
    }
}

#[test]
fn program_changes_reach_a_vst3_host() {
    // Silence reads `no voice` from the first hop; its program (100, sent as 99) goes out on
    // channel 5 (wire 4) once the next hop confirms it, at 1.0 s (within one hop and one block).
    let sent = render_silence(r#"{"no_voice_program":{"i32":100},"midi_channel":{"i32":5}}"#, 4.0);
    let programs: Vec<&Sent> = sent.iter().filter(|s| s.control == PROGRAM_CHANGE).collect();
    assert_eq!(programs.len(), 1, "{sent:?}");
    assert_eq!((programs[0].channel, programs[0].value), (4, 99));
    let at = programs[0].sample as f64 / RATE;
    assert!((0.5..=1.5 + BLOCK as f64 / RATE).contains(&at), "Program Change at {at:.3} s");
    // The confidence on CC 20, once per hop (0.5 s).
    let sent = render_silence(r#"{"no_voice_program":{"i32":100},"confidence_cc":{"i32":20}}"#, 4.0);
    let ccs = sent.iter().filter(|s| s.control == 20).count();
    assert!((7..=8).contains(&ccs), "{ccs} confidence CCs in 4 s: {sent:?}");
    // MIDI out off: nothing.
    assert_eq!(render_silence(r#"{"no_voice_program":{"i32":100},"midi_out":{"bool":false}}"#, 4.0), []);
}
