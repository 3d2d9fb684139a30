//! `singer-id calibrate-songs`: song mode's turn threshold, chosen on labelled songs.
//!
//! Every song is heard once (and read once more to embed its turns); the Viterbi turns do not
//! depend on the turn threshold, so each candidate threshold only names the kept turns again
//! and re-scores the timelines.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;

use singer_id::analyzer::{AnalyzerConfig, Observation};
use singer_id::audio::decode_file_in_blocks;
use singer_id::eval::songs::{score_song, summarize, TimelineMetrics};
use singer_id::library::SingerLibrary;
use singer_id::model::Model;
use singer_id::song::{decide_planned, SongAnalyzer, SongConfig, SongPlan};

use super::analyze::{analyzer_config, embed_turns, song_config};
use super::args::{GlobalArgs, Mode, Tuning};
use super::commands::{prepare_songs, SongsSetup};
use super::progress::bar;

/// The thresholds tried: `from`, `from + step`, ... up to `to`.
pub struct Sweep {
    pub from: f32,
    pub to: f32,
    pub step: f32,
}

impl Sweep {
    fn thresholds(&self) -> Result<Vec<f32>> {
        if !(self.step > 0.0 && self.from <= self.to) {
            bail!(
                "--from must not exceed --to and --step must be positive (got {}..{} by {})",
                self.from,
                self.to,
                self.step
            );
        }
        let n = ((self.to - self.from) / self.step + 1e-3).floor() as usize + 1;
        if n > 2001 {
            bail!("{n} thresholds to try: use a larger --step");
        }
        // Rounded to 4 decimals, as thresholds are stored.
        Ok((0..n).map(|k| ((self.from + k as f32 * self.step) * 1e4).round() / 1e4).collect())
    }
}

/// One song's observations, turns and turn embeddings, ready to be named with any turn
/// threshold.
struct Heard {
    song: usize,
    hops: Vec<Observation>,
    plan: SongPlan,
    turns: Option<Vec<Option<Vec<f32>>>>,
}

