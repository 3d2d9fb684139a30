//! `singer-id eval` end to end on a tiny hand-made manifest with known answers, and the
//! model loader's refusals.

mod common;

use std::process::Command;

use common::{cut, demo_singers, repo_path};
use singer_id::model::{Model, ModelError};

/// Manifest rows (header first) enrolling each demo singer from 20 s of its clip, cut into `dir`.
fn manifest_with_demo_enrolment(dir: &std::path::Path) -> Vec<String> {
    let mut rows = vec!["path,singer,group,role".to_string()];
    for singer in demo_singers() {
        let file = cut(dir, &format!("{singer}-enrol.wav"), &format!("demo/enroll/{singer}.flac"), 0.0, 20.0);
        rows.push(format!("{file},{singer},{singer}-enrol,enroll"));
    }
    rows
}

#[test]
fn eval_on_a_tiny_manifest_gives_the_known_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = manifest_with_demo_enrolment(dir.path());
    // Test units: the middle of each sung section of the demo track, plus its instrumental
    // intro as an impostor ("band" is not enrolled, so the right answer is unknown).
    for (singer, start, end) in [("yuki", 5.0, 12.0), ("scott", 15.0, 22.0), ("erithacus", 29.0, 36.0)] {
        let file = cut(dir.path(), &format!("{singer}-test.wav"), "demo/demo-track.flac", start, end);
        rows.push(format!("{file},{singer},{singer}-track,test"));
    }
    let file = cut(dir.path(), "band.wav", "demo/demo-track.flac", 0.0, 3.0);
    rows.push(format!("{file},band,intro,test"));
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(&manifest, rows.join("\n") + "\n").unwrap();

    // A fixed threshold: this checks the protocol's arithmetic, not the model's calibration
    // (the band's intro is no voice at all, which unit scoring has no detector for).
    let png = dir.path().join("confusion.png");
    let out = Command::new(env!("CARGO_BIN_EXE_singer-id"))
        .args(["--quiet", "eval", "--json", "--threshold", "0.5", "--plot"])
        .arg(&png)
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["units"], 4);
    assert_eq!(m["singers"], 3);
    assert_eq!(m["top1"], 1.0, "{m}");
    assert!(m["top5"].is_null(), "top5 needs 5 enrolled singers: {m}");
    assert_eq!(m["macro_f1"], 1.0, "{m}");
    assert_eq!(m["open_set_acc"], 1.0, "every sung unit named, the band unknown: {m}");
    assert_eq!(m["eer"], 0.0, "{m}");
    // Per-singer results and the confusion matrix: every sung unit on the diagonal.
    let per_singer = m["per_singer"].as_array().unwrap();
    assert_eq!(per_singer.len(), 3);
    assert!(per_singer.iter().all(|r| r["units"] == 1 && r["precision"] == 1.0 && r["f1"] == 1.0), "{m}");
    let names: Vec<&str> = m["confusion"]["singers"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let counts = &m["confusion"]["counts"];
    for (i, name) in names.iter().enumerate() {
        assert_eq!(per_singer[i]["singer"], *name);
        for j in 0..3 {
            assert_eq!(counts[i][j], u64::from(i == j), "{m}");
        }
    }
    // The picture: 3 cells of 90 px from (180, 70); a cell is blue in full where the whole row
    // falls, white where none does.
    let (width, height, pixels) = common::read_png(&png);
    assert_eq!((width, height), (720, 70 + 270 + 160 + 30));
    let at = |x: usize, y: usize| &pixels[(y * width as usize + x) * 3..][..3];
    for row in 0..3 {
        for column in 0..3 {
            let expected: [u8; 3] = if row == column { [31, 119, 180] } else { [255, 255, 255] };
            assert_eq!(at(180 + column * 90 + 6, 70 + row * 90 + 6), expected, "cell {row},{column}");
        }
    }

    // Segmenting: 7 s clips give 7 one-second units each, the 3 s intro gives 3.
    let out = Command::new(env!("CARGO_BIN_EXE_singer-id"))
        .args(["--quiet", "eval", "--json", "--segment", "1"])
        .arg(&manifest)
        .output()
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["units"], 3 * 7 + 3, "{m}");
}

