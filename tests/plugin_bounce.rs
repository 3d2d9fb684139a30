//! The plugin's offline render gives the same song-mode timeline as `singer-id analyze
//! --turn-embedding hops` on the bounced file: the worker keeps every hop it heard (not the
//! audio, so turns are named from their hops' mean), and when the render ends it writes the
//! timeline to the file chosen in the editor.

mod common;

use std::process::Command;
use std::sync::Arc;

use common::repo_path;
use singer_id::audio::decode_file;
use singer_id::live::{export_timeline, shared_model, start, GuiFeed, InputSource};
use singer_id::plugin::params::{LibraryState, SingerIdParams};

#[test]
fn offline_render_writes_the_same_timeline_as_the_cli_song_mode() {
    let dir = tempfile::tempdir().unwrap();
    let model = shared_model().unwrap();
    let library = common::demo_library(&model);
    let library_path = dir.path().join("singers.json");
    library.save(&library_path).unwrap();
    let bounce = dir.path().join("bounce.csv");

    let params = Arc::new(SingerIdParams::default());
    *params.library.lock().unwrap() = LibraryState::checked(library.clone());
    params.editor_state.lock().unwrap().bounce_timeline_path = bounce.display().to_string();
    let feed = Arc::new(GuiFeed::default());

    // Nothing heard yet: an export says so and writes nothing.
    let early = dir.path().join("early.csv");
    let err = export_timeline(&feed, &library, 0.5, &early).unwrap_err();
    assert!(err.contains("nothing heard yet"), "{err}");
    assert!(!early.exists());

    // A stereo track rendered in odd-sized host blocks.
    render_demo(&params, &feed, 1001);

    let cli = Command::new(env!("CARGO_BIN_EXE_singer-id"))
        .args(["--quiet", "analyze", "--mode", "song", "--turn-embedding", "hops", "--format", "csv", "--library"])
        .arg(&library_path)
        .arg(repo_path("demo/demo-track.flac"))
        .output()
        .unwrap();
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let written = std::fs::read_to_string(&bounce).expect("the render wrote its timeline");
    assert_eq!(written, String::from_utf8_lossy(&cli.stdout), "plugin bounce and CLI song mode differ");
    assert!(written.lines().count() >= 5, "{written}");

    // The editor's export gives the same from what was heard, in any of the three formats.
    let threshold = params.threshold.value();
    let labels = dir.path().join("labels.txt");
    let message = export_timeline(&feed, &library, threshold, &labels).unwrap();
    assert!(message.contains("labels.txt"), "{message}");
    let text = std::fs::read_to_string(&labels).unwrap();
    assert!(text.lines().all(|l| l.split('\t').count() == 3), "{text}");
    let err = export_timeline(&feed, &library, threshold, &dir.path().join("timeline.doc")).unwrap_err();
    assert!(err.contains(".json, .csv or .txt"), "{err}");
}

/// Renders the demo track offline as a stereo track through the plugin's bridge, in host
/// blocks of `block` samples, then deactivates; returns the notices.
fn render_demo(params: &Arc<SingerIdParams>, feed: &Arc<GuiFeed>, block: usize) -> Vec<String> {
    let track = decode_file(&repo_path("demo/demo-track.flac")).unwrap();
    let (mut audio, mut worker) = start(params.clone(), feed.clone(), track.sample_rate as f32, true).unwrap();
    for chunk in track.samples.chunks(block) {
        let (mut left, mut right) = (chunk.to_vec(), chunk.to_vec());
        let main: [&mut [f32]; 2] = [&mut left, &mut right];
        audio.push_block(&main, None, InputSource::Mid, false);
    }
    worker.stop(); // the host deactivates after the render
    std::iter::from_fn(|| feed.notices.pop()).collect()
}

#[test]
fn the_plugin_sends_each_change_of_singer_as_osc() {
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    listener.set_read_timeout(Some(std::time::Duration::from_secs(300))).unwrap();
    let target = listener.local_addr().unwrap();
    // Received as they come (a socket buffer holds only so many), until the test's end marker.
    let receiver = std::thread::spawn(move || {
        let (mut messages, mut buf) = (Vec::new(), [0u8; 1536]);
        loop {
            let n = common::recv_datagram(&listener, &mut buf);
            let rosc::OscPacket::Message(message) = rosc::decoder::decode_udp(&buf[..n]).unwrap().1 else { panic!() };
            if message.addr == "/test/end" {
                return messages;
            }
            messages.push(message);
        }
    });
    let params = Arc::new(SingerIdParams::default());
    *params.library.lock().unwrap() = LibraryState::checked(common::demo_library(&shared_model().unwrap()));
    params.editor_state.lock().unwrap().osc_target = target.to_string();
    let started = std::time::Instant::now();
    let notices = render_demo(&params, &Arc::new(GuiFeed::default()), 4096);
    let render_s = started.elapsed().as_secs_f64();
    assert!(notices.iter().any(|n| n.starts_with("Sending OSC to 127.0.0.1:")), "{notices:?}");
    let end = rosc::OscPacket::Message(rosc::OscMessage { addr: "/test/end".into(), args: vec![] });
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(&rosc::encoder::encode(&end).unwrap(), target).unwrap();
    let messages = receiver.join().unwrap();
    // The changes of singer announced are those of the decisions made; scores go at most ten a
    // second (the render runs faster than real time, so not every hop's).
    let decisions: Vec<_> = params.decisions.decisions.lock().unwrap().iter().cloned().collect();
    let mut changes: Vec<String> = decisions.iter().map(|d| d.verdict.label().to_string()).collect();
    changes.dedup();
    let announced: Vec<String> = messages
        .iter()
        .filter(|m| m.addr == "/singer-id/singer")
        .map(|m| m.args[0].clone().string().unwrap())
        .collect();
    let scores = messages.iter().filter(|m| m.addr == "/singer-id/scores").count();
    assert_eq!(messages.len(), announced.len() + scores);
    assert!(scores >= 1 && scores <= decisions.len(), "{scores} scores for {} hops", decisions.len());
    assert!(scores as f64 <= render_s / 0.1 + 1.0, "{scores} scores in {render_s:.1} s");
    assert_eq!(announced, changes);
    for singer in common::demo_singers() {
        assert!(announced.contains(&singer), "{singer} never announced: {announced:?}");
    }
    // A bad target is a notice for the status line; the render goes on.
    params.editor_state.lock().unwrap().osc_target = "no-port-here".into();
    let notices = render_demo(&params, &Arc::new(GuiFeed::default()), 4096);
    assert!(notices.iter().any(|n| n.contains("OSC target `no-port-here`")), "{notices:?}");
    assert!(!params.decisions.decisions.lock().unwrap().is_empty());
}
