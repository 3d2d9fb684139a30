//! Song mode: the whole demo track's timeline is right section by section, decisions tile the
//! stream, and block size changes nothing.

mod common;

use std::sync::Arc;

use common::{default_model, repo_path};
use singer_id::analyzer::AnalyzerConfig;
use singer_id::audio::decode_file;
use singer_id::decision::{merge_segments, Decision, Verdict};
use singer_id::song::{analyze_song_samples, SongConfig};

fn song(samples: &[f32], rate: u32, block: usize) -> Vec<Decision> {
    let model = default_model();
    let cfg = AnalyzerConfig::for_model(&model);
    let library = Arc::new(common::demo_library(&model));
    analyze_song_samples(model, library, cfg, SongConfig::default(), samples, rate, block).unwrap()
}

fn assert_tiles(decisions: &[Decision], duration_s: f64) {
    assert_eq!(decisions.first().unwrap().start_s, 0.0);
    for pair in decisions.windows(2) {
        assert_eq!(pair[0].end_s, pair[1].start_s, "gap or overlap: {pair:?}");
        assert!(pair[0].end_s > pair[0].start_s);
    }
    let end = decisions.last().unwrap().end_s;
    assert!((end - duration_s).abs() < 0.02, "ends at {end} s, audio lasts {duration_s} s");
}

#[test]
fn demo_track_names_every_section_and_no_singer_in_the_instrumentals() {
    let audio = decode_file(&repo_path("demo/demo-track.flac")).unwrap();
    let decisions = song(&audio.samples, audio.sample_rate, 4096);
    assert_tiles(&decisions, audio.duration_s());
    let sections = common::demo_sections();
    for (start, end, label) in sections.clone() {
        let label = label.as_str();
        // Every decision well inside the section (0.5 s from its edges) must be right.
        let inside: Vec<&Decision> =
            decisions.iter().filter(|d| d.start_s >= start + 0.5 && d.end_s <= end - 0.5).collect();
        assert!(!inside.is_empty(), "no decision inside {label} {start}-{end}");
        for d in inside {
            let ok = match label {
                "instrumental" => matches!(d.verdict, Verdict::NoVoice | Verdict::Unknown),
                name => d.verdict == Verdict::Singer(name.to_string()),
            };
            assert!(ok, "{label} {start}-{end} s: {:?} at {:.2}-{:.2} s", d.verdict, d.start_s, d.end_s);
        }
    }
    // Turns, not flicker: one segment per section (plus at most one per boundary).
    let segments = merge_segments(&decisions);
    // The bound as first written: twice the lines of the sections file, its header included.
    assert!(segments.len() <= 2 * (sections.len() + 1), "{segments:#?}");
}

#[test]
fn block_size_does_not_change_song_mode() {
    let audio = decode_file(&repo_path("demo/demo-track.flac")).unwrap();
    let clip = &audio.samples[..audio.sample_rate as usize * 16];
    let whole = song(clip, audio.sample_rate, usize::MAX);
    for block in [1usize, 441, 16384] {
        assert_eq!(song(clip, audio.sample_rate, block), whole, "block size {block}");
    }
}

#[test]
fn silence_is_one_no_voice_turn_at_any_rate() {
    for rate in [8000u32, 44100, 96000] {
        let decisions = song(&vec![0.0f32; rate as usize * 3], rate, 512);
        assert_tiles(&decisions, 3.0);
        assert!(decisions.iter().all(|d| d.verdict == Verdict::NoVoice), "{rate} Hz: {decisions:?}");
    }
}

/// Song mode's second pass embeds each turn span exactly as a whole clip of that span would be
/// embedded, whatever the block size, and a span past the end of the audio gets nothing.
#[test]
fn turn_embedder_embeds_each_span_as_a_clip() {
    use singer_id::analyzer::DEFAULT_VOICE_FLOOR_DB;
    use singer_id::embed::{clip_window_embeddings, TurnEmbedder};
    use singer_id::model::mean_direction;

    let model = default_model();
    let audio = decode_file(&repo_path("demo/demo-track.flac")).unwrap();
    let rate = audio.sample_rate;
    let spans = [(3.2, 12.8), (12.8, 13.1), (14.0, 22.5), (22.5, 22.5), (44.0, 50.0), (60.0, 61.0)];
    let embed = |block: usize| {
        let mut embedder = TurnEmbedder::new(&model, rate, DEFAULT_VOICE_FLOOR_DB, &spans);
        for chunk in audio.samples.chunks(block) {
            embedder.push(chunk).unwrap();
        }
        embedder.finish().unwrap()
    };
    let turns = embed(4096);
    assert_eq!(turns.len(), spans.len());
    for (k, &(a, b)) in spans.iter().enumerate() {
        let at = |t: f64| ((t * rate as f64).round() as usize).min(audio.samples.len());
        let (from, to) = (at(a), at(b));
        let windows = clip_window_embeddings(&model, &audio.samples[from..to], rate, DEFAULT_VOICE_FLOOR_DB).unwrap();
        let expected = (!windows.is_empty()).then(|| mean_direction(&windows));
        assert_eq!(turns[k], expected, "span {k} ({a}-{b} s)");
    }
    assert!(turns[0].is_some() && turns[2].is_some(), "sung spans have embeddings");
    assert_eq!(turns[3], None, "an empty span");
    assert_eq!(turns[5], None, "past the end of the audio");
    for block in [7usize, 441, 16384] {
        assert_eq!(embed(block), turns, "block size {block}");
    }
}
