//! The egui editor: who sings now (large, readable across a room), the top-3 scores, a 30 s
//! timeline, the parameters and the singer library. It reads decisions from the worker's
//! lock-free queue and edits the library by swapping in a new `Arc`, so it never blocks the
//! worker or the audio thread.

pub mod widgets;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crossbeam::channel::Sender;
use egui::{self, Color32, RichText};
use nice_plug::context::gui::GuiContext;
use nice_plug_egui::baseview::dpi::LogicalSize;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp, RepaintNotifier,
};

use super::bridge::{GuiFeed, Request};
use super::params::{LibraryState, SingerIdParams};
use crate::decision::{Decision, Verdict};
use crate::library::SingerLibrary;

/// Seconds of history the timeline shows.
pub const TIMELINE_SECONDS: f64 = 30.0;

/// The editor type the plugin exports.
pub type SingerIdEditor = EguiEditor<SingerIdApp>;

/// Where the editor sends requests for the worker (replaced on each activation).
pub type RequestSlot = Arc<Mutex<Option<Sender<Request>>>>;

pub fn create(params: Arc<SingerIdParams>, feed: Arc<GuiFeed>, requests: RequestSlot) -> Option<SingerIdEditor> {
    let prefs = params.editor_state.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let state = EguiEditorState::from_size(LogicalSize { width: prefs.width as f64, height: prefs.height as f64 }, 1.0);
    let settings = EguiNiceSettings { title: "Singer ID".into(), ..Default::default() };
    create_egui_editor(state, RepaintNotifier::default(), settings, SingerIdApp::new(params, feed, requests))
}

/// The editor's own state; lives on the GUI thread.
pub struct SingerIdApp {
    /// Parameters, library and editor preferences.
    params: Arc<SingerIdParams>,
    /// Decisions and counters from the worker.
    feed: Arc<GuiFeed>,
    /// Enrolment requests go to the current worker through this.
    requests: RequestSlot,
    /// Host context for parameter changes; set when the window opens.
    gui: Option<GuiContext>,
    /// Decisions of the last [`TIMELINE_SECONDS`] (plus one hop), oldest first.
    timeline: VecDeque<Decision>,
    /// Name typed for the next enrolment.
    enroll_name: String,
    /// Singer being renamed and the new name typed so far.
    renaming: Option<(String, String)>,
    /// Last message for the user (enrolment result, import error, ...).
    notice: String,
}

impl SingerIdApp {
    pub fn new(params: Arc<SingerIdParams>, feed: Arc<GuiFeed>, requests: RequestSlot) -> Self {
        Self {
            params,
            feed,
            requests,
            gui: None,
            timeline: VecDeque::new(),
            enroll_name: String::new(),
            renaming: None,
            notice: String::new(),
        }
    }

    /// Moves new decisions from the worker's queue into the timeline.
    fn drain_feed(&mut self) {
        while let Some(decision) = self.feed.decisions.pop() {
            // A restart begins a new timeline (times count from activation).
            if self.timeline.back().is_some_and(|last| decision.end_s < last.end_s) {
                self.timeline.clear();
            }
            self.timeline.push_back(decision);
        }
        let now = self.timeline.back().map_or(0.0, |d| d.end_s);
        while self.timeline.front().is_some_and(|d| d.end_s < now - TIMELINE_SECONDS) {
            self.timeline.pop_front();
        }
        while let Some(notice) = self.feed.notices.pop() {
            self.notice = notice;
        }
    }

    fn library(&self) -> Arc<SingerLibrary> {
        self.params.library.lock().unwrap_or_else(|e| e.into_inner()).current()
    }

    /// Applies `edit` to a copy of the library and swaps it in.
    fn edit_library(&mut self, edit: impl FnOnce(&mut SingerLibrary) -> Result<String, String>) {
        let mut state = self.params.library.lock().unwrap_or_else(|e| e.into_inner());
        let mut library = (*state.current()).clone();
        self.notice = match edit(&mut library) {
            Ok(message) => {
                *state = LibraryState::checked(library);
                message
            }
            Err(e) => e,
        };
    }

