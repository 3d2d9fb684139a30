//! The evaluation protocol's metrics (top1, top5, macro_f1, eer, open_set_acc), computed from
//! scores alone so they can be tested by hand and reused on any system's output.
//!
//! Conventions shared by every metric:
//! - argmax ties go to the singer that comes first in `singers`;
//! - a NaN score ranks below every other score and never reaches a threshold.

use serde::Serialize;

/// One scored test unit (a clip or a segment of one).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredUnit {
    /// The unit's true singer; need not be enrolled (an impostor).
    pub truth: String,
    /// One score per enrolled singer, in the order of `singers`.
    pub scores: Vec<f32>,
}

/// The protocol's metrics; serializes to exactly its JSON keys, `null` where undefined.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Test units scored.
    pub units: usize,
    /// Singers enrolled.
    pub singers: usize,
    /// Over units of enrolled singers; None when there are none.
    pub top1: Option<f64>,
    /// As top1 with the 5 best; None with fewer than 5 enrolled singers.
    pub top5: Option<f64>,
    /// Closed-set macro F1 over enrolled singers; None when no unit has an enrolled truth.
    pub macro_f1: Option<f64>,
    /// None without both target and non-target trials.
    pub eer: Option<f64>,
    /// Over all units, impostors included.
    pub open_set_acc: f64,
    pub threshold: f64,
}

/// Inputs that make the metrics undefined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    #[error("no singers enrolled")]
    NoSingers,
    #[error("no test units to score")]
    NoUnits,
    #[error("test unit {unit} has {got} scores for {expected} enrolled singers")]
    ScoreCount { unit: usize, expected: usize, got: usize },
}

/// Where the false-acceptance and false-rejection rates meet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EerPoint {
    /// The equal error rate, in [0, 1].
    pub eer: f64,
    /// Accept-if-`score >= threshold` operating point at the EER.
    pub threshold: f32,
}

/// Computes every metric of the protocol at the operating `threshold`.
pub fn compute_metrics(singers: &[String], units: &[ScoredUnit], threshold: f32) -> Result<Metrics, MetricsError> {
    check_inputs(singers, units)?;
    let enrolled: Vec<(usize, &ScoredUnit)> =
        units.iter().filter_map(|u| truth_index(singers, u).map(|i| (i, u))).collect();
    let top_k = |k: usize| {
        let hits = enrolled.iter().filter(|(truth, unit)| rank_of(&unit.scores, *truth) < k).count();
        share(hits, enrolled.len())
    };
    Ok(Metrics {
        units: units.len(),
        singers: singers.len(),
        top1: top_k(1),
        top5: if singers.len() >= 5 { top_k(5) } else { None },
        macro_f1: macro_f1(singers.len(), &enrolled),
        eer: eer_from_units(singers, units).map(|p| p.eer),
        open_set_acc: open_set_accuracy(singers, units, threshold),
        threshold: tidy_f64(threshold),
    })
}

/// The score threshold at the equal error rate over all (unit, singer) trials: the natural
/// default operating point when calibrated on data other than the test set. None when the
/// units give no target or no non-target trial.
pub fn eer_threshold(singers: &[String], units: &[ScoredUnit]) -> Result<Option<f32>, MetricsError> {
    check_inputs(singers, units)?;
    Ok(eer_from_units(singers, units).map(|p| p.threshold))
}

