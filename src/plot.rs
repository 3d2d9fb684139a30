//! Pictures of results, for `--plot FILE.png`: an analysed recording (waveform, confidence, one
//! lane per singer), the confusion matrix of `eval`, and the truth and predicted lanes of
//! `eval-songs`. Drawn in memory with plotters and written atomically as PNG. Text uses the
//! Ubuntu font egui already bundles, so no system font (or fontconfig) is needed.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle, FontTransform};

use crate::decision::{merge_segments, seconds_per_singer, Decision, Verdict};
use crate::eval::songs::{Song, Truth};
use crate::fsutil::write_atomically;

/// Width of every picture, in pixels.
pub const WIDTH: u32 = 1600;
/// Room left of each chart for lane names.
const NAME_AREA: u32 = 160;
const FONT: &str = "sans-serif";

/// Fails early, before any long work, when `path`'s folder does not exist.
pub fn check_destination(path: &Path) -> Result<(), PlotError> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => Err(PlotError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, format!("no folder {}", dir.display())),
        }),
        _ => Ok(()),
    }
}

/// Why a picture could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("cannot draw {}: {message}", path.display())]
    Draw { path: PathBuf, message: String },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Min/max of a recording's samples per [`Envelope::BUCKET_S`], gathered while the audio streams
/// past: the waveform of a 2-hour file costs under 3 MB, not its samples.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Samples per bucket, and the seconds that makes.
    bucket_len: usize,
    bucket_s: f64,
    filled: usize,
    low: f32,
    high: f32,
    lows: Vec<f32>,
    highs: Vec<f32>,
}

impl Envelope {
    pub const BUCKET_S: f64 = 0.02;

    pub fn new(sample_rate: u32) -> Envelope {
        let bucket_len = ((f64::from(sample_rate) * Self::BUCKET_S).round() as usize).max(1);
        let bucket_s = bucket_len as f64 / f64::from(sample_rate.max(1));
        Envelope { bucket_len, bucket_s, filled: 0, low: 0.0, high: 0.0, lows: Vec::new(), highs: Vec::new() }
    }

    /// Adds the next samples; non-finite ones count as silence.
    pub fn push(&mut self, samples: &[f32]) {
        for &s in samples {
            let s = if s.is_finite() { s.clamp(-1.0, 1.0) } else { 0.0 };
            if self.filled == 0 {
                (self.low, self.high) = (s, s);
            } else {
                self.low = self.low.min(s);
                self.high = self.high.max(s);
            }
            self.filled += 1;
            if self.filled == self.bucket_len {
                self.close_bucket();
            }
        }
    }

    fn close_bucket(&mut self) {
        self.lows.push(self.low);
        self.highs.push(self.high);
        self.filled = 0;
    }

    /// Closes the last, partial bucket.
    pub fn finish(mut self) -> Envelope {
        if self.filled > 0 {
            self.close_bucket();
        }
        self
    }

    /// Min and max over `[start_s, end_s)`, or None where no bucket starts there.
    fn range(&self, start_s: f64, end_s: f64) -> Option<(f32, f32)> {
        let first = (start_s / self.bucket_s).floor().max(0.0) as usize;
        let last = ((end_s / self.bucket_s).ceil() as usize).max(first + 1).min(self.lows.len());
        (first < last).then(|| {
            let low = self.lows[first..last].iter().copied().fold(f32::INFINITY, f32::min);
            let high = self.highs[first..last].iter().copied().fold(f32::NEG_INFINITY, f32::max);
            (low, high)
        })
    }
}

/// Colours of the singers, in a fixed order so the same singer has the same colour in every lane.
struct Palette {
    singers: Vec<String>,
}

const SINGER_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 80, 120),
];
const UNKNOWN_COLOR: RGBColor = RGBColor(110, 110, 110);
const NO_VOICE_COLOR: RGBColor = RGBColor(222, 222, 222);
const WAVE_COLOR: RGBColor = RGBColor(40, 40, 60);

impl Palette {
    fn singer(&self, name: &str) -> RGBColor {
        let i = self.singers.iter().position(|s| s == name).unwrap_or(self.singers.len());
        SINGER_COLORS[i % SINGER_COLORS.len()]
    }

    fn verdict(&self, verdict: &Verdict) -> RGBColor {
        match verdict {
            Verdict::Singer(name) => self.singer(name),
            Verdict::Unknown => UNKNOWN_COLOR,
            Verdict::NoVoice => NO_VOICE_COLOR,
        }
    }

