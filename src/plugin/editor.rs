//! The egui editor: who sings now (large, readable across a room), the top-3 scores, a 30 s
//! timeline, the parameters, the rig's MIDI settings and the singer library (with each
//! singer's enable switch and program). It reads decisions from the worker's
//! lock-free queue and edits the library by swapping in a new `Arc`, so it never blocks the
//! worker or the audio thread.

pub mod widgets;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam::channel::Sender;
use egui::{self, Color32, RichText};
use nice_plug::context::gui::{GuiContext, ParamSetter};
use nice_plug::prelude::Param;
use nice_plug_egui::baseview::dpi::LogicalSize;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings, Frame, NiceEguiApp, RepaintNotifier,
};

use super::params::{EditorPrefs, LibraryState, SingerIdParams, SINGER_SLOTS};
use crate::decision::{Decision, Verdict};
use crate::library::SingerLibrary;
use crate::live::{export_timeline, GuiFeed, LiveControls, Request};
use crate::rig::PROGRAMS;
use crate::timeline::Format;

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
    /// Set while a file dialog is open, so a second click does not stack another one.
    dialog_open: Arc<AtomicBool>,
    /// OSC target being typed; applied on Enter or when the field loses focus, so the worker
    /// never tries half-typed addresses.
    osc_draft: Option<String>,
    /// The verdict shown when "Hold singer" went on: what the rig stays on.
    held: Option<Verdict>,
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
            dialog_open: Arc::default(),
            osc_draft: None,
            held: None,
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

    fn now_playing(&mut self, ui: &mut egui::Ui) {
        let current = self.timeline.back();
        // Held: the rig stays on the verdict shown when the hold began, and so does this label.
        let held = self.params.hold.value();
        if !held {
            self.held = None;
        } else if self.held.is_none() {
            self.held = Some(current.map_or(Verdict::NoVoice, |d| d.verdict.clone()));
        }
        let shown = self.held.as_ref().or(current.map(|d| &d.verdict));
        let (label, colour) = match shown {
            Some(Verdict::Singer(name)) => (name.clone(), widgets::singer_colour(name)),
            Some(Verdict::Unknown) => ("unknown".to_string(), widgets::UNKNOWN),
            Some(Verdict::NoVoice) => ("no voice".to_string(), widgets::NO_VOICE),
            None => ("listening…".to_string(), widgets::NO_VOICE),
        };
        ui.label(RichText::new(label).size(72.0).strong().color(colour));
        if held {
            let hearing = current.map_or("nothing yet", |d| d.verdict.label());
            ui.label(RichText::new(format!("HELD · hearing {hearing}")).size(20.0).strong().color(Color32::YELLOW));
        }
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
            let p = &self.params;
            param_row(ui, "Input", ParamSlider::for_param(&p.input, &setter));
            param_row(ui, "Unknown below", ParamSlider::for_param(&p.threshold, &setter));
            param_row(ui, "Smoothing", ParamSlider::for_param(&p.smoothing, &setter));
            param_row(ui, "Analysis", ParamSlider::for_param(&p.enabled, &setter));
            param_row(ui, "Every sample", ParamSlider::for_param(&p.every_sample, &setter));
            param_row(ui, "Hold singer", ParamSlider::for_param(&p.hold, &setter));
        });
        egui::CollapsingHeader::new("MIDI out (Program Change per singer)").show(ui, |ui| {
            egui::Grid::new("midi").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                let p = &self.params;
                param_row(ui, "MIDI out", ParamSlider::for_param(&p.midi_out, &setter));
                param_row(ui, "Channel", ParamSlider::for_param(&p.midi_channel, &setter));
                param_row(ui, "Change hold", ParamSlider::for_param(&p.hold_time, &setter));
                param_row(ui, "No voice", ParamSlider::for_param(&p.no_voice_program, &setter));
                param_row(ui, "Unknown", ParamSlider::for_param(&p.unknown_program, &setter));
                param_row(ui, "Confidence CC", ParamSlider::for_param(&p.confidence_cc, &setter));
            });
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
            let setter = self.gui.as_ref().map(|gui| gui.param_setter());
            for (position, singer) in library.singers.iter().enumerate() {
                ui.horizontal(|ui| {
                    singer_rig_controls(ui, &self.params, setter.as_ref(), position);
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
                let position = library.singers.iter().position(|s| s.name == name);
                self.edit_library(|lib| {
                    lib.remove(&name).map(|()| format!("Deleted {name}")).map_err(|e| e.to_string())
                });
                // The singers after it move up one place: their settings move with them.
                if let (Some(position), Some(gui)) = (position, self.gui.as_ref()) {
                    shift_singer_slots(&self.params, &gui.param_setter(), position);
                }
            }
            None => {}
        }

        ui.separator();
        let saved_prefs = self.params.editor_state.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut prefs = saved_prefs.clone();
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
            ui.label("Library");
            if ui.button("Import…").clicked() {
                let params = self.params.clone();
                let dialog = json_dialog(&prefs.library_path).set_title("Import a singer library");
                self.with_dialog(dialog, Dialog::Open, move |path| {
                    let imported = SingerLibrary::load(&path).map_err(|e| e.to_string())?;
                    let state = LibraryState::checked(imported);
                    if let Some(refused) = state.refused {
                        return Err(refused);
                    }
                    *params.library.lock().unwrap_or_else(|e| e.into_inner()) = state;
                    remember(&params, |prefs| prefs.library_path = path.display().to_string());
                    Ok(format!("Imported {}", path.display()))
                });
            }
            if ui.button("Export…").clicked() {
                let params = self.params.clone();
                let dialog = json_dialog(&prefs.library_path).set_title("Export the singer library");
                self.with_dialog(dialog, Dialog::Save, move |path| {
                    library.save(&path).map_err(|e| e.to_string())?;
                    remember(&params, |prefs| prefs.library_path = path.display().to_string());
                    Ok(format!("Exported to {}", path.display()))
                });
            }
        });
        // Written back only when edited here, so a dialog thread's change is not overwritten.
        if prefs != saved_prefs {
            *self.params.editor_state.lock().unwrap_or_else(|e| e.into_inner()) = prefs;
        }
    }

    /// Timeline export: now, from everything heard since the analysis started, and after each
    /// offline render, to the file chosen here. Both are the song-mode timeline (decided from
    /// all of the audio, as `singer-id analyze` does), not the live one shown above.
    fn timeline_panel(&mut self, ui: &mut egui::Ui) {
        let bounce_path =
            self.params.editor_state.lock().unwrap_or_else(|e| e.into_inner()).bounce_timeline_path.clone();
        ui.horizontal_wrapped(|ui| {
            ui.label("Timeline");
            if ui.button("Export timeline…").clicked() {
                let (params, feed) = (self.params.clone(), self.feed.clone());
                let dialog = timeline_dialog(&bounce_path).set_title("Export the timeline of what was heard");
                self.with_dialog(dialog, Dialog::Save, move |path| {
                    let library = params.library.lock().unwrap_or_else(|e| e.into_inner()).current();
                    export_timeline(&feed, &library, params.threshold.value(), &path)
                });
            }
            ui.label("after each offline render, write it to");
            let shown = if bounce_path.is_empty() { "(nowhere)".to_string() } else { bounce_path.clone() };
            ui.add(egui::Label::new(RichText::new(shown).monospace()).truncate());
            if ui.small_button("Choose…").clicked() {
                let params = self.params.clone();
                let dialog = timeline_dialog(&bounce_path).set_title("Where the timeline of each offline render goes");
                self.with_dialog(dialog, Dialog::Save, move |path| {
                    if Format::from_path(&path).is_none() {
                        return Err(format!("{}: name the timeline .json, .csv or .txt", path.display()));
                    }
                    remember(&params, |prefs| prefs.bounce_timeline_path = path.display().to_string());
                    Ok(format!("Offline renders will write their timeline to {}", path.display()))
                });
            }
            if !bounce_path.is_empty() && ui.small_button("Off").clicked() {
                remember(&self.params, |prefs| prefs.bounce_timeline_path.clear());
            }
        });
        self.osc_row(ui);
    }

    /// OSC out: each decision to `HOST:PORT` over UDP (README, "OSC"); the worker reports a
    /// bad target or a failed send in the status line and carries on.
    fn osc_row(&mut self, ui: &mut egui::Ui) {
        let saved = self.params.editor_state.lock().unwrap_or_else(|e| e.into_inner()).osc_target.clone();
        ui.horizontal(|ui| {
            ui.label("OSC out to");
            let draft = self.osc_draft.get_or_insert_with(|| saved.clone());
            let field =
                ui.add(egui::TextEdit::singleline(draft).hint_text("host:port (empty: off)").desired_width(180.0));
            if field.lost_focus() {
                let target = draft.trim().to_string();
                if target != saved {
                    remember(&self.params, |prefs| prefs.osc_target = target);
                }
            }
            // Outside typing, the field shows what is set (a state load may change it).
            if !field.has_focus() {
                self.osc_draft = None;
            }
        });
    }

    /// Shows a native file dialog on its own thread (it blocks until the user answers, while
    /// the host's GUI thread must go on), then runs `then` there with the chosen path; its
    /// message reaches the editor through the feed's notices. Cancelling does nothing.
    fn with_dialog(
        &mut self,
        dialog: rfd::FileDialog,
        kind: Dialog,
        then: impl FnOnce(PathBuf) -> Result<String, String> + Send + 'static,
    ) {
        if self.dialog_open.swap(true, Ordering::AcqRel) {
            self.notice = "a file dialog is already open".into();
            return;
        }
        let (open, feed) = (self.dialog_open.clone(), self.feed.clone());
        let spawned = std::thread::Builder::new().name("singer-id file dialog".into()).spawn(move || {
            let chosen = match kind {
                Dialog::Open => dialog.pick_file(),
                Dialog::Save => dialog.save_file(),
            };
            if let Some(path) = chosen {
                feed.notices.force_push(then(path).unwrap_or_else(|e| e));
            }
            open.store(false, Ordering::Release);
        });
        if let Err(e) = spawned {
            self.dialog_open.store(false, Ordering::Release);
            self.notice = format!("cannot open a file dialog: {e}");
        }
    }
}

