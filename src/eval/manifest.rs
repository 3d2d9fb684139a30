//! Reading evaluation manifests (see the evaluation protocol): which clips enroll which singer
//! and which clips are tested. Errors name the manifest and line so a hand-edited CSV is easy
//! to fix, and rule violations that would make a reported number meaningless (an enrollment
//! group reused for testing) are refused up front.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

const REQUIRED_COLUMNS: [&str; 4] = ["path", "singer", "group", "role"];

/// Whether a clip builds a singer model or is scored against the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Enroll,
    Test,
}

impl Role {
    fn parse(text: &str) -> Option<Role> {
        match text {
            "enroll" => Some(Role::Enroll),
            "test" => Some(Role::Test),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Enroll => "enroll",
            Role::Test => "test",
        })
    }
}

/// One manifest row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The audio file, resolved against the manifest's folder.
    pub path: PathBuf,
    pub singer: String,
    pub group: String,
    pub role: Role,
}

/// A parsed, validated manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub entries: Vec<Entry>,
    /// What was accepted but looked like a mistake (a row repeated word for word, dropped),
    /// for the user to read.
    pub warnings: Vec<String>,
}

/// What is wrong with a manifest. Line numbers count from 1, the header being line 1.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest {}: file not found", path.display())]
    NotFound { path: PathBuf },
    #[error("manifest {}: cannot read: {cause}", path.display())]
    Unreadable { path: PathBuf, cause: std::io::Error },
    #[error("manifest {}, line {line}: malformed CSV: {message}", path.display())]
    Malformed { path: PathBuf, line: u64, message: String },
    #[error(
        "manifest {}: missing column `{column}` (required: path, singer, group, role)",
        path.display()
    )]
    MissingColumn { path: PathBuf, column: String },
    #[error("manifest {}, line {line}: empty `{column}`", path.display())]
    EmptyField { path: PathBuf, line: u64, column: String },
    #[error(
        "manifest {}, line {line}: role `{role}` is neither `enroll` nor `test`",
        path.display()
    )]
    BadRole { path: PathBuf, line: u64, role: String },
    #[error("manifest {}: no rows after the header", path.display())]
    Empty { path: PathBuf },
    #[error("manifest {}: no `enroll` rows", path.display())]
    NoEnroll { path: PathBuf },
    #[error("manifest {}: no `test` rows", path.display())]
    NoTest { path: PathBuf },
    #[error(
        "manifest {}: group `{group}` is used for enrollment (line {enroll_line}) and for \
         testing (line {test_line}); enrollment and test must never share a group",
        path.display()
    )]
    SharedGroup { path: PathBuf, group: String, enroll_line: u64, test_line: u64 },
    #[error(
        "manifest {}: {} is listed on line {first_line} ({first}) and again on line {line} \
         ({again}); a file has one singer and one role",
        path.display(), file.display()
    )]
    ConflictingRows { path: PathBuf, file: PathBuf, first_line: u64, first: String, line: u64, again: String },
}

