//! The standalone app runs without a window or a sound card (`--headless --backend dummy`, which
//! feeds silence in real time), analyses what it gets, sends OSC, and ends with status 0 on
//! SIGTERM; bad options are refused by name before anything starts.

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn app() -> Command {
    Command::new(env!("CARGO_BIN_EXE_singer-id-live"))
}

#[test]
fn runs_headless_sends_osc_and_exits_cleanly_on_sigterm() {
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    listener.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let mut child = app()
        .args(["--headless", "--backend", "dummy", "--sample-rate", "48000", "--period-size", "512", "--osc", &target])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Silence reads `no voice` once, then the (empty) scores every 0.5 s hop: hops arriving
    // one after another prove the audio runs through the plugin and its worker.
    let (mut singer, mut scores, mut buf) = (Vec::new(), 0, [0u8; 1536]);
    let started = Instant::now();
    while scores < 4 {
        let n = match listener.recv(&mut buf) {
            Ok(n) => n,
            // Interrupted (EINTR: on Linux a recv with a read timeout fails so when the process
            // is stopped and continued, and std does not retry it): wait again.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("OSC from the standalone app: {e}"),
        };
        let message = &buf[..n];
        if message.starts_with(b"/singer-id/singer\0") {
            singer.push(message.to_vec());
        } else if message.starts_with(b"/singer-id/scores\0") {
            scores += 1;
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(singer.len(), 1, "one verdict for silence");
    assert!(singer[0].windows(8).any(|w| w == b"no voice"), "{:?}", String::from_utf8_lossy(&singer[0]));
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(status.success(), "exit {status:?} after SIGTERM; log:\n{log}");
    eprintln!("4 hops in {elapsed:.1?}; log:\n{log}");
}

#[test]
fn bad_options_are_refused_by_name() {
    for (args, expected) in [
        (&["--osc", "nowhere"][..], "nowhere"),
        (&["--library", "/nonexistent/singers.json"][..], "/nonexistent/singers.json"),
        (&["--library"][..], "--library needs a value"),
    ] {
        let out = app().arg("--headless").args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let help = app().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--headless") && text.contains("--backend"), "{text}");
}
