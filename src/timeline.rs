//! Writing "who sings when" timelines: JSON for programs, CSV for spreadsheets, and Audacity
//! label tracks so a user can see the verdicts under the waveform (File > Import > Labels).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;

use crate::decision::{Decision, Segment};

/// Output format of a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    Csv,
    /// Audacity label track: tab-separated `start end label`, no header.
    Audacity,
}

impl Format {
    /// Every format, e.g. for listing the choices in help text.
    pub const ALL: [Format; 3] = [Format::Json, Format::Csv, Format::Audacity];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Audacity => "audacity",
        }
    }

    /// Usual file extension, without the dot (Audacity imports labels from `.txt`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Audacity => "txt",
        }
    }

    /// Guesses the format from an output file's extension (`.json`, `.csv`, `.txt`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Format::ALL.into_iter().find(|f| f.extension() == ext)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown timeline format `{0}` (expected json, csv or audacity)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Case-insensitive; `labels` is accepted for `audacity`.
    fn from_str(text: &str) -> Result<Format, UnknownFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "audacity" | "labels" => Ok(Format::Audacity),
            _ => Err(UnknownFormat(text.to_string())),
        }
    }
}

/// Renders a timeline of `segments` for the audio file `source`. Only JSON carries the raw
/// per-hop `decisions` (with their top candidates); the other formats are segment lists.
pub fn render(format: Format, segments: &[Segment], decisions: &[Decision], source: &str) -> String {
    match format {
        Format::Json => render_json(segments, decisions, source),
        Format::Csv => render_csv(segments),
        Format::Audacity => render_audacity(segments),
    }
}

#[derive(Serialize)]
struct JsonTimeline<'a> {
    source: &'a str,
    segments: Vec<JsonSegment<'a>>,
    decisions: &'a [Decision],
}

#[derive(Serialize)]
struct JsonSegment<'a> {
    start_s: f64,
    end_s: f64,
    label: &'a str,
    confidence: f32,
}

fn render_json(segments: &[Segment], decisions: &[Decision], source: &str) -> String {
    let timeline = JsonTimeline {
        source,
        segments: segments
            .iter()
            .map(|s| JsonSegment {
                start_s: s.start_s,
                end_s: s.end_s,
                label: s.verdict.label(),
                confidence: s.confidence,
            })
            .collect(),
        decisions,
    };
    // Plain structs of strings and numbers (non-finite numbers become null) cannot fail.
    let mut text = serde_json::to_string_pretty(&timeline).expect("timeline JSON serialization is infallible");
    text.push('\n');
    text
}

fn render_csv(segments: &[Segment]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let rows = std::iter::once(["start_s".into(), "end_s".into(), "label".into(), "confidence".into()])
        .chain(segments.iter().map(csv_row));
    for row in rows {
        // Writing to memory cannot fail.
        writer.write_record(&row).expect("CSV write to memory is infallible");
    }
    let bytes = writer.into_inner().expect("CSV flush to memory is infallible");
    // The csv crate only writes the UTF-8 it was given.
    String::from_utf8(bytes).expect("CSV output is UTF-8")
}

fn csv_row(segment: &Segment) -> [String; 4] {
    [
        format!("{:.6}", segment.start_s),
        format!("{:.6}", segment.end_s),
        segment.verdict.label().to_string(),
        format!("{:.4}", segment.confidence),
    ]
}

fn render_audacity(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| format!("{:.6}\t{:.6}\t{}\n", s.start_s, s.end_s, audacity_label(s.verdict.label())))
        .collect()
}

