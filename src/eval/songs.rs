//! Timeline evaluation on multi-singer songs (eval protocol, "Timelines"): reading a songs file
//! and an enrolment list, and scoring an analyzer's decisions against the true sections on a
//! 10 ms grid with a 0.5 s collar around every boundary between sections.
//!
//! Everything here is pure (no audio, no model) except [`find_audio`], so the scoring rules are
//! tested by hand; `singer-id eval-songs` enrols, analyses and calls these.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::decision::{Decision, Verdict};

/// Spacing of the scoring grid, in seconds.
pub const GRID_S: f64 = 0.01;
/// Grid points closer than this to a boundary between two sections are not scored.
pub const COLLAR_S: f64 = 0.5;
/// Section label meaning an impostor (a singer who is not enrolled) sings.
pub const UNKNOWN_LABEL: &str = "unknown";
/// Section label meaning no one sings.
pub const INSTRUMENTAL_LABEL: &str = "instrumental";
/// Audio extensions looked for next to the songs file, in this order.
pub const AUDIO_EXTENSIONS: [&str; 4] = ["wav", "flac", "ogg", "mp3"];
/// Times closer than this are treated as equal (section and decision edges are multiples of
/// 1 ms or 10 ms written in decimal, so float noise must not decide which side a point is on).
const TIME_EPS: f64 = 1e-6;

/// One row of a songs file.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub start_s: f64,
    pub end_s: f64,
    /// An enrolled singer's name, `unknown` or `instrumental`.
    pub label: String,
    /// Vocal-to-accompaniment ratio of the `mix` audio, when the file gives it.
    pub var_db: Option<f64>,
    /// Line in the songs file (the header is line 1).
    pub line: u64,
}

/// A song: its sections in time order, tiling `[0, end)` without gaps or overlaps.
#[derive(Debug, Clone, PartialEq)]
pub struct Song {
    pub name: String,
    pub sections: Vec<Section>,
}

impl Song {
    /// End of the last section: the song's length.
    pub fn end_s(&self) -> f64 {
        self.sections.last().map_or(0.0, |s| s.end_s)
    }
}

/// What is wrong with a songs file or an enrolment list. Lines count from 1 (the header).
#[derive(Debug, thiserror::Error)]
pub enum SongsError {
    #[error("{}: file not found", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: cannot read: {cause}", path.display())]
    Unreadable { path: PathBuf, cause: std::io::Error },
    #[error("{}, line {line}: malformed CSV: {message}", path.display())]
    Malformed { path: PathBuf, line: u64, message: String },
    #[error("{}: missing column `{column}` (required: {required})", path.display())]
    MissingColumn { path: PathBuf, column: String, required: String },
    #[error("{}, line {line}: {message}", path.display())]
    BadRow { path: PathBuf, line: u64, message: String },
    #[error("{}: no rows after the header", path.display())]
    Empty { path: PathBuf },
    #[error("{}: song `{song}`: {message}", path.display())]
    BadTiling { path: PathBuf, song: String, message: String },
}

/// Reads and validates a songs file (`song,start_s,end_s,label[,var_db]`).
pub fn load_songs(path: &Path) -> Result<Vec<Song>, SongsError> {
    parse_songs(&read(path)?, path)
}

