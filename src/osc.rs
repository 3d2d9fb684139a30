//! Open Sound Control out: each decision sent over UDP to a console, show-control software or
//! anything else that listens, so the detected singer can drive a rig. Two messages:
//!
//! - `/singer-id/singer ,sf NAME CONFIDENCE` when the shown verdict changes (`NAME` is the
//!   singer, `unknown` or `no voice`), not while the verdict is held;
//! - `/singer-id/scores ,sf… NAME SCORE …` every hop: the best candidates, best first (none
//!   while no voice is heard); a live sender may space them out ([`OscSender::with_scores_interval`])
//!   so an offline render or a worker catching up cannot flood the network.
//!
//! Sending never waits: the socket is non-blocking and a message the system cannot take at
//! once is dropped (UDP would lose it under load anyway), so a live worker is never held up.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use rosc::{OscMessage, OscPacket, OscType};

use crate::decision::{Decision, Verdict};

pub const SINGER_ADDRESS: &str = "/singer-id/singer";
pub const SCORES_ADDRESS: &str = "/singer-id/scores";

#[derive(Debug, thiserror::Error)]
pub enum OscError {
    #[error("OSC target `{target}`: expected HOST:PORT, e.g. 127.0.0.1:9000 ({cause})")]
    BadTarget { target: String, cause: String },
    #[error("OSC target {target}: cannot open a UDP socket: {cause}")]
    Socket { target: SocketAddr, cause: io::Error },
    #[error("OSC target {target}: sending failed: {cause}")]
    Send { target: SocketAddr, cause: io::Error },
}

/// Sends decisions to one OSC listener.
pub struct OscSender {
    socket: UdpSocket,
    target: SocketAddr,
    /// The verdict last announced on [`SINGER_ADDRESS`].
    shown: Option<Verdict>,
    /// Least wall-clock time between two [`SCORES_ADDRESS`] messages (zero: every hop).
    scores_interval: Duration,
    /// When the last scores went out.
    scores_sent: Option<Instant>,
}

impl OscSender {
    /// Resolves `target` (`HOST:PORT`) and opens a socket for it; nothing is sent yet.
    pub fn connect(target: &str) -> Result<Self, OscError> {
        let bad = |cause: String| OscError::BadTarget { target: target.to_string(), cause };
        let address = target
            .to_socket_addrs()
            .map_err(|e| bad(e.to_string()))?
            .next()
            .ok_or_else(|| bad("the name has no address".into()))?;
        if address.port() == 0 {
            return Err(bad("port 0 is not a port one can send to".into()));
        }
        let local: SocketAddr = if address.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let socket = UdpSocket::bind(local)
            .and_then(|socket| socket.set_nonblocking(true).map(|()| socket))
            .map_err(|cause| OscError::Socket { target: address, cause })?;
        Ok(Self { socket, target: address, shown: None, scores_interval: Duration::ZERO, scores_sent: None })
    }

