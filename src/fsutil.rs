//! File-system helpers shared by everything that saves state (singer libraries, reports,
//! timelines): a crash or a full disk must never leave a half-written file behind.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Distinguishes temp files made by concurrent calls within one process; the pid in the name
/// distinguishes processes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Temp files being written right now, for [`remove_temp_files_on_termination`].
static TEMP_FILES_IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Makes SIGINT, SIGTERM and SIGHUP remove the temp files of saves in progress before the
/// process ends as the signal asks (so the exit status still says "killed by SIGTERM").
/// For programs, not plugins: a host owns its own signals. The target files are untouched:
/// a save that had not been renamed into place simply did not happen.
#[cfg(unix)]
pub fn remove_temp_files_on_termination() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            // A panicked saver cannot have left the list in a state worth less than trying.
            let temps = TEMP_FILES_IN_PROGRESS.lock().unwrap_or_else(|e| e.into_inner());
            for temp in temps.iter() {
                let _ = fs::remove_file(temp);
            }
            // Keep holding the list: no save may register (and start) a new temp file now.
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            std::process::exit(128 + signal);
        }
    })?;
    Ok(())
}

/// Keeps a temp file on the list of saves in progress while it lives.
struct TempGuard(PathBuf);

impl TempGuard {
    fn register(path: &Path) -> TempGuard {
        TEMP_FILES_IN_PROGRESS.lock().unwrap_or_else(|e| e.into_inner()).push(path.to_path_buf());
        TempGuard(path.to_path_buf())
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        let mut temps = TEMP_FILES_IN_PROGRESS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = temps.iter().position(|p| *p == self.0) {
            temps.swap_remove(i);
        }
    }
}

/// Replaces `path` with `contents` atomically: readers see either the old file or the new one,
/// never a mix, and the old file survives any failure.
///
/// The data goes to a hidden temp file in the same directory (a rename is only atomic within
/// one file system), is flushed to disk, and is then renamed over `path`. What is at `path` is
/// respected: a symlink is followed (its target is replaced, the link stays), an existing
/// file's permissions, owner and group are carried over, a read-only file is refused, and a
/// device or FIFO (`/dev/null`, a named pipe) is written to directly, since it cannot be
/// replaced. Temp files left by killed processes are removed on the way.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    if path.file_name().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot write {}: not a file path", path.display()),
        ));
    }
    let target = resolve_symlinks(path)?;
    let existing = fs::metadata(&target).ok();
    if let Some(existing) = &existing {
        let kind = existing.file_type();
        if kind.is_dir() {
            return Err(io::Error::new(io::ErrorKind::IsADirectory, format!("{} is a folder", target.display())));
        }
        if !kind.is_file() {
            return write_in_place(&target, contents);
        }
        if existing.permissions().readonly() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{} is read-only: refusing to replace it", target.display()),
            ));
        }
    }
    remove_stale_temp_files(&target);
    let temp_path = temp_path_for(&target)?;
    let _in_progress = TempGuard::register(&temp_path);
    let result = write_and_rename(&temp_path, &target, existing.as_ref(), contents);
    if result.is_err() {
        // Best effort: the temp file may not exist if creating it was what failed.
        let _ = fs::remove_file(&temp_path);
    }
    result
}

/// `path`, or the file its chain of symlinks ends at (which need not exist yet).
pub(crate) fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = parent_dir(&current).join(link);
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other(format!("{}: too many levels of symbolic links", path.display())))
}

/// Writes into something that is not a regular file (a device, a FIFO): no rename is possible,
/// but errors such as a full device must still be reported.
fn write_in_place(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).open(path)?;
    file.write_all(contents)?;
    file.flush()
}

/// Removes `dir/.name.tmp-<pid>-<n>` files of `path` whose process is gone (killed mid-save).
fn remove_stale_temp_files(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = fs::read_dir(parent_dir(path)) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id exists (conservatively true where that cannot be told).
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = i32::try_from(pid) else { return true };
        // SAFETY: signal 0 only checks that the process exists; nothing is sent.
        let result = unsafe { libc::kill(pid, 0) };
        result == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// `dir/.name.tmp-<pid>-<n>` next to `path`.
fn temp_path_for(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("cannot write {}: not a file path", path.display()))
    })?;
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp_name = format!(".{}.tmp-{}-{}", name.to_string_lossy(), std::process::id(), n);
    Ok(parent_dir(path).join(temp_name))
}

