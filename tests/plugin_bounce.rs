//! The plugin's offline render gives the same song-mode timeline as `singer-id analyze` on the
//! bounced file: the worker keeps every hop it heard, and when the render ends it writes the
//! timeline to the file chosen in the editor.

mod common;

use std::process::Command;
use std::sync::Arc;

use common::repo_path;
use singer_id::audio::decode_file;
use singer_id::plugin::bridge::{export_timeline, shared_model, start, GuiFeed};
use singer_id::plugin::params::{InputChannel, LibraryState, SingerIdParams};

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

    let track = decode_file(&repo_path("demo/demo-track.flac")).unwrap();
    let (mut audio, mut worker) = start(params.clone(), feed.clone(), track.sample_rate as f32, true).unwrap();
    // A stereo track rendered in odd-sized host blocks.
    for chunk in track.samples.chunks(1001) {
        let (mut left, mut right) = (chunk.to_vec(), chunk.to_vec());
        let main: [&mut [f32]; 2] = [&mut left, &mut right];
        audio.push_block(&main, None, InputChannel::Mid, false);
    }
    worker.stop(); // the host deactivates after the render

    let cli = Command::new(env!("CARGO_BIN_EXE_singer-id"))
        .args(["--quiet", "analyze", "--mode", "song", "--format", "csv", "--library"])
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
