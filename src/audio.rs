//! Decoding audio files (WAV, FLAC, Ogg Vorbis, MP3) into one mono `f32` signal at the file's
//! own sample rate, with errors that tell the user which file is wrong and how. Resampling is
//! the front end's job, not this module's.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use symphonia::core::audio::{AudioBufferRef, SampleBuffer, SignalSpec};
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader, Track};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// A decoded file: all channels averaged into one.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Mono mix-down, nominally in [-1, 1]; never NaN or infinite.
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

impl Audio {
    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// Why a file could not be decoded. Every variant names the file, because a batch run over a
/// manifest must tell the user which of hundreds of files to fix.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{}: file not found", path.display())]
    NotFound { path: PathBuf },
    #[error("cannot read {}: {cause}", path.display())]
    Unreadable { path: PathBuf, cause: io::Error },
    #[error(
        "{}: unsupported or unrecognised audio format ({reason}); \
         expected WAV, FLAC, Ogg Vorbis or MP3",
        path.display()
    )]
    UnsupportedFormat { path: PathBuf, reason: String },
    #[error("{}: corrupt audio data: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{}: sample rate {rate} Hz is outside the {}-{} Hz this tool analyses",
        path.display(), SUPPORTED_RATES.start(), SUPPORTED_RATES.end()
    )]
    UnsupportedRate { path: PathBuf, rate: u32 },
    #[error("{}: contains no audio track", path.display())]
    NoAudioTrack { path: PathBuf },
    #[error("{}: contains no audio samples", path.display())]
    Empty { path: PathBuf },
}

impl AudioError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            AudioError::NotFound { path }
            | AudioError::Unreadable { path, .. }
            | AudioError::UnsupportedFormat { path, .. }
            | AudioError::Corrupt { path, .. }
            | AudioError::UnsupportedRate { path, .. }
            | AudioError::NoAudioTrack { path }
            | AudioError::Empty { path } => path,
        }
    }
}

/// Decodes the first audio track of `path` and mixes it down to mono.
///
/// Packets that fail to decode are skipped (one damaged frame should not lose a whole song);
/// the call fails only if no packet decodes at all. If the container itself becomes unreadable
/// part-way, the audio decoded up to that point is returned, as for a truncated file.
pub fn decode_file(path: &Path) -> Result<Audio, AudioError> {
    let mut mixer = MonoMixer::default();
    decode_into(path, &mut mixer, &mut |_: &mut MonoMixer| Ok::<(), AudioError>(()))?;
    mixer.finish(path)
}

/// What a streaming caller knows about the signal it is being handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamInfo {
    pub sample_rate: u32,
    /// Length in samples per channel, when the container says (for progress bars only).
    pub expected_samples: Option<u64>,
}

/// What a file that did decode was missing: packets skipped as damaged, or an end before the
/// length its header declares. Analysing what is there beats failing (one bad frame should not
/// lose a song), but the user has to hear that part of the file was not analysed.
#[derive(Debug, Clone, PartialEq)]
pub struct Damage {
    /// Packets that failed to decode and were skipped, and the last one's error.
    pub skipped_packets: usize,
    pub last_error: Option<String>,
    /// Samples per channel decoded, and the number the container declared when the file ends
    /// well before it (a truncated file); `None` when it does not.
    pub decoded_samples: u64,
    pub declared_samples: Option<u64>,
    pub sample_rate: u32,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = |n: u64| n as f64 / f64::from(self.sample_rate.max(1));
        let mut parts = Vec::new();
        if let Some(declared) = self.declared_samples {
            parts.push(format!(
                "ends after {:.2} s of the {:.2} s its header declares (truncated?)",
                seconds(self.decoded_samples),
                seconds(declared)
            ));
        }
        if self.skipped_packets > 0 {
            let last = self.last_error.as_deref().unwrap_or("unknown error");
            parts.push(format!("{} damaged packet(s) skipped (last: {last})", self.skipped_packets));
        }
        write!(f, "{}; only the audio that could be read was analysed", parts.join("; "))
    }
}

/// What [`decode_file_in_blocks`] delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Samples per channel handed to the sink.
    pub samples: u64,
    /// Set when part of the file could not be read.
    pub damage: Option<Damage>,
}

