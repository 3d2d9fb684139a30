//! Memory of the `singer-id` binary on long recordings: bounded, whatever the duration.

mod common;

use std::process::{Command, Output};

use common::repo_path;

fn singer_id(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_singer-id")).arg("--quiet").args(args).output().expect("binary runs")
}

/// Runs the binary with `args` to completion and returns its exit status and peak resident
/// memory in MB, from wait4. Linux counts the spawning process's own peak in that figure (it
/// is carried over the child's exec), which is why these tests have a binary of their own.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which std cannot see
fn peak_memory_mb(args: &[&str]) -> (bool, u64) {
    let child = Command::new(env!("CARGO_BIN_EXE_singer-id"))
        .arg("--quiet")
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; the pid is our own unreaped child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(reaped, child.id() as libc::pid_t);
    (libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, usage.ru_maxrss as u64 / 1024)
}

#[test]
fn a_long_recording_is_enrolled_and_analysed_in_bounded_memory() {
    // 20 minutes at 44.1 kHz: the decoded signal alone would be 212 MB of floats, so holding
    // it whole (as enrol once did) cannot pass; streaming needs a few tens of MB.
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.wav");
    let demo = singer_id::audio::decode_file(&repo_path("demo/demo-track.flac")).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&long, spec).unwrap();
    for &s in demo.samples.iter().cycle().take(20 * 60 * 44_100) {
        writer.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16).unwrap();
    }
    writer.finalize().unwrap();
    let (lib, long) = (dir.path().join("lib.json"), long.to_str().unwrap());
    let model = ["--model", "v1-cnn-int8"];
    let (ok, enrol_mb) =
        peak_memory_mb(&[&model[..], &["enroll", "-l", lib.to_str().unwrap(), "-n", "long", long]].concat());
    assert!(ok, "enrol of the long file failed");
    let out = singer_id(&[&model[..], &["library", "-l", lib.to_str().unwrap(), "list"]].concat());
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("long"), "{listed}");
    for mode in ["live", "song"] {
        let timeline = dir.path().join(format!("{mode}.json"));
        let args = ["analyze", long, "-l", lib.to_str().unwrap(), "--mode", mode, "-o", timeline.to_str().unwrap()];
        let (ok, analyse_mb) = peak_memory_mb(&[&model[..], &args[..]].concat());
        assert!(ok && timeline.exists(), "analyze --mode {mode} failed");
        assert!(analyse_mb < 150, "analyze --mode {mode} peaked at {analyse_mb} MB");
    }
    assert!(enrol_mb < 150, "enrol peaked at {enrol_mb} MB");
}
