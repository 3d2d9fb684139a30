//! `singer-id-live`: the Singer ID plugin without a DAW, for the front-of-house desk. nice-plug's
//! standalone wrapper supplies the audio (JACK, else ALSA; `--backend dummy` feeds silence), the
//! MIDI output and the editor window; this file only adds the few options a rig needs before
//! the plugin starts, and a clean exit on SIGTERM (service managers, `kill`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use nice_plug::prelude::nice_export_standalone_with_args;
use singer_id::library::SingerLibrary;
use singer_id::plugin::{set_standalone_setup, SingerId, StandaloneSetup};

const OWN_HELP: &str = "\
singer-id-live: who sings, live, without a DAW (the Singer ID plugin in a standalone window)

Options of singer-id-live (the audio options of the wrapper follow):
      --library <FILE>     Start with the singers of this library (made by `singer-id enroll`);
                           the editor's Import/Export load and save others
      --osc <HOST:PORT>    Send each change of singer and the scores as OSC (as the editor's
                           \"OSC out to\" field)
      --headless           Open no window: analyse, send MIDI and OSC until SIGINT or SIGTERM

MIDI: Program Changes go to the MIDI output (`--midi-output` with ALSA, a JACK MIDI port with
JACK; `--connect-jack-midi-output` connects it). Without JACK the ALSA backend needs no server.
";

/// Our options, taken out of the argument list; the rest goes to the wrapper.
fn own_options(args: Vec<String>) -> Result<(StandaloneSetup, Vec<String>), String> {
    let mut setup = StandaloneSetup::default();
    let mut rest = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value =
            |name: &str| inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--library" => {
                let path = PathBuf::from(value("--library")?);
                let library = SingerLibrary::load(&path).map_err(|e| e.to_string())?;
                setup.library = Some(library);
            }
            "--osc" => {
                let target = value("--osc")?;
                // Checked now, so a typo is an error here rather than a line in a status bar.
                singer_id::osc::OscSender::connect(&target).map_err(|e| e.to_string())?;
                setup.osc_target = Some(target);
            }
            "--headless" => setup.headless = true,
            _ => rest.push(arg),
        }
    }
    Ok((setup, rest))
}

/// How long a stop may take before the app exits without waiting for the audio backend.
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// SIGTERM and SIGHUP end the app as SIGINT does (the wrapper only listens for SIGINT): it stops
/// the audio, deactivates the plugin and exits with status 0. If that does not happen within
/// [`STOP_LIMIT`] (the JACK backend waits forever for a server that has died), the app exits
/// anyway, with status 1 and a message, so a service manager or a script is never left hanging.
fn forward_termination_to_sigint() -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if signals.forever().next().is_some() {
            // SAFETY: kill(2) on our own pid with a valid signal number has no preconditions.
            unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
            std::thread::sleep(STOP_LIMIT);
            eprintln!("singer-id-live: the audio backend did not stop within {STOP_LIMIT:?}; exiting without it");
            std::process::exit(1);
        }
    })?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().skip(1).any(|a| a == "--help" || a == "-h") {
        println!("{OWN_HELP}");
    }
    let (setup, rest) = match own_options(args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("singer-id-live: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = set_standalone_setup(setup) {
        eprintln!("singer-id-live: {e}");
        return ExitCode::from(2);
    }
    if let Err(e) = forward_termination_to_sigint() {
        eprintln!("singer-id-live: cannot listen for SIGTERM: {e}");
        return ExitCode::FAILURE;
    }
    if nice_export_standalone_with_args::<SingerId, _>(rest) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