/// Decodes `path` like [`decode_file`] but hands the mono signal to `sink` packet by packet,
/// so a file of any length is processed in bounded memory. Returns what was delivered and
/// whether part of the file was damaged. Errors from `sink` stop decoding and are returned.
pub fn decode_file_in_blocks<E: From<AudioError>>(
    path: &Path,
    mut sink: impl FnMut(&[f32], StreamInfo) -> Result<(), E>,
) -> Result<Decoded, E> {
    let mut mixer = MonoMixer::default();
    let mut delivered = 0u64;
    decode_into(path, &mut mixer, &mut |m: &mut MonoMixer| -> Result<(), E> {
        if let (Some(sample_rate), false) = (m.sample_rate, m.samples.is_empty()) {
            sink(&m.samples, StreamInfo { sample_rate, expected_samples: m.expected_samples })?;
            delivered += m.samples.len() as u64;
            m.samples.clear();
        }
        Ok(())
    })?;
    let damage = mixer.damage();
    mixer.finish(path)?;
    Ok(Decoded { samples: delivered, damage })
}

/// Sample rates accepted, as for the plugin: below 8 kHz there is too little of a voice to
/// tell singers apart, and resampling from a tiny rate would take memory out of all proportion
/// to the file (a 1 Hz file is 16 000 times longer at 16 kHz).
pub const SUPPORTED_RATES: std::ops::RangeInclusive<u32> = 8_000..=768_000;

fn decode_into<E: From<AudioError>>(
    path: &Path,
    mixer: &mut MonoMixer,
    drain: &mut dyn FnMut(&mut MonoMixer) -> Result<(), E>,
) -> Result<(), E> {
    let file = open(path)?;
    // symphonia panics on some damaged headers (a WAV declaring 0 Hz): make that an error.
    let opened = without_panics(path, || {
        let reader = probe(path, file)?;
        let track = select_track(path, reader.as_ref())?;
        let decoder = make_decoder(path, &track)?;
        Ok((reader, track, decoder))
    });
    let (mut reader, track, mut decoder) = match opened {
        Ok(opened) => opened,
        // symphonia refuses valid WAVs it cannot represent (more than 26 channels): hound reads
        // those; for a WAV that is really damaged, symphonia's finding is the one reported.
        Err(refusal @ (AudioError::Corrupt { .. } | AudioError::UnsupportedFormat { .. })) => {
            return decode_wav_with_hound(path, mixer, drain, refusal)
        }
        Err(other) => return Err(other.into()),
    };
    mixer.expected_samples = track.codec_params.n_frames;
    decode_packets(path, reader.as_mut(), decoder.as_mut(), track.id, mixer, drain)
}

/// Decodes a WAV that symphonia refused (`refusal`, returned unless hound can read the header).
fn decode_wav_with_hound<E: From<AudioError>>(
    path: &Path,
    mixer: &mut MonoMixer,
    drain: &mut dyn FnMut(&mut MonoMixer) -> Result<(), E>,
    refusal: AudioError,
) -> Result<(), E> {
    let Ok(mut reader) = hound::WavReader::open(path) else { return Err(refusal.into()) };
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 {
        return Err(refusal.into());
    }
    mixer.check_rate(path, spec.sample_rate)?;
    mixer.expected_samples = Some(u64::from(reader.duration()));
    // Integers are scaled so full scale is ±1, as symphonia does.
    let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
    let mut samples: Box<dyn Iterator<Item = hound::Result<f32>>> = match spec.sample_format {
        hound::SampleFormat::Float => Box::new(reader.samples::<f32>()),
        hound::SampleFormat::Int => Box::new(reader.samples::<i32>().map(move |s| s.map(|s| s as f32 * scale))),
    };
    let mut interleaved = Vec::with_capacity(channels * 4096);
    loop {
        interleaved.clear();
        for sample in samples.by_ref().take(channels * 4096) {
            match sample {
                Ok(sample) => interleaved.push(sample),
                Err(e) if mixer.is_empty() && interleaved.is_empty() => {
                    return Err(AudioError::Corrupt { path: path.to_path_buf(), reason: e.to_string() }.into())
                }
                // Damaged or cut short after good audio: keep what was read, as for a truncated file.
                Err(_) => break,
            }
        }
        if interleaved.len() < channels {
            return Ok(());
        }
        mixer.push_interleaved(&interleaved, channels);
        drain(mixer)?;
    }
}

