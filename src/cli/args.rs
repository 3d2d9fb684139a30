//! Command-line flags. Only definitions and help text here; see the sibling files for the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A score threshold: a finite number in -1..1 (scores are cosines).
fn score(text: &str) -> Result<f32, String> {
    let v: f32 = text.trim().parse().map_err(|e| format!("{e}"))?;
    if v.is_finite() && (-1.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{text} is not a score: use a number from -1 to 1"))
    }
}

/// Seconds within `lo..=hi`, finite.
fn seconds_in(lo: f64, hi: f64) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let v: f64 = text.trim().parse().map_err(|e| format!("{e}"))?;
        if v.is_finite() && (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{text} s is out of range: use {lo} to {hi} seconds"))
        }
    }
}

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
    /// Model to use: the built-in default (v2-campp-f32), a name in the repository's models/
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
    /// Analyse recordings into timelines of who sings when.
    ///
    /// One file: the timeline goes to standard output or --output. Several files or folders
    /// (searched recursively for .wav, .flac, .ogg and .mp3): one timeline per file in
    /// --output-dir and/or one summary line per file in --summary. A file that fails is
    /// reported and the others go on; the exit status is 1 if any failed. A file that is only
    /// partly readable (cut short, damaged packets) is analysed as far as it goes, with a warning.
    Analyze {
        /// Audio files and folders to analyse.
        #[arg(required = true, value_name = "PATH")]
        inputs: Vec<PathBuf>,
        /// Singer library file (JSON, made by `singer-id enroll`).
        #[arg(long, short)]
        library: PathBuf,
        /// Output format: json, csv or audacity (label track, File > Import > Labels).
        #[arg(long, short, default_value = "json")]
        format: Format,
        /// Write the timeline of a single input file here instead of standard output (written
        /// atomically).
        #[arg(long, short, conflicts_with = "output_dir")]
        output: Option<PathBuf>,
        /// Write one timeline per input into this folder (created if missing), named after the
        /// input with the format's extension; files found in a folder keep their sub-folders.
        #[arg(long, value_name = "DIR")]
        output_dir: Option<PathBuf>,
        /// Write a JSON Lines summary: one line per input (path, duration_s, the singers found
        /// with their total seconds and any warning about an only partly readable file, or the
        /// error).
        #[arg(long, value_name = "FILE")]
        summary: Option<PathBuf>,
        /// Files analysed at once [default: the number of CPU cores].
        #[arg(long, short, value_name = "N")]
        jobs: Option<std::num::NonZeroUsize>,
        /// Also draw the timeline of a single input as a PNG picture: the waveform with
        /// `no voice` and `unknown` shaded, the confidence of each decision, and one coloured
        /// lane per singer.
        #[arg(long, value_name = "FILE.png")]
        plot: Option<PathBuf>,
        /// Also send each decision of a single input as OSC over UDP to HOST:PORT, as it is
        /// made: `/singer-id/singer ,sf NAME CONFIDENCE` when the verdict changes and
        /// `/singer-id/scores` (name, score pairs, best first) every hop.
        #[arg(long, value_name = "HOST:PORT")]
        osc: Option<String>,
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
        #[arg(long, value_parser = score, allow_negative_numbers = true)]
        threshold: Option<f32>,
        /// Also draw the confusion matrix as a PNG picture (rows: true singer, columns:
        /// best-scoring singer, shaded by share of the row).
        #[arg(long, value_name = "FILE.png")]
        plot: Option<PathBuf>,
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
        /// Also draw each song's true sections above its predicted timeline as a PNG picture
        /// (one pair of lanes per song and condition).
        #[arg(long, value_name = "FILE.png")]
        plot: Option<PathBuf>,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Choose song mode's turn threshold on labelled songs (use singers you do not report on:
    /// models/v2/heldout_songs.py builds songs of singers held out of training): every song is
    /// heard once, then each threshold from --from to --to is tried; the one with the best
    /// timeline_acc (mean over conditions) is printed, to store as the model's turn_threshold.
    CalibrateSongs {
        /// Songs CSV as for eval-songs (song, start_s, end_s, label[, var_db]); the audio of
        /// song S is S.<condition>.<wav|flac|ogg|mp3> next to it.
        songs: PathBuf,
        /// Which audio to analyse: mono, mix or all (each condition whose audio is there).
        #[arg(long, default_value = "all", value_parser = ["mono", "mix", "all"])]
        condition: String,
        /// Enrolment list CSV with columns singer, path [default: enroll.csv next to SONGS].
        #[arg(long, value_name = "FILE")]
        enroll: Option<PathBuf>,
        /// Lowest turn threshold tried.
        #[arg(long, default_value_t = 0.3, value_parser = score, allow_negative_numbers = true)]
        from: f32,
        /// Highest turn threshold tried.
        #[arg(long, default_value_t = 0.8, value_parser = score, allow_negative_numbers = true)]
        to: f32,
        /// Spacing of the thresholds tried.
        #[arg(long, default_value_t = 0.01)]
        step: f32,
        /// Print only the JSON (every threshold's metrics per condition, and the best).
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
        #[arg(long, value_parser = score, allow_negative_numbers = true)]
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
        /// Instead, time each kind of operator in one window's inference (tract's optimised
        /// plan, --runs inferences, one thread): where the model's time goes.
        #[arg(long, conflicts_with_all = ["onset", "compare", "plugin"])]
        profile: bool,
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

/// How a recording is turned into a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Hear the whole recording, then decide: turns of one singer, each identified from all of
    /// its audio (the best timeline a file allows).
    Song,
    /// Decide every hop from the last second only, exactly as the plugin does in real time.
    Live,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Song => "song",
            Mode::Live => "live",
        }
    }
}

