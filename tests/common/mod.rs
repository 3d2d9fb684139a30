//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use singer_id::analyzer::DEFAULT_VOICE_FLOOR_DB;
use singer_id::audio::decode_file;
use singer_id::embed::clip_window_embeddings;
use singer_id::library::SingerLibrary;
use singer_id::model::Model;

pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Names of the demo singers: one enrolment file each in `demo/enroll/`.
pub fn demo_singers() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_path("demo/enroll"))
        .unwrap()
        .filter_map(|e| e.ok()?.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

/// The demo track's sections (`demo/demo-track.sections.csv`) as (start s, end s, label).
pub fn demo_sections() -> Vec<(f64, f64, String)> {
    let text = std::fs::read_to_string(repo_path("demo/demo-track.sections.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].to_string())
        })
        .collect()
}

/// Writes mono float samples as a 32-bit float WAV.
pub fn write_wav(path: &Path, samples: &[f32], rate: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    samples.iter().for_each(|&s| w.write_sample(s).unwrap());
    w.finalize().unwrap();
}

/// Cuts `[start, end)` seconds of a decoded repository file into a WAV named `name` in `dir`;
/// returns `name`.
pub fn cut(dir: &Path, name: &str, source: &str, start: f64, end: f64) -> String {
    let audio = decode_file(&repo_path(source)).unwrap();
    let r = audio.sample_rate as f64;
    let end = ((end * r) as usize).min(audio.samples.len());
    write_wav(&dir.join(name), &audio.samples[(start * r) as usize..end], audio.sample_rate);
    name.to_string()
}

/// The default model, loaded once per test binary.
pub fn default_model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| Arc::new(Model::load_named(singer_id::model::DEFAULT_MODEL).expect("bundled model loads")))
        .clone()
}

/// A library of the demo singers, each enrolled from `demo/enroll/<name>.flac` by `model`.
pub fn demo_library(model: &Model) -> SingerLibrary {
    let mut library = SingerLibrary::new(model.metadata());
    for name in demo_singers() {
        let audio = decode_file(&repo_path(&format!("demo/enroll/{name}.flac"))).unwrap();
        let refs = clip_window_embeddings(model, &audio.samples, audio.sample_rate, DEFAULT_VOICE_FLOOR_DB).unwrap();
        library.enroll(&name, refs).unwrap();
    }
    library
}

/// A small deterministic generator (xorshift) so "random" block sizes are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Decodes an RGB PNG written by `--plot`: width, height and the pixels, row by row.
pub fn read_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    pixels.truncate(info.buffer_size());
    (info.width, info.height, pixels)
}

/// How many pixels of an RGB image have exactly this colour.
pub fn count_color(pixels: &[u8], rgb: [u8; 3]) -> usize {
    pixels.chunks_exact(3).filter(|p| *p == rgb).count()
}

/// The next datagram on `socket` (which has a read timeout), its length in `buf`. An interrupted
/// wait is not a failure: on Linux a `recv` with a read timeout fails with EINTR whenever the
/// process is stopped and continued (a busy shared machine, job control), even with no signal
/// handler, and the standard library does not retry it. Panics on the timeout or any other error.
pub fn recv_datagram(socket: &UdpSocket, buf: &mut [u8]) -> usize {
    loop {
        match socket.recv(buf) {
            Ok(n) => return n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("no datagram arrived: {e}"),
        }
    }
}