    /// A songs file's label, read as the scoring reads it (a singer who is not enrolled is an
    /// impostor, shown as `unknown`).
    fn label(&self, label: &str) -> RGBColor {
        match Truth::of(label, &self.singers) {
            Truth::Named(name) => self.singer(&name),
            Truth::Impostor => UNKNOWN_COLOR,
            Truth::Instrumental => NO_VOICE_COLOR,
        }
    }
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type Chart<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn draw_error(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// Draws on a white `width` × `height` canvas and writes it to `path` as PNG, atomically (no
/// half-written picture is left behind on failure).
fn render_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area) -> Result<(), String>,
) -> Result<(), PlotError> {
    static FONT_ONCE: Once = Once::new();
    FONT_ONCE.call_once(|| {
        // The bytes are egui's own copy of the font, checked by egui's tests; it cannot fail.
        let _ = register_font(FONT, FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT);
    });
    let drawn = |message: String| PlotError::Draw { path: path.to_path_buf(), message };
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error).map_err(drawn)?;
        draw(&root).map_err(drawn)?;
        root.present().map_err(draw_error).map_err(drawn)?;
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(draw_error).map_err(drawn)?;
        writer.write_image_data(&pixels).map_err(draw_error).map_err(drawn)?;
    }
    write_atomically(path, &png).map_err(|source| PlotError::Write { path: path.to_path_buf(), source })
}

/// "m:ss" (or "h:mm:ss") for a time axis.
fn clock(t: f64) -> String {
    let s = t.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A chart over `[0, duration)` × `y` with names on the left; time labels only when `time_axis`.
fn time_chart<'a, 'b>(
    area: &'a Area<'b>,
    duration_s: f64,
    y: Range<f64>,
    caption: Option<&str>,
    time_axis: bool,
) -> Result<Chart<'a, 'b>, String> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_right(24)
        .margin_top(4)
        .set_label_area_size(LabelAreaPosition::Left, NAME_AREA)
        .set_label_area_size(LabelAreaPosition::Bottom, if time_axis { 28 } else { 0 });
    if let Some(caption) = caption {
        builder.caption(caption, font(18));
    }
    let mut chart = builder.build_cartesian_2d(0.0..duration_s.max(1e-3), y).map_err(draw_error)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(if time_axis { 14 } else { 0 })
        .x_label_formatter(&|t| clock(*t))
        .x_label_style(font(13))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(draw_error)?;
    Ok(chart)
}

/// Writes `name` in the name area, vertically centred on `y` of `chart`.
fn lane_name(root: &Area, chart: &Chart, name: &str, y: f64) -> Result<(), String> {
    let (_, py) = chart.backend_coord(&(0.0, y));
    let (ox, oy) = root.get_base_pixel();
    let style = font(15).pos(Pos::new(HPos::Left, VPos::Center));
    root.draw_text(&shorten(name, 22), &style, (10 - ox, py - oy)).map_err(draw_error)
}

fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_string()
    } else {
        name.chars().take(max - 1).chain(std::iter::once('…')).collect()
    }
}

/// A filled box over `[start_s, end_s) × [y0, y1)`.
fn span(start_s: f64, end_s: f64, y0: f64, y1: f64, color: RGBColor) -> Rectangle<(f64, f64)> {
    Rectangle::new([(start_s, y0), (end_s, y1)], color.filled())
}

/// Swatches with names in one row under the title of `area`, e.g. "● ann  ● bo  ■ unknown".
fn legend(area: &Area, entries: &[(String, RGBColor)]) -> Result<(), String> {
    let mut x = NAME_AREA as i32;
    for (name, color) in entries {
        area.draw(&Rectangle::new([(x, 38), (x + 14, 52)], color.filled())).map_err(draw_error)?;
        let name = shorten(name, 24);
        area.draw_text(&name, &font(15), (x + 20, 37)).map_err(draw_error)?;
        let (w, _) = area.estimate_text_size(&name, &font(15)).map_err(draw_error)?;
        x += 20 + w as i32 + 22;
    }
    Ok(())
}