/// Equal error rate from separate target and non-target trial scores.
///
/// Every distinct score `t` (and +inf) is a candidate threshold, accepting `score >= t`:
/// FAR(t) = share of non-targets accepted, FRR(t) = share of targets rejected. FAR falls and
/// FRR rises as `t` grows; between the last candidate with FRR < FAR and the first with
/// FRR >= FAR both rates are interpolated linearly and the EER is where the two lines cross
/// (so both rates agree exactly there).
///
/// All thresholds in `(previous score, t]` give the rates of candidate `t`, so each candidate
/// is represented by the middle of that range (the lowest score by itself; +inf by the top
/// score plus half the last gap), and the returned threshold is interpolated between the two
/// representatives with the EER's weight. With perfect separation this puts the threshold
/// halfway between the best non-target and the worst target, which generalises better than
/// either edge. None when either list is empty.
pub fn eer_from_scores(target: &[f32], nontarget: &[f32]) -> Option<EerPoint> {
    if target.is_empty() || nontarget.is_empty() {
        return None;
    }
    let mut trials: Vec<(f32, bool)> =
        target.iter().map(|&s| (rank_key(s), true)).chain(nontarget.iter().map(|&s| (rank_key(s), false))).collect();
    trials.sort_by(|a, b| a.0.total_cmp(&b.0));
    let curve = error_curve(&trials, target.len(), nontarget.len());
    Some(crossing(&curve))
}

/// One candidate threshold with its error rates.
#[derive(Debug, Clone, Copy)]
struct CurvePoint {
    threshold: f32,
    far: f64,
    frr: f64,
}

/// FAR and FRR at each distinct score of `sorted` (ascending), then at +inf, each with the
/// representative threshold of its range.
fn error_curve(sorted: &[(f32, bool)], n_target: usize, n_nontarget: usize) -> Vec<CurvePoint> {
    let mut curve = Vec::new();
    let (mut targets_below, mut nontargets_below) = (0usize, 0usize);
    let mut previous: Option<f32> = None;
    let mut i = 0;
    while i < sorted.len() {
        let score = sorted[i].0;
        curve.push(CurvePoint {
            threshold: previous.map_or(score, |p| midpoint(p, score)),
            far: (n_nontarget - nontargets_below) as f64 / n_nontarget as f64,
            frr: targets_below as f64 / n_target as f64,
        });
        while i < sorted.len() && sorted[i].0 == score {
            if sorted[i].1 {
                targets_below += 1;
            } else {
                nontargets_below += 1;
            }
            i += 1;
        }
        previous = Some(score);
    }
    curve.push(CurvePoint { threshold: above_top(&curve, previous.unwrap_or(0.0)), far: 0.0, frr: 1.0 });
    curve
}

/// Representative threshold for rejecting everything: half a gap above the top score. The
/// top score's own representative sits half a gap below it (or at it, if it is the only one).
fn above_top(curve: &[CurvePoint], top: f32) -> f32 {
    let half_gap = curve.last().map_or(0.0, |last| top - last.threshold);
    let candidate = top + half_gap;
    if candidate.is_finite() && candidate > top {
        candidate
    } else {
        top.next_up()
    }
}

/// Middle of two scores; the upper one where infinities make the middle meaningless.
fn midpoint(low: f32, high: f32) -> f32 {
    let mid = (f64::from(low) + f64::from(high)) / 2.0;
    if mid.is_finite() {
        mid as f32
    } else {
        high
    }
}

/// Linear-interpolated crossing of FAR and FRR on `curve`. The first point always has FRR 0
/// and FAR 1 and the last FRR 1 and FAR 0, so a crossing exists after the first point.
fn crossing(curve: &[CurvePoint]) -> EerPoint {
    let k = curve.iter().position(|p| p.frr >= p.far).unwrap_or(curve.len() - 1).max(1);
    let (a, b) = (curve[k - 1], curve[k]);
    let gap_a = a.far - a.frr; // > 0
    let gap_b = b.far - b.frr; // <= 0
    let w = gap_a / (gap_a - gap_b);
    let eer = a.far + w * (b.far - a.far);
    let (low, high) = (f64::from(a.threshold), f64::from(b.threshold));
    let threshold = low + w * (high - low);
    EerPoint { eer, threshold: if threshold.is_finite() { threshold as f32 } else { b.threshold } }
}

