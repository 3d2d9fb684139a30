//! The `singer-id` binary end to end: the demo is analysed right, every format is valid, and
//! bad input fails with a message that names the file and the problem.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{demo_sections, repo_path};

fn singer_id(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_singer-id")).arg("--quiet").args(args).output().expect("binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A copy, in `dir`, of the demo singers' library as `singer-id enroll` writes it. The binary
/// enrols them once per test run (each enrolment loads the model, seconds apiece); every test
/// gets its own copy to read or change. A static is never dropped, so the enrolled library lives
/// at one fixed path in cargo's scratch folder for tests, replaced (atomically, so concurrent runs
/// are safe) by each run rather than left behind in a new folder per run.
fn enrolled_demo_library(dir: &Path) -> PathBuf {
    static ENROLLED: OnceLock<PathBuf> = OnceLock::new();
    let enrolled = ENROLLED.get_or_init(|| {
        let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-enrolled-demo");
        std::fs::create_dir_all(&home).unwrap();
        let scratch = tempfile::tempdir_in(&home).unwrap();
        let lib = scratch.path().join("singers.json");
        for name in common::demo_singers() {
            let file = repo_path(&format!("demo/enroll/{name}.flac"));
            let out =
                singer_id(&["enroll", "--library", lib.to_str().unwrap(), "--name", &name, file.to_str().unwrap()]);
            assert!(out.status.success(), "enroll {name}: {}", stderr(&out));
        }
        let kept = home.join("singers.json");
        std::fs::rename(&lib, &kept).unwrap();
        kept
    });
    let lib = dir.join("singers.json");
    std::fs::copy(enrolled, &lib).unwrap();
    lib
}

/// Sections of the demo track: (start, end, expected label).

#[test]
fn demo_track_names_the_right_singer_in_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let lib = enrolled_demo_library(dir.path());
    for mode in ["song", "live"] {
        check_demo_sections(&lib, mode);
    }
}