/// The picture of one analysed recording: its waveform with `no voice` and `unknown` shaded,
/// each decision's confidence in its verdict's colour, and one lane per singer named (plus
/// `unknown`) showing when they sing.
pub fn draw_analysis(
    path: &Path,
    title: &str,
    envelope: Option<&Envelope>,
    decisions: &[Decision],
    duration_s: f64,
) -> Result<(), PlotError> {
    let segments = merge_segments(decisions);
    // Lanes: singers by total time, longest first, then `unknown` if it occurs.
    let mut singers: Vec<(&str, f64)> = seconds_per_singer(decisions).0.into_iter().collect();
    singers.sort_by(|a, b| b.1.total_cmp(&a.1));
    let palette = Palette { singers: singers.iter().map(|(n, _)| n.to_string()).collect() };
    let mut lanes: Vec<Verdict> = singers.iter().map(|(n, _)| Verdict::Singer(n.to_string())).collect();
    if segments.iter().any(|s| s.verdict == Verdict::Unknown) {
        lanes.push(Verdict::Unknown);
    }
    let duration_s = duration_s.max(decisions.last().map_or(0.0, |d| d.end_s));

    const HEADER: u32 = 64;
    const WAVE: u32 = 220;
    const CONFIDENCE: u32 = 110;
    const LANE: u32 = 36;
    let lanes_h = LANE * lanes.len().max(1) as u32 + 40;
    let height = HEADER + WAVE + CONFIDENCE + lanes_h;
    render_png(path, (WIDTH, height), |root| {
        let (header, rest) = root.split_vertically(HEADER);
        header.draw_text(&shorten(title, 120), &font(20), (12, 8)).map_err(draw_error)?;
        let mut entries: Vec<(String, RGBColor)> =
            palette.singers.iter().map(|n| (n.clone(), palette.singer(n))).collect();
        entries.push(("unknown".into(), UNKNOWN_COLOR));
        entries.push(("no voice".into(), NO_VOICE_COLOR));
        legend(&header, &entries)?;
        let (wave_area, rest) = rest.split_vertically(WAVE);
        let (confidence_area, lanes_area) = rest.split_vertically(CONFIDENCE);

        let mut wave = time_chart(&wave_area, duration_s, -1.0..1.0, None, false)?;
        // Shade what is not an enrolled singer behind the waveform.
        wave.draw_series(segments.iter().filter(|s| !matches!(s.verdict, Verdict::Singer(_))).map(|s| {
            let color = if s.verdict == Verdict::Unknown { RGBColor(200, 200, 200) } else { NO_VOICE_COLOR };
            span(s.start_s, s.end_s, -1.0, 1.0, color)
        }))
        .map_err(draw_error)?;
        if let Some(envelope) = envelope {
            let columns = (WIDTH - NAME_AREA - 24) as usize;
            let step = duration_s / columns as f64;
            wave.draw_series((0..columns).filter_map(|c| {
                let (t0, t1) = (c as f64 * step, (c + 1) as f64 * step);
                envelope.range(t0, t1).map(|(low, high)| {
                    let pad = 0.004; // a silent column still shows as a hairline
                    span(t0, t1, f64::from(low) - pad, f64::from(high) + pad, WAVE_COLOR)
                })
            }))
            .map_err(draw_error)?;
        }
        lane_name(root, &wave, "waveform", 0.0)?;

        let mut confidence = time_chart(&confidence_area, duration_s, 0.0..1.0, None, false)?;
        confidence
            .draw_series(decisions.iter().map(|d| {
                span(d.start_s, d.end_s, 0.0, f64::from(d.confidence.clamp(0.0, 1.0)), palette.verdict(&d.verdict))
            }))
            .map_err(draw_error)?;
        lane_name(root, &confidence, "confidence", 0.5)?;

        let n = lanes.len().max(1) as f64;
        let mut chart = time_chart(&lanes_area, duration_s, 0.0..n, None, true)?;
        for (i, lane) in lanes.iter().enumerate() {
            let y = n - 1.0 - i as f64;
            chart
                .draw_series(
                    segments
                        .iter()
                        .filter(|s| &s.verdict == lane)
                        .map(|s| span(s.start_s, s.end_s, y + 0.15, y + 0.85, palette.verdict(lane))),
                )
                .map_err(draw_error)?;
            lane_name(root, &chart, lane.label(), y + 0.5)?;
        }
        if lanes.is_empty() {
            lane_name(root, &chart, "no singer found", 0.5)?;
        }
        Ok(())
    })
}