    fn now_playing(&self, ui: &mut egui::Ui) {
        let current = self.timeline.back();
        let (label, colour) = match current.map(|d| &d.verdict) {
            Some(Verdict::Singer(name)) => (name.clone(), widgets::singer_colour(name)),
            Some(Verdict::Unknown) => ("unknown".to_string(), widgets::UNKNOWN),
            Some(Verdict::NoVoice) => ("no voice".to_string(), widgets::NO_VOICE),
            None => ("listening…".to_string(), widgets::NO_VOICE),
        };
        ui.label(RichText::new(label).size(72.0).strong().color(colour));
        let confidence = current.map_or(0.0, |d| d.confidence);
        ui.horizontal(|ui| {
            ui.label(RichText::new("confidence").size(20.0));
            let width = (ui.available_width() - 90.0).max(80.0);
            widgets::meter(ui, confidence, colour, egui::vec2(width, 26.0));
            ui.label(RichText::new(format!("{:.0} %", confidence * 100.0)).size(24.0).strong());
        });
        ui.add_space(8.0);
        if let Some(decision) = current {
            for candidate in &decision.top {
                ui.horizontal(|ui| {
                    ui.add_sized(
                        [160.0, 24.0],
                        egui::Label::new(RichText::new(&candidate.singer).size(20.0)).truncate(),
                    );
                    let fill = candidate.score.clamp(0.0, 1.0);
                    let width = (ui.available_width() - 60.0).max(60.0);
                    widgets::meter(ui, fill, widgets::singer_colour(&candidate.singer), egui::vec2(width, 18.0));
                    ui.label(RichText::new(format!("{:.2}", candidate.score)).size(18.0));
                });
            }
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui) {
        let Some(gui) = self.gui.clone() else { return };
        let setter = gui.param_setter();
        egui::Grid::new("params").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            ui.label("Input");
            ui.add(ParamSlider::for_param(&self.params.input, &setter));
            ui.end_row();
            ui.label("Unknown below");
            ui.add(ParamSlider::for_param(&self.params.threshold, &setter));
            ui.end_row();
            ui.label("Smoothing");
            ui.add(ParamSlider::for_param(&self.params.smoothing, &setter));
            ui.end_row();
            ui.label("Analysis");
            ui.add(ParamSlider::for_param(&self.params.enabled, &setter));
            ui.end_row();
            ui.label("Every sample");
            ui.add(ParamSlider::for_param(&self.params.every_sample, &setter));
            ui.end_row();
        });
    }

    fn library_panel(&mut self, ui: &mut egui::Ui) {
        ui.heading("Singers");
        let library = self.library();
        let mut action: Option<LibraryAction> = None;
        egui::ScrollArea::vertical().max_height(170.0).show(ui, |ui| {
            if library.singers.is_empty() {
                ui.label("No singers yet: play someone singing, type a name, press Enrol.");
            }
            for singer in &library.singers {
                ui.horizontal(|ui| {
                    match &mut self.renaming {
                        Some((from, to)) if *from == singer.name => {
                            ui.text_edit_singleline(to);
                            if ui.button("Save").clicked() {
                                action = Some(LibraryAction::Rename(from.clone(), to.clone()));
                            }
                        }
                        _ => {
                            widgets::meter(ui, 1.0, widgets::singer_colour(&singer.name), egui::vec2(14.0, 14.0));
                            ui.label(RichText::new(&singer.name).size(18.0));
                            ui.label(format!("({} refs)", singer.references.len()));
                            if ui.small_button("Rename").clicked() {
                                self.renaming = Some((singer.name.clone(), singer.name.clone()));
                            }
                        }
                    }
                    if ui.small_button("Delete").clicked() {
                        action = Some(LibraryAction::Delete(singer.name.clone()));
                    }
                });
            }
        });
        match action {
            Some(LibraryAction::Rename(from, to)) => {
                self.renaming = None;
                self.edit_library(|lib| {
                    lib.rename(&from, &to)
                        .map(|()| format!("Renamed {from} to {}", to.trim()))
                        .map_err(|e| e.to_string())
                });
            }
            Some(LibraryAction::Delete(name)) => {
                self.edit_library(|lib| {
                    lib.remove(&name).map(|()| format!("Deleted {name}")).map_err(|e| e.to_string())
                });
            }
            None => {}
        }

        ui.separator();
        let mut prefs = self.params.editor_state.lock().unwrap_or_else(|e| e.into_inner()).clone();
        ui.horizontal(|ui| {
            ui.label("Name");
            ui.text_edit_singleline(&mut self.enroll_name);
        });
        ui.horizontal(|ui| {
            ui.label("Enrol the last");
            ui.add(egui::DragValue::new(&mut prefs.enroll_seconds).range(2.0..=120.0).suffix(" s"));
            ui.label("of voiced audio");
            if ui.button(RichText::new("Enrol").strong()).clicked() {
                self.notice = match self.requests.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                    Some(requests) if !self.enroll_name.trim().is_empty() => {
                        let request =
                            Request::Enroll { name: self.enroll_name.clone(), seconds: prefs.enroll_seconds as f64 };
                        match requests.send(request) {
                            Ok(()) => "Enrolling…".into(),
                            Err(_) => "analysis is not running".into(),
                        }
                    }
                    Some(_) => "type the singer's name first".into(),
                    None => "analysis is not running: start playback first".into(),
                };
            }
        });
        ui.separator();
        ui.horizontal(|ui| {
            ui.label("Library file");
            ui.add(egui::TextEdit::singleline(&mut prefs.library_path).desired_width(260.0));
        });
        ui.horizontal(|ui| {
            let path = prefs.library_path.trim().to_string();
            if ui.button("Import").clicked() {
                self.notice = match SingerLibrary::load(Path::new(&path)) {
                    Ok(imported) => {
                        let state = LibraryState::checked(imported);
                        let message = state.refused.clone().unwrap_or_else(|| format!("Imported {path}"));
                        if state.refused.is_none() {
                            *self.params.library.lock().unwrap_or_else(|e| e.into_inner()) = state;
                        }
                        message
                    }
                    Err(e) => e.to_string(),
                };
            }
            if ui.button("Export").clicked() {
                self.notice = match library.save(Path::new(&path)) {
                    Ok(()) => format!("Exported to {path}"),
                    Err(e) => e.to_string(),
                };
            }
        });
        *self.params.editor_state.lock().unwrap_or_else(|e| e.into_inner()) = prefs;
    }
}