fn check_demo_sections(lib: &Path, mode: &str) {
    let track = repo_path("demo/demo-track.flac");
    let args = ["analyze", track.to_str().unwrap(), "--library", lib.to_str().unwrap(), "--format", "json"];
    let out = singer_id(&[&args[..], &["--mode", mode]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let decisions = json["decisions"].as_array().unwrap();
    for (start, end, expected) in demo_sections() {
        // Judge the middle of each section: live, the model window and the smoothing delay every
        // change; song mode widens sung turns by up to 0.75 s into the silence beside them.
        let (lead, trail) = if mode == "live" { (2.0, 0.0) } else { (0.75, 0.75) };
        let inside: Vec<&serde_json::Value> = decisions
            .iter()
            .filter(|d| d["start_s"].as_f64().unwrap() >= start + lead && d["end_s"].as_f64().unwrap() <= end - trail)
            .collect();
        assert!(!inside.is_empty(), "no decision inside {start}-{end}");
        let label = |d: &serde_json::Value| match d["verdict"]["kind"].as_str().unwrap() {
            "singer" => d["verdict"]["name"].as_str().unwrap().to_string(),
            "unknown" => "unknown".into(),
            _ => "no voice".into(),
        };
        let right = inside.iter().filter(|d| {
            let l = label(d);
            if expected == "instrumental" {
                l == "no voice" || l == "unknown"
            } else {
                l == expected
            }
        });
        let share = right.count() as f64 / inside.len() as f64;
        assert!(
            share >= 0.75,
            "{mode} mode: {start}-{end} s should be {expected}: {:?}",
            inside.iter().map(|d| label(d)).collect::<Vec<_>>()
        );
    }
}

#[test]
fn plot_draws_the_demo_timeline_with_one_lane_per_singer() {
    let dir = tempfile::tempdir().unwrap();
    let lib = enrolled_demo_library(dir.path());
    let track = repo_path("demo/demo-track.flac");
    let png = dir.path().join("demo.png");
    let args = ["analyze", track.to_str().unwrap(), "--library", lib.to_str().unwrap(), "--format", "csv"];
    let out = singer_id(&[&args[..], &["--plot", png.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("start_s,end_s,label,confidence\n"), "the timeline still goes to stdout");
    // 1600 wide; header 64 + waveform 220 + confidence 110 + 3 singer lanes of 36 + axis 40.
    let (width, height, pixels) = common::read_png(&png);
    assert_eq!((width, height), (1600, 64 + 220 + 110 + 3 * 36 + 40));
    // Each singer's colour fills their lane, their confidence bars and their legend swatch.
    for (i, rgb) in [[31, 119, 180], [255, 127, 14], [44, 160, 44]].into_iter().enumerate() {
        let n = common::count_color(&pixels, rgb);
        assert!(n > 10_000, "singer {i}'s colour covers only {n} pixels");
    }
    assert!(common::count_color(&pixels, [40, 40, 60]) > 10_000, "the waveform is drawn");

    // A picture is of one file; a missing folder fails before the analysis.
    let out = singer_id(&[&args[..], &["--plot", dir.path().join("no/such/dir/x.png").to_str().unwrap()]].concat());
    assert!(!out.status.success() && stderr(&out).contains("no folder"), "{}", stderr(&out));
    let out = singer_id(&[
        "analyze",
        repo_path("demo/enroll").to_str().unwrap(),
        "--library",
        lib.to_str().unwrap(),
        "--summary",
        dir.path().join("s.jsonl").to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(
        !out.status.success() && stderr(&out).contains("--plot draws the timeline of one file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn csv_and_audacity_outputs_are_well_formed_and_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let lib = enrolled_demo_library(dir.path());
    let track = repo_path("demo/demo-track.flac");
    for (format, check) in [
        ("csv", Box::new(|t: &str| t.starts_with("start_s,end_s,label,confidence\n")) as Box<dyn Fn(&str) -> bool>),
        ("audacity", Box::new(|t: &str| t.lines().all(|l| l.split('\t').count() == 3))),
    ] {
        let path = dir.path().join(format!("out.{format}"));
        let out = singer_id(&[
            "analyze",
            track.to_str().unwrap(),
            "--library",
            lib.to_str().unwrap(),
            "--format",
            format,
            "--output",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(check(&text) && text.lines().count() > 3, "{format}:\n{text}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn library_commands_list_rename_remove() {
    let dir = tempfile::tempdir().unwrap();
    let lib = enrolled_demo_library(dir.path());
    let lib = lib.to_str().unwrap();
    assert!(singer_id(&["library", "--library", lib, "rename", "erithacus", "Robin"]).status.success());
    assert!(singer_id(&["library", "--library", lib, "remove", "scott"]).status.success());
    let listed = stdout(&singer_id(&["library", "--library", lib, "list"]));
    assert!(listed.contains("2 singer(s)") && listed.contains("Robin") && !listed.contains("scott"), "{listed}");
    let missing = singer_id(&["library", "--library", lib, "remove", "nobody"]);
    assert!(!missing.status.success() && stderr(&missing).contains("nobody"));
}

#[test]
fn missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib.json");
    let out = singer_id(&["enroll", "--library", lib.to_str().unwrap(), "--name", "x", "/no/such/file.wav"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/no/such/file.wav"), "{}", stderr(&out));
    assert!(!lib.exists(), "a failed enrolment must not create the library");
}

#[test]
fn corrupt_audio_is_a_clear_error_and_the_library_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let lib = enrolled_demo_library(dir.path());
    let before = std::fs::read(&lib).unwrap();
    let bad = dir.path().join("broken.flac");
    std::fs::write(&bad, b"fLaC this is not really flac data at all").unwrap();
    let out = singer_id(&["enroll", "--library", lib.to_str().unwrap(), "--name", "x", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("broken.flac"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&lib).unwrap(), before);
}

#[test]
fn empty_manifest_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("empty.csv");
    std::fs::write(&manifest, "path,singer,group,role\n").unwrap();
    let out = singer_id(&["eval", manifest.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("empty.csv"), "{}", stderr(&out));
}

#[test]
fn damaged_library_and_missing_model_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib.json");
    std::fs::write(&lib, "{ not json").unwrap();
    let track = repo_path("demo/demo-track.flac");
    let out = singer_id(&["analyze", track.to_str().unwrap(), "--library", lib.to_str().unwrap()]);
    assert!(
        !out.status.success() && stderr(&out).contains("lib.json") && stderr(&out).contains("damaged"),
        "{}",
        stderr(&out)
    );

    let out = singer_id(&[
        "--model",
        "/no/such/model.json",
        "analyze",
        track.to_str().unwrap(),
        "--library",
        lib.to_str().unwrap(),
    ]);
    assert!(!out.status.success() && stderr(&out).contains("/no/such/model.json"), "{}", stderr(&out));
}

#[test]
fn libraries_of_older_models_ask_to_re_enrol() {
    for (model, space) in [("v0-ge2e-int8", "resemblyzer-ge2e-0.1.4"), ("v1-cnn-int8", "singer-id-v1-cnn")] {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("old.json");
        let file = repo_path("demo/enroll/yuki.flac");
        let out = singer_id(&[
            "--model",
            model,
            "enroll",
            "--library",
            lib.to_str().unwrap(),
            "--name",
            "yuki",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        // The default model (v2) refuses it, naming the library's space.
        let track = repo_path("demo/demo-track.flac");
        let out = singer_id(&["analyze", track.to_str().unwrap(), "--library", lib.to_str().unwrap()]);
        let err = stderr(&out);
        assert!(!out.status.success() && err.contains("re-enrol") && err.contains(space), "{model}: {err}");
        // Enrolling into it with v2 is refused too, and leaves the file as it was.
        let before = std::fs::read(&lib).unwrap();
        let out = singer_id(&["enroll", "--library", lib.to_str().unwrap(), "--name", "yuki", file.to_str().unwrap()]);
        assert!(!out.status.success() && stderr(&out).contains("re-enrol"), "{model}: {}", stderr(&out));
        assert_eq!(std::fs::read(&lib).unwrap(), before);
    }
}

/// A copy of the binary in an empty folder, with no models folder it can find, still enrols and
/// analyses with the default model (built in); other models by name fail with a clear message.
#[test]
fn copied_binary_runs_from_an_empty_folder_with_the_built_in_model() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("singer-id");
    std::fs::copy(env!("CARGO_BIN_EXE_singer-id"), &bin).unwrap();
    for name in common::demo_singers() {
        std::fs::copy(repo_path(&format!("demo/enroll/{name}.flac")), dir.path().join(format!("{name}.flac"))).unwrap();
    }
    std::fs::copy(repo_path("demo/demo-track.flac"), dir.path().join("track.flac")).unwrap();
    let run = |args: &[&str]| {
        Command::new(&bin)
            .current_dir(dir.path())
            .env("SINGER_ID_MODELS_DIR", dir.path().join("no-models-here"))
            .env_remove("SINGER_ID_MODEL")
            .arg("--quiet")
            .args(args)
            .output()
            .expect("copied binary runs")
    };
    for name in common::demo_singers() {
        let out = run(&["enroll", "--library", "singers.json", "--name", &name, &format!("{name}.flac")]);
        assert!(out.status.success(), "enroll {name}: {}", stderr(&out));
    }
    let out = run(&["analyze", "track.flac", "--library", "singers.json", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let named: std::collections::BTreeSet<&str> =
        json["decisions"].as_array().unwrap().iter().filter_map(|d| d["verdict"]["name"].as_str()).collect();
    let singers = common::demo_singers();
    assert_eq!(named, singers.iter().map(String::as_str).collect(), "singers named in the demo track");

    let out = run(&["--model", "v1-cnn-int8", "analyze", "track.flac", "--library", "singers.json"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("no model named 'v1-cnn-int8'") && err.contains("SINGER_ID_MODELS_DIR"), "{err}");
}

/// 20 recordings in nested folders, plus one that is not audio: every good one gets its
/// timeline and summary line, the bad one is reported by name, the batch goes on and the exit
/// status says something failed.
#[test]
fn batch_analyses_folders_writes_one_timeline_each_and_survives_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let lib = enrolled_demo_library(dir.path());
    let inputs = dir.path().join("takes");
    // 2-s pieces of the demo's sung sections, in two sub-folders.
    let folder = |i: usize| if i < 10 { "night1" } else { "night2/encore" };
    for i in 0..20 {
        std::fs::create_dir_all(inputs.join(folder(i))).unwrap();
        let start = 4.0 + i as f64;
        common::cut(&inputs, &format!("{}/take{i:02}.wav", folder(i)), "demo/demo-track.flac", start, start + 2.0);
    }
    std::fs::write(inputs.join("night1/broken.wav"), b"RIFF not really a wave file").unwrap();
    std::fs::write(inputs.join("night1/setlist.txt"), b"not audio, not analysed").unwrap();
    let batch = |out_dir: &Path, jobs: &str, more: &[&str]| {
        let (inputs, lib, out_dir) = (inputs.to_str().unwrap(), lib.to_str().unwrap(), out_dir.to_str().unwrap());
        let args = ["analyze", inputs, "--library", lib, "--format", "csv", "--output-dir", out_dir, "--jobs", jobs];
        singer_id(&[&args[..], more].concat())
    };
    let out_dir = dir.path().join("timelines");
    let summary = dir.path().join("summary.jsonl");
    let out = batch(&out_dir, "2", &["--summary", summary.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("broken.wav") && err.contains("1 of 21 file(s) failed"), "{err}");
    let take = |i: usize| format!("{}/take{i:02}.csv", folder(i));
    for i in 0..20 {
        let text = std::fs::read_to_string(out_dir.join(take(i))).unwrap();
        assert!(text.starts_with("start_s,end_s,label,confidence\n") && text.lines().count() >= 2, "{text}");
    }
    assert!(!out_dir.join("night1/broken.csv").exists() && !out_dir.join("night1/setlist.csv").exists());
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&summary).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 21);
    let broken = lines.iter().find(|l| l["path"].as_str().unwrap().ends_with("broken.wav")).unwrap();
    assert!(broken["error"].as_str().unwrap().contains("broken.wav"), "{broken}");
    let yuki = lines.iter().find(|l| l["path"].as_str().unwrap().ends_with("take00.wav")).unwrap();
    assert!((yuki["duration_s"].as_f64().unwrap() - 2.0).abs() < 0.01, "{yuki}");
    assert_eq!(yuki["singers"][0]["name"], "yuki", "{yuki}");

    // One job at a time gives the same timelines as two at once.
    let serial_dir = dir.path().join("serial");
    let out = batch(&serial_dir, "1", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for i in 0..20 {
        let (parallel, serial) = (out_dir.join(take(i)), serial_dir.join(take(i)));
        assert_eq!(std::fs::read(parallel).unwrap(), std::fs::read(serial).unwrap(), "{}", take(i));
    }

    // Several inputs need somewhere to go; --output is for one file.
    let out = singer_id(&["analyze", inputs.to_str().unwrap(), "--library", lib.to_str().unwrap()]);
    assert!(!out.status.success() && stderr(&out).contains("--output-dir"), "{}", stderr(&out));
}

/// A recording cut short (a bounce interrupted by a crash, a partial download) is analysed as
/// far as it goes, and the user is told, on the terminal and in the summary, by file name.
#[test]
fn a_truncated_recording_is_analysed_as_far_as_it_goes_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let lib = enrolled_demo_library(dir.path());
    common::cut(dir.path(), "take.wav", "demo/demo-track.flac", 4.0, 8.0);
    let bytes = std::fs::read(dir.path().join("take.wav")).unwrap();
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let summary = dir.path().join("summary.jsonl");
    let out = singer_id(&[
        "analyze",
        cut.to_str().unwrap(),
        "--library",
        lib.to_str().unwrap(),
        "--format",
        "csv",
        "--summary",
        summary.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: ") && err.contains("cut.wav") && err.contains("truncated"), "{err}");
    let line: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&summary).unwrap().trim()).unwrap();
    let duration = line["duration_s"].as_f64().unwrap();
    assert!((1.9..2.1).contains(&duration), "{line}");
    assert!(line["warning"].as_str().unwrap().contains("of the 4.00 s its header declares"), "{line}");
    // An intact file has no warning.
    let out =
        singer_id(&["analyze", dir.path().join("take.wav").to_str().unwrap(), "--library", lib.to_str().unwrap()]);
    assert!(out.status.success() && !stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn out_of_range_options_are_refused_by_name() {
    let track = repo_path("demo/demo-track.flac");
    for (flag, value) in [
        ("--threshold", "nan"),
        ("--threshold", "2"),
        ("--smoothing", "1e9"),
        ("--hop", "0"),
        ("--pad", "inf"),
        ("--turn-threshold", "-3"),
    ] {
        let out = singer_id(&["analyze", track.to_str().unwrap(), "--library", "none.json", flag, value]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag) && !err.contains("panicked"), "{flag} {value}: {err}");
    }
}

#[test]
fn reserved_and_case_twin_names_are_refused_and_a_closed_pipe_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let lib = enrolled_demo_library(dir.path());
    let before = std::fs::read(&lib).unwrap();
    let clip = repo_path("demo/enroll/yuki.flac");
    for (name, says) in [("unknown", "choose another name"), ("YUKI", "enrol as 'yuki'")] {
        let out = singer_id(&["enroll", "--library", lib.to_str().unwrap(), "--name", name, clip.to_str().unwrap()]);
        assert!(!out.status.success() && stderr(&out).contains(says), "{name}: {}", stderr(&out));
        assert_eq!(std::fs::read(&lib).unwrap(), before, "{name}: the library is untouched");
    }

    // The reader goes away before `library list` prints: the process ends, it does not panic.
    let mut child = Command::new(env!("CARGO_BIN_EXE_singer-id"))
        .args(["library", "--library", lib.to_str().unwrap(), "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked") && out.status.code() != Some(101), "{err}");
}

#[test]
fn an_error_states_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    // A file where a folder should be: the OS error is the cause, and it shows once.
    std::fs::write(dir.path().join("file"), b"").unwrap();
    let out = singer_id(&["library", "--library", dir.path().join("file/lib.json").to_str().unwrap(), "list"]);
    let err = stderr(&out);
    assert!(!out.status.success() && err.contains("cannot read singer library"), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "the cause is printed once: {err}");
}

#[test]
fn concurrent_enrolments_into_one_library_keep_every_singer() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("shared.json");
    // Three enrolments race for one new library; each reads and saves it under its lock.
    let running: Vec<std::process::Child> = common::demo_singers()
        .into_iter()
        .map(|name| {
            let file = repo_path(&format!("demo/enroll/{name}.flac"));
            Command::new(env!("CARGO_BIN_EXE_singer-id"))
                .args(["--quiet", "enroll", "--library", lib.to_str().unwrap(), "--name", &name])
                .arg(file)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in running {
        assert!(child.wait().unwrap().success());
    }
    let out = singer_id(&["library", "--library", lib.to_str().unwrap(), "list"]);
    assert!(stdout(&out).starts_with("3 singer(s)"), "{}", stdout(&out));
}

#[test]
fn a_save_killed_by_sigterm_leaves_no_temp_file_and_an_intact_library() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("big.json");
    // A library big enough (about 40 MB) that its save takes a while to write and sync.
    let model = singer_id::model::Model::load_named("v1-cnn-int8").unwrap();
    let mut library = singer_id::library::SingerLibrary::new(model.metadata());
    let mut rng = common::Rng::new(3);
    let size = model.metadata().embedding_size;
    for s in 0..100 {
        let refs = (0..200).map(|_| (0..size).map(|_| rng.below(1000) as f32 / 1000.0 - 0.4).collect()).collect();
        library.enroll(&format!("singer {s}"), refs).unwrap();
    }
    library.save(&lib).unwrap();
    let before = std::fs::read(&lib).unwrap();
    let temps = || -> Vec<PathBuf> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".tmp-"))
            .collect()
    };
    let yuki = repo_path("demo/enroll/yuki.flac");
    let mut killed_mid_save = 0;
    for attempt in 0..5 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_singer-id"))
            .args([
                "--quiet",
                "--model",
                "v1-cnn-int8",
                "enroll",
                "-l",
                lib.to_str().unwrap(),
                "-n",
                &format!("new {attempt}"),
            ])
            .arg(&yuki)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill it the moment its temp file appears, i.e. in the middle of the save.
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if !temps().is_empty() {
                unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
                break child.wait().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        };
        if status.signal() == Some(libc::SIGTERM) {
            killed_mid_save += 1;
            // Killed before the rename: the old library, byte for byte (or, if the signal
            // came between rename and exit, the new one).
            let now = singer_id::library::SingerLibrary::load(&lib).unwrap();
            assert!(std::fs::read(&lib).unwrap() == before || now.get(&format!("new {attempt}")).is_some());
        }
        assert_eq!(temps(), Vec::<PathBuf>::new(), "attempt {attempt}: {status}");
        singer_id::library::SingerLibrary::load(&lib).unwrap();
    }
    assert!(killed_mid_save > 0, "no attempt was killed during its save");
}

#[test]
fn osc_messages_follow_the_timeline_in_order() {
    use rosc::{OscPacket, OscType};
    let dir = tempfile::tempdir().unwrap();
    let lib = enrolled_demo_library(dir.path());
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    listener.set_read_timeout(Some(std::time::Duration::from_secs(300))).unwrap();
    let target = listener.local_addr().unwrap().to_string();
    // Receive while the analysis runs, so no message waits in the socket buffer, until the
    // test's own end marker (sent once the command has exited, so it comes last).
    let receiver = std::thread::spawn(move || {
        let (mut messages, mut buf) = (Vec::new(), [0u8; 1536]);
        loop {
            let n = common::recv_datagram(&listener, &mut buf);
            match rosc::decoder::decode_udp(&buf[..n]).unwrap().1 {
                OscPacket::Message(m) if m.addr == "/test/end" => return messages,
                OscPacket::Message(m) => messages.push(m),
                other => panic!("not a message: {other:?}"),
            }
        }
    });
    let (track, timeline) = (repo_path("demo/demo-track.flac"), dir.path().join("t.json"));
    let out = singer_id(&[
        "analyze",
        track.to_str().unwrap(),
        "--library",
        lib.to_str().unwrap(),
        "--mode",
        "live",
        "--osc",
        &target,
        "-o",
        timeline.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let end = rosc::OscPacket::Message(rosc::OscMessage { addr: "/test/end".into(), args: vec![] });
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(&rosc::encoder::encode(&end).unwrap(), &target).unwrap();
    let messages = receiver.join().unwrap();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&timeline).unwrap()).unwrap();
    let decisions = json["decisions"].as_array().unwrap();
    // Expected: the verdict whenever it changes, then every hop's candidates.
    let mut expected = Vec::new();
    let mut shown = None;
    for d in decisions {
        let label = match d["verdict"]["kind"].as_str().unwrap() {
            "singer" => d["verdict"]["name"].as_str().unwrap().to_string(),
            "unknown" => "unknown".to_string(),
            _ => "no voice".to_string(),
        };
        if shown.as_ref() != Some(&label) {
            let confidence = d["confidence"].as_f64().unwrap() as f32;
            expected.push((
                "/singer-id/singer".to_string(),
                vec![OscType::String(label.clone()), OscType::Float(confidence)],
            ));
            shown = Some(label);
        }
        let top = d["top"].as_array().unwrap().iter().flat_map(|c| {
            [OscType::String(c["singer"].as_str().unwrap().into()), OscType::Float(c["score"].as_f64().unwrap() as f32)]
        });
        expected.push(("/singer-id/scores".to_string(), top.collect()));
    }
    let got: Vec<(String, Vec<OscType>)> = messages.into_iter().map(|m| (m.addr, m.args)).collect();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
    // Every demo singer is announced, in the order they sing.
    let announced: Vec<String> = got
        .iter()
        .filter(|(address, _)| address == "/singer-id/singer")
        .filter_map(|(_, args)| args[0].clone().string())
        .filter(|name| common::demo_singers().contains(name))
        .collect();
    let mut order: Vec<String> =
        demo_sections().into_iter().map(|(_, _, label)| label).filter(|l| common::demo_singers().contains(l)).collect();
    order.dedup();
    let mut first_seen = announced.clone();
    first_seen.dedup();
    assert!(order.iter().all(|s| first_seen.contains(s)), "announced {first_seen:?}, sung {order:?}");
    // A bad target is refused before any work, by name.
    let out = singer_id(&["analyze", track.to_str().unwrap(), "--library", lib.to_str().unwrap(), "--osc", "nowhere"]);
    assert!(!out.status.success() && stderr(&out).contains("OSC target `nowhere`"), "{}", stderr(&out));
}

#[test]
fn bench_profile_times_every_operator_of_the_plan_by_module() {
    // v2's export names its nodes after CAM++'s modules: the 2-D front (`head`) and the TDNN
    // blocks (`xvector`) both show up, and the shares of all kinds add up to the whole.
    let out = singer_id(&["--model", "v2-campp-f32", "bench", "--profile", "--runs", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let rows: Vec<(String, usize, f64, f64)> = text
        .lines()
        .skip(2)
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let n = fields.len();
            assert!(n >= 5, "row {line:?}");
            let share = fields[n - 1].trim_end_matches('%').parse::<f64>().unwrap();
            (fields[..n - 3].join(" "), fields[n - 3].parse().unwrap(), fields[n - 2].parse().unwrap(), share)
        })
        .collect();
    assert!(text.lines().next().unwrap().contains("ms per inference profiled"), "{text}");
    for module in ["head", "xvector"] {
        assert!(rows.iter().any(|(kind, nodes, ms, _)| kind.ends_with(module) && *nodes > 0 && *ms > 0.0), "{text}");
    }
    let shares: f64 = rows.iter().map(|r| r.3).sum();
    assert!((shares - 100.0).abs() < 1.0, "shares add up to {shares}: {text}");
    // Slowest first.
    assert!(rows.windows(2).all(|w| w[0].2 >= w[1].2), "{text}");
}