/// The confusion matrix of `eval` (`counts[truth][predicted]`, both in the order of `singers`),
/// each cell shaded by its share of the row and labelled with its count.
pub fn draw_confusion(path: &Path, title: &str, singers: &[String], counts: &[Vec<usize>]) -> Result<(), PlotError> {
    let n = singers.len().max(1);
    let cell = ((WIDTH - 2 * NAME_AREA - 40) / n as u32).clamp(8, 90);
    let grid = cell * n as u32;
    let width = (NAME_AREA + 20 + grid + 40).max(720);
    render_png(path, (width, 70 + grid + NAME_AREA + 30), |root| {
        root.draw_text(&shorten(title, 120), &font(20), (12, 14)).map_err(draw_error)?;
        root.draw_text("rows: true singer · columns: best-scoring singer", &font(15), (12, 40)).map_err(draw_error)?;
        let (x0, y0) = (NAME_AREA as i32 + 20, 70);
        let size: u32 = if cell >= 40 { 15 } else { 11 };
        for (r, row) in counts.iter().enumerate() {
            let total: usize = row.iter().sum();
            for (c, &count) in row.iter().enumerate() {
                let share = if total == 0 { 0.0 } else { count as f64 / total as f64 };
                // White through blue as the share of the row grows.
                let shade = |full: u8| (255.0 - (255.0 - f64::from(full)) * share).round() as u8;
                let color = RGBColor(shade(31), shade(119), shade(180));
                let (cx, cy) = (x0 + (c as u32 * cell) as i32, y0 + (r as u32 * cell) as i32);
                root.draw(&Rectangle::new([(cx, cy), (cx + cell as i32, cy + cell as i32)], color.filled()))
                    .map_err(draw_error)?;
                root.draw(&Rectangle::new([(cx, cy), (cx + cell as i32, cy + cell as i32)], RGBColor(200, 200, 200)))
                    .map_err(draw_error)?;
                if cell >= 20 {
                    let text_color = if share > 0.5 { WHITE } else { BLACK };
                    let style = font(size).color(&text_color).pos(Pos::new(HPos::Center, VPos::Center));
                    root.draw_text(&count.to_string(), &style, (cx + cell as i32 / 2, cy + cell as i32 / 2))
                        .map_err(draw_error)?;
                }
            }
        }
        for (i, name) in singers.iter().enumerate() {
            let middle = (i as u32 * cell + cell / 2) as i32;
            let row_style = font(size).pos(Pos::new(HPos::Right, VPos::Center));
            root.draw_text(&shorten(name, 20), &row_style, (x0 - 8, y0 + middle)).map_err(draw_error)?;
            let column_style = font(size).transform(FontTransform::Rotate90);
            root.draw_text(&shorten(name, 20), &column_style, (x0 + middle + size as i32 / 2, y0 + grid as i32 + 8))
                .map_err(draw_error)?;
        }
        Ok(())
    })
}

/// One song of `eval-songs`: what was sung, and the decisions for it.
pub struct SongLanes<'a> {
    pub title: String,
    pub song: &'a Song,
    pub decisions: &'a [Decision],
}

/// `eval-songs`' picture: for each song, the true sections above the predicted timeline, in the
/// same colours (`singers`: the enrolled singers).
pub fn draw_song_lanes(path: &Path, title: &str, singers: &[String], songs: &[SongLanes]) -> Result<(), PlotError> {
    let palette = Palette { singers: singers.to_vec() };
    const HEADER: u32 = 64;
    const BLOCK: u32 = 128;
    let height = HEADER + BLOCK * songs.len().max(1) as u32;
    render_png(path, (WIDTH, height), |root| {
        let (header, rest) = root.split_vertically(HEADER);
        header.draw_text(&shorten(title, 120), &font(20), (12, 8)).map_err(draw_error)?;
        let mut entries: Vec<(String, RGBColor)> = singers.iter().map(|n| (n.clone(), palette.singer(n))).collect();
        entries.push(("unknown".into(), UNKNOWN_COLOR));
        entries.push(("no voice / instrumental".into(), NO_VOICE_COLOR));
        legend(&header, &entries)?;
        let blocks = rest.split_evenly((songs.len().max(1), 1));
        for (lanes, area) in songs.iter().zip(&blocks) {
            let duration_s = lanes.song.end_s().max(lanes.decisions.last().map_or(0.0, |d| d.end_s));
            let mut chart = time_chart(area, duration_s, 0.0..2.0, Some(&lanes.title), true)?;
            chart
                .draw_series(
                    lanes.song.sections.iter().map(|s| span(s.start_s, s.end_s, 1.1, 1.9, palette.label(&s.label))),
                )
                .map_err(draw_error)?;
            chart
                .draw_series(
                    merge_segments(lanes.decisions)
                        .iter()
                        .map(|s| span(s.start_s, s.end_s, 0.1, 0.9, palette.verdict(&s.verdict))),
                )
                .map_err(draw_error)?;
            lane_name(root, &chart, "truth", 1.5)?;
            lane_name(root, &chart, "predicted", 0.5)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_keeps_min_and_max_per_bucket() {
        let mut envelope = Envelope::new(100); // two samples per 20 ms bucket
        envelope.push(&[0.1, -0.5, 0.9, f32::NAN, 2.0]);
        let envelope = envelope.finish();
        assert_eq!(envelope.lows, [-0.5, 0.0, 1.0]);
        assert_eq!(envelope.highs, [0.1, 0.9, 1.0]);
        assert_eq!(envelope.range(0.0, 0.04), Some((-0.5, 0.9)));
        assert_eq!(envelope.range(1.0, 2.0), None);
    }

    #[test]
    fn clock_labels() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(75.4), "1:15");
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
