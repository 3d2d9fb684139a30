//! Live analysis of a real-time stream: the one bridge between an audio thread and the engine,
//! for every front door that has one (the plugin, the benchmark). The audio thread only mixes
//! the selected input to mono and copies it into a lock-free SPSC ring ([`AudioSide`]); a
//! worker thread per stream drains the ring into the engine's [`Analyzer`] and publishes
//! decisions to the GUI (lock-free queues and atomics) and to the owner's [`LiveControls`],
//! and the rig's MIDI back to the audio thread (a lock-free queue of `Copy` events, placed in
//! the block whose samples they belong to: [`AudioSide::rig_events`]).
//! It also keeps each hop's evidence ([`HeardLog`]) so that the song-mode timeline of
//! everything heard can be exported (on request, and automatically after an offline render).
//! The model is embedded in the binary and loaded once per process, never on the audio
//! thread. Nothing here knows about plugin formats: the owner supplies its settings and keeps
//! its state through [`LiveControls`].

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use atomic_float::AtomicF64;
use crossbeam::channel::{Receiver, Sender};
use crossbeam::queue::ArrayQueue;
use ringbuf::traits::{Consumer, Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

use crate::analyzer::{Analyzer, AnalyzerConfig, Observation};
use crate::decision::{merge_segments, Decision};
use crate::fsutil::write_atomically;
use crate::library::SingerLibrary;
use crate::model::{embedded, Model};
use crate::osc::OscSender;
use crate::rig::{default_program, ProgramFollower, RigEvent, RigSettings};
use crate::song::{decide_song, SongConfig};
use crate::timeline::{render, Format};

/// Which input the analysis listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputSource {
    /// The first channel.
    Left,
    /// The second channel (the only one of a mono input).
    Right,
    /// The mean of all main input channels.
    Mid,
    /// The mean of the side-chain input's channels (the main input when none is connected).
    SideChain,
}

/// What the owner of a live stream (the plugin, the benchmark) provides: its settings, read by
/// the worker before each chunk, and its state, which the worker updates. Called from the
/// worker thread only, never from the audio thread.
pub trait LiveControls: Send + Sync + 'static {
    /// Best score under which a voice reads as `unknown`.
    fn threshold(&self) -> f32;
    /// Seconds of scores averaged into each decision.
    fn smoothing_s(&self) -> f64;
    /// Never skip audio to keep up (the audio thread waits instead).
    fn never_drop(&self) -> bool;
    /// The library to match against; `None` for an empty one. A new `Arc` means a new library.
    fn library(&self) -> Option<Arc<SingerLibrary>>;
    /// Adds `name` with these embeddings to the library (the owner keeps and persists it).
    fn enroll(&self, name: &str, embeddings: Vec<Vec<f32>>) -> Result<(), String>;
    /// Forgets the decisions recorded so far (a new stream starts).
    fn clear_decisions(&self);
    /// Records one decision (for the owner's saved state).
    fn record_decision(&self, decision: &Decision);
    /// Where to write the song-mode timeline when an offline render ends, if anywhere.
    fn bounce_timeline_path(&self) -> Option<PathBuf>;
    /// Where to send each decision as OSC (`HOST:PORT`), if anywhere.
    fn osc_target(&self) -> Option<String> {
        None
    }
    /// What the rig output (MIDI) does, and whether the verdict is held.
    fn rig(&self) -> RigSettings {
        RigSettings::default()
    }
    /// Program (0–127) of the singer at `position` in the library.
    fn singer_program(&self, position: usize) -> u8 {
        default_program(position)
    }
    /// Whether the singer at `position` in the library is considered at all (tonight's set
    /// list); a disabled singer is left out of the matching.
    fn singer_enabled(&self, _position: usize) -> bool {
        true
    }
}

/// Controls that never change and keep nothing: the built-in model's default threshold, 1 s of
/// smoothing, the given library (for the benchmark and tests).
#[derive(Debug, Default)]
pub struct FixedControls {
    pub library: Option<Arc<SingerLibrary>>,
}

impl LiveControls for FixedControls {
    fn threshold(&self) -> f32 {
        embedded::metadata().default_threshold
    }

