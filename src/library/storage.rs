//! Saving and loading a library as versioned JSON. A save goes to a temporary file that is
//! renamed over the old one, so a crash mid-write never loses the library; a file that is
//! damaged or from a newer version is refused and left untouched.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SingerLibrary;
use crate::fsutil::{resolve_symlinks, write_atomically};

/// Marks a file as a singer library (so a random JSON file is not mistaken for one).
pub const LIBRARY_FORMAT: &str = "singer-id-library";
/// The layout this build writes; it reads this one and older ones.
pub const LIBRARY_VERSION: u32 = 1;

/// Largest library file read (a singer at the reference cap is under 1 MB of JSON).
const MAX_LIBRARY_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("cannot read singer library {path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("singer library {path} is damaged ({reason}); it was left untouched")]
    Damaged { path: PathBuf, reason: String },
    #[error("singer library {path} has format version {version}, newer than this build reads ({LIBRARY_VERSION}); update singer-id")]
    TooNew { path: PathBuf, version: u32 },
    #[error("this library was made with model space '{library_space}', but model '{model_name}' uses '{model_space}': re-enrol the singers with this model")]
    WrongModel { library_space: String, model_space: String, model_name: String },
    #[error("no singer named '{0}' in the library")]
    NoSuchSinger(String),
    #[error("{0}")]
    BadName(String),
    #[error("nothing to enrol for '{0}': no voiced audio found")]
    NothingToEnroll(String),
    #[error("cannot write singer library {path}: {cause}")]
    Write { path: PathBuf, cause: std::io::Error },
}

#[derive(Serialize)]
struct FileOut<'a> {
    format: &'a str,
    version: u32,
    #[serde(flatten)]
    library: &'a SingerLibrary,
}

/// Just the header, read first so a future version is recognised even if its body changed.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Deserialize)]
struct FileIn {
    #[serde(flatten)]
    library: SingerLibrary,
}

