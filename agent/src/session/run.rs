//! The task behind a [`Session`](super::Session): negotiates, starts the
//! stream once connected, serves the data channels, and tears everything
//! down when the session ends.

use super::media::{self, ScreenSizeCell, Stream, StreamTarget};
use super::negotiation::{self, Negotiation};
use super::peer::{self, Peer, PeerEvent};
use super::{SessionConfig, SessionEvent, channels};
use anyhow::Context;
use tether_shared::signal::{IceServer, Signal};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use webrtc::peer_connection::{RTCPeerConnectionState, RTCSessionDescription};

/// Why a session ended.
#[derive(Debug)]
enum End {
    /// The controller said bye.
    RemoteBye(String),
    /// The agent dropped the session (e.g. it is shutting down).
    Dropped,
    /// Something failed here; the controller is told why.
    Failed(String),
}

/// Whether the screen is being streamed yet.
enum Streaming {
    /// Waiting for the connection to come up.
    Waiting,
    /// Streaming; `stopped` says why if it fails.
    Live { _stream: Stream, stopped: oneshot::Receiver<String> },
}

/// Everything one running session holds.
struct Live {
    id: String,
    config: SessionConfig,
    events: mpsc::UnboundedSender<SessionEvent>,
    peer: Peer,
    negotiation: Negotiation,
    streaming: Streaming,
    screen: ScreenSizeCell,
    channels: Vec<JoinHandle<()>>,
}

/// Runs a session until it ends; `signals` closing means it was dropped.
pub(super) async fn run(
    id: String,
    ice_servers: Vec<IceServer>,
    config: SessionConfig,
    events: mpsc::UnboundedSender<SessionEvent>,
    signals: mpsc::Receiver<Signal>,
) {
    let (peer_events, peer_receiver) = mpsc::unbounded_channel();
    let peer = match peer::build(&ice_servers, &config, peer_events).await {
        Ok(peer) => peer,
        Err(err) => {
            let reason = format!("{err:#}");
            tracing::error!(session = %id, %reason, "cannot start the session");
            send(
                &events,
                SessionEvent::Signal { session_id: id.clone(), signal: Signal::Bye { reason: reason.clone() } },
            );
            send(&events, SessionEvent::Ended { session_id: id, reason });
            return;
        }
    };
    let mut live = Live {
        id,
        config,
        events,
        peer,
        negotiation: Negotiation::default(),
        streaming: Streaming::Waiting,
        screen: ScreenSizeCell::default(),
        channels: Vec::new(),
    };
    let end = live.run(signals, peer_receiver).await;
    live.teardown(end).await;
}

fn send(events: &mpsc::UnboundedSender<SessionEvent>, event: SessionEvent) {
    if events.send(event).is_err() {
        tracing::debug!("session event after the link stopped listening");
    }
}

impl Live {
    async fn run(
        &mut self,
        mut signals: mpsc::Receiver<Signal>,
        mut peer_events: mpsc::UnboundedReceiver<PeerEvent>,
    ) -> End {
        loop {
            let stream_stopped = async {
                match &mut self.streaming {
                    Streaming::Live { stopped, .. } => stopped.await.ok(),
                    Streaming::Waiting => std::future::pending().await,
                }
            };
            let outcome = tokio::select! {
                signal = signals.recv() => match signal {
                    Some(signal) => self.on_signal(signal).await,
                    None => Err(End::Dropped),
                },
                Some(event) = peer_events.recv() => self.on_peer_event(event).await,
                reason = stream_stopped => {
                    Err(End::Failed(reason.unwrap_or_else(|| "streaming stopped unexpectedly".into())))
                }
            };
            if let Err(end) = outcome {
                return end;
            }
        }
    }

    fn emit(&self, signal: Signal) {
        send(&self.events, SessionEvent::Signal { session_id: self.id.clone(), signal });
    }

    async fn on_signal(&mut self, signal: Signal) -> Result<(), End> {
        match signal {
            Signal::Offer { sdp } => self.answer(sdp).await.map_err(|err| End::Failed(format!("{err:#}"))),
            Signal::Candidate { candidate, sdp_mid, sdp_mline_index } => {
                let candidate = negotiation::remote_candidate(candidate, sdp_mid, sdp_mline_index);
                if let Some(candidate) = self.negotiation.remote_candidate(candidate) {
                    self.add_remote_candidate(candidate).await;
                }
                Ok(())
            }
            Signal::Answer { .. } => {
                tracing::warn!(session = %self.id, "ignoring an answer: the agent answers, it does not offer");
                Ok(())
            }
            Signal::Bye { reason } => Err(End::RemoteBye(reason)),
        }
    }

