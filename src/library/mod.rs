//! The enrolled singers: their reference embeddings, how a new embedding is scored against
//! them, and how the library is saved (versioned JSON, written atomically).

mod names;
mod storage;

pub use names::{clean_name, same_name};

use serde::{Deserialize, Serialize};

pub use storage::{LibraryError, LIBRARY_FORMAT, LIBRARY_VERSION};

use crate::model::{cosine, mean_direction, ModelMetadata};

/// Reference windows kept per singer. Enough for k-NN over a few minutes of enrolment while
/// keeping a library file (and the plugin state) well under a megabyte per singer.
pub const MAX_REFERENCES_PER_SINGER: usize = 400;

/// How an embedding is compared with an enrolled singer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum Scoring {
    /// Cosine to the singer's centroid (mean of its reference embeddings).
    #[default]
    Centroid,
    /// k-NN over reference windows (KNN-Net): take the `k` nearest references across all
    /// singers; a singer's score is the mean cosine of its references among them (a singer with
    /// none there scores below every singer with some). The score stays a cosine, so one
    /// threshold serves both methods.
    Knn { k: usize },
}

impl std::str::FromStr for Scoring {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "centroid" => Ok(Scoring::Centroid),
            "knn" => Ok(Scoring::Knn { k: 11 }),
            other => match other.strip_prefix("knn:").map(str::parse) {
                Some(Ok(k)) if k > 0 => Ok(Scoring::Knn { k }),
                _ => Err(format!("unknown scoring '{other}': use centroid, knn or knn:K")),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Singer {
    pub name: String,
    /// L2-normalised embeddings of the enrolment windows.
    pub references: Vec<Vec<f32>>,
    /// L2-normalised mean of `references`.
    pub centroid: Vec<f32>,
}

impl Singer {
    fn new(name: &str, references: Vec<Vec<f32>>) -> Self {
        let mut singer = Singer { name: name.to_string(), references, centroid: Vec::new() };
        singer.update_centroid();
        singer
    }

    fn update_centroid(&mut self) {
        self.centroid = mean_direction(&self.references);
    }
}

/// A named set of singers, tied to one embedding space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingerLibrary {
    /// `embedding_space` of the model that made the embeddings.
    pub embedding_space: String,
    pub embedding_size: usize,
    pub singers: Vec<Singer>,
}

impl SingerLibrary {
    pub fn new(meta: &ModelMetadata) -> Self {
        Self { embedding_space: meta.embedding_space.clone(), embedding_size: meta.embedding_size, singers: Vec::new() }
    }

    /// Refuses to pair this library with a model whose embeddings mean something else.
    pub fn check_model(&self, meta: &ModelMetadata) -> Result<(), LibraryError> {
        if self.embedding_space != meta.embedding_space || self.embedding_size != meta.embedding_size {
            return Err(LibraryError::WrongModel {
                library_space: self.embedding_space.clone(),
                model_space: meta.embedding_space.clone(),
                model_name: meta.name.clone(),
            });
        }
        Ok(())
    }