#[test]
fn damaged_or_missing_model_files_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("m.json");
    let original = std::fs::read_to_string(repo_path("models/v0-ge2e-int8.json")).unwrap();
    std::fs::write(&meta, original.replace("v0-ge2e-int8.onnx", "m.onnx")).unwrap();

    let err = Model::load(&meta).err().expect("no onnx file yet");
    assert!(matches!(err, ModelError::Io { .. }) && err.to_string().contains("m.onnx"), "{err}");

    std::fs::write(dir.path().join("m.onnx"), b"garbage").unwrap();
    let err = Model::load(&meta).err().expect("checksum differs");
    assert!(matches!(err, ModelError::Checksum { .. }) && err.to_string().contains("m.onnx"), "{err}");

    std::fs::write(&meta, "{ \"format_version\": 1 ").unwrap();
    let err = Model::load(&meta).err().expect("bad json");
    assert!(matches!(err, ModelError::Metadata { .. }) && err.to_string().contains("m.json"), "{err}");
}

#[test]
fn metrics_from_a_scores_file_match_the_hand_computed_answers() {
    let dir = tempfile::tempdir().unwrap();
    let scores = dir.path().join("scores.csv");
    // Two enrolled singers, three units: a hit for ann, a miss for bob (ann scores higher), and
    // an impostor. top1 = 1/2; at threshold 0.5: ann -> ann (right), bob -> ann (wrong),
    // carl -> best 0.3 < 0.5 -> unknown (right): open_set_acc = 2/3.
    std::fs::write(&scores, "truth,ann,bob\nann,0.9,0.1\nbob,0.6,0.4\ncarl,0.3,0.2\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_singer-id"))
        .args(["metrics", "--threshold", "0.5"])
        .arg(&scores)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((m["units"].as_u64(), m["singers"].as_u64()), (Some(3), Some(2)));
    assert_eq!(m["top1"], 0.5);
    assert!((m["open_set_acc"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9, "{m}");

    std::fs::write(&scores, "truth,ann\nann,zero\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_singer-id")).arg("metrics").arg(&scores).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("scores.csv:2"));
}

#[test]
fn eval_warns_about_what_would_skew_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = manifest_with_demo_enrolment(dir.path());
    // Test clips for two of the three singers; one row repeated word for word; one silent clip.
    for (singer, start, end) in [("yuki", 5.0, 12.0), ("scott", 15.0, 22.0)] {
        let file = cut(dir.path(), &format!("{singer}-test.wav"), "demo/demo-track.flac", start, end);
        rows.push(format!("{file},{singer},{singer}-track,test"));
    }
    rows.push(rows.last().unwrap().clone());
    common::write_wav(&dir.path().join("silence.wav"), &vec![0.0; 48_000], 16_000);
    rows.push("silence.wav,yuki,yuki-silence,test".into());
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(&manifest, rows.join("\n") + "\n").unwrap();
    let eval = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_singer-id"))
            .args(["--quiet", "eval", "--json", "--threshold", "0.5"])
            .args(extra)
            .arg(&manifest)
            .output()
            .unwrap()
    };
    let out = eval(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Both sung units right: the unmeasurable third singer does not pull macro_f1 to 0.667,
    // the repeat is counted once and the silent clip not at all.
    assert_eq!((m["units"].as_u64(), m["macro_f1"].as_f64()), (Some(2), Some(1.0)), "{m}");
    let warnings: Vec<&str> = m["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings[0].contains("line 7: repeats line 6"), "{warnings:?}");
    assert!(warnings[1].contains("`erithacus` is enrolled but has no test clip"), "{warnings:?}");
    assert!(warnings[2].contains("silence.wav: silent"), "{warnings:?}");
    assert!(warnings.iter().all(|w| stderr.contains(&format!("warning: {w}"))), "{stderr}");
    // A segment longer than every clip says so, rather than only "no test units".
    let out = eval(&["--segment", "1e30"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("every test clip is shorter than the 1e30 s segment (the longest is 7.0 s)"),
        "{stderr}"
    );
    // A file given two different labels is refused, naming both lines.
    let conflicting = rows.join("\n").replace("silence.wav,yuki,yuki-silence,test", "scott-test.wav,yuki,x,test");
    std::fs::write(&manifest, conflicting + "\n").unwrap();
    let out = eval(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("is listed on line 6") && stderr.contains("again on line 8"),
        "{stderr}"
    );
}
