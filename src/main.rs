//! `singer-id`: enrol singers from files, analyse a file into a timeline, evaluate on a labelled
//! manifest, benchmark. Parsing lives in `cli::args`, each command in its own file; the work
//! itself is the library's.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::args::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