impl SingerLibrary {
    /// Serialises to the versioned JSON layout (also used for plugin state).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&FileOut { format: LIBRARY_FORMAT, version: LIBRARY_VERSION, library: self })
            .expect("a library always serialises")
    }

    /// Parses the versioned JSON layout; `origin` names the source in errors.
    pub fn from_json(text: &str, origin: &Path) -> Result<Self, LibraryError> {
        let damaged = |reason: String| LibraryError::Damaged { path: origin.to_path_buf(), reason };
        // Editors on Windows may start a UTF-8 file with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let header: Header = serde_json::from_str(text).map_err(|e| damaged(format!("not a singer library: {e}")))?;
        if header.format != LIBRARY_FORMAT {
            return Err(damaged(format!("format is '{}', expected '{LIBRARY_FORMAT}'", header.format)));
        }
        if header.version == 0 {
            return Err(damaged("version 0 is not a singer library version".into()));
        }
        if header.version > LIBRARY_VERSION {
            return Err(LibraryError::TooNew { path: origin.to_path_buf(), version: header.version });
        }
        let file: FileIn = serde_json::from_str(text).map_err(|e| damaged(e.to_string()))?;
        let mut library = file.library;
        library.validate().map_err(damaged)?;
        // The centroid is derived data: recompute it rather than trust an edited file.
        library.singers.iter_mut().for_each(super::Singer::update_centroid);
        Ok(library)
    }

    fn validate(&self) -> Result<(), String> {
        for (i, singer) in self.singers.iter().enumerate() {
            // Reserved names are let through so `library rename` can fix an older library.
            if singer.name.trim().is_empty() || singer.name.chars().any(char::is_control) {
                return Err(format!("singer {} has an empty name or control characters in it", i + 1));
            }
            if let Some(twin) = self.singers[..i].iter().find(|s| super::same_name(&s.name, &singer.name)) {
                return Err(format!("singer '{}' appears twice ('{}')", singer.name, twin.name));
            }
            if singer.references.is_empty() {
                return Err(format!("singer '{}' has no reference embeddings", singer.name));
            }
            let vectors = singer.references.iter().chain(std::iter::once(&singer.centroid));
            for v in vectors {
                if v.len() != self.embedding_size || v.iter().any(|x| !x.is_finite()) {
                    return Err(format!(
                        "singer '{}' has an embedding of the wrong size or with non-finite values",
                        singer.name
                    ));
                }
                if v.iter().all(|&x| x == 0.0) {
                    return Err(format!("singer '{}' has an all-zero embedding", singer.name));
                }
            }
        }
        Ok(())
    }

    pub fn load(path: &Path) -> Result<Self, LibraryError> {
        let io = |cause| LibraryError::Io { path: path.to_path_buf(), cause };
        // Look before reading: a device such as /dev/zero would be read until memory runs out.
        let metadata = std::fs::metadata(path).map_err(io)?;
        if !metadata.is_file() {
            return Err(io(std::io::Error::other("not a regular file")));
        }
        if metadata.len() > MAX_LIBRARY_BYTES {
            return Err(LibraryError::Damaged {
                path: path.to_path_buf(),
                reason: format!("{} bytes is too large for a singer library", metadata.len()),
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Self::from_json(&text, path)
    }

    /// Loads the library at `path` (or takes `create()`'s when there is none), applies
    /// `change` and saves the result, all while holding an exclusive lock on `.<name>.lock` next
    /// to it: two enrolments into one library at once both keep their singer, since the second
    /// reads the library the first saved. Nothing is saved when `change` fails.
    pub fn update<T, E: From<LibraryError>>(
        path: &Path,
        create: impl FnOnce() -> Result<SingerLibrary, E>,
        change: impl FnOnce(&mut SingerLibrary) -> Result<T, E>,
    ) -> Result<T, E> {
        let _lock = lock_for(path)?;
        let mut library = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create()?,
            _ => Self::load(path)?,
        };
        let result = change(&mut library)?;
        library.save(path)?;
        Ok(result)
    }

    /// Writes atomically: the old file stays intact until the new one is complete.
    pub fn save(&self, path: &Path) -> Result<(), LibraryError> {
        write_atomically(path, self.to_json().as_bytes())
            .map_err(|source| LibraryError::Write { path: path.to_path_buf(), cause: source })
    }
}

/// Takes the advisory lock that serialises changes to the library at `path` (released when the
/// returned file is dropped, or when the process dies). The lock file stays, empty.
fn lock_for(path: &Path) -> Result<std::fs::File, LibraryError> {
    let io = |cause| LibraryError::Io { path: path.to_path_buf(), cause };
    // Symlinks to one library share its lock.
    let target = resolve_symlinks(path).map_err(io)?;
    let name = target.file_name().ok_or_else(|| io(std::io::Error::other("not a file path")))?;
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let lock_path = dir.join(format!(".{}.lock", name.to_string_lossy()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|cause| LibraryError::Write { path: lock_path.clone(), cause })?;
    file.lock().map_err(|cause| LibraryError::Write { path: lock_path, cause })?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::super::tests::library_3d;
    use super::*;

    #[test]
    fn round_trips_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.json");
        let lib = library_3d();
        lib.save(&path).unwrap();
        assert_eq!(SingerLibrary::load(&path).unwrap(), lib);
    }

    #[test]
    fn damaged_and_future_files_are_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.json");
        let json = library_3d().to_json();
        for (bad, want_too_new) in [
            (json[..json.len() / 2].to_string(), false),
            ("{\"hello\": 1}".to_string(), false),
            (json.replace("\"version\":1", "\"version\":99"), true),
            (json.replace("\"format\":\"singer-id-library\"", "\"format\":\"other\""), false),
            (json.replace("\"version\":1", "\"version\":0"), false),
            (json.replace("\"name\":\"ann\"", "\"name\":\" \""), false),
            (json.replace("\"name\":\"ann\"", "\"name\":\"a\\u0007nn\""), false),
            (json.replace("\"name\":\"ann\"", "\"name\":\"BOB\""), false),
        ] {
            std::fs::write(&path, &bad).unwrap();
            let err = SingerLibrary::load(&path).unwrap_err();
            assert_eq!(matches!(err, LibraryError::TooNew { .. }), want_too_new, "{err}");
            assert!(err.to_string().contains("lib.json"), "{err}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), bad, "file must be left as it was");
        }
    }

    #[test]
    fn byte_order_mark_is_accepted_and_centroids_are_recomputed() {
        let lib = library_3d();
        let mut edited = lib.clone();
        edited.singers[0].centroid = vec![0.0, 0.0, 1.0];
        let text = format!("\u{feff}{}", edited.to_json());
        assert_eq!(SingerLibrary::from_json(&text, Path::new("x.json")).unwrap(), lib);
    }

    #[test]
    fn all_zero_embedding_is_damage() {
        let mut lib = library_3d();
        lib.singers[1].references[0] = vec![0.0; 3];
        let err = SingerLibrary::from_json(&lib.to_json(), Path::new("x.json")).unwrap_err();
        assert!(err.to_string().contains("all-zero"), "{err}");
    }

    #[test]
    fn concurrent_updates_keep_every_singer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.json");
        let template = library_3d();
        std::thread::scope(|scope| {
            for i in 0..8 {
                let (path, template) = (&path, &template);
                scope.spawn(move || {
                    let empty = || Ok(SingerLibrary { singers: Vec::new(), ..template.clone() });
                    SingerLibrary::update(path, empty, |lib| {
                        // Widen the window between read and write, as a slow enrolment would.
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        lib.enroll(&format!("singer{i}"), vec![vec![1.0, i as f32, 0.5]])
                    })
                    .unwrap();
                });
            }
        });
        let names = SingerLibrary::load(&path).unwrap().names().len();
        assert_eq!(names, 8, "every concurrent enrolment kept its singer");
        let failed: Result<(), LibraryError> =
            SingerLibrary::update(&path, || unreachable!("the library exists"), |lib| lib.remove("nobody"));
        assert!(failed.is_err());
        assert_eq!(SingerLibrary::load(&path).unwrap().names().len(), 8, "a failed change saves nothing");
    }

    #[test]
    fn wrong_sized_embedding_is_damage() {
        let mut lib = library_3d();
        lib.singers[0].centroid.push(0.0);
        let err = SingerLibrary::from_json(&lib.to_json(), Path::new("x.json")).unwrap_err();
        assert!(matches!(err, LibraryError::Damaged { .. }), "{err}");
    }
}