/// Which file dialog to show.
#[derive(Clone, Copy)]
enum Dialog {
    Open,
    Save,
}

/// Changes the persisted editor preferences.
fn remember(params: &SingerIdParams, change: impl FnOnce(&mut EditorPrefs)) {
    change(&mut params.editor_state.lock().unwrap_or_else(|e| e.into_inner()));
}

/// A dialog for library files, starting where `last` (the file used last) is.
fn json_dialog(last: &str) -> rfd::FileDialog {
    starting_at(rfd::FileDialog::new().add_filter("Singer library", &["json"]), last, "singers.json")
}

/// A dialog for timelines in the three formats, starting where `last` is.
fn timeline_dialog(last: &str) -> rfd::FileDialog {
    let dialog = rfd::FileDialog::new()
        .add_filter("Audacity labels", &["txt"])
        .add_filter("CSV", &["csv"])
        .add_filter("JSON", &["json"]);
    starting_at(dialog, last, "timeline.txt")
}

fn starting_at(dialog: rfd::FileDialog, last: &str, default_name: &str) -> rfd::FileDialog {
    let last = Path::new(last.trim());
    let name = last.file_name().and_then(|n| n.to_str()).unwrap_or(default_name).to_string();
    match last.parent().filter(|d| d.is_dir()) {
        Some(dir) => dialog.set_directory(dir).set_file_name(name),
        None => dialog.set_file_name(name),
    }
}