/// What song mode names a turn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TurnEmbedding {
    /// Embed all of the turn's audio at once (the file is read a second time).
    Audio,
    /// Average the turn's hop embeddings (one reading; what the plugin's exported timeline does).
    Hops,
}

impl TurnEmbedding {
    pub fn name(self) -> &'static str {
        match self {
            TurnEmbedding::Audio => "audio",
            TurnEmbedding::Hops => "hops",
        }
    }
}

/// Analyzer settings shared by commands that analyse audio.
#[derive(Args, Debug)]
pub struct Tuning {
    /// song: decide after hearing the whole recording; live: as the plugin does in real time.
    #[arg(long, value_enum, default_value_t = Mode::Song)]
    pub mode: Mode,
    /// Song mode: cost of a change of singer between hops (higher: fewer, longer turns).
    #[arg(long, default_value_t = singer_id::song::SongConfig::default().switch_penalty)]
    pub switch_penalty: f32,
    /// Song mode: cost of going against the voice detector for one hop (higher: `no voice`
    /// follows every pause; lower: short pauses stay inside a sung turn).
    #[arg(long, default_value_t = singer_id::song::SongConfig::default().voice_cost)]
    pub voice_cost: f32,
    /// Song mode: score a whole turn needs to name a singer (default: the model's calibrated
    /// turn threshold, moved by as much as --threshold moves the hop threshold; models without
    /// one use --threshold). Raise it to name fewer impostors, lower it to miss fewer enrolled
    /// singers.
    #[arg(long, value_parser = score, allow_negative_numbers = true)]
    pub turn_threshold: Option<f32>,
    /// Song mode: name each turn from all of its audio embedded at once (the file is read
    /// twice), or from the mean of its hop embeddings.
    #[arg(long, value_enum, default_value_t = TurnEmbedding::Audio)]
    pub turn_embedding: TurnEmbedding,
    /// Song mode: seconds each sung turn is widened into the silence or instrumental beside it
    /// (the voice detector misses the soft start and end of a phrase).
    #[arg(long, value_name = "S", default_value_t = singer_id::song::SongConfig::default().pad_s,
          value_parser = seconds_in(0.0, 10.0))]
    pub pad: f64,
    /// Seconds between decisions (0.05 to 10).
    #[arg(long, default_value_t = 0.5, value_parser = seconds_in(0.05, 10.0))]
    pub hop: f64,
    /// Live mode: seconds of decisions averaged into each verdict (0 to 60).
    #[arg(long, default_value_t = 1.0, value_parser = seconds_in(0.0, 60.0))]
    pub smoothing: f64,
    /// Unknown-singer threshold, -1 to 1 (default: the model's calibrated one).
    #[arg(long, value_parser = score, allow_negative_numbers = true)]
    pub threshold: Option<f32>,
    /// centroid, knn or knn:K.
    #[arg(long, default_value = "centroid")]
    pub scoring: Scoring,
}
