//! Offer/answer bookkeeping. The controller offers and the agent answers;
//! candidates trickle both ways. Candidates that arrive or are gathered
//! before the answer exists wait here, because neither side can use a
//! candidate before it has the other's description.
//!
//! Each offer carries a negotiation id; our answer and candidates echo it,
//! and the controller's candidates tagged with another id (an abandoned
//! negotiation) are dropped rather than applied to this one.

use tether_shared::signal::Signal;
use webrtc::peer_connection::RTCIceCandidateInit;

/// Where negotiation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Negotiation {
    /// No answer sent yet: candidates are held back.
    AwaitingOffer {
        /// Local candidate lines to trickle once answered; empty = end of candidates.
        local: Vec<String>,
        /// Remote candidates (with their negotiation tag) to apply once the offer is set.
        remote: Vec<(Option<u64>, RTCIceCandidateInit)>,
    },
    /// The answer is out; candidates flow as they come.
    Answered {
        /// The offer answered last.
        negotiation: u64,
        /// The media section our candidates name (the offer's first `mid`).
        mid: Option<String>,
    },
}

impl Default for Negotiation {
    fn default() -> Self {
        Self::AwaitingOffer { local: Vec::new(), remote: Vec::new() }
    }
}

/// What to do once the answer is sent.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Local candidates to send to the controller, in order.
    pub to_send: Vec<Signal>,
    /// Remote candidates to add to the connection, in order.
    pub to_add: Vec<RTCIceCandidateInit>,
}

impl Negotiation {
    /// A local candidate line (empty = gathering complete). Returns the
    /// signal to send now, if any.
    pub fn local_candidate(&mut self, candidate: String) -> Option<Signal> {
        match self {
            Self::AwaitingOffer { local, .. } => {
                local.push(candidate);
                None
            }
            Self::Answered { negotiation, mid } => Some(candidate_signal(candidate, mid.clone(), *negotiation)),
        }
    }

    /// A candidate from the controller, tagged with the negotiation it
    /// belongs to (untagged: the current one). Returns it when it can be
    /// added now; a candidate of another negotiation is dropped.
    pub fn remote_candidate(
        &mut self,
        tag: Option<u64>,
        candidate: RTCIceCandidateInit,
    ) -> Option<RTCIceCandidateInit> {
        match self {
            Self::AwaitingOffer { remote, .. } => {
                remote.push((tag, candidate));
                None
            }
            Self::Answered { negotiation, .. } if tag.is_some_and(|tag| tag != *negotiation) => {
                tracing::debug!(?tag, current = *negotiation, "dropping a candidate of another negotiation");
                None
            }
            Self::Answered { .. } => Some(candidate),
        }
    }

    /// The answer to offer number `negotiation`, `offer_sdp`, has been sent.
    pub fn answered(&mut self, negotiation: u64, offer_sdp: &str) -> Flushed {
        let mid = first_mid(offer_sdp);
        let previous = std::mem::replace(self, Self::Answered { negotiation, mid: mid.clone() });
        match previous {
            Self::AwaitingOffer { local, remote } => Flushed {
                to_send: local
                    .into_iter()
                    .map(|candidate| candidate_signal(candidate, mid.clone(), negotiation))
                    .collect(),
                to_add: remote
                    .into_iter()
                    .filter(|(tag, _)| tag.is_none_or(|tag| tag == negotiation))
                    .map(|(_, candidate)| candidate)
                    .collect(),
            },
            // A renegotiation: candidates already flowed.
            Self::Answered { .. } => Flushed::default(),
        }
    }
}

/// The `Signal` for a local candidate line of negotiation `negotiation`,
/// naming the first media section (every section is bundled on one
/// transport).
pub fn candidate_signal(candidate: String, mid: Option<String>, negotiation: u64) -> Signal {
    Signal::Candidate { candidate, sdp_mid: mid, sdp_mline_index: Some(0), negotiation: Some(negotiation) }
}

/// The candidate the controller sent, as webrtc-rs takes it.
pub fn remote_candidate(
    candidate: String,
    sdp_mid: Option<String>,
    sdp_mline_index: Option<u16>,
) -> RTCIceCandidateInit {
    RTCIceCandidateInit { candidate, sdp_mid, sdp_mline_index, username_fragment: None, url: None }
}

/// The first `a=mid:` of an SDP.
fn first_mid(sdp: &str) -> Option<String> {
    sdp.lines().find_map(|line| line.trim_end().strip_prefix("a=mid:")).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\nm=video 9 UDP/TLS/RTP/SAVPF 108\r\na=mid:0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n";

    #[test]
    fn candidates_wait_for_the_answer_then_flow() {
        let mut negotiation = Negotiation::default();
        assert_eq!(negotiation.local_candidate("candidate:1 1 udp 1 127.0.0.1 5000 typ host".into()), None);
        let early = remote_candidate("candidate:2 1 udp 1 127.0.0.1 6000 typ host".into(), Some("0".into()), Some(0));
        assert_eq!(negotiation.remote_candidate(Some(5), early.clone()), None);
        let untagged = remote_candidate("candidate:5".into(), Some("0".into()), Some(0));
        assert_eq!(negotiation.remote_candidate(None, untagged.clone()), None);
        let abandoned = remote_candidate("candidate:6".into(), Some("0".into()), Some(0));
        assert_eq!(negotiation.remote_candidate(Some(4), abandoned), None);
        assert_eq!(negotiation.local_candidate(String::new()), None);

        let flushed = negotiation.answered(5, OFFER);
        assert_eq!(
            flushed.to_send,
            vec![
                candidate_signal("candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(), Some("0".into()), 5),
                candidate_signal(String::new(), Some("0".into()), 5),
            ]
        );
        assert_eq!(flushed.to_add, vec![early, untagged], "the abandoned negotiation's candidate is dropped");

        let late = remote_candidate("candidate:3 1 udp 1 127.0.0.1 7000 typ host".into(), None, Some(0));
        assert_eq!(negotiation.remote_candidate(Some(5), late.clone()), Some(late.clone()));
        assert_eq!(negotiation.remote_candidate(None, late.clone()), Some(late));
        assert_eq!(
            negotiation.local_candidate("candidate:4".into()),
            Some(candidate_signal("candidate:4".into(), Some("0".into()), 5))
        );
    }

    #[test]
    fn a_renegotiation_flushes_nothing_and_drops_the_old_ones_candidates() {
        let mut negotiation = Negotiation::default();
        negotiation.local_candidate("candidate:1".into());
        assert_eq!(negotiation.answered(1, OFFER).to_send.len(), 1);
        assert_eq!(negotiation.answered(2, OFFER), Flushed::default());
        let stale = remote_candidate("candidate:old".into(), Some("0".into()), Some(0));
        assert_eq!(negotiation.remote_candidate(Some(1), stale), None);
        assert_eq!(
            negotiation.local_candidate("candidate:2".into()),
            Some(candidate_signal("candidate:2".into(), Some("0".into()), 2)),
            "our candidates carry the new negotiation's id"
        );
    }

    #[test]
    fn finds_the_first_mid() {
        assert_eq!(first_mid(OFFER), Some("0".into()));
        assert_eq!(first_mid("v=0\r\n"), None);
    }
}
