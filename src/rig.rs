//! The rig follows the singer: live verdicts turned into MIDI Program Changes (and, if asked, a
//! controller carrying the confidence) for whatever switches vocal chains or console scenes.
//!
//! Decided on the worker thread ([`ProgramFollower`]) and handed to the audio thread as plain
//! `Copy` events stamped with the stream sample they belong to ([`RigEvent`]), through a
//! lock-free queue, so the audio thread only places them in its block. Nothing here knows
//! about plugin formats.

use crate::decision::{Decision, Verdict};

/// Programs on the wire are 0–127; users and consoles number them 1–128.
pub const PROGRAMS: u8 = 128;

/// What the rig output does; read by the worker before each batch of decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct RigSettings {
    /// Send MIDI at all.
    pub midi: bool,
    /// MIDI channel, 0–15.
    pub channel: u8,
    /// "Hold current singer": nothing that follows the verdict changes while set (a duet, a
    /// guest the library does not know).
    pub hold: bool,
    /// After a Program Change, seconds during which no other is sent, so a verdict that
    /// flickers between two singers cannot flood the rig.
    pub hold_time_s: f64,
    /// Program (0–127) for `unknown`; `None` sends nothing, keeping the last singer's program.
    pub unknown_program: Option<u8>,
    /// Program (0–127) for `no voice`; `None` sends nothing.
    pub no_voice_program: Option<u8>,
    /// Controller number that carries the confidence (0–127) every hop, if any.
    pub confidence_cc: Option<u8>,
}

impl Default for RigSettings {
    /// MIDI off; when switched on, singers only, with a 1 s hold time.
    fn default() -> Self {
        Self {
            midi: false,
            channel: 0,
            hold: false,
            hold_time_s: 1.0,
            unknown_program: None,
            no_voice_program: None,
            confidence_cc: None,
        }
    }
}

/// One MIDI message for the rig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RigMessage {
    /// Program Change to this program (0–127).
    Program(u8),
    /// Control Change: controller `cc` to `value` (both 0–127).
    Control { cc: u8, value: u8 },
}

/// A message and where it belongs in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RigEvent {
    /// Input sample (counted from the start of the stream, at the stream's own rate) at which
    /// the decision behind it ends.
    pub at_sample: u64,
    /// MIDI channel, 0–15.
    pub channel: u8,
    pub message: RigMessage,
}

/// The default program of the singer at `position` in the library: its place in the list.
pub fn default_program(position: usize) -> u8 {
    position.min(usize::from(PROGRAMS - 1)) as u8
}

/// Turns the stream of displayed verdicts into Program Changes: one when the program the
/// verdict maps to differs from the last one sent and the next decision confirms it (one hop
/// later: a single stray hop, a breath read as another singer, sends nothing), never two
/// within the hold time, none while held. A change held back is sent at the first decision
/// after the hold time if it still stands. A hold time of 0 sends every change at once.
#[derive(Debug, Clone)]
pub struct ProgramFollower {
    /// The program last sent.
    sent: Option<u8>,
    /// Stream time (s) of the decision that sent it.
    sent_at_s: f64,
    /// A different program the latest decisions map to, and for how many decisions in a row.
    candidate: Option<(u8, u32)>,
}

impl Default for ProgramFollower {
    fn default() -> Self {
        Self { sent: None, sent_at_s: f64::NEG_INFINITY, candidate: None }
    }
}