/// Tabs and line breaks would split the label into extra fields or lines.
fn audacity_label(label: &str) -> String {
    label.chars().map(|c| if matches!(c, '\t' | '\n' | '\r') { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{merge_segments, Candidate, Verdict};

    fn decision(start_s: f64, verdict: Verdict, confidence: f32) -> Decision {
        Decision {
            start_s,
            end_s: start_s + 0.5,
            verdict,
            confidence,
            top: vec![Candidate { singer: "Ann".into(), score: 0.75 }],
        }
    }

    fn example() -> (Vec<Segment>, Vec<Decision>) {
        let decisions = vec![
            decision(0.0, Verdict::NoVoice, 0.5),
            decision(0.5, Verdict::Singer("Ann".into()), 0.75),
            decision(1.0, Verdict::Singer("Ann".into()), 0.25),
            decision(1.5, Verdict::Unknown, 1.0),
        ];
        (merge_segments(&decisions), decisions)
    }

    fn segment(label: &str) -> Segment {
        Segment { start_s: 1.25, end_s: 2.0, verdict: Verdict::Singer(label.into()), confidence: 0.5 }
    }

    #[test]
    fn format_parses_and_displays() {
        for format in Format::ALL {
            assert_eq!(format.to_string().parse::<Format>(), Ok(format));
        }
        assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
        assert_eq!("labels".parse::<Format>(), Ok(Format::Audacity));
        let err = "xml".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("`xml`"));
    }

    #[test]
    fn format_from_path_extension() {
        assert_eq!(Format::from_path(Path::new("out/t.JSON")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("t.csv")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("t.txt")), Some(Format::Audacity));
        assert_eq!(Format::from_path(Path::new("t.wav")), None);
        assert_eq!(Format::from_path(Path::new("t")), None);
    }

    #[test]
    fn json_has_source_segments_and_decisions() {
        let (segments, decisions) = example();
        let text = render(Format::Json, &segments, &decisions, "song, \"live\".wav");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["source"], "song, \"live\".wav");
        let segs = value["segments"].as_array().unwrap();
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[0]["label"], "no voice");
        assert_eq!(segs[1]["label"], "Ann");
        assert_eq!(segs[1]["start_s"], 0.5);
        assert_eq!(segs[1]["end_s"], 1.5);
        assert_eq!(segs[1]["confidence"], 0.5);
        assert_eq!(segs[2]["label"], "unknown");
        let keys: Vec<&String> = segs[0].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4);
        // Decisions round-trip in full.
        let back: Vec<Decision> = serde_json::from_value(value["decisions"].clone()).unwrap();
        assert_eq!(back, decisions);
    }

    #[test]
    fn csv_has_header_and_one_row_per_segment() {
        let (segments, decisions) = example();
        let text = render(Format::Csv, &segments, &decisions, "x.wav");
        let expected = "start_s,end_s,label,confidence\n\
                        0.000000,0.500000,no voice,0.5000\n\
                        0.500000,1.500000,Ann,0.5000\n\
                        1.500000,2.000000,unknown,1.0000\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn csv_escapes_awkward_names() {
        let name = "Smith, \"Jo\"\tJr";
        let text = render(Format::Csv, &[segment(name)], &[], "x.wav");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][2], name);
        assert_eq!(&rows[0][0], "1.250000");
    }

    #[test]
    fn audacity_is_tab_separated_without_header() {
        let (segments, decisions) = example();
        let text = render(Format::Audacity, &segments, &decisions, "x.wav");
        let expected = "0.000000\t0.500000\tno voice\n\
                        0.500000\t1.500000\tAnn\n\
                        1.500000\t2.000000\tunknown\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn audacity_labels_lose_tabs_and_newlines() {
        let text = render(Format::Audacity, &[segment("A,\"b\"\tc\nd\r")], &[], "x.wav");
        assert_eq!(text, "1.250000\t2.000000\tA,\"b\" c d \n");
        assert_eq!(text.matches('\t').count(), 2);
    }

    #[test]
    fn empty_timeline_renders_in_every_format() {
        assert_eq!(render(Format::Audacity, &[], &[], "x"), "");
        assert_eq!(render(Format::Csv, &[], &[], "x"), "start_s,end_s,label,confidence\n");
        let value: serde_json::Value = serde_json::from_str(&render(Format::Json, &[], &[], "x")).unwrap();
        assert_eq!(value["segments"], serde_json::json!([]));
        assert_eq!(value["decisions"], serde_json::json!([]));
    }
}
