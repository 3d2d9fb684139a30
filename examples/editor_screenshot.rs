//! Opens the plugin's editor in a standalone window, filled with real results (the demo track
//! analysed with the three demo singers enrolled), for `docs/screenshot.sh` to capture under
//! Xvfb. Not part of the plugin; parameter changes made here go nowhere.

use std::collections::BTreeMap;
use std::sync::Arc;

use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::{GuiContextInner, ParamPtr, PluginApi, PluginState};
use nice_plug_egui::baseview::dpi::LogicalSize;
use nice_plug_egui::{EguiWindow, EguiWindowSettings, Frame, NiceEguiApp};
use singer_id::analyzer::{analyze_samples, AnalyzerConfig, DEFAULT_VOICE_FLOOR_DB};
use singer_id::audio::decode_file;
use singer_id::embed::clip_window_embeddings;
use singer_id::library::SingerLibrary;
use singer_id::live::{shared_model, GuiFeed};
use singer_id::plugin::editor::SingerIdApp;
use singer_id::plugin::params::{LibraryState, SingerIdParams};

/// A host stand-in: the editor needs one to draw its parameter sliders.
struct NoHost;

impl GuiContextInner for NoHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    unsafe fn raw_begin_set_parameter(&self, _param: ParamPtr) {}
    unsafe fn raw_set_parameter_normalized(&self, _param: ParamPtr, _normalized: f32) {}
    unsafe fn raw_end_set_parameter(&self, _param: ParamPtr) {}
    fn get_state(&self) -> PluginState {
        PluginState { version: String::new(), params: BTreeMap::new(), fields: BTreeMap::new() }
    }
    fn set_state(&self, _state: PluginState) {}
    fn request_restart(&self) {}
}

/// Adapts the plugin's editor app to a plain egui-baseview window.
struct Standalone(SingerIdApp);

impl nice_plug_egui::App for Standalone {
    fn build(&mut self, ctx: egui::Context, frame: &mut Frame) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.0.build(ctx, GuiContext::new(Arc::new(NoHost)), frame)
    }
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut Frame) {
        egui::CentralPanel::default().show(ui, |ui| self.0.ui(ui, frame));
    }
}

fn main() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = shared_model().expect("embedded model loads");
    let mut library = SingerLibrary::new(model.metadata());
    for name in ["yuki", "scott", "erithacus"] {
        let audio = decode_file(&repo.join(format!("demo/enroll/{name}.flac"))).unwrap();
        library
            .enroll(
                name,
                clip_window_embeddings(&model, &audio.samples, audio.sample_rate, DEFAULT_VOICE_FLOOR_DB).unwrap(),
            )
            .unwrap();
    }
    // The first 35 s of the demo: yuki, scott, an instrumental break, then erithacus.
    let demo = decode_file(&repo.join("demo/demo-track.flac")).unwrap();
    let clip = &demo.samples[..(35 * demo.sample_rate) as usize];
    let library = Arc::new(library);
    let decisions = analyze_samples(
        model.clone(),
        library.clone(),
        AnalyzerConfig::for_model(&model),
        clip,
        demo.sample_rate,
        4096,
        |_| (),
    )
    .unwrap();

    let params = Arc::new(SingerIdParams::default());
    *params.library.lock().unwrap() = LibraryState::checked((*library).clone());
    let feed = Arc::new(GuiFeed::default());
    decisions.into_iter().for_each(|d| drop(feed.decisions.force_push(d)));
    let prefs = params.editor_state.lock().unwrap().clone();
    let app = SingerIdApp::new(params, feed, Arc::default());

    // SAFETY: this is a standalone process, not a plugin inside a host.
    unsafe { nice_plug_egui::baseview::assume_standalone_in_process() };
    let settings = EguiWindowSettings::new()
        .with_title("Singer ID")
        .with_size(LogicalSize { width: prefs.width as f64, height: prefs.height as f64 });
    EguiWindow::create(settings, Standalone(app)).unwrap().run_until_closed().unwrap();
}