fn check_inputs(singers: &[String], units: &[ScoredUnit]) -> Result<(), MetricsError> {
    if singers.is_empty() {
        return Err(MetricsError::NoSingers);
    }
    if units.is_empty() {
        return Err(MetricsError::NoUnits);
    }
    match units.iter().position(|u| u.scores.len() != singers.len()) {
        Some(i) => Err(MetricsError::ScoreCount { unit: i, expected: singers.len(), got: units[i].scores.len() }),
        None => Ok(()),
    }
}

fn truth_index(singers: &[String], unit: &ScoredUnit) -> Option<usize> {
    singers.iter().position(|s| *s == unit.truth)
}

/// NaN sorts below everything, so it never wins and never passes a threshold.
fn rank_key(score: f32) -> f32 {
    if score.is_nan() {
        f32::NEG_INFINITY
    } else {
        score
    }
}

/// Index of the best score; the first on ties.
fn argmax(scores: &[f32]) -> usize {
    let mut best = 0;
    for (i, &s) in scores.iter().enumerate() {
        if rank_key(s) > rank_key(scores[best]) {
            best = i;
        }
    }
    best
}

/// 0-based rank of `index` when sorting by descending score, ties broken by order.
fn rank_of(scores: &[f32], index: usize) -> usize {
    let own = rank_key(scores[index]);
    scores.iter().enumerate().filter(|&(i, &s)| rank_key(s) > own || (rank_key(s) == own && i < index)).count()
}

/// `hits / total`; None when `total` is 0.
fn share(hits: usize, total: usize) -> Option<f64> {
    (total > 0).then(|| hits as f64 / total as f64)
}

/// One enrolled singer's closed-set results: argmax decisions over the units of enrolled singers
/// (as `macro_f1`; impostors are `open_set_acc`'s business).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SingerResult {
    pub singer: String,
    /// Test units whose truth is this singer.
    pub units: usize,
    /// None when the singer was never predicted.
    pub precision: Option<f64>,
    /// None when the singer has no test units.
    pub recall: Option<f64>,
    /// 2TP / (2TP + FP + FN); 0 when TP is 0 (the term `macro_f1` averages).
    pub f1: f64,
}

/// Per-singer precision, recall and F1, and the closed-set confusion matrix
/// (`confusion[truth][predicted]`, both in the order of `singers`), over the units of enrolled
/// singers. The mean of the F1s of the singers with units or predictions is `Metrics::macro_f1`.
pub fn per_singer(
    singers: &[String],
    units: &[ScoredUnit],
) -> Result<(Vec<SingerResult>, Vec<Vec<usize>>), MetricsError> {
    check_inputs(singers, units)?;
    let n = singers.len();
    let mut confusion = vec![vec![0usize; n]; n];
    for unit in units {
        if let Some(truth) = truth_index(singers, unit) {
            confusion[truth][argmax(&unit.scores)] += 1;
        }
    }
    let results = (0..n)
        .map(|s| {
            let tp = confusion[s][s];
            let actual: usize = confusion[s].iter().sum();
            let predicted: usize = confusion.iter().map(|row| row[s]).sum();
            let f1 = if tp == 0 { 0.0 } else { (2 * tp) as f64 / (actual + predicted) as f64 };
            SingerResult {
                singer: singers[s].clone(),
                units: actual,
                precision: share(tp, predicted),
                recall: share(tp, actual),
                f1,
            }
        })
        .collect();
    Ok((results, confusion))
}

