//! `singer-id eval-songs` end to end on two tiny songs cut from the demo track: the grid point
//! counts are known exactly (they depend only on the sections and the collar), the accuracies
//! are known to be high on the demo, and bad input fails naming the file and the problem.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{cut, repo_path};

fn singer_id(args: &[&str], songs: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_singer-id"))
        .arg("--quiet")
        .arg("eval-songs")
        .args(args)
        .arg(songs)
        .output()
        .expect("binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Song `a` is the whole demo track with its sections (erithacus is not enrolled, so its
/// section counts as an impostor); song `b` is 13-37 s of it: scott, a break, then erithacus
/// labelled `unknown`. Both conditions get the same audio. Enrolled: yuki and scott.
const SONGS: &str = "song,start_s,end_s,label,var_db\n\
                     a,0,3,instrumental,-12\n\
                     a,3,13,yuki,-12\n\
                     a,13,23,scott,-12\n\
                     a,23,27,instrumental,-12\n\
                     a,27,37,erithacus,-12\n\
                     a,37,45,yuki,-12\n\
                     b,0,10,scott,-12\n\
                     b,10,14,instrumental,-12\n\
                     b,14,24,unknown,-12\n";

fn write_songs(dir: &Path) -> std::path::PathBuf {
    for condition in ["mono", "mix"] {
        cut(dir, &format!("a.{condition}.wav"), "demo/demo-track.flac", 0.0, 45.0);
        cut(dir, &format!("b.{condition}.wav"), "demo/demo-track.flac", 13.0, 37.0);
    }
    std::fs::create_dir(dir.join("clips")).unwrap();
    for singer in ["yuki", "scott"] {
        cut(&dir.join("clips"), &format!("{singer}.wav"), &format!("demo/enroll/{singer}.flac"), 0.0, 20.0);
    }
    std::fs::write(dir.join("enroll.csv"), "singer,path\nyuki,clips/yuki.wav\nscott,clips/scott.wav\n").unwrap();
    let songs = dir.join("songs.csv");
    std::fs::write(&songs, SONGS).unwrap();
    songs
}

#[test]
fn eval_songs_on_demo_cuts_gives_the_known_counts_and_accuracies() {
    assert!(repo_path("demo/demo-track.flac").is_file());
    let dir = tempfile::tempdir().unwrap();
    let songs = write_songs(dir.path());

    let out = singer_id(&["--json"], &songs);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("`erithacus` has no enrolment"), "warns about the impostor label: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["singers"], 2, "{report}");
    assert_eq!(report["collar_s"], 0.5);
    let conditions = report["conditions"].as_object().unwrap();
    let mut names: Vec<&str> = conditions.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["mix", "mono"]);
    for (name, m) in conditions {
        // Song a: boundaries 3, 13, 23, 27, 37 s, each dropping 99 points (t in (b-0.5, b+0.5)).
        // Named: yuki 3.50-12.50 (901), scott 13.50-22.50 (901), yuki 37.50-44.99 (750);
        // impostor erithacus 27.50-36.50 (901); instrumental 0.00-2.50 (251), 23.50-26.50 (301).
        // Song b: scott 0.00-9.50 (951), instrumental 10.50-13.50 (301), unknown 14.50-23.99 (950).
        assert_eq!(m["songs"], 2, "{name}: {m}");
        assert_eq!(m["named_points"], 901 + 901 + 750 + 951, "{name}: {m}");
        assert_eq!(m["impostor_points"], 901 + 950, "{name}: {m}");
        assert_eq!(m["instrumental_points"], 251 + 301 + 301, "{name}: {m}");
        assert_eq!(m["scored_points"], 4005 + 2202, "{name}: {m}");
        for key in ["named_acc", "impostor_ok", "instr_clean", "timeline_acc", "instr_no_voice"] {
            let v = m[key].as_f64().unwrap_or_else(|| panic!("{name}: {key} missing: {m}"));
            assert!((0.0..=1.0).contains(&v), "{name}: {key} = {v}");
        }
        let per_song = m["per_song"].as_object().unwrap();
        let mut songs: Vec<&str> = per_song.keys().map(String::as_str).collect();
        songs.sort();
        assert_eq!(songs, ["a", "b"]);
        // The demo singers are told apart (tests/cli.rs); only onsets, where the model window
        // and smoothing still hold the previous section, and song b's first 0.5 s (no decision
        // yet: no voice) may be wrong.
        assert!(m["named_acc"].as_f64().unwrap() > 0.75, "{name}: {m}");
        assert!(m["timeline_acc"].as_f64().unwrap() > 0.7, "{name}: {m}");
    }
    assert_eq!(conditions["mono"], conditions["mix"], "same audio, same numbers");

    // The readable table, one condition, and its picture: a header and one block per song.
    let png = dir.path().join("songs.png");
    let out = singer_id(&["--condition", "mono", "--plot", png.to_str().unwrap()], &songs);
    assert!(out.status.success(), "{}", stderr(&out));
    let (width, height, pixels) = common::read_png(&png);
    assert_eq!((width, height), (1600, 64 + 2 * 128));
    // yuki and scott (the enrolled singers, in library order) colour the truth and predicted lanes.
    for rgb in [[31, 119, 180], [255, 127, 14]] {
        assert!(common::count_color(&pixels, rgb) > 5_000, "{rgb:?}");
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mono (2 song(s))") && !text.contains("mix ("), "{text}");
    for word in ["named_acc", "impostor_ok", "instr_clean", "timeline_acc", "3503", "per song"] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
}

#[test]
fn eval_songs_errors_name_the_file_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let songs = dir.path().join("songs.csv");
    // Audio is looked for before anything is decoded, so these files need not be real audio.
    std::fs::write(dir.path().join("enroll.csv"), "singer,path\nann,ann.wav\n").unwrap();
    std::fs::write(&songs, "song,start_s,end_s,label\ns,0,3,ann\ns,4,6,unknown\n").unwrap();
    let out = singer_id(&[], &songs);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("songs.csv") && stderr(&out).contains("gap"), "{}", stderr(&out));

    std::fs::write(&songs, "song,start_s,end_s,label\ns,0,3,ann\ns,3,x,unknown\n").unwrap();
    let out = singer_id(&[], &songs);
    assert!(stderr(&out).contains("songs.csv, line 3") && stderr(&out).contains("end_s"), "{}", stderr(&out));

    std::fs::write(&songs, "song,start_s,end_s,label\ns,0,3,ann\nt,0,3,ann\n").unwrap();
    let out = singer_id(&[], &songs);
    assert!(!out.status.success() && stderr(&out).contains("no song audio found"), "{}", stderr(&out));

    std::fs::write(dir.path().join("s.mono.wav"), b"").unwrap();
    let out = singer_id(&[], &songs);
    assert!(!out.status.success(), "t has no mono audio");
    assert!(stderr(&out).contains("missing `mono` audio") && stderr(&out).contains("t.mono."), "{}", stderr(&out));
    let out = singer_id(&["--condition", "mix"], &songs);
    assert!(stderr(&out).contains("missing `mix` audio for 2 song(s)"), "{}", stderr(&out));

    let out = singer_id(&["--enroll", "/no/such/enroll.csv"], &songs);
    assert!(stderr(&out).contains("/no/such/enroll.csv: file not found"), "{}", stderr(&out));
}

/// `calibrate-songs` hears the songs once and tries each turn threshold; its numbers are
/// eval-songs' own for that threshold, and the threshold it picks scores best.
#[test]
fn calibrate_songs_sweeps_turn_thresholds_as_eval_songs_scores_them() {
    let dir = tempfile::tempdir().unwrap();
    let songs = write_songs(dir.path());
    let calibrate = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_singer-id"))
            .args(["--quiet", "calibrate-songs", "--condition", "mono"])
            .args(args)
            .arg(&songs)
            .output()
            .expect("binary runs")
    };
    let out = calibrate(&["--from", "0", "--to", "0.99", "--step", "0.09", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sweep = report["sweep"].as_array().unwrap();
    let thresholds: Vec<f64> = sweep.iter().map(|r| r["turn_threshold"].as_f64().unwrap()).collect();
    assert_eq!(thresholds.len(), 12, "{thresholds:?}");
    assert!((thresholds[11] - 0.99).abs() < 1e-6, "{thresholds:?}");
    let acc = |r: &serde_json::Value| r["conditions"]["mono"]["timeline_acc"].as_f64().unwrap();
    let best = report["turn_threshold"].as_f64().unwrap();
    let best_acc = report["mean_timeline_acc"].as_f64().unwrap();
    assert!(sweep.iter().all(|r| acc(r) <= best_acc + 1e-12), "{report}");
    // No whole turn scores 0.99: nobody is named, so only the impostor and the breaks are right.
    let last = &sweep[11]["conditions"]["mono"];
    assert_eq!(last["named_acc"].as_f64(), Some(0.0), "{last}");
    assert!(acc(&sweep[11]) < best_acc, "{report}");

    let out = singer_id(&["--condition", "mono", "--turn-threshold", &best.to_string(), "--json"], &songs);
    assert!(out.status.success(), "{}", stderr(&out));
    let eval: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let eval_acc = eval["conditions"]["mono"]["timeline_acc"].as_f64().unwrap();
    assert!((eval_acc - best_acc).abs() < 1e-12, "eval-songs {eval_acc} vs calibrate-songs {best_acc}");

    for (args, problem) in [
        (&["--mode", "live"][..], "song mode"),
        (&["--turn-threshold", "0.5"][..], "leave out --turn-threshold"),
        (&["--from", "0.8", "--to", "0.2"][..], "--from must not exceed --to"),
    ] {
        let out = calibrate(args);
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(stderr(&out).contains(problem), "{args:?}: {}", stderr(&out));
    }
}
