//! File-system helpers shared by everything that saves state (singer libraries, reports,
//! timelines): a crash or a full disk must never leave a half-written file behind.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temp files made by concurrent calls within one process; the pid in the name
/// distinguishes processes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `contents` atomically: readers see either the old file or the new one,
/// never a mix, and the old file survives any failure.
///
/// The data goes to a hidden temp file in the same directory (a rename is only atomic within
/// one file system), is flushed to disk, and is then renamed over `path`. An existing file's
/// permissions are carried over to its replacement.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let temp_path = temp_path_for(path)?;
    let result = write_and_rename(&temp_path, path, contents);
    if result.is_err() {
        // Best effort: the temp file may not exist if creating it was what failed.
        let _ = fs::remove_file(&temp_path);
    }
    result
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

fn write_and_rename(temp_path: &Path, path: &Path, contents: &[u8]) -> io::Result<()> {
    // create_new: never clobber a file we did not make (e.g. a stale temp of another process).
    let mut file = OpenOptions::new().write(true).create_new(true).open(temp_path)?;
    file.write_all(contents)?;
    if let Ok(existing) = fs::metadata(path) {
        file.set_permissions(existing.permissions())?;
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