    pub fn names(&self) -> Vec<&str> {
        self.singers.iter().map(|s| s.name.as_str()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&Singer> {
        self.singers.iter().find(|s| s.name == name)
    }

    /// Adds reference embeddings to `name`, creating the singer if new. References beyond
    /// [`MAX_REFERENCES_PER_SINGER`] are thinned evenly so early and late material both stay.
    pub fn enroll(&mut self, name: &str, embeddings: Vec<Vec<f32>>) -> Result<(), LibraryError> {
        let name = clean_name(name).map_err(LibraryError::BadName)?;
        let name = name.as_str();
        if let Some(other) = self.singers.iter().find(|s| s.name != name && same_name(&s.name, name)) {
            return Err(LibraryError::BadName(format!(
                "'{name}' and the enrolled '{}' differ only in case or Unicode form: enrol as '{}' (or rename it first)",
                other.name, other.name
            )));
        }
        if let Some(bad) =
            embeddings.iter().find(|e| e.len() != self.embedding_size || e.iter().any(|v| !v.is_finite()))
        {
            return Err(LibraryError::BadName(format!(
                "embedding of size {} (or with non-finite values) does not fit this library (size {})",
                bad.len(),
                self.embedding_size
            )));
        }
        if embeddings.is_empty() {
            return Err(LibraryError::NothingToEnroll(name.to_string()));
        }
        match self.singers.iter_mut().find(|s| s.name == name) {
            Some(singer) => {
                singer.references.extend(embeddings);
                singer.references = thin_evenly(std::mem::take(&mut singer.references), MAX_REFERENCES_PER_SINGER);
                singer.update_centroid();
            }
            None => self.singers.push(Singer::new(name, thin_evenly(embeddings, MAX_REFERENCES_PER_SINGER))),
        }
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> Result<(), LibraryError> {
        let before = self.singers.len();
        self.singers.retain(|s| s.name != name);
        if self.singers.len() == before {
            return Err(LibraryError::NoSuchSinger(name.to_string()));
        }
        Ok(())
    }

    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), LibraryError> {
        let to = clean_name(to).map_err(LibraryError::BadName)?;
        let to = to.as_str();
        // Another singer with the same name up to case: renaming "yuki" to "Yuki" is fine.
        if let Some(other) = self.singers.iter().find(|s| s.name != from && same_name(&s.name, to)) {
            return Err(LibraryError::BadName(format!("a singer named '{}' already exists", other.name)));
        }
        let singer = self
            .singers
            .iter_mut()
            .find(|s| s.name == from)
            .ok_or_else(|| LibraryError::NoSuchSinger(from.to_string()))?;
        singer.name = to.to_string();
        Ok(())
    }

    /// One score per singer, in library order.
    pub fn score(&self, embedding: &[f32], scoring: Scoring) -> Vec<f32> {
        match scoring {
            Scoring::Centroid => self.singers.iter().map(|s| cosine(embedding, &s.centroid)).collect(),
            Scoring::Knn { k } => self.knn_scores(embedding, k),
        }
    }

    fn knn_scores(&self, embedding: &[f32], k: usize) -> Vec<f32> {
        let mut all: Vec<(f32, usize)> = Vec::new();
        let mut best = vec![f32::NEG_INFINITY; self.singers.len()];
        for (i, singer) in self.singers.iter().enumerate() {
            for r in &singer.references {
                let c = cosine(embedding, r);
                best[i] = best[i].max(c);
                all.push((c, i));
            }
        }
        let k = k.min(all.len());
        if k == 0 {
            return vec![0.0; self.singers.len()];
        }
        all.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
        let mut sum = vec![0.0f32; self.singers.len()];
        let mut votes = vec![0usize; self.singers.len()];
        for &(c, i) in &all[..k] {
            sum[i] += c;
            votes[i] += 1;
        }
        // Voted singers keep their mean cosine; unvoted ones are capped just below the weakest
        // voted singer, so no singer without a vote can outrank one with a vote.
        let weakest_voted = (0..self.singers.len())
            .filter(|&i| votes[i] > 0)
            .map(|i| sum[i] / votes[i] as f32)
            .fold(f32::INFINITY, f32::min);
        (0..self.singers.len())
            .map(|i| if votes[i] > 0 { sum[i] / votes[i] as f32 } else { best[i].min(weakest_voted - 1e-4) })
            .collect()
    }
}

/// Keeps at most `max` items, spread evenly over the input order.
fn thin_evenly<T>(items: Vec<T>, max: usize) -> Vec<T> {
    if items.len() <= max {
        return items;
    }
    let n = items.len();
    let keep: Vec<usize> = (0..max).map(|i| i * n / max).collect();
    items.into_iter().enumerate().filter(|(i, _)| keep.binary_search(i).is_ok()).map(|(_, t)| t).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::l2_normalize;

    pub fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        l2_normalize(&mut v);
        v
    }

    pub fn library_3d() -> SingerLibrary {
        let mut lib = SingerLibrary { embedding_space: "test-space".into(), embedding_size: 3, singers: vec![] };
        lib.enroll("ann", vec![unit(&[1.0, 0.1, 0.0]), unit(&[1.0, -0.1, 0.0])]).unwrap();
        lib.enroll("bob", vec![unit(&[0.0, 1.0, 0.0])]).unwrap();
        lib
    }

    #[test]
    fn centroid_scores_follow_cosine() {
        let lib = library_3d();
        let scores = lib.score(&unit(&[1.0, 0.0, 0.0]), Scoring::Centroid);
        assert!((scores[0] - 1.0).abs() < 1e-6);
        assert!(scores[1].abs() < 1e-6);
    }

    #[test]
    fn knn_ranks_by_vote() {
        let lib = library_3d();
        let scores = lib.score(&unit(&[0.9, 0.5, 0.0]), Scoring::Knn { k: 2 });
        // Both ann references are nearer than bob's single one; bob gets no vote.
        assert!(scores[0] > scores[1], "{scores:?}");
    }

    #[test]
    fn enroll_rename_remove() {
        let mut lib = library_3d();
        lib.enroll("ann", vec![unit(&[1.0, 0.0, 0.0])]).unwrap();
        assert_eq!(lib.get("ann").unwrap().references.len(), 3);
        assert!(lib.rename("ann", "bob").is_err(), "duplicate names are refused");
        lib.rename("ann", "Anna").unwrap();
        lib.remove("bob").unwrap();
        assert_eq!(lib.names(), vec!["Anna"]);
        assert!(matches!(lib.remove("nobody"), Err(LibraryError::NoSuchSinger(_))));
        assert!(lib.enroll(" ", vec![unit(&[1.0, 0.0, 0.0])]).is_err());
        assert!(lib.enroll("x", vec![vec![f32::NAN, 0.0, 0.0]]).is_err());
    }

    #[test]
    fn names_equal_up_to_case_or_unicode_form_are_one_singer() {
        let mut lib = library_3d();
        let err = lib.enroll("ANN", vec![unit(&[1.0, 0.0, 0.0])]).unwrap_err();
        assert!(err.to_string().contains("enrol as 'ann'"), "{err}");
        assert!(lib.rename("bob", "Ann").is_err(), "another singer's name up to case");
        lib.rename("ann", "Ann").unwrap();
        lib.enroll("Bjo\u{308}rk", vec![unit(&[0.0, 0.0, 1.0])]).unwrap();
        lib.enroll("Bj\u{f6}rk", vec![unit(&[0.0, 0.1, 1.0])]).unwrap();
        assert_eq!(lib.get("Bj\u{f6}rk").unwrap().references.len(), 2, "NFD and NFC are one singer");
        for reserved in ["unknown", "No voice"] {
            assert!(lib.enroll(reserved, vec![unit(&[1.0, 0.0, 0.0])]).is_err(), "{reserved}");
        }
        assert!(lib.rename("bob", "x\ty").is_err(), "control characters");
    }

    #[test]
    fn references_are_thinned_evenly() {
        let kept = thin_evenly((0..1000).collect(), 4);
        assert_eq!(kept, vec![0, 250, 500, 750]);
    }

    #[test]
    fn scoring_parses() {
        assert_eq!("knn:5".parse::<Scoring>().unwrap(), Scoring::Knn { k: 5 });
        assert_eq!("centroid".parse::<Scoring>().unwrap(), Scoring::Centroid);
        assert!("knn:0".parse::<Scoring>().is_err());
    }
}