/// Positions of the required columns in the header.
struct Columns {
    path: usize,
    singer: usize,
    group: usize,
    role: usize,
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ManifestError::NotFound { path: path.to_path_buf() },
            _ => ManifestError::Unreadable { path: path.to_path_buf(), cause: e },
        })?;
        Manifest::parse(&text, path)
    }

    /// Parses manifest text; `manifest_path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, manifest_path: &Path) -> Result<Manifest, ManifestError> {
        let base = manifest_dir(manifest_path);
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| malformed(manifest_path, &e))?.clone();
        let columns = find_columns(&headers, manifest_path)?;
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| malformed(manifest_path, &e))?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(|field| field.trim().is_empty()) {
                continue;
            }
            let entry = parse_entry(&record, &columns, &base, manifest_path, line)?;
            rows.push((line, entry));
        }
        let warnings = drop_repeated_rows(&mut rows, manifest_path)?;
        validate(&rows, manifest_path)?;
        Ok(Manifest { entries: rows.into_iter().map(|(_, entry)| entry).collect(), warnings })
    }

    /// Singers that have enroll rows, sorted and unique: the closed set the system knows.
    pub fn enrolled_singers(&self) -> Vec<String> {
        self.singers_with_role(Role::Enroll)
    }

    /// Entries with the given role, in file order.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.role == role)
    }

    /// Enroll entries of each enrolled singer, keyed by singer name (sorted).
    pub fn enrollment_by_singer(&self) -> BTreeMap<&str, Vec<&Entry>> {
        let mut by_singer: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
        for entry in self.with_role(Role::Enroll) {
            by_singer.entry(entry.singer.as_str()).or_default().push(entry);
        }
        by_singer
    }

    fn singers_with_role(&self, role: Role) -> Vec<String> {
        let set: BTreeSet<&str> = self.with_role(role).map(|e| e.singer.as_str()).collect();
        set.into_iter().map(str::to_owned).collect()
    }
}

/// Folder that relative paths in the manifest are relative to.
fn manifest_dir(manifest_path: &Path) -> PathBuf {
    match manifest_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn malformed(path: &Path, error: &csv::Error) -> ManifestError {
    let line = error.position().map_or(0, |p| p.line());
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        _ => error.to_string(),
    };
    ManifestError::Malformed { path: path.to_path_buf(), line, message }
}

fn find_columns(headers: &csv::StringRecord, path: &Path) -> Result<Columns, ManifestError> {
    let index_of = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| ManifestError::MissingColumn { path: path.to_path_buf(), column: name.to_string() })
    };
    let [path_col, singer, group, role] = REQUIRED_COLUMNS;
    Ok(Columns { path: index_of(path_col)?, singer: index_of(singer)?, group: index_of(group)?, role: index_of(role)? })
}

fn parse_entry(
    record: &csv::StringRecord,
    columns: &Columns,
    base: &Path,
    manifest_path: &Path,
    line: u64,
) -> Result<Entry, ManifestError> {
    let field = |index: usize, column: &str| {
        let value = record.get(index).unwrap_or("").trim();
        if value.is_empty() {
            Err(ManifestError::EmptyField { path: manifest_path.to_path_buf(), line, column: column.to_string() })
        } else {
            Ok(value)
        }
    };
    let role_text = field(columns.role, "role")?;
    let role = Role::parse(role_text).ok_or_else(|| ManifestError::BadRole {
        path: manifest_path.to_path_buf(),
        line,
        role: role_text.to_string(),
    })?;
    Ok(Entry {
        // join keeps an absolute path as it is.
        path: base.join(field(columns.path, "path")?),
        singer: field(columns.singer, "singer")?.to_string(),
        group: field(columns.group, "group")?.to_string(),
        role,
    })
}

/// Checks the rules that concern the manifest as a whole.
/// A file listed twice would count twice: an exact repeat is dropped (with a warning), a file
/// listed with two different singers or roles is an error (which label is true?).
fn drop_repeated_rows(rows: &mut Vec<(u64, Entry)>, path: &Path) -> Result<Vec<String>, ManifestError> {
    let describe = |e: &Entry| format!("{} `{}`, group `{}`", e.role, e.singer, e.group);
    let mut first_row: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut kept = Vec::with_capacity(rows.len());
    for (line, entry) in rows.drain(..) {
        match first_row.get(&entry.path) {
            Some(&i) => {
                let (first_line, first): &(u64, Entry) = &kept[i];
                if *first != entry {
                    return Err(ManifestError::ConflictingRows {
                        path: path.to_path_buf(),
                        file: entry.path.clone(),
                        first_line: *first_line,
                        first: describe(first),
                        line,
                        again: describe(&entry),
                    });
                }
                warnings.push(format!(
                    "manifest {}, line {line}: repeats line {first_line} ({}); counted once",
                    path.display(),
                    entry.path.display()
                ));
            }
            None => {
                first_row.insert(entry.path.clone(), kept.len());
                kept.push((line, entry));
            }
        }
    }
    *rows = kept;
    Ok(warnings)
}