/// Parses songs-file text; `path` names it in errors. Songs keep the order of their first row;
/// a song's rows may come in any order but must tile `[0, end)`: the first section starts at
/// 0 and each next one where the previous ends.
pub fn parse_songs(text: &str, path: &Path) -> Result<Vec<Song>, SongsError> {
    let (columns, rows) = read_rows(text, path, &["song", "start_s", "end_s", "label"], &["var_db"])?;
    let [song_col, start_col, end_col, label_col, var_col] = columns[..] else { unreachable!("5 columns asked") };
    let mut songs: Vec<Song> = Vec::new();
    for (line, record) in rows {
        let bad = |message: String| SongsError::BadRow { path: path.to_path_buf(), line, message };
        let field = |col: Option<usize>, name: &str| {
            let value = col_value(&record, col);
            if value.is_empty() {
                Err(bad(format!("empty `{name}`")))
            } else {
                Ok(value)
            }
        };
        let seconds = |col: Option<usize>, name: &str| -> Result<f64, SongsError> {
            let text = field(col, name)?;
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                _ => Err(bad(format!("`{name}` must be a non-negative number of seconds, got `{text}`"))),
            }
        };
        let name = field(song_col, "song")?.to_string();
        let (start_s, end_s) = (seconds(start_col, "start_s")?, seconds(end_col, "end_s")?);
        if end_s <= start_s {
            return Err(bad(format!("end_s ({end_s}) must be after start_s ({start_s})")));
        }
        let label = field(label_col, "label")?.to_string();
        let var_db = match Some(col_value(&record, var_col)).filter(|v| !v.is_empty()) {
            None => None,
            Some(text) => Some(
                text.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad(format!("`var_db` must be a number of dB, got `{text}`")))?,
            ),
        };
        let section = Section { start_s, end_s, label, var_db, line };
        match songs.iter_mut().find(|s| s.name == name) {
            Some(song) => song.sections.push(section),
            None => songs.push(Song { name, sections: vec![section] }),
        }
    }
    if songs.is_empty() {
        return Err(SongsError::Empty { path: path.to_path_buf() });
    }
    for song in &mut songs {
        song.sections.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        check_tiling(song, path)?;
    }
    Ok(songs)
}

fn check_tiling(song: &Song, path: &Path) -> Result<(), SongsError> {
    let bad = |message: String| SongsError::BadTiling { path: path.to_path_buf(), song: song.name.clone(), message };
    let first = &song.sections[0];
    if first.start_s > TIME_EPS {
        return Err(bad(format!(
            "the first section (line {}) starts at {} s; sections must tile the song from 0 s",
            first.line, first.start_s
        )));
    }
    for pair in song.sections.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.start_s > a.end_s + TIME_EPS {
            return Err(bad(format!(
                "gap from {} s (end of line {}) to {} s (start of line {}); sections must tile the song",
                a.end_s, a.line, b.start_s, b.line
            )));
        }
        if b.start_s < a.end_s - TIME_EPS {
            return Err(bad(format!(
                "line {} ({}-{} s) overlaps line {} ({}-{} s); sections must not overlap",
                a.line, a.start_s, a.end_s, b.line, b.start_s, b.end_s
            )));
        }
    }
    Ok(())
}

/// Reads an enrolment list (`singer,path`, paths relative to the list's folder): which clips
/// enrol whom, in file order.
pub fn load_enroll_list(path: &Path) -> Result<Vec<(String, PathBuf)>, SongsError> {
    parse_enroll_list(&read(path)?, path)
}

/// Parses enrolment-list text; `path` names it in errors and anchors relative paths.
pub fn parse_enroll_list(text: &str, path: &Path) -> Result<Vec<(String, PathBuf)>, SongsError> {
    let (columns, rows) = read_rows(text, path, &["singer", "path"], &[])?;
    let [Some(singer_col), Some(path_col)] = columns[..] else { unreachable!("2 required columns") };
    let base = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut clips = Vec::new();
    for (line, record) in rows {
        let (singer, clip) = (col_value(&record, Some(singer_col)), col_value(&record, Some(path_col)));
        if singer.is_empty() || clip.is_empty() {
            let column = if singer.is_empty() { "singer" } else { "path" };
            return Err(SongsError::BadRow { path: path.to_path_buf(), line, message: format!("empty `{column}`") });
        }
        clips.push((singer.to_string(), base.join(clip)));
    }
    if clips.is_empty() {
        return Err(SongsError::Empty { path: path.to_path_buf() });
    }
    Ok(clips)
}

fn read(path: &Path) -> Result<String, SongsError> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SongsError::NotFound { path: path.to_path_buf() },
        _ => SongsError::Unreadable { path: path.to_path_buf(), cause: e },
    })
}

type Rows = Vec<(u64, csv::StringRecord)>;

