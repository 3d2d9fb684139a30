//! Accuracy evaluation per the project's protocol (shared/research/eval-protocol.md): reading
//! manifests and turning per-unit scores into the reported metrics; [`songs`] scores timelines
//! of multi-singer songs.

pub mod manifest;
pub mod metrics;
pub mod runner;
pub mod songs;

pub use manifest::{Entry, Manifest, ManifestError, Role};
pub use metrics::{compute_metrics, eer_from_scores, eer_threshold, EerPoint, Metrics, MetricsError, ScoredUnit};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::decode_file;

    /// A tiny manifest with generated WAVs: every entry resolves to a decodable file.
    #[test]
    fn manifest_entries_point_at_decodable_audio() {
        let dir = tempfile::tempdir().unwrap();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        for name in ["a.wav", "b.wav", "c.wav"] {
            let mut writer = hound::WavWriter::create(dir.path().join(name), spec).unwrap();
            for i in 0..1600i32 {
                writer.write_sample(((i % 100) * 100) as i16).unwrap();
            }
            writer.finalize().unwrap();
        }
        let manifest_path = dir.path().join("manifest.csv");
        std::fs::write(
            &manifest_path,
            "path,singer,group,role\n\
             a.wav,ann,ann-1,enroll\n\
             b.wav,ann,ann-2,test\n\
             c.wav,bob,bob-1,test\n",
        )
        .unwrap();
        let manifest = Manifest::load(&manifest_path).unwrap();
        assert_eq!(manifest.enrolled_singers(), vec!["ann"]);
        for entry in &manifest.entries {
            let audio = decode_file(&entry.path).unwrap();
            assert_eq!(audio.samples.len(), 1600);
        }
    }
}