/// A library edit chosen in the singer list (applied after the list is drawn).
enum LibraryAction {
    Rename(String, String),
    Delete(String),
}

impl NiceEguiApp for SingerIdApp {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        // Readable from across the room: larger default text everywhere.
        egui_ctx.all_styles_mut(|style| {
            for font in style.text_styles.values_mut() {
                font.size *= 1.25;
            }
        });
        egui_ctx.set_visuals(egui::Visuals::dark());
        self.gui = Some(gui);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut Frame) {
        self.drain_feed();
        egui::Frame::new().inner_margin(16.0).show(ui, |ui| {
            ui.columns(2, |cols| {
                self.now_playing(&mut cols[0]);
                self.controls(&mut cols[1]);
            });
            ui.add_space(10.0);
            widgets::timeline(ui, &self.timeline, TIMELINE_SECONDS, egui::vec2(ui.available_width(), 56.0));
            ui.add_space(10.0);
            self.library_panel(ui);
            ui.separator();
            let status = self.params.status.text();
            let status_colour = if status == "ok" { Color32::LIGHT_GREEN } else { Color32::from_rgb(255, 140, 90) };
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(format!("Status: {status}")).color(status_colour));
                let dropped = self.feed.dropped_samples.load(std::sync::atomic::Ordering::Relaxed);
                if dropped > 0 {
                    ui.label(format!("· {dropped} samples skipped (analysis fell behind)"));
                }
            });
            if !self.notice.is_empty() {
                ui.label(RichText::new(&self.notice).italics());
            }
        });
        // Decisions arrive every 0.5 s; repaint often enough to show them promptly.
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(100));
    }

    fn editor_closed(&mut self) {
        self.gui = None;
    }
}