    async fn answer(&mut self, offer_sdp: String) -> anyhow::Result<()> {
        let connection = &self.peer.connection;
        let offer = RTCSessionDescription::offer(offer_sdp.clone()).context("the offer is not valid SDP")?;
        connection.set_remote_description(offer).await.context("cannot apply the offer")?;
        let answer = connection.create_answer(None).await.context("cannot create the answer")?;
        let sdp = answer.sdp.clone();
        connection.set_local_description(answer).await.context("cannot apply the answer")?;
        self.emit(Signal::Answer { sdp });
        let flushed = self.negotiation.answered(&offer_sdp);
        for signal in flushed.to_send {
            self.emit(signal);
        }
        for candidate in flushed.to_add {
            self.add_remote_candidate(candidate).await;
        }
        tracing::info!(session = %self.id, "answered the controller's offer");
        Ok(())
    }

    async fn add_remote_candidate(&self, candidate: webrtc::peer_connection::RTCIceCandidateInit) {
        // A candidate we cannot use (e.g. an mDNS name) is not fatal: the
        // connection comes up through the others, or fails on its own.
        if let Err(err) = self.peer.connection.add_ice_candidate(candidate.clone()).await {
            tracing::warn!(session = %self.id, candidate = %candidate.candidate, error = %err, "ignoring a remote candidate");
        }
    }

    async fn on_peer_event(&mut self, event: PeerEvent) -> Result<(), End> {
        match event {
            PeerEvent::LocalCandidate(candidate) => {
                if let Some(signal) = self.negotiation.local_candidate(candidate.candidate) {
                    self.emit(signal);
                }
            }
            PeerEvent::GatheringComplete => {
                if let Some(signal) = self.negotiation.local_candidate(String::new()) {
                    self.emit(signal);
                }
            }
            PeerEvent::State(state) => return self.on_state(state).await,
            PeerEvent::DataChannel(channel) => {
                let display = self.config.display.clone();
                if let Some(task) = channels::serve(channel, self.screen.clone(), display).await {
                    self.channels.push(task);
                }
            }
        }
        Ok(())
    }

    async fn on_state(&mut self, state: RTCPeerConnectionState) -> Result<(), End> {
        tracing::info!(session = %self.id, %state, "connection state");
        match state {
            RTCPeerConnectionState::Connected => {
                if matches!(self.streaming, Streaming::Waiting) {
                    self.start_streaming().await.map_err(|err| End::Failed(format!("{err:#}")))?;
                }
                Ok(())
            }
            RTCPeerConnectionState::Failed => Err(End::Failed("the connection to the controller failed".into())),
            RTCPeerConnectionState::Closed => Err(End::Failed("the connection to the controller closed".into())),
            _ => Ok(()),
        }
    }

    async fn start_streaming(&mut self) -> anyhow::Result<()> {
        // The offerer picks the payload type (Chromium uses its own number).
        let parameters = self.peer.sender.get_parameters().await.context("cannot read the video sender")?;
        let payload_type = parameters
            .rtp_parameters
            .codecs
            .first()
            .map(|codec| codec.payload_type)
            .context("no video codec was negotiated")?;
        let target = StreamTarget { track: self.peer.track.clone(), ssrc: self.peer.ssrc, payload_type };
        let (stopped_sender, stopped) = oneshot::channel();
        let stream = media::start(
            target,
            self.config.display.clone(),
            self.config.encoder,
            self.screen.clone(),
            stopped_sender,
        )?;
        tracing::info!(session = %self.id, payload_type, "streaming the screen");
        self.streaming = Streaming::Live { _stream: stream, stopped };
        Ok(())
    }

    async fn teardown(mut self, end: End) {
        tracing::info!(session = %self.id, ?end, "session ending");
        self.streaming = Streaming::Waiting;
        for task in self.channels.drain(..) {
            task.abort();
        }
        if let Err(err) = self.peer.connection.close().await {
            tracing::warn!(session = %self.id, error = %err, "closing the peer connection failed");
        }
        let reason = match end {
            End::Failed(reason) => {
                self.emit(Signal::Bye { reason: reason.clone() });
                reason
            }
            End::RemoteBye(reason) => format!("the controller left: {reason}"),
            End::Dropped => "the agent ended the session".into(),
        };
        send(&self.events, SessionEvent::Ended { session_id: self.id, reason });
    }
}
