//! Dispatch from parsed arguments to the commands.

mod analyze;
pub mod args;
mod bench;
mod calibrate_songs;
mod commands;
mod progress;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use singer_id::library::SingerLibrary;
use singer_id::model::Model;

use args::{Cli, Command};

pub fn run(cli: Cli) -> Result<()> {
    let global = &cli.global;
    match cli.command {
        Command::Enroll { library, name, files } => commands::enroll(global, &library, &name, &files),
        Command::Analyze { inputs, library, format, output, output_dir, summary, jobs, plot, osc, tuning } => {
            let outputs = analyze::Outputs {
                format,
                output: output.as_deref(),
                output_dir: output_dir.as_deref(),
                summary: summary.as_deref(),
                jobs,
                plot: plot.as_deref(),
                osc: osc.as_deref(),
            };
            analyze::analyze(global, &inputs, &library, &outputs, &tuning)
        }
        Command::Library { library, action } => {
            let library = library.context("--library FILE is required")?;
            commands::library(&library, action)
        }
        Command::Eval { manifest, segment, json, scoring, threshold, plot } => {
            commands::eval(global, &manifest, segment, json, scoring, threshold, plot.as_deref())
        }
        Command::EvalSongs { songs, condition, enroll, json, plot, tuning } => {
            commands::eval_songs(global, &songs, &condition, enroll.as_deref(), json, plot.as_deref(), &tuning)
        }
        Command::CalibrateSongs { songs, condition, enroll, from, to, step, json, tuning } => {
            let sweep = calibrate_songs::Sweep { from, to, step };
            calibrate_songs::calibrate_songs(global, &songs, &condition, enroll.as_deref(), json, &tuning, &sweep)
        }
        Command::Calibrate { manifest, segment, scoring } => commands::calibrate(global, &manifest, segment, scoring),
        Command::Metrics { scores, threshold } => commands::metrics(&scores, threshold),
        Command::Bench { file, runs, compare, onset, library, plugin, profile } => match (onset, library, &file) {
            _ if plugin => bench::plugin_costs(runs),
            _ if profile => bench::profile(global, file.as_deref(), runs),
            (Some(sections), Some(library), Some(file)) => bench::onset_latency(global, file, &library, &sections),
            _ => bench::run(global, file.as_deref(), runs, compare.as_deref()),
        },
    }
}

fn load_model(name: &str) -> Result<Arc<Model>> {
    Ok(Arc::new(Model::load_named(name)?))
}

/// Loads a library and checks it was made with `model`'s embeddings.
fn load_library_for(path: &Path, model: &Model) -> Result<SingerLibrary> {
    let library = SingerLibrary::load(path)?;
    library.check_model(model.metadata())?;
    Ok(library)
}