/// The CSV's non-blank rows with their line numbers, and the positions of the `required` then
/// `optional` columns (every required one is `Some`).
fn read_rows(
    text: &str,
    path: &Path,
    required: &[&str],
    optional: &[&str],
) -> Result<(Vec<Option<usize>>, Rows), SongsError> {
    let malformed = |e: csv::Error| {
        let line = e.position().map_or(0, |p| line_at(text, p));
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("{len} fields where the header has {expected_len}")
            }
            csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
            _ => e.to_string(),
        };
        SongsError::Malformed { path: path.to_path_buf(), line, message }
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(malformed)?.clone();
    let position = |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').trim() == name);
    let mut columns = Vec::new();
    for name in required {
        let col = position(name).ok_or_else(|| SongsError::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            required: required.join(", "),
        })?;
        columns.push(Some(col));
    }
    columns.extend(optional.iter().map(|name| position(name)));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        rows.push((record.position().map_or(0, |p| line_at(text, p)), record));
    }
    Ok((columns, rows))
}

/// The 1-based line a CSV record starts on, counted from the text itself: the csv crate's own
/// count skips blank lines, and its position is where reading began, before any blank lines.
fn line_at(text: &str, position: &csv::Position) -> u64 {
    let bytes = text.as_bytes();
    let mut byte = (position.byte() as usize).min(bytes.len());
    while byte < bytes.len() && (bytes[byte] == b'\n' || bytes[byte] == b'\r') {
        byte += 1;
    }
    bytes[..byte].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

fn col_value(record: &csv::StringRecord, col: Option<usize>) -> &str {
    col.and_then(|c| record.get(c)).unwrap_or("").trim()
}

/// The audio of `song` in `condition`: `<dir>/<song>.<condition>.<ext>` for one of
/// [`AUDIO_EXTENSIONS`]. `Ok(None)` when there is none; an error when there are several.
pub fn find_audio(dir: &Path, song: &str, condition: &str) -> Result<Option<PathBuf>, String> {
    let found: Vec<PathBuf> = AUDIO_EXTENSIONS
        .iter()
        .map(|ext| dir.join(format!("{song}.{condition}.{ext}")))
        .filter(|p| p.is_file())
        .collect();
    match &found[..] {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        several => Err(format!(
            "song `{song}`, condition `{condition}`: several audio files, keep one: {}",
            several.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// What a section's label asks of the system, given who is enrolled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    /// An enrolled singer: the system must name them.
    Named(String),
    /// An impostor (`unknown`, or a singer who is not enrolled): no enrolled singer may be named.
    Impostor,
    /// No one sings: no singer may be named.
    Instrumental,
}

impl Truth {
    pub fn of(label: &str, enrolled: &[String]) -> Truth {
        match label {
            INSTRUMENTAL_LABEL => Truth::Instrumental,
            UNKNOWN_LABEL => Truth::Impostor,
            name if enrolled.iter().any(|e| e == name) => Truth::Named(name.to_string()),
            _ => Truth::Impostor,
        }
    }

    /// Whether the system's verdict at a point is right. `None` (no decision) is `no voice`.
    pub fn accepts(&self, verdict: Option<&Verdict>) -> bool {
        match (self, verdict) {
            (Truth::Named(name), Some(Verdict::Singer(shown))) => shown == name,
            (Truth::Named(_), _) => false,
            (Truth::Impostor | Truth::Instrumental, Some(Verdict::Singer(_))) => false,
            (Truth::Impostor | Truth::Instrumental, _) => true,
        }
    }
}

/// Section labels that are neither `unknown`, `instrumental` nor an enrolled singer (they
/// count as impostors), each with the first line that uses it, sorted by label.
pub fn unenrolled_labels(songs: &[Song], enrolled: &[String]) -> Vec<(String, u64)> {
    let mut found: BTreeMap<String, u64> = BTreeMap::new();
    for section in songs.iter().flat_map(|s| &s.sections) {
        let label = section.label.as_str();
        if label != UNKNOWN_LABEL && label != INSTRUMENTAL_LABEL && !enrolled.iter().any(|e| e == label) {
            let line = found.entry(label.to_string()).or_insert(section.line);
            *line = (*line).min(section.line);
        }
    }
    found.into_iter().collect()
}

/// Scored and correct grid points, per kind of section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PointCounts {
    pub named: (usize, usize),
    pub impostor: (usize, usize),
    pub instrumental: (usize, usize),
    /// Instrumental points where the system said `no voice` (not `unknown`).
    pub instrumental_no_voice: usize,
}

impl PointCounts {
    pub fn scored(&self) -> usize {
        self.named.0 + self.impostor.0 + self.instrumental.0
    }

    pub fn correct(&self) -> usize {
        self.named.1 + self.impostor.1 + self.instrumental.1
    }

    /// Share of the scored points that are right (`timeline_acc`), None if none is scored.
    pub fn accuracy(&self) -> Option<f64> {
        (self.scored() > 0).then(|| self.correct() as f64 / self.scored() as f64)
    }

    fn add(&mut self, other: &PointCounts) {
        let sum = |a: &mut (usize, usize), b: (usize, usize)| {
            a.0 += b.0;
            a.1 += b.1;
        };
        sum(&mut self.named, other.named);
        sum(&mut self.impostor, other.impostor);
        sum(&mut self.instrumental, other.instrumental);
        self.instrumental_no_voice += other.instrumental_no_voice;
    }
}

/// The verdict of the decision whose `[start_s, end_s)` holds `t` (the latest-starting one if
/// several do); `None` where no decision does. `decisions` must be sorted by `start_s`.
pub fn verdict_at(decisions: &[Decision], t: f64) -> Option<&Verdict> {
    let candidates = decisions.partition_point(|d| d.start_s <= t + TIME_EPS);
    decisions[..candidates].iter().rev().find(|d| t < d.end_s - TIME_EPS).map(|d| &d.verdict)
}

/// Scores one song's decisions: every grid point `t = k * GRID_S < end` that is not within
/// [`COLLAR_S`] of a boundary between two sections counts for its section's kind.
pub fn score_song(song: &Song, decisions: &[Decision], enrolled: &[String]) -> PointCounts {
    let mut decisions = decisions.to_vec();
    decisions.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let boundaries: Vec<f64> = song.sections.iter().skip(1).map(|s| s.start_s).collect();
    let truths: Vec<Truth> = song.sections.iter().map(|s| Truth::of(&s.label, enrolled)).collect();
    let end = song.end_s();
    let mut counts = PointCounts::default();
    let mut section = 0;
    for k in 0u64.. {
        // Integer steps, so the grid does not drift with accumulated float error.
        let t = k as f64 * GRID_S;
        if t >= end - TIME_EPS {
            break;
        }
        while section + 1 < song.sections.len() && t >= song.sections[section].end_s - TIME_EPS {
            section += 1;
        }
        if boundaries.iter().any(|b| (t - b).abs() < COLLAR_S - TIME_EPS) {
            continue;
        }
        let verdict = verdict_at(&decisions, t);
        let right = truths[section].accepts(verdict) as usize;
        let slot = match &truths[section] {
            Truth::Named(_) => &mut counts.named,
            Truth::Impostor => &mut counts.impostor,
            Truth::Instrumental => {
                counts.instrumental_no_voice += matches!(verdict, None | Some(Verdict::NoVoice)) as usize;
                &mut counts.instrumental
            }
        };
        slot.0 += 1;
        slot.1 += right;
    }
    counts
}

/// The protocol's timeline metrics for one condition; `null` where no point of that kind was
/// scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineMetrics {
    /// Songs scored.
    pub songs: usize,
    /// In sections of enrolled singers: the right singer is shown.
    pub named_acc: Option<f64>,
    /// In impostor sections: no enrolled singer is named.
    pub impostor_ok: Option<f64>,
    /// In instrumental sections: no singer is named.
    pub instr_clean: Option<f64>,
    /// All scored points, each by its section's criterion.
    pub timeline_acc: Option<f64>,
    /// In instrumental sections: the system says `no voice` (what a voice detector should do).
    pub instr_no_voice: Option<f64>,
    /// Scored grid points, per kind and in all.
    pub named_points: usize,
    pub impostor_points: usize,
    pub instrumental_points: usize,
    pub scored_points: usize,
    /// timeline_acc of each song.
    pub per_song: BTreeMap<String, Option<f64>>,
}

/// Pools the points of every song (each point weighs the same, whatever its song).
pub fn summarize(per_song: &[(String, PointCounts)]) -> TimelineMetrics {
    let mut all = PointCounts::default();
    per_song.iter().for_each(|(_, c)| all.add(c));
    let rate = |(n, right): (usize, usize)| (n > 0).then(|| right as f64 / n as f64);
    TimelineMetrics {
        songs: per_song.len(),
        named_acc: rate(all.named),
        impostor_ok: rate(all.impostor),
        instr_clean: rate(all.instrumental),
        timeline_acc: rate((all.scored(), all.correct())),
        instr_no_voice: rate((all.instrumental.0, all.instrumental_no_voice)),
        named_points: all.named.0,
        impostor_points: all.impostor.0,
        instrumental_points: all.instrumental.0,
        scored_points: all.scored(),
        per_song: per_song.iter().map(|(name, c)| (name.clone(), c.accuracy())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/data/songs.csv";

    fn parse(text: &str) -> Result<Vec<Song>, SongsError> {
        parse_songs(text, Path::new(PATH))
    }

    fn decision(start_s: f64, end_s: f64, verdict: Verdict) -> Decision {
        Decision { start_s, end_s, verdict, confidence: 1.0, top: Vec::new() }
    }

    fn singer(name: &str) -> Verdict {
        Verdict::Singer(name.to_string())
    }

    fn enrolled() -> Vec<String> {
        vec!["ann".to_string(), "bob".to_string()]
    }

    /// 0-3 s instrumental, 3-6 s ann, 6-9 s an impostor: boundaries at 3 and 6, so the collar
    /// drops t in (2.5, 3.5) and (5.5, 6.5). The grid has 900 points (0.00 ... 8.99); the
    /// collars drop 99 each (2.51 ... 3.49), leaving 251 instrumental (0.00 ... 2.50), 201
    /// named (3.50 ... 5.50) and 250 impostor (6.50 ... 8.99) points.
    const SONG: &str = "song,start_s,end_s,label,var_db\n\
                        s1,0,3,instrumental,6\n\
                        s1,3,6,ann,6\n\
                        s1,6,9,unknown,6\n";

    #[test]
    fn parses_sections_in_time_order_with_optional_var_db() {
        let text = "label,end_s,start_s,song\nann,6,3,s1\ninstrumental,3,0,s1\n\nbob,2,0,s2\n";
        let songs = parse(text).unwrap();
        assert_eq!(songs.len(), 2);
        assert_eq!(songs[0].name, "s1");
        assert_eq!(
            songs[0].sections[0],
            Section { start_s: 0.0, end_s: 3.0, label: "instrumental".into(), var_db: None, line: 3 }
        );
        assert_eq!(songs[0].sections[1].label, "ann");
        assert_eq!(songs[0].end_s(), 6.0);
        assert_eq!(songs[1].sections[0].line, 5);
        assert_eq!(parse(SONG).unwrap()[0].sections[2].var_db, Some(6.0));
    }

    #[test]
    fn bad_rows_gaps_and_overlaps_are_named() {
        let err = parse("song,start_s,end_s,label\ns1,0,x,ann\n").unwrap_err();
        assert!(matches!(err, SongsError::BadRow { line: 2, .. }), "{err:?}");
        assert!(err.to_string().contains(PATH) && err.to_string().contains("end_s"), "{err}");

        let err = parse("song,start_s,end_s,label\ns1,2,1,ann\n").unwrap_err();
        assert!(err.to_string().contains("must be after"), "{err}");

        let err = parse("song,start_s,end_s,label\ns1,0,1,\n").unwrap_err();
        assert!(err.to_string().contains("empty `label`"), "{err}");

        let err = parse("song,start_s,end_s\ns1,0,1\n").unwrap_err();
        assert!(matches!(&err, SongsError::MissingColumn { column, .. } if column == "label"), "{err:?}");

        let err = parse("song,start_s,end_s,label\ns1,0,1\n").unwrap_err();
        assert!(matches!(err, SongsError::Malformed { line: 2, .. }), "{err:?}");

        let err = parse("song,start_s,end_s,label\n").unwrap_err();
        assert!(matches!(err, SongsError::Empty { .. }), "{err:?}");

        let err = parse("song,start_s,end_s,label\ns1,0,3,ann\ns1,3.5,5,bob\n").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("gap") && message.contains("`s1`") && message.contains(PATH), "{message}");

        let err = parse("song,start_s,end_s,label\ns1,0,3,ann\ns1,2,5,bob\n").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("overlaps") && message.contains("line 2") && message.contains("line 3"), "{message}");

        let err = parse("song,start_s,end_s,label\ns1,1,3,ann\n").unwrap_err();
        assert!(err.to_string().contains("from 0 s"), "{err}");
    }

    #[test]
    fn enroll_list_paths_are_relative_to_its_folder() {
        let clips =
            parse_enroll_list("singer,path\nann,a/1.flac\nbob,/abs/b.wav\n", Path::new("/d/enroll.csv")).unwrap();
        assert_eq!(
            clips,
            vec![("ann".into(), PathBuf::from("/d/a/1.flac")), ("bob".into(), PathBuf::from("/abs/b.wav"))]
        );
        let err = parse_enroll_list("singer,path\nann,\n", Path::new("/d/enroll.csv")).unwrap_err();
        assert!(err.to_string().contains("/d/enroll.csv, line 2: empty `path`"), "{err}");
        let err = parse_enroll_list("name,path\n", Path::new("/d/enroll.csv")).unwrap_err();
        assert!(matches!(err, SongsError::MissingColumn { .. }), "{err:?}");
    }

    #[test]
    fn truth_follows_the_label_and_who_is_enrolled() {
        let e = enrolled();
        assert_eq!(Truth::of("ann", &e), Truth::Named("ann".into()));
        assert_eq!(Truth::of("carl", &e), Truth::Impostor);
        assert_eq!(Truth::of("unknown", &e), Truth::Impostor);
        assert_eq!(Truth::of("instrumental", &e), Truth::Instrumental);
        let named = Truth::Named("ann".into());
        assert!(named.accepts(Some(&singer("ann"))));
        assert!(
            !named.accepts(Some(&singer("bob"))) && !named.accepts(Some(&Verdict::Unknown)) && !named.accepts(None)
        );
        for t in [Truth::Impostor, Truth::Instrumental] {
            assert!(t.accepts(None) && t.accepts(Some(&Verdict::Unknown)) && t.accepts(Some(&Verdict::NoVoice)));
            assert!(!t.accepts(Some(&singer("bob"))));
        }
        let songs = parse("song,start_s,end_s,label\ns1,0,3,carl\ns1,3,4,ann\ns2,0,1,carl\ns2,1,2,dora\n").unwrap();
        assert_eq!(unenrolled_labels(&songs, &e), vec![("carl".to_string(), 2), ("dora".to_string(), 5)]);
    }

    #[test]
    fn verdict_at_uses_half_open_decisions_and_none_between_them() {
        let d = vec![
            decision(0.0, 0.5, singer("ann")),
            decision(0.5, 1.0, Verdict::Unknown),
            decision(2.0, 2.5, Verdict::NoVoice),
        ];
        assert_eq!(verdict_at(&d, 0.0), Some(&singer("ann")));
        assert_eq!(verdict_at(&d, 0.49), Some(&singer("ann")));
        // 0.5 belongs to the second decision, even with float noise on either side.
        assert_eq!(verdict_at(&d, 0.5), Some(&Verdict::Unknown));
        assert_eq!(verdict_at(&d, 50.0 * 0.01), Some(&Verdict::Unknown));
        assert_eq!(verdict_at(&d, 1.0), None);
        assert_eq!(verdict_at(&d, 1.99), None);
        assert_eq!(verdict_at(&d, 2.0), Some(&Verdict::NoVoice));
        assert_eq!(verdict_at(&d, 3.0), None);
    }

    #[test]
    fn a_perfect_timeline_scores_one_and_the_collar_is_counted_by_hand() {
        let song = &parse(SONG).unwrap()[0];
        let perfect = vec![
            decision(0.0, 3.0, Verdict::NoVoice),
            decision(3.0, 6.0, singer("ann")),
            decision(6.0, 9.0, Verdict::Unknown),
        ];
        let c = score_song(song, &perfect, &enrolled());
        assert_eq!((c.instrumental, c.named, c.impostor), ((251, 251), (201, 201), (250, 250)));
        assert_eq!(c.instrumental_no_voice, 251);
        let m = summarize(&[("s1".into(), c)]);
        assert_eq!(
            (m.named_acc, m.impostor_ok, m.instr_clean, m.timeline_acc),
            (Some(1.0), Some(1.0), Some(1.0), Some(1.0))
        );
        assert_eq!(m.scored_points, 702);
    }

    #[test]
    fn late_decisions_wrong_names_and_missing_decisions_score_as_computed_by_hand() {
        let song = &parse(SONG).unwrap()[0];
        // No decision before 1 s (no voice: right for instrumental), `unknown` from 1 to 4 s
        // (right in the instrumental part, wrong for ann), ann from 4 to 5 s, bob from 5 to
        // 7 s (wrong for ann, wrong for the impostor), nothing from 7 s on (no voice: right
        // for the impostor).
        let decisions = vec![
            decision(1.0, 4.0, Verdict::Unknown),
            decision(4.0, 5.0, singer("ann")),
            decision(5.0, 7.0, singer("bob")),
        ];
        let c = score_song(song, &decisions, &enrolled());
        // instrumental 0.00-2.50: all right (none, then unknown); 100 of them (0.00-0.99) had
        // no decision and 151 said unknown.
        assert_eq!(c.instrumental, (251, 251));
        assert_eq!(c.instrumental_no_voice, 100);
        // ann, 3.50-5.50 (201 points): right only at 4.00-4.99 (100).
        assert_eq!(c.named, (201, 100));
        // impostor, 6.50-8.99 (250 points): bob at 6.50-6.99 (50) is wrong, the 200 after right.
        assert_eq!(c.impostor, (250, 200));
        let m = summarize(&[("s1".into(), c)]);
        assert_eq!(m.named_acc, Some(100.0 / 201.0));
        assert_eq!(m.impostor_ok, Some(0.8));
        assert_eq!(m.instr_clean, Some(1.0));
        assert_eq!(m.timeline_acc, Some(551.0 / 702.0));
        assert_eq!(m.instr_no_voice, Some(100.0 / 251.0));
        assert_eq!((m.named_points, m.impostor_points, m.instrumental_points), (201, 250, 251));
    }

    #[test]
    fn songs_pool_points_and_keep_their_own_accuracy() {
        let songs = parse("song,start_s,end_s,label\na,0,1,ann\nb,0,2,bob\n").unwrap();
        // No internal boundary: every point scores. Song a: 100 points, all right; song b: 200
        // points, right in the first half only.
        let a = score_song(&songs[0], &[decision(0.0, 1.0, singer("ann"))], &enrolled());
        let b =
            score_song(&songs[1], &[decision(0.0, 1.0, singer("bob")), decision(1.0, 2.0, singer("ann"))], &enrolled());
        let m = summarize(&[("a".into(), a), ("b".into(), b)]);
        assert_eq!(m.songs, 2);
        assert_eq!(m.named_points, 300);
        assert_eq!(m.named_acc, Some(200.0 / 300.0));
        assert_eq!(m.timeline_acc, m.named_acc);
        assert_eq!((m.impostor_ok, m.instr_clean), (None, None));
        assert_eq!(m.per_song["a"], Some(1.0));
        assert_eq!(m.per_song["b"], Some(0.5));
        let json = serde_json::to_value(&m).unwrap();
        assert!(json["impostor_ok"].is_null() && json["per_song"]["b"] == 0.5, "{json}");
    }

    #[test]
    fn an_unenrolled_singer_counts_as_impostor() {
        let songs = parse("song,start_s,end_s,label\ns,0,1,carl\n").unwrap();
        let c = score_song(
            &songs[0],
            &[decision(0.0, 0.5, singer("ann")), decision(0.5, 1.0, Verdict::Unknown)],
            &enrolled(),
        );
        assert_eq!(c.impostor, (100, 50));
        assert_eq!(c.named.0, 0);
    }

    #[test]
    fn finds_the_audio_of_a_condition() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s1.mono.flac"), b"x").unwrap();
        assert_eq!(find_audio(dir.path(), "s1", "mono").unwrap(), Some(dir.path().join("s1.mono.flac")));
        assert_eq!(find_audio(dir.path(), "s1", "mix").unwrap(), None);
        std::fs::write(dir.path().join("s1.mono.wav"), b"x").unwrap();
        assert!(find_audio(dir.path(), "s1", "mono").unwrap_err().contains("several"));
    }
}
