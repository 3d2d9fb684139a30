//! Painted widgets of the editor: a level-style meter and the coloured singer timeline.

use std::collections::VecDeque;

use egui::{self, Color32, CornerRadius, Rect, Sense, Vec2};

use crate::decision::{Decision, Verdict};

/// Colour of "unknown" (someone sings, but no enrolled singer matches).
pub const UNKNOWN: Color32 = Color32::from_rgb(240, 180, 40);
/// Colour of "no voice".
pub const NO_VOICE: Color32 = Color32::from_gray(110);

/// A stable, bright colour per singer name (hue from a hash of the name), so a singer keeps
/// their colour across sessions and in every part of the editor.
pub fn singer_colour(name: &str) -> Color32 {
    let hash = name.bytes().fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    let hue = (hash % 360) as f32 / 360.0;
    egui::ecolor::Hsva::new(hue, 0.65, 0.95, 1.0).into()
}

/// A horizontal bar filled to `fraction` (0..1).
pub fn meter(ui: &mut egui::Ui, fraction: f32, colour: Color32, size: Vec2) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter();
    painter.rect_filled(rect, CornerRadius::same(4), Color32::from_gray(40));
    let mut filled = rect;
    filled.set_width(rect.width() * fraction.clamp(0.0, 1.0));
    painter.rect_filled(filled, CornerRadius::same(4), colour);
}

/// The last `seconds` of decisions as coloured blocks, newest at the right edge.
pub fn timeline(ui: &mut egui::Ui, decisions: &VecDeque<Decision>, seconds: f64, size: Vec2) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter();
    painter.rect_filled(rect, CornerRadius::same(4), Color32::from_gray(30));
    let now = decisions.back().map_or(seconds, |d| d.end_s.max(seconds));
    let x_of = |t: f64| rect.left() + ((t - (now - seconds)) / seconds) as f32 * rect.width();
    for decision in decisions {
        let colour = match &decision.verdict {
            Verdict::Singer(name) => singer_colour(name),
            Verdict::Unknown => UNKNOWN,
            Verdict::NoVoice => continue,
        };
        let left = x_of(decision.start_s).max(rect.left());
        let right = x_of(decision.end_s).min(rect.right());
        if right > left {
            let block = Rect::from_x_y_ranges(left..=right, rect.y_range());
            painter.rect_filled(block, CornerRadius::ZERO, colour.gamma_multiply(0.4 + 0.6 * decision.confidence));
        }
    }
    for tick in 1..(seconds as i64 / 5) {
        let x = rect.right() - tick as f32 * 5.0 / seconds as f32 * rect.width();
        painter.vline(x, rect.y_range(), egui::Stroke::new(1.0, Color32::from_gray(70)));
    }
    let label = painter.text(
        rect.left_top() + egui::vec2(6.0, 4.0),
        egui::Align2::LEFT_TOP,
        format!("last {seconds:.0} s"),
        egui::FontId::proportional(14.0),
        Color32::WHITE,
    );
    // Repaint the label over a dark plate so it stays readable on any singer's colour.
    painter.rect_filled(label.expand(3.0), CornerRadius::same(3), Color32::from_black_alpha(170));
    painter.text(
        rect.left_top() + egui::vec2(6.0, 4.0),
        egui::Align2::LEFT_TOP,
        format!("last {seconds:.0} s"),
        egui::FontId::proportional(14.0),
        Color32::WHITE,
    );
}
