//! `singer-id`: enrol singers from files, analyse a file into a timeline, evaluate on a labelled
//! manifest, benchmark. Parsing lives in `cli::args`, each command in its own file; the work
//! itself is the library's.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`singer-id library list | head -1`)
    // would panic; like other command-line tools, end quietly instead.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    #[cfg(unix)]
    if let Err(e) = singer_id::fsutil::remove_temp_files_on_termination() {
        eprintln!("warning: cannot watch for Ctrl-C (a save interrupted now may leave a temp file): {e}");
    }
    // The network's work buffers are up to megabytes each and change size with every window;
    // glibc keeps such freed blocks in its heap (its mmap threshold rises after each big free),
    // so the resident size crept up. A fixed threshold hands them back to the system at once.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; no allocation is in flight on another thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
    let args = cli::args::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