impl ProgramFollower {
    /// The messages `decision` causes, in order. `program_of` gives an enrolled singer's
    /// program (0–127).
    pub fn follow(
        &mut self,
        decision: &Decision,
        settings: &RigSettings,
        program_of: impl Fn(&str) -> u8,
        mut emit: impl FnMut(RigMessage),
    ) {
        if !settings.midi {
            return;
        }
        let target = match &decision.verdict {
            Verdict::Singer(name) => Some(program_of(name)),
            Verdict::Unknown => settings.unknown_program,
            Verdict::NoVoice => settings.no_voice_program,
        };
        self.candidate = match (target, self.candidate) {
            (Some(program), _) if self.sent == Some(program) => None,
            (Some(program), Some((last, count))) if last == program => Some((program, count + 1)),
            (Some(program), _) => Some((program, 1)),
            (None, _) => None,
        };
        if let Some((program, count)) = self.candidate {
            let confirmations = if settings.hold_time_s > 0.0 { 2 } else { 1 };
            let held_back = decision.end_s - self.sent_at_s < settings.hold_time_s;
            if !settings.hold && count >= confirmations && !held_back {
                emit(RigMessage::Program(program));
                (self.sent, self.sent_at_s, self.candidate) = (Some(program), decision.end_s, None);
            }
        }
        if let Some(cc) = settings.confidence_cc {
            let value = (decision.confidence.clamp(0.0, 1.0) * 127.0).round() as u8;
            emit(RigMessage::Control { cc, value });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(end_s: f64, verdict: Verdict) -> Decision {
        Decision { start_s: end_s - 1.0, end_s, verdict, confidence: 0.5, top: vec![] }
    }

    fn singer(name: &str) -> Verdict {
        Verdict::Singer(name.into())
    }

    /// Programs sent for a verdict per hop (0.5 s apart).
    fn run(verdicts: &[Verdict], settings: &RigSettings) -> Vec<(f64, u8)> {
        let mut follower = ProgramFollower::default();
        let mut sent = Vec::new();
        for (i, verdict) in verdicts.iter().enumerate() {
            let d = decision(0.5 * (i + 1) as f64, verdict.clone());
            let program_of = |name: &str| if name == "Ann" { 4 } else { 9 };
            follower.follow(&d, settings, program_of, |m| {
                if let RigMessage::Program(p) = m {
                    sent.push((d.end_s, p))
                }
            });
        }
        sent
    }

    fn on() -> RigSettings {
        RigSettings { midi: true, ..RigSettings::default() }
    }

    #[test]
    fn a_change_is_sent_once_confirmed_and_never_within_the_hold_time() {
        let (ann, bo) = (singer("Ann"), singer("Bo"));
        // Each change is sent when the next hop confirms it; Bo's single hop at 1.5 s is not.
        let verdicts = [ann.clone(), ann.clone(), bo.clone(), ann.clone(), ann.clone(), bo.clone(), bo.clone()];
        assert_eq!(run(&verdicts, &on()), [(1.0, 4), (3.5, 9)]);
        // A change within the hold time of the last is held back until the hold time is over,
        // and sent then if it still stands.
        let verdicts = [ann.clone(), ann.clone(), bo.clone(), bo.clone(), bo.clone(), bo.clone()];
        let long_hold = RigSettings { hold_time_s: 2.0, ..on() };
        assert_eq!(run(&verdicts, &long_hold), [(1.0, 4), (3.0, 9)]);
        assert_eq!(run(&verdicts[..5], &long_hold), [(1.0, 4)]);
        // No hold time: every change.
        let no_hold = RigSettings { hold_time_s: 0.0, ..on() };
        assert_eq!(run(&[ann.clone(), bo.clone(), ann.clone()], &no_hold), [(0.5, 4), (1.0, 9), (1.5, 4)]);
    }

    #[test]
    fn unknown_and_no_voice_send_their_program_or_nothing() {
        let verdicts = [singer("Ann"), Verdict::NoVoice, Verdict::NoVoice, Verdict::NoVoice, Verdict::Unknown];
        let settings = RigSettings { hold_time_s: 0.0, ..on() };
        assert_eq!(run(&verdicts, &settings), [(0.5, 4)]);
        let settings = RigSettings { no_voice_program: Some(100), unknown_program: Some(101), ..settings };
        assert_eq!(run(&verdicts, &settings), [(0.5, 4), (1.0, 100), (2.5, 101)]);
    }

    #[test]
    fn nothing_while_held_or_off_and_the_standing_verdict_after_release() {
        let mut follower = ProgramFollower::default();
        let mut sent = Vec::new();
        let mut settings = on();
        let script = [("Ann", false), ("Ann", false), ("Bo", true), ("Bo", true), ("Bo", false)];
        for (i, (name, hold)) in script.iter().enumerate() {
            settings.hold = *hold;
            let d = decision(2.0 * (i + 1) as f64, singer(name));
            follower.follow(&d, &settings, |n| if n == "Ann" { 4 } else { 9 }, |m| sent.push((d.end_s, m)));
        }
        assert_eq!(sent, [(4.0, RigMessage::Program(4)), (10.0, RigMessage::Program(9))]);
        assert_eq!(run(&[singer("Ann")], &RigSettings::default()), []);
    }

    #[test]
    fn confidence_rides_on_its_controller_every_hop() {
        let mut follower = ProgramFollower::default();
        let settings = RigSettings { confidence_cc: Some(20), ..on() };
        let mut sent = Vec::new();
        for confidence in [0.0f32, 0.5, 1.0, f32::NAN] {
            let d = Decision { confidence, ..decision(1.0, Verdict::NoVoice) };
            follower.follow(&d, &settings, |_| 0, |m| sent.push(m));
        }
        let values: Vec<u8> = sent
            .iter()
            .map(|m| match m {
                RigMessage::Control { cc: 20, value } => *value,
                other => panic!("{other:?}"),
            })
            .collect();
        // NaN clamps to NaN, which casts to 0: never an out-of-range byte.
        assert_eq!(values, [0, 64, 127, 0]);
    }

    #[test]
    fn default_programs_are_positions_up_to_127() {
        assert_eq!(default_program(3), 3);
        assert_eq!(default_program(900), 127);
    }
}
