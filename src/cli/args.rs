//! Command-line flags. Only definitions and help text here; see the sibling files for the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use singer_id::library::Scoring;
use singer_id::timeline::Format;

#[derive(Parser, Debug)]
#[command(
    name = "singer-id",
    version,
    about = "Tells which singer is singing: enrol singers, then analyse recordings into a timeline."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// Model to use: the built-in default (v2-campp-int8), a name in the repository's models/
    /// folder (e.g. v1-cnn-int8; another folder with SINGER_ID_MODELS_DIR), or a path to a
    /// model's .json metadata file.
    #[arg(long, global = true, default_value = singer_id::model::DEFAULT_MODEL, env = "SINGER_ID_MODEL")]
    pub model: String,
    /// Hide progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Enrol a singer from one or more audio files (added to the library, created if missing).
    Enroll {
        /// Singer library file (JSON).
        #[arg(long, short)]
        library: PathBuf,
        /// The singer's name.
        #[arg(long, short)]
        name: String,
        /// Audio files of this singer (WAV, FLAC, OGG, MP3; any sample rate).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Analyse a recording into a timeline of who sings when.
    Analyze {
        /// Audio file to analyse.
        file: PathBuf,
        #[arg(long, short)]
        library: PathBuf,
        /// Output format: json, csv or audacity (label track, File > Import > Labels).
        #[arg(long, short, default_value = "json")]
        format: Format,
        /// Write to this file instead of standard output (written atomically).
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// List, remove or rename the singers of a library.
    Library {
        #[arg(long, short, global = true)]
        library: Option<PathBuf>,
        #[command(subcommand)]
        action: LibraryAction,
    },
    /// Measure accuracy on a labelled manifest (see docs: eval protocol).
    Eval {
        /// Manifest CSV with columns path, singer, group, role.
        manifest: PathBuf,
        /// Score consecutive S-second pieces of each test clip instead of whole clips.
        #[arg(long, value_name = "S")]
        segment: Option<f64>,
        /// Print only the protocol's JSON.
        #[arg(long)]
        json: bool,
        /// How to score against enrolled singers: centroid, knn or knn:K.
        #[arg(long, default_value = "centroid")]
        scoring: Scoring,
        /// Operating threshold (default: the model's calibrated one).
        #[arg(long)]
        threshold: Option<f32>,
    },
    /// Measure timeline accuracy on multi-singer songs (see docs: eval protocol, "Timelines"):
    /// enrol from an enrolment list, analyse each song as `analyze` does, score the timeline
    /// against the true sections on a 10 ms grid with a 0.5 s collar at section boundaries.
    EvalSongs {
        /// Songs CSV with columns song, start_s, end_s, label[, var_db]; the audio of song S is
        /// S.<condition>.<wav|flac|ogg|mp3> next to it.
        songs: PathBuf,
        /// Which audio to analyse: mono (a cappella), mix (with accompaniment) or all (each
        /// condition whose audio is there, reported separately).
        #[arg(long, default_value = "all", value_parser = ["mono", "mix", "all"])]
        condition: String,
        /// Enrolment list CSV with columns singer, path (paths relative to its folder)
        /// [default: enroll.csv next to SONGS].
        #[arg(long, value_name = "FILE")]
        enroll: Option<PathBuf>,
        /// Print only the JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Find the threshold at the equal error rate on a manifest (use training data, not the
    /// data you report on), to set a model's default_threshold.
    Calibrate {
        manifest: PathBuf,
        #[arg(long, value_name = "S")]
        segment: Option<f64>,
        #[arg(long, default_value = "centroid")]
        scoring: Scoring,
    },
    /// Compute the protocol's metrics from another system's scores (e.g. a baseline), so every
    /// system is measured by the same code. SCORES is a CSV: header `truth,<singer>,<singer>,...`
    /// (the enrolled singers), then one row per test unit: its true singer and its scores.
    Metrics {
        scores: PathBuf,
        /// Operating threshold; without it, the threshold at the equal error rate is printed
        /// instead (for calibrating on training data).
        #[arg(long)]
        threshold: Option<f32>,
    },
    /// Measure real-time factors of the frontend, the model and the whole pipeline.
    Bench {
        /// Audio file to use (default: 20 s of a synthetic vowel-like signal).
        file: Option<PathBuf>,
        /// Repetitions; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Also time this model in the same run and print the ratio (e.g. v0-ge2e-f32).
        #[arg(long, value_name = "MODEL")]
        compare: Option<String>,
        /// Instead of speed, measure how long after each sung section of FILE starts the
        /// analyzer first names its singer. SECTIONS is a CSV `start_s,end_s,label` (label =
        /// singer name, or `instrumental`); needs --library.
        #[arg(long, value_name = "SECTIONS", requires_all = ["library", "file"])]
        onset: Option<PathBuf>,
        /// Singer library for --onset.
        #[arg(long, short)]
        library: Option<PathBuf>,
        /// Instead, measure the plugin's audio-thread cost per block and its worker's CPU share.
        #[arg(long, conflicts_with_all = ["onset", "compare"])]
        plugin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum LibraryAction {
    /// Show the singers and how much audio each was enrolled with.
    List,
    /// Remove a singer.
    Remove { name: String },
    /// Rename a singer.
    Rename { from: String, to: String },
}

/// Analyzer settings shared by commands that analyse audio.
#[derive(Args, Debug)]
pub struct Tuning {
    /// Seconds between decisions.
    #[arg(long, default_value_t = 0.5)]
    pub hop: f64,
    /// Seconds of decisions averaged into each verdict.
    #[arg(long, default_value_t = 1.0)]
    pub smoothing: f64,
    /// Unknown-singer threshold (default: the model's calibrated one).
    #[arg(long)]
    pub threshold: Option<f32>,
    /// centroid, knn or knn:K.
    #[arg(long, default_value = "centroid")]
    pub scoring: Scoring,
}