/// Closed-set macro F1 over all enrolled singers, from argmax decisions on `enrolled` units
/// (pairs of truth index and unit). F1 = 2TP / (2TP + FP + FN), which equals 2PR / (P + R)
/// and is 0 whenever TP is 0, so a singer never predicted and never hit scores 0.
fn macro_f1(n_singers: usize, enrolled: &[(usize, &ScoredUnit)]) -> Option<f64> {
    if enrolled.is_empty() {
        return None;
    }
    let mut tp = vec![0usize; n_singers];
    let mut fp = vec![0usize; n_singers];
    let mut fn_ = vec![0usize; n_singers];
    for &(truth, unit) in enrolled {
        let predicted = argmax(&unit.scores);
        if predicted == truth {
            tp[truth] += 1;
        } else {
            fp[predicted] += 1;
            fn_[truth] += 1;
        }
    }
    // Averaged over the singers that occur, as truth or as prediction: an enrolled singer with
    // no test unit that is never predicted has no F1 to measure (counting it as 0 would mark
    // a perfect run as 0.667 with one such singer of three).
    let measured: Vec<f64> = (0..n_singers)
        .filter(|&s| tp[s] + fp[s] + fn_[s] > 0)
        .map(|s| (2 * tp[s]) as f64 / (2 * tp[s] + fp[s] + fn_[s]) as f64)
        .collect();
    Some(measured.iter().sum::<f64>() / measured.len() as f64)
}

/// EER over every (unit, enrolled singer) trial; impostor units give only non-targets.
fn eer_from_units(singers: &[String], units: &[ScoredUnit]) -> Option<EerPoint> {
    let mut target = Vec::new();
    let mut nontarget = Vec::new();
    for unit in units {
        for (singer, &score) in singers.iter().zip(&unit.scores) {
            if *singer == unit.truth {
                target.push(score);
            } else {
                nontarget.push(score);
            }
        }
    }
    eer_from_scores(&target, &nontarget)
}

/// Share of units whose thresholded decision is right; an impostor's right answer is unknown.
fn open_set_accuracy(singers: &[String], units: &[ScoredUnit], threshold: f32) -> f64 {
    let correct = units
        .iter()
        .filter(|unit| {
            let best = argmax(&unit.scores);
            let decision = (rank_key(unit.scores[best]) >= threshold).then_some(best);
            decision == truth_index(singers, unit)
        })
        .count();
    correct as f64 / units.len() as f64
}