/// Runs decoder set-up, turning a panic inside the decoder library into a "corrupt" error (and
/// keeping its message off the terminal: the error says what happened).
fn without_panics<T>(path: &Path, work: impl FnOnce() -> Result<T, AudioError>) -> Result<T, AudioError> {
    use std::cell::Cell;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    thread_local!(static QUIET: Cell<bool> = const { Cell::new(false) });
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = catch_unwind(AssertUnwindSafe(work));
    QUIET.with(|q| q.set(false));
    result.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the decoder failed".into());
        Err(AudioError::Corrupt { path: path.to_path_buf(), reason: format!("unreadable header ({what})") })
    })
}

fn open(path: &Path) -> Result<File, AudioError> {
    let not_readable = |source| AudioError::Unreadable { path: path.to_path_buf(), cause: source };
    let file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => AudioError::NotFound { path: path.to_path_buf() },
        _ => not_readable(e),
    })?;
    // Opening a directory succeeds on Unix; reading it would fail with a confusing message.
    let metadata = file.metadata().map_err(not_readable)?;
    if metadata.is_dir() {
        return Err(not_readable(io::Error::other("it is a directory")));
    }
    Ok(file)
}

fn probe(path: &Path, file: File) -> Result<Box<dyn FormatReader>, AudioError> {
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let format_options = FormatOptions {
        // Trim MP3 encoder delay and padding so durations match the source.
        enable_gapless: true,
        ..Default::default()
    };
    symphonia::default::get_probe()
        .format(&hint, stream, &format_options, &MetadataOptions::default())
        .map(|probed| probed.format)
        .map_err(|e| probe_error(path, e))
}

fn probe_error(path: &Path, error: SymphoniaError) -> AudioError {
    let path = path.to_path_buf();
    match error {
        SymphoniaError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            AudioError::UnsupportedFormat { path, reason: "the file is empty or too short to hold a header".into() }
        }
        SymphoniaError::IoError(source) => AudioError::Unreadable { path, cause: source },
        SymphoniaError::Unsupported(_) => {
            AudioError::UnsupportedFormat { path, reason: "the data matches no known audio container".into() }
        }
        other => AudioError::Corrupt { path, reason: other.to_string() },
    }
}

/// The default track if it is audio, else the first audio track.
fn select_track(path: &Path, reader: &dyn FormatReader) -> Result<Track, AudioError> {
    let is_audio = |t: &&Track| t.codec_params.codec != CODEC_TYPE_NULL;
    reader
        .default_track()
        .filter(is_audio)
        .or_else(|| reader.tracks().iter().find(is_audio))
        .cloned()
        .ok_or_else(|| AudioError::NoAudioTrack { path: path.to_path_buf() })
}

fn make_decoder(path: &Path, track: &Track) -> Result<Box<dyn Decoder>, AudioError> {
    symphonia::default::get_codecs().make(&track.codec_params, &DecoderOptions::default()).map_err(|e| match e {
        SymphoniaError::Unsupported(what) => {
            AudioError::UnsupportedFormat { path: path.to_path_buf(), reason: format!("codec: {what}") }
        }
        other => AudioError::Corrupt { path: path.to_path_buf(), reason: other.to_string() },
    })
}