    fn smoothing_s(&self) -> f64 {
        1.0
    }

    fn never_drop(&self) -> bool {
        false
    }

    fn library(&self) -> Option<Arc<SingerLibrary>> {
        self.library.clone()
    }

    fn enroll(&self, _name: &str, _embeddings: Vec<Vec<f32>>) -> Result<(), String> {
        Err("this stream's library cannot be changed".into())
    }

    fn clear_decisions(&self) {}

    fn record_decision(&self, _decision: &Decision) {}

    fn bounce_timeline_path(&self) -> Option<PathBuf> {
        None
    }
}

/// Seconds of audio the ring holds; the contract asks for at least 2.
pub const RING_SECONDS: f32 = 4.0;
/// Live mode: when the worker falls this many seconds behind, it drops the oldest audio...
const MAX_BACKLOG_SECONDS: f32 = 3.0;
/// ...down to this much, so what it shows stays close to what is playing.
const KEPT_BACKLOG_SECONDS: f32 = 0.5;
/// Samples mixed per step on the audio thread (the scratch buffer's size; bigger host blocks
/// are handled in several steps).
pub const MIX_CHUNK: usize = 16384;
/// Samples the worker hands to the analyzer per call.
const WORKER_CHUNK: usize = 8192;
/// How long the worker sleeps when the ring is empty (live mode).
const WORKER_IDLE: Duration = Duration::from_millis(5);
/// Offline rendering gives up waiting for a stuck worker after this long, so a host never hangs.
const OFFLINE_WAIT_LIMIT: Duration = Duration::from_secs(10);
/// Decisions buffered for the editor (64 s at the 0.5 s hop); older ones are dropped when it
/// is closed.
const GUI_QUEUE_LEN: usize = 128;
/// Hops kept for the song-mode timeline: 4 hours at the 0.5 s hop (about 25 MB of embeddings
/// with v2); beyond that the oldest go.
const HEARD_MAX_HOPS: usize = 4 * 3600 * 2;
/// Rig events waiting for the audio thread; at one or two per hop it never holds more than a
/// few, and when no audio comes to take them the oldest go.
const RIG_QUEUE_LEN: usize = 256;
/// Singers (by library position) whose enable switch the worker follows; later ones are
/// always considered.
const SWITCHABLE_SINGERS: usize = 64;
/// Least time between two OSC score messages: every hop live (0.5 s), at most 10 a second when
/// an offline render or a worker catching up produces hops faster.
const OSC_SCORES_INTERVAL: Duration = Duration::from_millis(100);

/// A library with no singers, for the built-in model.
fn empty_library() -> Arc<SingerLibrary> {
    Arc::new(SingerLibrary::new(embedded::metadata()))
}