pub fn calibrate_songs(
    global: &GlobalArgs,
    songs_path: &Path,
    condition: &str,
    enroll: Option<&Path>,
    json: bool,
    tuning: &Tuning,
    sweep: &Sweep,
) -> Result<()> {
    if tuning.mode != Mode::Song {
        bail!("calibrate-songs calibrates song mode: leave out --mode live");
    }
    if tuning.turn_threshold.is_some() {
        bail!("calibrate-songs tries every turn threshold from --from to --to: leave out --turn-threshold");
    }
    let thresholds = sweep.thresholds()?;
    let SongsSetup { songs, enroll_path, plan, model, library, singers } =
        prepare_songs(global, songs_path, condition, enroll)?;
    let cfg = analyzer_config(&model, tuning);
    let base = song_config(tuning);

    let total: usize = plan.iter().map(|(_, files)| files.len()).sum();
    let progress = bar(global.quiet, total as u64, "analysing");
    let mut heard: Vec<(&str, Vec<Heard>)> = Vec::new();
    for (cond, files) in &plan {
        let mut kept = Vec::new();
        for (song, file) in files.iter().enumerate() {
            let (hops, end_s, rate) = observe_file(&model, &library, &cfg, base, file)?;
            let plan = SongPlan::new(&hops, library.singers.len(), &cfg, &base, end_s);
            let turns = embed_turns(tuning.turn_embedding, &model, &cfg, file, rate, &plan, &ProgressBar::hidden())
                .with_context(|| file.display().to_string())?;
            kept.push(Heard { song, hops, plan, turns });
            progress.inc(1);
        }
        heard.push((cond.as_str(), kept));
    }
    progress.finish_and_clear();

    let mut rows = Vec::new();
    for &t in &thresholds {
        let song_cfg = SongConfig { turn_threshold: Some(t), ..base };
        let per_condition: Vec<(&str, TimelineMetrics)> = heard
            .iter()
            .map(|(cond, kept)| {
                let per_song: Vec<_> = kept
                    .iter()
                    .map(|h| {
                        let song = &songs[h.song];
                        let decisions = decide_planned(&h.hops, &library, &cfg, &song_cfg, &h.plan, h.turns.as_deref());
                        (song.name.clone(), score_song(song, &decisions, &singers))
                    })
                    .collect();
                (*cond, summarize(&per_song))
            })
            .collect();
        let accs: Vec<f64> = per_condition.iter().filter_map(|(_, m)| m.timeline_acc).collect();
        let mean = if accs.is_empty() { None } else { Some(accs.iter().sum::<f64>() / accs.len() as f64) };
        rows.push((t, per_condition, mean));
    }
    let Some(best_mean) = rows.iter().filter_map(|r| r.2).reduce(f64::max) else {
        bail!("{}: no scored grid point in any song: nothing to calibrate on", songs_path.display());
    };
    // Several thresholds often tie (the same turns named): take the middle one of the tie.
    let tied: Vec<f32> = rows.iter().filter(|r| r.2.is_some_and(|m| m >= best_mean - 1e-9)).map(|r| r.0).collect();
    let best = tied[tied.len() / 2];

    if json {
        let sweep_json: Vec<_> = rows
            .iter()
            .map(|(t, per, mean)| {
                let conditions: serde_json::Map<_, _> = per
                    .iter()
                    .map(|(c, m)| {
                        let mut m = serde_json::to_value(m).expect("metrics serialise");
                        m.as_object_mut().map(|o| o.remove("per_song"));
                        (c.to_string(), m)
                    })
                    .collect();
                serde_json::json!({ "turn_threshold": t, "mean_timeline_acc": mean, "conditions": conditions })
            })
            .collect();
        let report = serde_json::json!({
            "model": model.metadata().name,
            "songs_file": songs_path.display().to_string(),
            "enroll_file": enroll_path.display().to_string(),
            "singers": singers.len(),
            "threshold": cfg.threshold,
            "switch_penalty": base.switch_penalty,
            "voice_cost": base.voice_cost,
            "pad_s": base.pad_s,
            "turn_threshold": best,
            "mean_timeline_acc": best_mean,
            "sweep": sweep_json,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "model {} on {} ({} song(s), {} enrolled singer(s)): timeline_acc of song mode by turn threshold",
            model.metadata().name,
            songs_path.display(),
            songs.len(),
            singers.len()
        );
        let conds: Vec<&str> = heard.iter().map(|(c, _)| *c).collect();
        let value = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        println!(
            "  {:>9}  {}  {:>6}",
            "threshold",
            conds.iter().map(|c| format!("{c:>6}")).collect::<String>(),
            "mean"
        );
        for (t, per, mean) in &rows {
            let cells: String = per.iter().map(|(_, m)| format!("{:>6}", value(m.timeline_acc))).collect();
            let mark = if *t == best { "  <- best" } else { "" };
            println!("  {t:>9.4}  {cells}  {:>6}{mark}", value(*mean));
        }
        println!("turn_threshold {best} (mean timeline_acc {best_mean:.3})");
    }
    Ok(())
}

/// Hears one song file in song mode: its observations, where it ends and its sample rate.
fn observe_file(
    model: &Arc<Model>,
    library: &Arc<SingerLibrary>,
    cfg: &AnalyzerConfig,
    song: SongConfig,
    file: &Path,
) -> Result<(Vec<Observation>, f64, u32)> {
    let named = |e: String| anyhow::anyhow!("{}: {e}", file.display());
    let mut analyzer: Option<SongAnalyzer> = None;
    let mut rate = 0;
    decode_file_in_blocks(file, |block, info| -> Result<()> {
        rate = info.sample_rate;
        let analyzer = match &mut analyzer {
            Some(a) => a,
            None => analyzer.insert(
                SongAnalyzer::new(model.clone(), library.clone(), cfg.clone(), song, info.sample_rate)
                    .map_err(named)?,
            ),
        };
        analyzer.push(block).map_err(|e| named(e.to_string()))
    })?;
    match analyzer {
        Some(a) => a.finish_observations().map(|(hops, end)| (hops, end, rate)).map_err(|e| named(e.to_string())),
        None => Ok((Vec::new(), 0.0, rate)),
    }
}