/// Reads and decodes every packet of `track_id` into `mixer`, calling `drain` after each
/// decoded packet (which may take the samples away).
fn decode_packets<E: From<AudioError>>(
    path: &Path,
    reader: &mut dyn FormatReader,
    decoder: &mut dyn Decoder,
    track_id: u32,
    mixer: &mut MonoMixer,
    drain: &mut dyn FnMut(&mut MonoMixer) -> Result<(), E>,
) -> Result<(), E> {
    loop {
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Ok(());
            }
            // A new logical stream (chained Ogg) starts; only the first one is decoded.
            Err(SymphoniaError::ResetRequired) => return Ok(()),
            Err(SymphoniaError::IoError(source)) => {
                return Err(AudioError::Unreadable { path: path.to_path_buf(), cause: source }.into());
            }
            Err(other) if mixer.is_empty() => {
                return Err(AudioError::Corrupt { path: path.to_path_buf(), reason: other.to_string() }.into());
            }
            // Damaged container after good audio: keep what we have, as for a truncated file.
            Err(_) => return Ok(()),
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => {
                mixer.push(path, buffer)?;
                drain(mixer)?;
            }
            // Per symphonia's contract these lose only this packet; decoding can go on.
            Err(SymphoniaError::DecodeError(what)) => mixer.record_bad_packet(what.to_string()),
            Err(SymphoniaError::IoError(e)) => mixer.record_bad_packet(e.to_string()),
            Err(SymphoniaError::ResetRequired) => {
                decoder.reset();
                mixer.record_bad_packet("decoder reset required".into());
            }
            Err(other) => {
                return Err(AudioError::Corrupt { path: path.to_path_buf(), reason: other.to_string() }.into());
            }
        }
    }
}

/// Accumulates decoded buffers as one mono signal.
#[derive(Default)]
struct MonoMixer {
    samples: Vec<f32>,
    /// Samples mixed so far, including any already taken away by a streaming caller.
    total: u64,
    expected_samples: Option<u64>,
    sample_rate: Option<u32>,
    /// Reused between packets; rebuilt when the signal layout or packet size changes.
    scratch: Option<(SampleBuffer<f32>, SignalSpec)>,
    bad_packets: usize,
    last_error: Option<String>,
}

impl MonoMixer {
    fn is_empty(&self) -> bool {
        self.total == 0
    }

    fn record_bad_packet(&mut self, error: String) {
        self.bad_packets += 1;
        self.last_error = Some(error);
    }

    fn push(&mut self, path: &Path, buffer: AudioBufferRef<'_>) -> Result<(), AudioError> {
        let spec = *buffer.spec();
        self.check_rate(path, spec.rate)?;
        let channels = spec.channels.count();
        if channels == 0 || buffer.frames() == 0 {
            return Ok(());
        }
        let capacity = buffer.capacity() as u64;
        let reusable = matches!(&self.scratch,
            Some((buf, old)) if *old == spec && buf.capacity() >= buffer.capacity() * channels);
        if !reusable {
            self.scratch = Some((SampleBuffer::new(capacity, spec), spec));
        }
        if let Some(mut scratch) = self.scratch.take() {
            scratch.0.copy_interleaved_ref(buffer);
            self.push_interleaved(scratch.0.samples(), channels);
            self.scratch = Some(scratch);
        }
        Ok(())
    }

    /// Mixes whole frames of `interleaved` (`channels` samples each; a partial last frame is dropped).
    fn push_interleaved(&mut self, interleaved: &[f32], channels: usize) {
        let before = self.samples.len();
        append_mono(&mut self.samples, interleaved, channels);
        self.total += (self.samples.len() - before) as u64;
    }

    fn check_rate(&mut self, path: &Path, rate: u32) -> Result<(), AudioError> {
        match self.sample_rate {
            None if rate == 0 => {
                Err(AudioError::Corrupt { path: path.to_path_buf(), reason: "sample rate is 0".into() })
            }
            None if !SUPPORTED_RATES.contains(&rate) => {
                Err(AudioError::UnsupportedRate { path: path.to_path_buf(), rate })
            }
            None => {
                self.sample_rate = Some(rate);
                Ok(())
            }
            Some(first) if first != rate => Err(AudioError::UnsupportedFormat {
                path: path.to_path_buf(),
                reason: format!("sample rate changes mid-stream ({first} Hz to {rate} Hz)"),
            }),
            Some(_) => Ok(()),
        }
    }