/// The loaded model, shared by all instances in the process and freed with the last of them.
pub fn shared_model() -> Result<Arc<Model>, String> {
    static CACHE: Mutex<Weak<Model>> = Mutex::new(Weak::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(model) = cache.upgrade() {
        return Ok(model);
    }
    let model = embedded::load().map_err(|e| e.to_string())?;
    let model = Arc::new(model);
    *cache = Arc::downgrade(&model);
    Ok(model)
}

/// What the editor reads. Everything here but `heard` is lock-free; `heard` is locked by the
/// worker once per chunk it analyses (to append hops) and by an export (milliseconds), never by
/// the audio thread.
#[derive(Debug)]
pub struct GuiFeed {
    /// Every hop heard since activation, for the song-mode timeline.
    pub heard: Mutex<HeardLog>,
    /// New decisions for the editor; the worker force-pushes, dropping the oldest when full.
    pub decisions: ArrayQueue<Decision>,
    /// Replies to editor requests (enrolment results).
    pub notices: ArrayQueue<String>,
    /// Seconds of audio analysed since activation.
    pub position_s: AtomicF64,
    /// Input samples left out of the analysis because it fell behind (live mode only).
    pub dropped_samples: AtomicU64,
    /// Whether a worker is running (enrolment needs one: it holds the recent embeddings).
    pub running: AtomicBool,
}

impl Default for GuiFeed {
    fn default() -> Self {
        Self {
            heard: Mutex::default(),
            decisions: ArrayQueue::new(GUI_QUEUE_LEN),
            notices: ArrayQueue::new(16),
            position_s: AtomicF64::new(0.0),
            dropped_samples: AtomicU64::new(0),
            running: AtomicBool::new(false),
        }
    }
}

/// What the analysis heard since the last activation, hop by hop: the evidence song mode
/// decides from ([`crate::song`]), so a live or offline run can give the same timeline as
/// `singer-id analyze` on the bounced file.
#[derive(Debug, Default)]
pub struct HeardLog {
    hops: VecDeque<Observation>,
    /// End of the audio heard, in seconds from activation.
    end_s: f64,
    /// Settings of the analyzer that made the observations (`None` before the first activation).
    cfg: Option<AnalyzerConfig>,
    /// Whether hops were dropped from the front to stay within [`HEARD_MAX_HOPS`].
    trimmed: bool,
}

impl HeardLog {
    fn restart(&mut self, cfg: AnalyzerConfig) {
        *self = HeardLog { cfg: Some(cfg), ..HeardLog::default() };
    }

    fn record(&mut self, hops: &mut Vec<Observation>, end_s: f64) {
        for hop in hops.drain(..) {
            if self.hops.len() == HEARD_MAX_HOPS {
                self.hops.pop_front();
                self.trimmed = true;
            }
            self.hops.push_back(hop);
        }
        self.end_s = self.end_s.max(end_s);
    }

    /// Seconds of audio heard since activation.
    pub fn duration_s(&self) -> f64 {
        self.end_s
    }

    /// The song-mode timeline of everything heard (song mode's default settings), scored
    /// against `library` as it is now, so singers enrolled after the audio played count too.
    pub fn song_timeline(&self, library: &SingerLibrary, threshold: f32) -> Vec<Decision> {
        let Some(cfg) = &self.cfg else { return Vec::new() };
        let cfg = cfg.with_threshold(threshold);
        let hops: Vec<Observation> = self.hops.iter().map(|h| h.rescored(library, cfg.scoring)).collect();
        let mut decisions = decide_song(&hops, library, &cfg, &SongConfig::default(), self.end_s);
        if self.trimmed {
            // The first kept hop's decision would reach back to 0: start it at its own window.
            let first = self.hops.front().map_or(0.0, |h| h.window_start_s);
            decisions.retain(|d| d.end_s > first);
            if let Some(d) = decisions.first_mut() {
                d.start_s = d.start_s.max(first);
            }
        }
        decisions
    }
}

/// Writes the song-mode timeline of what `feed` heard to `path`, atomically, in the format its
/// extension names (`.json`, `.csv`, `.txt` for Audacity labels). Returns a line for the user.
pub fn export_timeline(feed: &GuiFeed, library: &SingerLibrary, threshold: f32, path: &Path) -> Result<String, String> {
    let format = Format::from_path(path)
        .ok_or_else(|| format!("{}: name the timeline .json, .csv or .txt (Audacity labels)", path.display()))?;
    let (decisions, heard_s) = {
        let heard = feed.heard.lock().unwrap_or_else(|e| e.into_inner());
        (heard.song_timeline(library, threshold), heard.duration_s())
    };
    if decisions.is_empty() {
        return Err("nothing heard yet: play or render some audio first".into());
    }
    let text = render(format, &merge_segments(&decisions), &decisions, "plugin input");
    write_atomically(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(format!("Wrote the timeline of {heard_s:.1} s to {}", path.display()))
}

/// Editor requests that need the worker's analyzer.
#[derive(Debug)]
pub enum Request {
    /// Enrol the voiced hops of the last `seconds` under `name`.
    Enroll { name: String, seconds: f64 },
}

/// Counters and flags shared by the audio side, the worker and its handle.
#[derive(Debug, Default)]
struct Progress {
    /// Samples the worker has taken from the ring (analysed or dropped).
    consumed: AtomicU64,
    /// Set by the handle to end the worker.
    stop: AtomicBool,
    /// Cleared by the worker when it exits, so offline waits end.
    alive: AtomicBool,
}

/// The audio thread's half: everything it touches was allocated in `activate()`.
pub struct AudioSide {
    /// Mono samples for the worker.
    producer: HeapProd<f32>,
    /// Mixing buffer, allocated with [`MIX_CHUNK`] capacity.
    scratch: Vec<f32>,
    /// Samples written into the ring since activation.
    pushed: u64,
    /// Shared with the worker.
    progress: Arc<Progress>,
    /// Dropped-sample counter lives in the feed so the editor can show it.
    feed: Arc<GuiFeed>,
    /// Woken after each block when rendering offline.
    worker: Thread,
    /// Offline bounce: wait for the worker after each block so nothing is dropped.
    offline: bool,
    /// Rig events from the worker.
    rig: Arc<ArrayQueue<RigEvent>>,
    /// An event taken from the queue that belongs to a later block.
    rig_pending: Option<RigEvent>,
    /// Samples received since activation (pushed or dropped): the stream clock rig events are
    /// stamped with; the last block given to [`AudioSide::push_block`] ends here.
    stream_pos: u64,
    /// Length of that last block.
    block_len: usize,
}

impl AudioSide {
    /// Mixes `input` of this block to mono and queues it for analysis. Never allocates, locks
    /// or blocks, except offline or when `wait` (the "Analyse every sample" option) is set,
    /// where it waits for the worker to catch up.
    pub fn push_block(&mut self, main: &[&mut [f32]], side: Option<&[&mut [f32]]>, input: InputSource, wait: bool) {
        let samples = main.first().map_or(0, |c| c.len());
        self.block_len = samples;
        self.stream_pos += samples as u64;
        let mut start = 0;
        while start < samples {
            let len = (samples - start).min(MIX_CHUNK);
            let mono = &mut self.scratch[..len];
            mix_to_mono(main, side, input, start, mono);
            let written = self.producer.push_slice(mono);
            self.pushed += written as u64;
            if written < len {
                self.feed.dropped_samples.fetch_add((len - written) as u64, Ordering::Relaxed);
            }
            start += len;
        }
        if (self.offline || wait) && samples > 0 {
            self.wait_for_worker();
        }
    }

    /// Hands `emit` the rig events that are due by the end of the last pushed block, each with
    /// its offset in that block: where its decision's audio ends, or the block's first sample
    /// when the decision came later than its audio (live, the worker runs behind). Lock-free
    /// and allocation-free; events beyond the block wait for the next one.
    pub fn rig_events(&mut self, mut emit: impl FnMut(u32, RigEvent)) {
        if self.block_len == 0 {
            return;
        }
        let start = self.stream_pos - self.block_len as u64;
        while let Some(event) = self.rig_pending.take().or_else(|| self.rig.pop()) {
            if event.at_sample >= self.stream_pos {
                self.rig_pending = Some(event);
                break;
            }
            let offset = event.at_sample.saturating_sub(start) as u32;
            emit(offset, event);
        }
    }

    fn wait_for_worker(&self) {
        self.worker.unpark();
        let started = Instant::now();
        while self.progress.consumed.load(Ordering::Acquire) < self.pushed
            && self.progress.alive.load(Ordering::Acquire)
            && started.elapsed() < OFFLINE_WAIT_LIMIT
        {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// Writes the selected input for samples `start..start + out.len()` into `out`.
fn mix_to_mono(main: &[&mut [f32]], side: Option<&[&mut [f32]]>, input: InputSource, start: usize, out: &mut [f32]) {
    let range = start..start + out.len();
    let mean_of = |channels: &[&mut [f32]], out: &mut [f32]| {
        let scale = 1.0 / channels.len() as f32;
        out.copy_from_slice(&channels[0][range.clone()]);
        for channel in &channels[1..] {
            out.iter_mut().zip(&channel[range.clone()]).for_each(|(o, x)| *o += x);
        }
        // Mid of identical channels is exactly the mono signal: (x + x) * 0.5 == x.
        if channels.len() > 1 {
            out.iter_mut().for_each(|o| *o *= scale);
        }
    };
    match input {
        InputSource::Left => out.copy_from_slice(&main[0][range.clone()]),
        InputSource::Right => out.copy_from_slice(&main[main.len().min(2) - 1][range.clone()]),
        InputSource::Mid => mean_of(main, out),
        InputSource::SideChain => match side {
            Some(side) if !side.is_empty() => mean_of(side, out),
            _ => mean_of(main, out),
        },
    }
}

/// The plugin's handle on its running worker; stopping (or dropping) it joins the thread.
pub struct WorkerHandle {
    /// The worker thread, joined on stop.
    join: Option<JoinHandle<()>>,
    /// Shared with the worker and the audio side.
    progress: Arc<Progress>,
    /// Requests from the editor; dropped with the handle.
    pub requests: Sender<Request>,
}

impl WorkerHandle {
    pub fn stop(&mut self) {
        if let Some(join) = self.join.take() {
            self.progress.stop.store(true, Ordering::Release);
            join.thread().unpark();
            let _ = join.join();
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the analysis for one activation: a ring of [`RING_SECONDS`] at `sample_rate` and a
/// worker thread with a fresh analyzer. Runs on the main thread (allocates, loads the model).
pub fn start(
    controls: Arc<dyn LiveControls>,
    feed: Arc<GuiFeed>,
    sample_rate: f32,
    offline: bool,
) -> Result<(AudioSide, WorkerHandle), String> {
    let model = shared_model()?;
    let library = controls.library().unwrap_or_else(empty_library);
    let rate = sample_rate.round() as u32;
    let mut cfg = AnalyzerConfig::for_model(&model);
    cfg.threshold = controls.threshold();
    cfg.smoothing_s = controls.smoothing_s();
    let analyzer = Analyzer::new(model, library.clone(), cfg, rate)?;

    let capacity = ((sample_rate * RING_SECONDS) as usize).max(2 * MIX_CHUNK);
    let (producer, consumer) = HeapRb::<f32>::new(capacity).split();
    let progress = Arc::new(Progress { alive: AtomicBool::new(true), ..Default::default() });
    let (requests, receiver) = crossbeam::channel::unbounded();
    let rig = Arc::new(ArrayQueue::new(RIG_QUEUE_LEN));
    feed.position_s.store(0.0, Ordering::Relaxed);
    feed.dropped_samples.store(0, Ordering::Relaxed);
    feed.heard.lock().unwrap_or_else(|e| e.into_inner()).restart(analyzer.config().clone());
    controls.clear_decisions();
    let worker = Worker {
        consumer,
        analyzer,
        library,
        disabled: 0,
        controls,
        feed: feed.clone(),
        progress: progress.clone(),
        requests: receiver,
        offline,
        max_backlog: (sample_rate * MAX_BACKLOG_SECONDS) as usize,
        kept_backlog: (sample_rate * KEPT_BACKLOG_SECONDS) as usize,
        dropped_seen: 0,
        osc_target: None,
        osc: None,
        rig: rig.clone(),
        follower: ProgramFollower::default(),
        sample_rate: f64::from(sample_rate),
    };
    let join = std::thread::Builder::new()
        .name("singer-id analysis".into())
        .spawn(move || worker.run())
        .map_err(|e| format!("cannot start the analysis thread: {e}"))?;
    let audio = AudioSide {
        producer,
        scratch: vec![0.0; MIX_CHUNK],
        pushed: 0,
        progress: progress.clone(),
        feed,
        worker: join.thread().clone(),
        offline,
        rig,
        rig_pending: None,
        stream_pos: 0,
        block_len: 0,
    };
    Ok((audio, WorkerHandle { join: Some(join), progress, requests }))
}

/// The worker thread's state: the analyzer and the consuming end of the ring.
struct Worker {
    /// Mono samples from the audio thread.
    consumer: HeapCons<f32>,
    /// The engine, unchanged from the CLI's.
    analyzer: Analyzer,
    /// The owner's whole library, to notice when the editor or a state load replaces it (the
    /// analyzer has the part of it that is enabled).
    library: Arc<SingerLibrary>,
    /// Bit `i` set: the singer at position `i` is disabled.
    disabled: u64,
    /// The owner's settings, library and decision log.
    controls: Arc<dyn LiveControls>,
    /// Where the editor reads results.
    feed: Arc<GuiFeed>,
    /// Shared counters and the stop flag.
    progress: Arc<Progress>,
    /// Editor requests.
    requests: Receiver<Request>,
    /// Offline bounce: never drop audio.
    offline: bool,
    /// Live mode: backlog (samples) at which the oldest audio is dropped...
    max_backlog: usize,
    /// ...and the backlog kept after dropping.
    kept_backlog: usize,
    /// Dropped samples already reported to the analyzer's clock.
    dropped_seen: u64,
    /// The OSC target last configured, and the sender for it (`None` when off or refused).
    osc_target: Option<String>,
    osc: Option<OscSender>,
    /// Rig events for the audio thread.
    rig: Arc<ArrayQueue<RigEvent>>,
    /// Turns verdicts into Program Changes.
    follower: ProgramFollower,
    /// The stream's sample rate, to stamp rig events with samples.
    sample_rate: f64,
}

impl Worker {
    fn run(mut self) {
        self.feed.running.store(true, Ordering::Release);
        let mut block = vec![0.0f32; WORKER_CHUNK];
        let mut decisions = Vec::new();
        let mut heard = Vec::new();
        while !self.progress.stop.load(Ordering::Acquire) {
            self.sync_settings();
            while let Ok(request) = self.requests.try_recv() {
                self.handle(request);
            }
            let backlog = self.consumer.occupied_len();
            let never_drop = self.offline || self.controls.never_drop();
            if !never_drop && backlog > self.max_backlog {
                let skipped = self.consumer.skip(backlog - self.kept_backlog);
                self.feed.dropped_samples.fetch_add(skipped as u64, Ordering::Relaxed);
                self.progress.consumed.fetch_add(skipped as u64, Ordering::Release);
            }
            // Audio dropped on either side (a full ring, or skipped just above) moves the
            // analyzer's clock on, so decisions keep the times their audio played at.
            let dropped = self.feed.dropped_samples.load(Ordering::Relaxed);
            if dropped > self.dropped_seen {
                self.analyzer.skip_input(dropped - self.dropped_seen);
                self.dropped_seen = dropped;
            }
            let n = self.consumer.pop_slice(&mut block);
            if n == 0 {
                std::thread::park_timeout(WORKER_IDLE);
                continue;
            }
            if let Err(e) = self.analyzer.push_keeping(&block[..n], &mut decisions, &mut heard) {
                self.notice(format!("analysis failed: {e}"));
            }
            self.publish(&mut decisions, &mut heard);
            self.progress.consumed.fetch_add(n as u64, Ordering::Release);
        }
        if self.offline {
            self.end_of_render(&mut block, &mut decisions, &mut heard);
        }
        self.feed.running.store(false, Ordering::Release);
        self.progress.alive.store(false, Ordering::Release);
    }

    /// Hands new decisions to the editor and the state's log, and the hops to the heard log.
    fn publish(&mut self, decisions: &mut Vec<Decision>, heard: &mut Vec<Observation>) {
        let rig = if decisions.is_empty() { RigSettings::default() } else { self.controls.rig() };
        for decision in decisions.drain(..) {
            let at_sample = (decision.end_s * self.sample_rate).round().max(0.0) as u64;
            let (library, controls) = (&self.library, &self.controls);
            let program_of = |name: &str| {
                let position = library.singers.iter().position(|s| s.name == name).unwrap_or(0);
                controls.singer_program(position)
            };
            self.follower.follow(&decision, &rig, program_of, |message| {
                self.rig.force_push(RigEvent { at_sample, channel: rig.channel, message });
            });
            if let Some(Err(e)) = self.osc.as_mut().map(|osc| osc.send(&decision, rig.hold)) {
                // Reported once; sending resumes when the target is set again.
                self.osc = None;
                self.notice(format!("{e}; OSC off"));
            }
            self.controls.record_decision(&decision);
            self.feed.decisions.force_push(decision);
        }
        // Also with no new hop: the timeline ends where the audio does.
        self.feed.heard.lock().unwrap_or_else(|e| e.into_inner()).record(heard, self.analyzer.input_end_s());
        self.feed.position_s.store(self.analyzer.position_s(), Ordering::Relaxed);
    }

    /// An offline render is over (the host deactivates the plugin): analyse what the resampler
    /// still held, then write the song-mode timeline where the user asked for one.
    fn end_of_render(&mut self, block: &mut [f32], decisions: &mut Vec<Decision>, heard: &mut Vec<Observation>) {
        // Offline the audio thread waits for each block, so the ring is normally empty here.
        loop {
            let n = self.consumer.pop_slice(block);
            if n == 0 {
                break;
            }
            if let Err(e) = self.analyzer.push_keeping(&block[..n], decisions, heard) {
                self.notice(format!("analysis failed: {e}"));
            }
            self.progress.consumed.fetch_add(n as u64, Ordering::Release);
        }
        if let Err(e) = self.analyzer.finish_keeping(decisions, heard) {
            self.notice(format!("analysis failed: {e}"));
        }
        self.publish(decisions, heard);
        if let Some(path) = self.controls.bounce_timeline_path() {
            let library = self.controls.library().unwrap_or_else(empty_library);
            let reply = export_timeline(&self.feed, &library, self.analyzer.config().threshold, &path)
                .unwrap_or_else(|e| format!("bounce timeline not written: {e}"));
            self.notice(reply);
        }
    }

    /// Applies parameter changes, a replaced library (editor edit or state load) and a new
    /// OSC target.
    fn sync_settings(&mut self) {
        let osc_target = self.controls.osc_target();
        if osc_target != self.osc_target {
            self.osc = None;
            if let Some(target) = &osc_target {
                match OscSender::connect(target).map(|osc| osc.with_scores_interval(OSC_SCORES_INTERVAL)) {
                    Ok(osc) => {
                        self.notice(format!("Sending OSC to {}", osc.target()));
                        self.osc = Some(osc);
                    }
                    Err(e) => self.notice(e.to_string()),
                }
            }
            self.osc_target = osc_target;
        }
        let threshold = self.controls.threshold();
        if threshold != self.analyzer.config().threshold {
            self.analyzer.set_threshold(threshold);
        }
        let smoothing = self.controls.smoothing_s();
        if smoothing != self.analyzer.config().smoothing_s {
            self.analyzer.set_smoothing_s(smoothing);
        }
        let current = self.controls.library();
        let replaced = match &current {
            Some(library) => !Arc::ptr_eq(library, &self.library),
            None => !self.library.singers.is_empty(),
        };
        let library = if replaced { current.unwrap_or_else(empty_library) } else { self.library.clone() };
        let disabled = (0..library.singers.len().min(SWITCHABLE_SINGERS))
            .filter(|&i| !self.controls.singer_enabled(i))
            .fold(0u64, |bits, i| bits | 1 << i);
        if replaced || disabled != self.disabled {
            let matching = if disabled == 0 {
                library.clone()
            } else {
                let mut enabled = (*library).clone();
                let mut position = 0;
                enabled.singers.retain(|_| {
                    position += 1;
                    position > SWITCHABLE_SINGERS || disabled & 1 << (position - 1) == 0
                });
                Arc::new(enabled)
            };
            match self.analyzer.set_library(matching.clone()) {
                Ok(()) => (self.library, self.disabled) = (library, disabled),
                Err(e) => self.notice(e),
            }
        }
    }

    fn handle(&mut self, request: Request) {
        match request {
            Request::Enroll { name, seconds } => {
                let embeddings = self.analyzer.recent_embeddings(seconds);
                let count = embeddings.len();
                let reply = match self.controls.enroll(&name, embeddings) {
                    Ok(()) => format!("Enrolled {} from {count} voiced hops", name.trim()),
                    Err(e) => e,
                };
                self.notice(reply);
            }
        }
    }

    fn notice(&self, text: String) {
        self.feed.notices.force_push(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mid_of_identical_channels_is_the_mono_signal() {
        let mut l = vec![0.1f32, -0.7, 1e-39, f32::NAN];
        let mut r = l.clone();
        let main: [&mut [f32]; 2] = [&mut l, &mut r];
        let mut out = [0.0f32; 4];
        mix_to_mono(&main, None, InputSource::Mid, 0, &mut out);
        assert_eq!(out[..3], [0.1, -0.7, 1e-39]);
        assert!(out[3].is_nan());
        mix_to_mono(&main, None, InputSource::SideChain, 0, &mut out);
        assert_eq!(out[..3], [0.1, -0.7, 1e-39]);
    }

    #[test]
    fn rig_events_land_in_the_block_that_holds_their_sample() {
        let controls = Arc::new(FixedControls::default());
        let (mut audio, mut worker) = start(controls, Arc::new(GuiFeed::default()), 48_000.0, false).unwrap();
        worker.stop();
        let program = |p| RigEvent { at_sample: 0, channel: 0, message: crate::rig::RigMessage::Program(p) };
        for (at_sample, p) in [(10, 1), (600, 2), (1500, 3)] {
            audio.rig.push(RigEvent { at_sample, ..program(p) }).unwrap();
        }
        let mut l = vec![0.0f32; 512];
        let mut placed = Vec::new();
        for len in [0, 512, 512, 512] {
            let main: [&mut [f32]; 1] = [&mut l[..len]];
            audio.push_block(&main, None, InputSource::Left, false);
            audio.rig_events(|offset, e| placed.push((len, offset, e.at_sample)));
        }
        // Sample 10 in the first 512-sample block, 600 in the second (offset 88), 1500 in the
        // third (offset 476); none in the empty block.
        assert_eq!(placed, [(512, 10, 10), (512, 88, 600), (512, 476, 1500)]);
        // A late event (its audio already passed) goes at the start of the block.
        audio.rig.push(RigEvent { at_sample: 5, ..program(4) }).unwrap();
        let main: [&mut [f32]; 1] = [&mut l[..64]];
        audio.push_block(&main, None, InputSource::Left, false);
        let mut late = Vec::new();
        audio.rig_events(|offset, e| late.push((offset, e.at_sample)));
        assert_eq!(late, [(0, 5)]);
    }

    /// Run by .ci/plugin-alloc-check: nice-plug's allocator counts allocations made inside
    /// `assert_no_alloc` (warn_debug), so the real-time path can be checked in-process.
    #[cfg(feature = "assert_process_allocs")]
    #[test]
    fn audio_path_never_allocates() {
        use nice_assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count};
        let controls = Arc::new(FixedControls::default());
        let (mut audio, mut worker) = start(controls, Arc::new(GuiFeed::default()), 48_000.0, false).unwrap();
        reset_violation_count();
        assert_no_alloc(|| drop(std::hint::black_box(vec![1u8; 8])));
        assert!(violation_count() > 0, "the allocation counter must see an allocation");
        reset_violation_count();
        let mut l: Vec<f32> = (0..MIX_CHUNK * 2).map(|i| (i as f32 * 0.01).sin()).collect();
        let mut r = l.clone();
        let (mut sl, mut sr) = (l.clone(), l.clone());
        l[10] = f32::NAN;
        r[20] = f32::INFINITY;
        let main: [&mut [f32]; 2] = [&mut l, &mut r];
        let side: [&mut [f32]; 2] = [&mut sl, &mut sr];
        // Rig events waiting for the audio thread, some due in a later block than the first.
        for i in 0..64u64 {
            let message = crate::rig::RigMessage::Program((i % 128) as u8);
            audio.rig.force_push(RigEvent { at_sample: i * 4000, channel: 0, message });
        }
        let mut placed = 0u64;
        assert_no_alloc(|| {
            // More than the ring holds (4 s at 48 kHz), so the full-ring path runs too.
            for _ in 0..8 {
                for input in [InputSource::Left, InputSource::Right, InputSource::Mid, InputSource::SideChain] {
                    audio.push_block(&main, Some(&side), input, false);
                    audio.rig_events(|offset, event| placed += u64::from(offset) + event.at_sample);
                    audio.push_block(&main[..1], None, input, false);
                    audio.rig_events(|offset, event| placed += u64::from(offset) + event.at_sample);
                }
            }
        });
        assert_eq!(violation_count(), 0, "process() allocated");
        assert!(placed > 0, "the rig events were placed");
        worker.stop();
    }
}