/// One labelled row of a parameter grid.
fn param_row(ui: &mut egui::Ui, label: &str, slider: impl egui::Widget) {
    ui.label(label);
    ui.add(slider);
    ui.end_row();
}

/// The enable switch and program of the singer at `position` (its parameters while it is one
/// of the first [`SINGER_SLOTS`]; later ones are always on, on their position's program).
fn singer_rig_controls(ui: &mut egui::Ui, params: &SingerIdParams, setter: Option<&ParamSetter>, position: usize) {
    let Some(slot) = params.singers.get(position) else {
        ui.label(format!("on · P{}", params.singer_program(position) + 1))
            .on_hover_text(format!("Only the first {SINGER_SLOTS} singers can be switched off or given a program"));
        return;
    };
    let mut on = slot.on.value();
    let mut program = slot.program.value();
    let toggled = ui.checkbox(&mut on, "").on_hover_text("Considered tonight (set list)").changed();
    let dragged = ui
        .add(egui::DragValue::new(&mut program).range(1..=i32::from(PROGRAMS)).prefix("P"))
        .on_hover_text("Program Change sent when this singer is shown")
        .changed();
    if let Some(setter) = setter {
        if toggled {
            set_param(setter, &slot.on, on);
        }
        if dragged {
            set_param(setter, &slot.program, program);
        }
    }
}

/// One automation gesture that sets `param` to `value` (the host records it).
fn set_param<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

/// After the singer at `removed` is deleted, moves the settings of the singers after it up one
/// slot, and the last slot back to its defaults.
fn shift_singer_slots(params: &SingerIdParams, setter: &ParamSetter, removed: usize) {
    for position in removed..SINGER_SLOTS {
        let (on, program) = match params.singers.get(position + 1) {
            Some(next) => (next.on.value(), next.program.value()),
            None => (
                params.singers[position].on.default_plain_value(),
                params.singers[position].program.default_plain_value(),
            ),
        };
        set_param(setter, &params.singers[position].on, on);
        set_param(setter, &params.singers[position].program, program);
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
        // Scrolls when the MIDI settings are open in a small window.
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| self.page(ui));
        // Decisions arrive every 0.5 s; repaint often enough to show them promptly.
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(100));
    }

    fn editor_closed(&mut self) {
        self.gui = None;
    }
}

impl SingerIdApp {
    fn page(&mut self, ui: &mut egui::Ui) {
        egui::Frame::new().inner_margin(16.0).show(ui, |ui| {
            ui.columns(2, |cols| {
                self.now_playing(&mut cols[0]);
                self.controls(&mut cols[1]);
            });
            ui.add_space(10.0);
            widgets::timeline(ui, &self.timeline, TIMELINE_SECONDS, egui::vec2(ui.available_width(), 56.0));
            ui.add_space(4.0);
            self.timeline_panel(ui);
            ui.add_space(6.0);
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
    }
}