    /// What was lost, if anything. A file counts as truncated when it ends more than 0.1 s
    /// before its declared length: encoder delay and padding move the end by a few
    /// milliseconds in valid MP3 and Vorbis files.
    fn damage(&self) -> Option<Damage> {
        let sample_rate = self.sample_rate?;
        let slack = u64::from(sample_rate / 10).max(1);
        let declared_samples = self.expected_samples.filter(|&declared| declared > self.total + slack);
        (declared_samples.is_some() || self.bad_packets > 0).then(|| Damage {
            skipped_packets: self.bad_packets,
            last_error: self.last_error.clone(),
            decoded_samples: self.total,
            declared_samples,
            sample_rate,
        })
    }

    fn finish(self, path: &Path) -> Result<Audio, AudioError> {
        match (self.sample_rate, self.total == 0) {
            (Some(sample_rate), false) => Ok(Audio { samples: self.samples, sample_rate }),
            _ if self.bad_packets > 0 => Err(AudioError::Corrupt {
                path: path.to_path_buf(),
                reason: format!(
                    "none of {} audio packets could be decoded (last error: {})",
                    self.bad_packets,
                    self.last_error.unwrap_or_default()
                ),
            }),
            _ => Err(AudioError::Empty { path: path.to_path_buf() }),
        }
    }
}