/// The directory holding `path`; `.` for a bare file name.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// `existing`: what is at `path` now, whose permissions, owner and group the new file takes.
fn write_and_rename(temp_path: &Path, path: &Path, existing: Option<&fs::Metadata>, contents: &[u8]) -> io::Result<()> {
    // create_new: never clobber a file we did not make (e.g. a stale temp of another process).
    let mut file = OpenOptions::new().write(true).create_new(true).open(temp_path)?;
    file.write_all(contents)?;
    if let Some(existing) = existing {
        file.set_permissions(existing.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Keep the owner and group (e.g. a library shared through a group); only root may
            // give a file away, so this is best effort for everyone else.
            let _ = std::os::unix::fs::fchown(&file, Some(existing.uid()), Some(existing.gid()));
        }
    }
    // The data must be on disk before the rename makes it visible, or a crash could leave an
    // empty file under the real name.
    file.sync_all()?;
    drop(file);
    fs::rename(temp_path, path)?;
    sync_dir(parent_dir(path));
    Ok(())
}

/// Makes the rename itself durable. Best effort: some file systems refuse to fsync a
/// directory, and by now the new file is complete and in place either way.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    // Other platforms cannot open a directory as a file.
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftover_temp_files(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".tmp-"))
            .collect()
    }

    #[test]
    fn writes_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomically(&path, b"hello").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        assert!(leftover_temp_files(dir.path()).is_empty());
    }

    #[test]
    fn replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        fs::write(&path, b"old contents that are longer").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert!(leftover_temp_files(dir.path()).is_empty());
    }

    #[test]
    fn failure_leaves_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a non-empty directory fails, after the temp was written.
        let path = dir.path().join("occupied");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), b"old").unwrap();
        assert!(write_atomically(&path, b"new").is_err());
        assert_eq!(fs::read(path.join("keep")).unwrap(), b"old");
        assert!(leftover_temp_files(dir.path()).is_empty());
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("out.json");
        let err = write_atomically(&path, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn path_without_file_name_is_rejected() {
        let err = write_atomically(Path::new("/"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn temp_names_are_unique_and_hidden() {
        let a = temp_path_for(Path::new("dir/lib.json")).unwrap();
        let b = temp_path_for(Path::new("dir/lib.json")).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("dir")));
        assert!(a.file_name().unwrap().to_string_lossy().starts_with(".lib.json.tmp-"));
        let bare = temp_path_for(Path::new("lib.json")).unwrap();
        assert_eq!(bare.parent(), Some(Path::new(".")));
    }

    /// `path` for a libc call.
    #[cfg(unix)]
    fn c_path(path: &Path) -> std::ffi::CString {
        std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap()
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_read_only_files_refused_and_devices_written_in_place() {
        use std::os::unix::fs::{symlink, FileTypeExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, b"old").unwrap();
        let link = dir.path().join("link.json");
        symlink("real.json", &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(fs::read(&real).unwrap(), b"new", "its target is replaced");

        let locked = dir.path().join("locked.json");
        fs::write(&locked, b"keep").unwrap();
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o444)).unwrap();
        let err = write_atomically(&locked, b"new").unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
        assert_eq!(fs::read(&locked).unwrap(), b"keep");

        // A FIFO stands for any non-regular target: it is written to, not replaced.
        let fifo = dir.path().join("fifo");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path(&fifo).as_ptr(), 0o600) }, 0);
        let reader = std::thread::spawn({
            let fifo = fifo.clone();
            move || fs::read(fifo).unwrap()
        });
        write_atomically(&fifo, b"through").unwrap();
        assert_eq!(reader.join().unwrap(), b"through");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "still a FIFO");
        assert!(leftover_temp_files(dir.path()).is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_device_is_an_error() {
        // Our own full device (char 1:7, like /dev/full) inside a temporary folder; needs root.
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join("full");
        // SAFETY: a valid NUL-terminated path.
        if unsafe { libc::mknod(c_path(&full).as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 7)) } != 0 {
            eprintln!("skipped: mknod needs root ({})", io::Error::last_os_error());
            return;
        }
        let err = write_atomically(&full, b"anything").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
        assert!(fs::symlink_metadata(&full).unwrap().file_type().is_char_device(), "the device stays");
    }

    #[test]
    fn temp_files_of_dead_processes_are_removed_on_the_next_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.json");
        // pid 2^22 + 1 is above Linux's largest pid, so no such process runs.
        let stale = dir.path().join(".lib.json.tmp-4194305-0");
        let other = dir.path().join(".other.json.tmp-4194305-0");
        fs::write(&stale, b"half a library").unwrap();
        fs::write(&other, b"not ours").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert!(!stale.exists(), "stale temp of this file removed");
        assert!(other.exists(), "other files' temps are left alone");
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions_of_replaced_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("script");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"new").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}