/// An f32 as the f64 with the same shortest decimal form, so 0.7 reports as 0.7 in JSON and
/// not 0.699999988079071.
fn tidy_f64(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn unit(truth: &str, scores: &[f32]) -> ScoredUnit {
        ScoredUnit { truth: truth.to_string(), scores: scores.to_vec() }
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() < 1e-6
    }

    /// Three enrolled singers a, b, c; four of their units and one impostor z.
    fn hand_example() -> (Vec<String>, Vec<ScoredUnit>) {
        let singers = names(&["a", "b", "c"]);
        let units = vec![
            unit("a", &[0.9, 0.2, 0.1]),  // argmax a: right
            unit("a", &[0.4, 0.6, 0.3]),  // argmax b: wrong, a ranks 2nd
            unit("b", &[0.1, 0.7, 0.5]),  // argmax b: right
            unit("c", &[0.5, 0.2, 0.45]), // argmax a: wrong, c ranks 2nd
            unit("z", &[0.3, 0.55, 0.2]), // impostor, best b at 0.55
        ];
        (singers, units)
    }

    #[test]
    fn hand_example_every_key() {
        let (singers, units) = hand_example();
        let m = compute_metrics(&singers, &units, 0.6).unwrap();
        assert_eq!(m.units, 5);
        assert_eq!(m.singers, 3);
        // top1: units 1 and 3 of the 4 enrolled-singer units are right: 2/4.
        assert_eq!(m.top1, Some(0.5));
        // top5: only 3 singers.
        assert_eq!(m.top5, None);
        // Argmax decisions (truth -> predicted): a->a, a->b, b->b, c->a.
        // a: TP 1, FP 1 (c->a), FN 1 (a->b): F1 = 2/(2+1+1) = 1/2.
        // b: TP 1, FP 1 (a->b), FN 0:        F1 = 2/(2+1)   = 2/3.
        // c: TP 0:                           F1 = 0.
        // macro = (1/2 + 2/3 + 0) / 3 = 7/18.
        assert!(close(m.macro_f1.unwrap(), 7.0 / 18.0), "{:?}", m.macro_f1);
        // Targets (4): 0.9, 0.4, 0.7, 0.45.
        // Non-targets (11): 0.1 0.1 0.2 0.2 0.2 0.3 0.3 0.5 0.5 0.55 0.6.
        // Accept score >= t:  t=0.4: FAR 4/11, FRR 0;  t=0.45: FAR 4/11, FRR 1/4;
        //                     t=0.5: FAR 4/11, FRR 2/4 (first FRR >= FAR).
        // FAR is flat at 4/11 between the two, so the lines cross at EER = 4/11.
        assert!(close(m.eer.unwrap(), 4.0 / 11.0), "{:?}", m.eer);
        // Threshold 0.6 (accept >= 0.6): u1 a 0.9 -> a right; u2 b 0.6 -> b wrong;
        // u3 b 0.7 -> b right; u4 a 0.5 -> unknown, wrong; u5 b 0.55 -> unknown, right. 3/5.
        assert!(close(m.open_set_acc, 0.6));
        assert_eq!(m.threshold, 0.6);
    }

    #[test]
    fn hand_example_eer_threshold() {
        let (singers, units) = hand_example();
        // Gaps FAR - FRR: at t=0.45 it is 4/11 - 1/4 = 5/44, at t=0.5 it is 4/11 - 1/2 = -6/44,
        // so the crossing lies w = 5/11 of the way from the 0.45 candidate to the 0.5 one.
        // Their representative thresholds are the midpoints (0.4+0.45)/2 = 0.425 and
        // (0.45+0.5)/2 = 0.475: threshold = 0.425 + 5/11 * 0.05 = 0.447727...
        let t = eer_threshold(&singers, &units).unwrap().unwrap();
        assert!((f64::from(t) - (0.425 + 5.0 / 11.0 * 0.05)).abs() < 1e-5, "{t}");
    }

    #[test]
    fn a_singer_without_test_units_and_never_predicted_does_not_count_in_macro_f1() {
        let singers: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let unit = |truth: &str, scores: [f32; 3]| ScoredUnit { truth: truth.into(), scores: scores.to_vec() };
        let mut units = vec![unit("a", [0.9, 0.1, 0.2]), unit("b", [0.1, 0.8, 0.3])];
        assert_eq!(compute_metrics(&singers, &units, 0.5).unwrap().macro_f1, Some(1.0));
        // Once `c` is predicted (wrongly) it is measured: F1 0 for c, 2/3 for b.
        units.push(unit("b", [0.1, 0.2, 0.9]));
        let m = compute_metrics(&singers, &units, 0.5).unwrap();
        assert!(close(m.macro_f1.unwrap(), (1.0 + 2.0 / 3.0 + 0.0) / 3.0), "{:?}", m.macro_f1);
    }

    #[test]
    fn per_singer_results_and_confusion_agree_with_macro_f1() {
        let (singers, units) = hand_example();
        let (results, confusion) = per_singer(&singers, &units).unwrap();
        // By hand (hand_example_every_key): a->a, a->b, b->b, c->a; the impostor is left out.
        assert_eq!(confusion, [[1, 1, 0], [0, 1, 0], [1, 0, 0]]);
        assert_eq!((results[0].precision, results[0].recall, results[0].units), (Some(0.5), Some(0.5), 2));
        assert_eq!((results[1].precision, results[1].recall), (Some(0.5), Some(1.0)));
        assert_eq!((results[2].precision, results[2].recall, results[2].f1), (None, Some(0.0), 0.0));
        let m = compute_metrics(&singers, &units, 0.7).unwrap();
        let mean_f1 = results.iter().map(|r| r.f1).sum::<f64>() / results.len() as f64;
        assert!(close(mean_f1, m.macro_f1.unwrap()), "{results:?}");
        // Every enrolled-truth unit lands in exactly one cell of its truth's row.
        let enrolled = units.iter().filter(|u| singers.contains(&u.truth)).count();
        assert_eq!(confusion.iter().flatten().sum::<usize>(), enrolled);
        for (s, r) in results.iter().enumerate() {
            assert_eq!(r.units, confusion[s].iter().sum::<usize>());
            if let (Some(p), Some(rc)) = (r.precision, r.recall) {
                let f1 = if p + rc == 0.0 { 0.0 } else { 2.0 * p * rc / (p + rc) };
                assert!(close(f1, r.f1), "{r:?}");
            }
        }
    }

    #[test]
    fn json_has_exactly_the_protocol_keys() {
        let (singers, units) = hand_example();
        let m = compute_metrics(&singers, &units, 0.7).unwrap();
        let json = serde_json::to_value(&m).unwrap();
        let object = json.as_object().unwrap();
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["eer", "macro_f1", "open_set_acc", "singers", "threshold", "top1", "top5", "units"]);
        assert!(object["top5"].is_null());
        assert_eq!(object["units"], 5);
        assert_eq!(object["threshold"].to_string(), "0.7");
    }

    #[test]
    fn perfect_separation_gives_zero_eer() {
        let p = eer_from_scores(&[0.8, 0.9], &[0.1, 0.2, 0.3]).unwrap();
        assert_eq!(p.eer, 0.0);
        // Halfway between the best non-target (0.3) and the worst target (0.8).
        assert!((p.threshold - 0.55).abs() < 1e-6, "{}", p.threshold);
    }

    #[test]
    fn fully_inverted_scores_give_eer_one() {
        let p = eer_from_scores(&[0.1, 0.2], &[0.8, 0.9]).unwrap();
        assert_eq!(p.eer, 1.0);
        assert!((p.threshold - 0.5).abs() < 1e-6, "{}", p.threshold);
    }

    #[test]
    fn all_tied_scores_give_eer_one_half() {
        // One candidate accepts all (FAR 1, FRR 0), the next rejects all (FAR 0, FRR 1).
        let p = eer_from_scores(&[0.5, 0.5], &[0.5]).unwrap();
        assert_eq!(p.eer, 0.5);
        assert!((p.threshold - 0.5).abs() < 1e-6);
    }

    #[test]
    fn interpolates_when_both_rates_move() {
        // Targets 0.2, 0.6; non-targets 0.4, 0.8.
        // t=0.2: FAR 1, FRR 0; t=0.4: FAR 1, FRR 1/2; t=0.6: FAR 1/2, FRR 1/2 -> EER 1/2.
        let p = eer_from_scores(&[0.2, 0.6], &[0.4, 0.8]).unwrap();
        assert_eq!(p.eer, 0.5);
        // Representative of t=0.6 is (0.4+0.6)/2 = 0.5 and it is reached exactly (w = 1).
        assert!((p.threshold - 0.5).abs() < 1e-6, "{}", p.threshold);
    }

    #[test]
    fn eer_undefined_without_both_trial_kinds() {
        assert_eq!(eer_from_scores(&[], &[0.1]), None);
        assert_eq!(eer_from_scores(&[0.1], &[]), None);
        // One singer, only its own units: no non-target trials.
        let singers = names(&["a"]);
        let units = vec![unit("a", &[0.5]), unit("a", &[0.7])];
        let m = compute_metrics(&singers, &units, 0.6).unwrap();
        assert_eq!(m.eer, None);
        assert_eq!(eer_threshold(&singers, &units).unwrap(), None);
        // open set: 0.5 -> unknown (wrong), 0.7 -> a (right).
        assert_eq!(m.open_set_acc, 0.5);
    }

    #[test]
    fn only_impostors_leave_closed_set_metrics_undefined() {
        let singers = names(&["a", "b"]);
        let units = vec![unit("x", &[0.1, 0.2]), unit("y", &[0.9, 0.1])];
        let m = compute_metrics(&singers, &units, 0.5).unwrap();
        assert_eq!((m.top1, m.top5, m.macro_f1, m.eer), (None, None, None, None));
        // x: best 0.2 < 0.5 -> unknown, right; y: best 0.9 -> a, wrong.
        assert_eq!(m.open_set_acc, 0.5);
    }

    #[test]
    fn top5_with_six_singers() {
        let singers = names(&["s1", "s2", "s3", "s4", "s5", "s6"]);
        let units = vec![
            // Truth s6 ranks 5th (four higher scores): top5 hit, top1 miss.
            unit("s6", &[0.9, 0.8, 0.7, 0.6, 0.1, 0.5]),
            // Truth s1 ranks 6th: miss both.
            unit("s1", &[0.0, 0.8, 0.7, 0.6, 0.5, 0.4]),
            // Truth s2 ranks 1st: hit both.
            unit("s2", &[0.1, 0.9, 0.2, 0.3, 0.4, 0.5]),
        ];
        let m = compute_metrics(&singers, &units, 0.0).unwrap();
        assert!(close(m.top1.unwrap(), 1.0 / 3.0));
        assert!(close(m.top5.unwrap(), 2.0 / 3.0));
    }

    #[test]
    fn ties_go_to_the_first_singer() {
        let singers = names(&["a", "b"]);
        // Equal scores: argmax is a, so truth b is second and a top1 miss.
        let units = vec![unit("b", &[0.5, 0.5]), unit("a", &[0.5, 0.5])];
        let m = compute_metrics(&singers, &units, 0.5).unwrap();
        assert_eq!(m.top1, Some(0.5));
        assert_eq!(rank_of(&[0.5, 0.5], 1), 1);
        assert_eq!(rank_of(&[0.5, 0.5], 0), 0);
        // Both decide a at 0.5 >= 0.5: the a unit is right, the b unit wrong.
        assert_eq!(m.open_set_acc, 0.5);
    }

    #[test]
    fn nan_scores_rank_last_and_never_pass_threshold() {
        let singers = names(&["a", "b"]);
        let units = vec![unit("b", &[f32::NAN, 0.3]), unit("a", &[f32::NAN, f32::NAN])];
        let m = compute_metrics(&singers, &units, 0.0).unwrap();
        // Unit 1: b wins over NaN. Unit 2: all NaN, tie -> a, but nothing passes: unknown.
        assert_eq!(m.top1, Some(1.0));
        assert_eq!(m.open_set_acc, 0.5);
        assert!(m.eer.is_some_and(|e| (0.0..=1.0).contains(&e)));
    }

    #[test]
    fn rejects_inconsistent_inputs() {
        let singers = names(&["a", "b"]);
        let bad = vec![unit("a", &[0.1, 0.2]), unit("a", &[0.1])];
        assert_eq!(
            compute_metrics(&singers, &bad, 0.5).unwrap_err(),
            MetricsError::ScoreCount { unit: 1, expected: 2, got: 1 }
        );
        assert_eq!(compute_metrics(&singers, &[], 0.5).unwrap_err(), MetricsError::NoUnits);
        assert_eq!(eer_threshold(&[], &bad).unwrap_err(), MetricsError::NoSingers);
    }

    #[test]
    fn random_like_scores_give_mid_eer_and_eer_point_balances_rates() {
        // Interleaved targets and non-targets: 0.0, 0.1, ..., 0.9, even = target.
        let target: Vec<f32> = (0..10).step_by(2).map(|i| i as f32 / 10.0).collect();
        let nontarget: Vec<f32> = (1..10).step_by(2).map(|i| i as f32 / 10.0).collect();
        let p = eer_from_scores(&target, &nontarget).unwrap();
        assert!((0.3..=0.7).contains(&p.eer), "{}", p.eer);
        let far = nontarget.iter().filter(|&&s| s >= p.threshold).count() as f64 / 5.0;
        let frr = target.iter().filter(|&&s| s < p.threshold).count() as f64 / 5.0;
        assert!((far - frr).abs() <= 0.2 + 1e-9, "far {far} frr {frr}");
    }
}