/// Appends the per-frame channel average of `interleaved`; non-finite values count as 0 so
/// one bad sample cannot poison every feature computed downstream.
fn append_mono(out: &mut Vec<f32>, interleaved: &[f32], channels: usize) {
    let scale = 1.0 / channels as f32;
    out.extend(interleaved.chunks_exact(channels).map(|frame| {
        let sum: f32 = frame.iter().map(|&s| if s.is_finite() { s } else { 0.0 }).sum();
        sum * scale
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARED_DATA: &str = "/work/shared/data";

    /// A 16-bit mono PCM WAV with any declared sample rate (hound refuses some).
    fn wav_with_rate(rate: u32, samples: usize) -> Vec<u8> {
        let data_len = (samples * 2) as u32;
        let mut bytes = b"RIFF".to_vec();
        bytes.extend((36 + data_len).to_le_bytes());
        bytes.extend(b"WAVEfmt ");
        bytes.extend(16u32.to_le_bytes());
        bytes.extend(1u16.to_le_bytes()); // PCM
        bytes.extend(1u16.to_le_bytes()); // mono
        bytes.extend(rate.to_le_bytes());
        bytes.extend((rate * 2).to_le_bytes());
        bytes.extend(2u16.to_le_bytes());
        bytes.extend(16u16.to_le_bytes());
        bytes.extend(b"data");
        bytes.extend(data_len.to_le_bytes());
        bytes.extend(std::iter::repeat_n([16u8, 0u8], samples).flatten());
        bytes
    }

    #[test]
    fn impossible_sample_rates_are_errors_not_panics_or_memory_hogs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odd.wav");
        std::fs::write(&path, wav_with_rate(0, 100)).unwrap();
        let err = decode_file(&path).unwrap_err();
        assert!(matches!(err, AudioError::Corrupt { .. }) && err.to_string().contains("odd.wav"), "{err}");
        for rate in [1, 7_999, 1_000_000] {
            std::fs::write(&path, wav_with_rate(rate, 1000)).unwrap();
            let err = decode_file(&path).unwrap_err();
            assert!(matches!(err, AudioError::UnsupportedRate { rate: r, .. } if r == rate), "{err}");
        }
        std::fs::write(&path, wav_with_rate(8_000, 1000)).unwrap();
        assert_eq!(decode_file(&path).unwrap().sample_rate, 8_000);
    }

    fn write_wav_i16(path: &Path, channels: u16, rate: u32, frames: &[Vec<i16>]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        for frame in frames {
            for &s in frame {
                writer.write_sample(s).unwrap();
            }
        }
        writer.finalize().unwrap();
    }

    fn write_wav_f32(path: &Path, channels: u16, rate: u32, interleaved: &[f32]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        for &s in interleaved {
            writer.write_sample(s).unwrap();
        }
        writer.finalize().unwrap();
    }

    #[test]
    fn wavs_with_more_channels_than_symphonia_reads_decode_like_any_other() {
        let dir = tempfile::tempdir().unwrap();
        for channels in [27u16, 64] {
            // Channel k holds k * 256 in every frame; the mono mix is their mean.
            let path = dir.path().join(format!("{channels}ch.wav"));
            let frames: Vec<Vec<i16>> = (0..9000).map(|_| (0..channels).map(|k| k as i16 * 256).collect()).collect();
            write_wav_i16(&path, channels, 48_000, &frames);
            let expected = (channels - 1) as f32 / 2.0 * 256.0 / 32768.0;
            let audio = decode_file(&path).unwrap();
            assert_eq!((audio.sample_rate, audio.samples.len()), (48_000, 9000));
            assert!(audio.samples.iter().all(|&s| (s - expected).abs() < 1e-6), "{channels} channels");
            let mut streamed = 0;
            decode_file_in_blocks(&path, |block, info| -> Result<(), AudioError> {
                assert_eq!(info.expected_samples, Some(9000));
                streamed += block.len();
                Ok(())
            })
            .unwrap();
            assert_eq!(streamed, 9000);
        }
        // Damaged beyond what either decoder reads: still a clear "corrupt" error naming the file.
        let path = dir.path().join("27ch.wav");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(60);
        std::fs::write(&path, bytes).unwrap();
        let err = decode_file(&path).unwrap_err();
        assert!(err.to_string().contains("27ch.wav"), "{err}");
    }

    #[test]
    fn decodes_16_bit_stereo_as_channel_average() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stereo.wav");
        // 16384 / 32768 = 0.5, -8192 / 32768 = -0.25, so the first average is 0.125.
        let frames: Vec<Vec<i16>> =
            (0..1000).map(|i| if i % 2 == 0 { vec![16384, -8192] } else { vec![0, 8192] }).collect();
        write_wav_i16(&path, 2, 16000, &frames);
        let audio = decode_file(&path).unwrap();
        assert_eq!(audio.sample_rate, 16000);
        assert_eq!(audio.samples.len(), 1000);
        assert!((audio.samples[0] - 0.125).abs() < 1e-4, "{}", audio.samples[0]);
        assert!((audio.samples[1] - 0.125).abs() < 1e-4, "{}", audio.samples[1]);
        assert!((audio.duration_s() - 1000.0 / 16000.0).abs() < 1e-9);
    }

    #[test]
    fn decodes_float_wav_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("float.wav");
        let mono: Vec<f32> = (0..4410).map(|i| (i as f32 * 0.01).sin() * 0.8).collect();
        write_wav_f32(&path, 1, 44100, &mono);
        let audio = decode_file(&path).unwrap();
        assert_eq!(audio.sample_rate, 44100);
        assert_eq!(audio.samples, mono);
    }

    #[test]
    fn averages_any_channel_count_and_zeroes_non_finite_samples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("three.wav");
        // Frame 0: (0.3 + 0.6 + 0.9) / 3 = 0.6. Frame 1: NaN counts as 0: (0 + 0.3 + 0) / 3 = 0.1.
        let interleaved = [0.3, 0.6, 0.9, f32::NAN, 0.3, f32::INFINITY];
        write_wav_f32(&path, 3, 8000, &interleaved);
        let audio = decode_file(&path).unwrap();
        assert_eq!(audio.samples.len(), 2);
        assert!((audio.samples[0] - 0.6).abs() < 1e-6);
        assert!((audio.samples[1] - 0.1).abs() < 1e-6);
    }

    #[test]
    fn missing_file_error_names_the_path() {
        let path = Path::new("/no/such/dir/missing-clip.wav");
        let err = decode_file(path).unwrap_err();
        assert!(matches!(err, AudioError::NotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("/no/such/dir/missing-clip.wav"));
        assert_eq!(err.path(), path);
    }

    #[test]
    fn garbage_with_wav_extension_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage.wav");
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        std::fs::write(&path, bytes).unwrap();
        let err = decode_file(&path).unwrap_err();
        assert!(matches!(err, AudioError::UnsupportedFormat { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("garbage.wav"), "{message}");
        assert!(message.contains("unrecognised"), "{message}");
    }

    #[test]
    fn zero_byte_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nothing.flac");
        std::fs::write(&path, b"").unwrap();
        let err = decode_file(&path).unwrap_err();
        assert!(matches!(err, AudioError::UnsupportedFormat { .. }), "{err:?}");
        assert!(err.to_string().contains("nothing.flac"));
    }

    #[test]
    fn truncated_header_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.wav");
        write_wav_i16(&good, 1, 16000, &vec![vec![1000]; 100]);
        let bytes = std::fs::read(&good).unwrap();
        let cut = dir.path().join("cut.wav");
        std::fs::write(&cut, &bytes[..30]).unwrap();
        let err = decode_file(&cut).unwrap_err();
        assert!(err.to_string().contains("cut.wav"), "{err}");
    }

    #[test]
    fn a_file_cut_short_decodes_what_is_there_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.wav");
        write_wav_i16(&good, 1, 16000, &vec![vec![1000]; 32000]);
        let whole = decode_file_in_blocks(&good, |_, _| Ok::<(), AudioError>(())).unwrap();
        assert_eq!(whole, Decoded { samples: 32000, damage: None });
        // Half the data of a 2-s file: 1 s decoded of the 2 s the header declares.
        let bytes = std::fs::read(&good).unwrap();
        let cut = dir.path().join("cut.wav");
        std::fs::write(&cut, &bytes[..44 + 32000]).unwrap();
        let decoded = decode_file_in_blocks(&cut, |_, _| Ok::<(), AudioError>(())).unwrap();
        assert_eq!(decoded.samples, 16000);
        let damage = decoded.damage.expect("a truncated file is reported");
        assert_eq!((damage.decoded_samples, damage.declared_samples, damage.skipped_packets), (16000, Some(32000), 0));
        assert!(damage.to_string().starts_with("ends after 1.00 s of the 2.00 s its header declares"), "{damage}");
        // Within 0.1 s of the declared end is not damage (encoder padding).
        let nearly = dir.path().join("nearly.wav");
        std::fs::write(&nearly, &bytes[..bytes.len() - 2 * 1000]).unwrap();
        let decoded = decode_file_in_blocks(&nearly, |_, _| Ok::<(), AudioError>(())).unwrap();
        assert_eq!((decoded.samples, decoded.damage), (31000, None));
    }

    #[test]
    fn empty_wav_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.wav");
        write_wav_i16(&path, 1, 16000, &[]);
        let err = decode_file(&path).unwrap_err();
        assert!(matches!(err, AudioError::Empty { .. } | AudioError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("empty.wav"));
    }

    #[test]
    fn directory_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let err = decode_file(dir.path()).unwrap_err();
        assert!(matches!(err, AudioError::Unreadable { .. }), "{err:?}");
    }

    #[test]
    fn append_mono_averages_frames() {
        let mut out = vec![];
        append_mono(&mut out, &[1.0, 0.0, -1.0, -1.0], 2);
        assert_eq!(out, vec![0.5, -1.0]);
    }

    /// A file from the shared data set, or None (with a note) on machines without it.
    fn shared_file(relative: &str) -> Option<PathBuf> {
        let path = Path::new(SHARED_DATA).join(relative);
        if path.is_file() {
            Some(path)
        } else {
            eprintln!("skipping: {} not present", path.display());
            None
        }
    }

    fn assert_plausible(audio: &Audio, expected_rate: u32, expected_s: f64) {
        assert_eq!(audio.sample_rate, expected_rate);
        assert!(
            (audio.duration_s() - expected_s).abs() < 0.05,
            "duration {} s, expected {expected_s} s",
            audio.duration_s()
        );
        let peak = audio.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(peak > 0.01 && peak <= 1.0, "peak {peak}");
    }

    #[test]
    fn decodes_real_flac() {
        let Some(path) = shared_file("gtsinger-dev/EN-Tenor-1/EN-Tenor-1__song01__Control.flac") else {
            return;
        };
        // Duration from the data set's manifest.csv.
        assert_plausible(&decode_file(&path).unwrap(), 22050, 11.204);
    }

    #[test]
    fn decodes_real_ogg_vorbis() {
        let Some(path) = shared_file("utau/alys/ALYS-DB-001-JA__A4__N_N_a_N_i_N_u.ogg") else {
            return;
        };
        assert_plausible(&decode_file(&path).unwrap(), 22050, 7.246);
    }
}