fn validate(rows: &[(u64, Entry)], path: &Path) -> Result<(), ManifestError> {
    let path_buf = || path.to_path_buf();
    if rows.is_empty() {
        return Err(ManifestError::Empty { path: path_buf() });
    }
    let first_line_of = |role: Role| {
        let mut lines: BTreeMap<&str, u64> = BTreeMap::new();
        for (line, entry) in rows.iter().filter(|(_, e)| e.role == role) {
            lines.entry(entry.group.as_str()).or_insert(*line);
        }
        lines
    };
    let enroll_groups = first_line_of(Role::Enroll);
    let test_groups = first_line_of(Role::Test);
    if enroll_groups.is_empty() {
        return Err(ManifestError::NoEnroll { path: path_buf() });
    }
    if test_groups.is_empty() {
        return Err(ManifestError::NoTest { path: path_buf() });
    }
    if let Some((group, enroll_line, test_line)) =
        enroll_groups.iter().find_map(|(g, &e)| test_groups.get(g).map(|&t| (*g, e, t)))
    {
        return Err(ManifestError::SharedGroup { path: path_buf(), group: group.to_string(), enroll_line, test_line });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "\
path,singer,group,role,notes
a.wav,alice,alice-song1,enroll,first
sub/b.wav,alice,alice-song2,test,
c.wav,bob,bob-song1,enroll,\"has, comma\"
d.wav,carol,carol-song1,test,impostor
/abs/e.wav,bob,bob-song2,test,
";

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("/data/sets/manifest.csv"))
    }

    #[test]
    fn parses_rows_resolves_paths_and_ignores_extra_columns() {
        let manifest = parse(MANIFEST).unwrap();
        assert_eq!(manifest.entries.len(), 5);
        assert_eq!(
            manifest.entries[0],
            Entry {
                path: PathBuf::from("/data/sets/a.wav"),
                singer: "alice".into(),
                group: "alice-song1".into(),
                role: Role::Enroll,
            }
        );
        assert_eq!(manifest.entries[1].path, PathBuf::from("/data/sets/sub/b.wav"));
        assert_eq!(manifest.entries[1].role, Role::Test);
        assert_eq!(manifest.entries[4].path, PathBuf::from("/abs/e.wav"));
        assert_eq!(manifest.enrolled_singers(), vec!["alice", "bob"]);
        assert_eq!(manifest.with_role(Role::Test).count(), 3);
        let by_singer = manifest.enrollment_by_singer();
        assert_eq!(by_singer.keys().copied().collect::<Vec<_>>(), ["alice", "bob"]);
        assert_eq!(by_singer["bob"][0].path, PathBuf::from("/data/sets/c.wav"));
    }

    #[test]
    fn columns_may_come_in_any_order_and_bom_is_ignored() {
        let text = "\u{feff}role,group,singer,path\nenroll,g1,x,a.wav\ntest,g2,x,b.wav\n";
        let manifest = parse(text).unwrap();
        assert_eq!(manifest.entries[0].singer, "x");
        assert_eq!(manifest.entries[0].role, Role::Enroll);
        assert_eq!(manifest.entries[1].path, PathBuf::from("/data/sets/b.wav"));
    }

    #[test]
    fn bare_manifest_name_resolves_against_current_dir() {
        let text = "path,singer,group,role\na.wav,x,g1,enroll\nb.wav,x,g2,test\n";
        let manifest = Manifest::parse(text, Path::new("m.csv")).unwrap();
        assert_eq!(manifest.entries[0].path, PathBuf::from("./a.wav"));
    }

    #[test]
    fn blank_lines_are_skipped() {
        let text = "path,singer,group,role\n\na.wav,x,g1,enroll\n\nb.wav,x,g2,test\n\n";
        assert_eq!(parse(text).unwrap().entries.len(), 2);
    }

    #[test]
    fn bad_role_names_the_line() {
        let text = "path,singer,group,role\na.wav,x,g1,enroll\nb.wav,x,g2,train\n";
        let err = parse(text).unwrap_err();
        assert!(matches!(err, ManifestError::BadRole { line: 3, .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("/data/sets/manifest.csv"), "{message}");
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("train"), "{message}");
    }

    #[test]
    fn missing_column_is_named() {
        let text = "path,singer,role\na.wav,x,enroll\n";
        let err = parse(text).unwrap_err();
        assert!(matches!(&err, ManifestError::MissingColumn { column, .. } if column == "group"));
        assert!(err.to_string().contains("`group`"));
    }

    #[test]
    fn empty_field_names_line_and_column() {
        let text = "path,singer,group,role\na.wav,,g1,enroll\n";
        let err = parse(text).unwrap_err();
        assert!(matches!(&err, ManifestError::EmptyField { line: 2, column, .. } if column == "singer"), "{err:?}");
    }

    #[test]
    fn ragged_row_is_malformed_with_line() {
        let text = "path,singer,group,role\na.wav,x,g1,enroll\nb.wav,x\n";
        let err = parse(text).unwrap_err();
        assert!(matches!(err, ManifestError::Malformed { line: 3, .. }), "{err:?}");
        assert!(err.to_string().contains("line 3"));
    }

    #[test]
    fn header_only_is_empty() {
        let err = parse("path,singer,group,role\n").unwrap_err();
        assert!(matches!(err, ManifestError::Empty { .. }), "{err:?}");
        let err = parse("").unwrap_err();
        assert!(matches!(err, ManifestError::MissingColumn { .. }), "{err:?}");
    }

    #[test]
    fn needs_both_roles() {
        let only_enroll = "path,singer,group,role\na.wav,x,g1,enroll\n";
        assert!(matches!(parse(only_enroll).unwrap_err(), ManifestError::NoTest { .. }));
        let only_test = "path,singer,group,role\na.wav,x,g1,test\n";
        assert!(matches!(parse(only_test).unwrap_err(), ManifestError::NoEnroll { .. }));
    }

    #[test]
    fn group_shared_between_roles_is_refused() {
        let text = "path,singer,group,role\n\
                    a.wav,x,song1,enroll\n\
                    b.wav,x,song2,enroll\n\
                    c.wav,y,song3,test\n\
                    d.wav,x,song2,test\n";
        let err = parse(text).unwrap_err();
        match &err {
            ManifestError::SharedGroup { group, enroll_line, test_line, .. } => {
                assert_eq!(group, "song2");
                assert_eq!((*enroll_line, *test_line), (3, 5));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("song2"));
    }

    #[test]
    fn load_reports_missing_file_and_reads_real_files() {
        let err = Manifest::load(Path::new("/no/such/manifest.csv")).unwrap_err();
        assert!(matches!(err, ManifestError::NotFound { .. }));
        assert!(err.to_string().contains("/no/such/manifest.csv"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.csv");
        std::fs::write(&path, MANIFEST).unwrap();
        let manifest = Manifest::load(&path).unwrap();
        assert_eq!(manifest.entries[0].path, dir.path().join("a.wav"));
    }

    #[test]
    fn parses_the_shared_dev_manifest() {
        let path = Path::new("/work/shared/data/dev_mono.csv");
        if !path.is_file() {
            eprintln!("skipping: {} not present", path.display());
            return;
        }
        let manifest = Manifest::load(path).unwrap();
        assert!(manifest.enrolled_singers().len() >= 2);
        assert!(manifest.with_role(Role::Test).count() > 0);
        assert!(manifest.entries.iter().all(|e| e.path.is_file()), "all clips exist");
    }
}