    /// Sends scores at most once per `interval` of wall-clock time (changes of singer always go).
    pub fn with_scores_interval(self, interval: Duration) -> Self {
        Self { scores_interval: interval, ..self }
    }

    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Sends what `decision` changes: the verdict if it is new (unless `hold`: the rig keeps
    /// the singer it has, and the change is announced once the hold is released), then the
    /// scores.
    pub fn send(&mut self, decision: &Decision, hold: bool) -> Result<(), OscError> {
        if !hold && self.shown.as_ref() != Some(&decision.verdict) {
            let args = vec![OscType::String(decision.verdict.label().to_string()), OscType::Float(decision.confidence)];
            self.send_message(SINGER_ADDRESS, args)?;
            self.shown = Some(decision.verdict.clone());
        }
        if self.scores_sent.is_some_and(|sent| sent.elapsed() < self.scores_interval) {
            return Ok(());
        }
        let args =
            decision.top.iter().flat_map(|c| [OscType::String(c.singer.clone()), OscType::Float(c.score)]).collect();
        self.scores_sent = Some(Instant::now());
        self.send_message(SCORES_ADDRESS, args)
    }

    fn send_message(&self, address: &str, args: Vec<OscType>) -> Result<(), OscError> {
        let packet = OscPacket::Message(OscMessage { addr: address.to_string(), args });
        // Encoding into memory cannot fail for these argument types.
        let bytes = rosc::encoder::encode(&packet).unwrap_or_default();
        match self.socket.send_to(&bytes, self.target) {
            Ok(_) => Ok(()),
            // Full socket buffer: this message is lost, as UDP may lose any; the next one counts.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            // Nobody listening yet (an ICMP "port unreachable" from an earlier send): carry on.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
            Err(cause) => Err(OscError::Send { target: self.target, cause }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Candidate;
    use std::time::Duration;

    fn receive(socket: &UdpSocket) -> OscMessage {
        let mut buf = [0u8; 1536];
        // An interrupted wait (EINTR after a stop and continue; see tests/common) is retried.
        let n = loop {
            match socket.recv(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other.expect("a message arrives"),
            }
        };
        match rosc::decoder::decode_udp(&buf[..n]).unwrap().1 {
            OscPacket::Message(message) => message,
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn a_change_of_singer_is_announced_once_and_scores_every_hop() {
        let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
        listener.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut osc = OscSender::connect(&listener.local_addr().unwrap().to_string()).unwrap();
        let ann = Decision {
            start_s: 0.0,
            end_s: 0.5,
            verdict: Verdict::Singer("Ann".into()),
            confidence: 0.75,
            top: vec![Candidate { singer: "Ann".into(), score: 0.5 }, Candidate { singer: "Bo".into(), score: 0.25 }],
        };
        osc.send(&ann, false).unwrap();
        osc.send(&Decision { start_s: 0.5, end_s: 1.0, ..ann.clone() }, false).unwrap();
        // Held: no announcement of Bo; scores still go.
        osc.send(&Decision { verdict: Verdict::Singer("Bo".into()), ..ann.clone() }, true).unwrap();
        osc.send(&Decision { verdict: Verdict::NoVoice, top: vec![], ..ann.clone() }, false).unwrap();
        let singer = |name: &str| vec![OscType::String(name.into()), OscType::Float(0.75)];
        let scores = vec![
            OscType::String("Ann".into()),
            OscType::Float(0.5),
            OscType::String("Bo".into()),
            OscType::Float(0.25),
        ];
        let expected = [
            (SINGER_ADDRESS, singer("Ann")),
            (SCORES_ADDRESS, scores.clone()),
            (SCORES_ADDRESS, scores.clone()),
            (SCORES_ADDRESS, scores),
            (SINGER_ADDRESS, singer("no voice")),
            (SCORES_ADDRESS, vec![]),
        ];
        for (address, args) in expected {
            let message = receive(&listener);
            assert_eq!((message.addr.as_str(), message.args), (address, args));
        }
    }

    #[test]
    fn spaced_scores_skip_hops_but_never_a_change_of_singer() {
        let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
        listener.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let target = listener.local_addr().unwrap().to_string();
        let mut osc = OscSender::connect(&target).unwrap().with_scores_interval(Duration::from_secs(3600));
        let hop = |verdict| Decision { start_s: 0.0, end_s: 0.5, verdict, confidence: 0.5, top: vec![] };
        for verdict in [Verdict::NoVoice, Verdict::NoVoice, Verdict::Unknown, Verdict::Unknown] {
            osc.send(&hop(verdict), false).unwrap();
        }
        let end = OscPacket::Message(OscMessage { addr: "/end".into(), args: vec![] });
        UdpSocket::bind("127.0.0.1:0").unwrap().send_to(&rosc::encoder::encode(&end).unwrap(), &target).unwrap();
        let mut addresses = Vec::new();
        loop {
            let message = receive(&listener);
            if message.addr == "/end" {
                break;
            }
            addresses.push(message.addr);
        }
        assert_eq!(addresses, [SINGER_ADDRESS, SCORES_ADDRESS, SINGER_ADDRESS]);
    }

    #[test]
    fn bad_targets_are_clear_errors() {
        for target in ["no-port", "127.0.0.1:notaport", "127.0.0.1:0"] {
            let err = OscSender::connect(target).err().unwrap_or_else(|| panic!("{target} accepted"));
            assert!(err.to_string().contains(target) && err.to_string().contains("HOST:PORT"), "{err}");
        }
    }
}
