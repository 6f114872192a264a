//! The task behind a [`Session`](super::Session): negotiates, starts the
//! stream once connected, serves the data channels, and tears everything
//! down when the session ends.
//!
//! Nothing is answered, streamed or injected beyond the current grant:
//! an offer is answered only if the grant names its controller's DTLS
//! fingerprint and is fresh; streaming needs `view`, input `control` (the
//! input gate checks it per event, so a narrower grant takes effect at
//! once); a grant for another technician ends the session.
//!
//! A session outlives its peer connection. An offer whose DTLS fingerprint
//! differs from the current peer's remote one comes from a new
//! `RTCPeerConnection` (the technician reloaded the page, and the server
//! sent a fresh grant naming it): the old peer, its stream and channels
//! are torn down and a fresh peer answers. An offer with the same
//! fingerprint is an ICE restart or renegotiation on the existing peer. Offers numbered at or below the last one answered
//! are stale and dropped. When the peer fails or closes, the controller has
//! [`SessionConfig::rejoin_timeout`] to offer again before the session
//! ends.

use super::activity::{ActivityCell, During, Watching};
use super::channels::ChannelContext;
use super::files::Uploads;
use super::grant::{admits_offer, allows, same_technician};
use super::local_use::{self, LocalUseCell, LocalWatch};
use super::media::{self, Stream, StreamControls, StreamTarget};
use super::negotiation::{self, Negotiation};
use super::path_probe::PathProbe;
use super::peer::{self, Peer, PeerEvent};
use super::{Input, Reporter, SessionConfig, SessionEvent, ToolAssent, channels};
use crate::inject::InputGate;
use anyhow::Context;
use tether_shared::access::Access;
use tether_shared::activity::Happening;
use tether_shared::grant::Grant;
use tether_shared::signal::{IceServer, Refused, Signal, dtls_fingerprint};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
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
    /// Streaming; `stopped` says why if it fails; `_viewing` counts it as
    /// in use while it lasts.
    Live { _stream: Stream, stopped: oneshot::Receiver<String>, _viewing: During },
}

/// One peer connection and everything that hangs off it.
struct Current {
    peer: Peer,
    events: mpsc::UnboundedReceiver<PeerEvent>,
    /// The DTLS fingerprint of the controller's connection, once it offered.
    remote_fingerprint: Option<String>,
    negotiation: Negotiation,
    streaming: Streaming,
    channels: Vec<channels::Served>,
}

impl Current {
    async fn build(ice_servers: &[IceServer], config: &SessionConfig) -> anyhow::Result<Self> {
        let (peer_events, events) = mpsc::unbounded_channel();
        let peer = peer::build(ice_servers, config, peer_events).await?;
        Ok(Self {
            peer,
            events,
            remote_fingerprint: None,
            negotiation: Negotiation::default(),
            streaming: Streaming::Waiting,
            channels: Vec::new(),
        })
    }

    /// Stops streaming and the channels and closes the connection.
    async fn close(mut self, session: &str) {
        self.streaming = Streaming::Waiting;
        for served in self.channels.drain(..) {
            served.task.abort();
        }
        if let Err(err) = self.peer.connection.close().await {
            tracing::warn!(%session, error = %err, "closing the peer connection failed");
        }
    }
}

/// Everything one running session holds.
struct Live {
    id: String,
    config: SessionConfig,
    ice_servers: Vec<IceServer>,
    events: mpsc::UnboundedSender<SessionEvent>,
    current: Option<Current>,
    /// The highest offer number seen; offers at or below it are stale.
    last_negotiation: u64,
    /// Set while the peer is lost: the session ends unless the controller
    /// offers (and connects) again by then.
    rejoin_by: Option<Instant>,
    stream_controls: StreamControls,
    /// Closed first thing when the session ends: queued input is dropped.
    /// Lets input through only while the current grant includes control.
    input_gate: InputGate,
    /// The grant in force: the latest the link verified.
    grant: Option<Grant>,
    reporter: Reporter,
    /// What the person allowed of the session's tools, and whom to ask.
    assent: ToolAssent,
    /// Incoming files not finished yet (resumable while the session lasts).
    uploads: Uploads,
    /// What is in use right now, and its watcher (reporting changes).
    activity: ActivityCell,
    _watching: Watching,
    /// Whether the person is using their own mouse or keyboard, and its
    /// watcher.
    local_use: LocalUseCell,
    _local_watch: LocalWatch,
}

/// Runs a session until it ends; `signals` closing means it was dropped.
pub(super) async fn run(
    id: String,
    ice_servers: Vec<IceServer>,
    config: SessionConfig,
    assent: ToolAssent,
    events: mpsc::UnboundedSender<SessionEvent>,
    inputs: mpsc::Receiver<Input>,
) {
    // Built before the offer, so a peer that cannot start is reported at once.
    let current = match Current::build(&ice_servers, &config).await {
        Ok(current) => current,
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
    let activity = ActivityCell::default();
    let watching = activity.watch(id.clone(), events.clone());
    let reporter = Reporter { session_id: id.clone(), events: events.clone() };
    let local_use = LocalUseCell::default();
    let stream_controls = StreamControls::new(config.quality, local_use.cover());
    local_use.report_to(reporter.clone(), activity.clone());
    let local_watch = local_use::watch(config.display.clone(), local_use.clone()).await;
    let mut live = Live {
        id,
        config,
        ice_servers,
        events,
        current: Some(current),
        last_negotiation: 0,
        rejoin_by: None,
        stream_controls,
        input_gate: InputGate::awaiting_grant(),
        grant: None,
        reporter,
        assent,
        uploads: Uploads::default(),
        activity,
        _watching: watching,
        local_use,
        _local_watch: local_watch,
    };
    let end = live.run(inputs).await;
    live.teardown(end).await;
}

fn send(events: &mpsc::UnboundedSender<SessionEvent>, event: SessionEvent) {
    if events.send(event).is_err() {
        tracing::debug!("session event after the link stopped listening");
    }
}

impl Live {
    async fn run(&mut self, mut inputs: mpsc::Receiver<Input>) -> End {
        loop {
            let (peer_event, stream_stopped) = match &mut self.current {
                Some(current) => {
                    let stopped = match &mut current.streaming {
                        Streaming::Live { stopped, .. } => Some(stopped),
                        Streaming::Waiting => None,
                    };
                    (Some(&mut current.events), stopped)
                }
                None => (None, None),
            };
            let peer_event = async {
                match peer_event {
                    Some(events) => events.recv().await,
                    None => std::future::pending().await,
                }
            };
            let stream_stopped = async {
                match stream_stopped {
                    Some(stopped) => stopped.await.ok(),
                    None => std::future::pending().await,
                }
            };
            let rejoin_by = self.rejoin_by;
            let rejoin_expired = async {
                match rejoin_by {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let outcome = tokio::select! {
                input = inputs.recv() => match input {
                    Some(Input::Signal(signal)) => self.on_signal(signal).await,
                    Some(Input::Grant(grant)) => self.on_grant(*grant).await,
                    None => Err(End::Dropped),
                },
                Some(event) = peer_event => self.on_peer_event(event).await,
                reason = stream_stopped => {
                    Err(End::Failed(reason.unwrap_or_else(|| "streaming stopped unexpectedly".into())))
                }
                () = rejoin_expired => Err(End::Failed(format!(
                    "the connection to the controller was lost and it did not come back within {:?}",
                    self.config.rejoin_timeout
                ))),
            };
            if let Err(end) = outcome {
                return end;
            }
        }
    }

    fn emit(&self, signal: Signal) {
        send(&self.events, SessionEvent::Signal { session_id: self.id.clone(), signal });
    }

    /// A verified grant replaces the current one, for the same technician
    /// only; what it no longer includes stops at once.
    async fn on_grant(&mut self, grant: Grant) -> Result<(), End> {
        if let Err(reason) = same_technician(self.grant.as_ref(), &grant) {
            self.reporter.refused(Refused::Grant, reason.clone());
            return Err(End::Failed(format!("this computer refused the server's grant: {reason}")));
        }
        tracing::info!(
            session = %self.id,
            mode = grant.mode.name(),
            access = ?grant.access,
            controller = ?grant.controller_fingerprint,
            "grant in force"
        );
        let control = grant.access.contains(Access::Control);
        let view = grant.access.contains(Access::View);
        if !grant.access.contains(Access::LocalInputLock) {
            self.local_use.end_lock();
        } else if !grant.access.contains(Access::PrivacyScreen) {
            self.local_use.end_privacy();
        }
        self.grant = Some(grant);
        self.input_gate.permit_control(control).await;
        if !view && let Some(current) = self.current.as_mut() {
            if matches!(current.streaming, Streaming::Live { .. }) {
                tracing::info!(session = %self.id, "the grant no longer includes view: streaming stops");
            }
            current.streaming = Streaming::Waiting;
            // The pointer's position is part of the view; input stays open
            // behind the gate, which now refuses it event by event.
            current.channels.retain(|served| {
                let keep = served.needs != Access::View;
                if !keep {
                    served.task.abort();
                }
                keep
            });
        }
        Ok(())
    }

    async fn on_signal(&mut self, signal: Signal) -> Result<(), End> {
        match signal {
            Signal::Offer { negotiation, sdp } => {
                if negotiation <= self.last_negotiation {
                    tracing::warn!(session = %self.id, negotiation, last = self.last_negotiation, "dropping a stale offer");
                    return Ok(());
                }
                let fingerprint = dtls_fingerprint(&sdp);
                if let Err(reason) =
                    admits_offer(self.grant.as_ref(), fingerprint.as_deref(), crate::trust::unix_millis())
                {
                    // Never answered, never swapped in: the current peer (if any) stays.
                    self.reporter.refused(Refused::Offer, reason);
                    return Ok(());
                }
                self.last_negotiation = negotiation;
                self.answer(negotiation, sdp).await.map_err(|err| End::Failed(format!("{err:#}")))
            }
            Signal::Candidate { candidate, sdp_mid, sdp_mline_index, negotiation: tag } => {
                let Some(current) = self.current.as_mut() else { return Ok(()) };
                let candidate = negotiation::remote_candidate(candidate, sdp_mid, sdp_mline_index);
                if let Some(candidate) = current.negotiation.remote_candidate(tag, candidate) {
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

    /// The peer that answers an offer from a connection with `fingerprint`:
    /// the current one, or a fresh one if the controller's connection is new.
    async fn peer_for(&mut self, fingerprint: Option<&String>) -> anyhow::Result<&mut Current> {
        let replace = match &self.current {
            None => true,
            Some(current) => current.remote_fingerprint.is_some() && current.remote_fingerprint.as_ref() != fingerprint,
        };
        if replace {
            if let Some(old) = self.current.take() {
                tracing::info!(session = %self.id, "the controller has a new connection; replacing the peer");
                old.close(&self.id).await;
            }
            self.current = Some(Current::build(&self.ice_servers, &self.config).await?);
        }
        self.current.as_mut().context("no peer")
    }

    async fn answer(&mut self, negotiation: u64, offer_sdp: String) -> anyhow::Result<()> {
        let fingerprint = dtls_fingerprint(&offer_sdp);
        let current = self.peer_for(fingerprint.as_ref()).await?;
        current.remote_fingerprint = fingerprint;
        let connection = &current.peer.connection;
        let offer = RTCSessionDescription::offer(offer_sdp.clone()).context("the offer is not valid SDP")?;
        connection.set_remote_description(offer).await.context("cannot apply the offer")?;
        let answer = connection.create_answer(None).await.context("cannot create the answer")?;
        let sdp = answer.sdp.clone();
        connection.set_local_description(answer).await.context("cannot apply the answer")?;
        let flushed = current.negotiation.answered(negotiation, &offer_sdp);
        self.emit(Signal::Answer { negotiation, sdp });
        for signal in flushed.to_send {
            self.emit(signal);
        }
        for candidate in flushed.to_add {
            self.add_remote_candidate(candidate).await;
        }
        tracing::info!(session = %self.id, negotiation, "answered the controller's offer");
        Ok(())
    }

    async fn add_remote_candidate(&self, candidate: webrtc::peer_connection::RTCIceCandidateInit) {
        let Some(current) = self.current.as_ref() else { return };
        // A candidate we cannot use (e.g. an mDNS name) is not fatal: the
        // connection comes up through the others, or fails on its own.
        if let Err(err) = current.peer.connection.add_ice_candidate(candidate.clone()).await {
            tracing::warn!(session = %self.id, candidate = %candidate.candidate, error = %err, "ignoring a remote candidate");
        }
    }

    async fn on_peer_event(&mut self, event: PeerEvent) -> Result<(), End> {
        let Some(current) = self.current.as_mut() else { return Ok(()) };
        match event {
            PeerEvent::LocalCandidate(candidate) => {
                if let Some(signal) = current.negotiation.local_candidate(candidate.candidate) {
                    self.emit(signal);
                }
            }
            PeerEvent::GatheringComplete => {
                if let Some(signal) = current.negotiation.local_candidate(String::new()) {
                    self.emit(signal);
                }
            }
            PeerEvent::State(state) => return self.on_state(state).await,
            PeerEvent::DataChannel(channel) => {
                let context = ChannelContext {
                    controls: self.stream_controls.clone(),
                    display: self.config.display.clone(),
                    gate: self.input_gate.clone(),
                    reporter: self.reporter.clone(),
                    assent: self.assent.clone(),
                    files: self.config.files.clone(),
                    uploads: self.uploads.clone(),
                    activity: self.activity.clone(),
                    local_use: self.local_use.clone(),
                    path: PathProbe::new(std::sync::Arc::clone(&current.peer.connection), &current.peer.tunnels),
                };
                if let Some(served) = channels::serve(channel, self.grant.as_ref(), context).await {
                    current.channels.push(served);
                }
            }
        }
        Ok(())
    }

    async fn on_state(&mut self, state: RTCPeerConnectionState) -> Result<(), End> {
        tracing::info!(session = %self.id, %state, "connection state");
        match state {
            RTCPeerConnectionState::Connected => {
                self.rejoin_by = None;
                self.start_streaming().await.map_err(|err| End::Failed(format!("{err:#}")))
            }
            // An ICE restart may revive a failed connection: keep it.
            RTCPeerConnectionState::Failed => {
                self.lost();
                Ok(())
            }
            RTCPeerConnectionState::Closed => {
                if let Some(old) = self.current.take() {
                    old.close(&self.id).await;
                }
                self.lost();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The peer failed or closed: wait for the controller to offer again.
    fn lost(&mut self) {
        if self.rejoin_by.is_none() {
            tracing::info!(session = %self.id, timeout = ?self.config.rejoin_timeout, "waiting for the controller to come back");
            self.rejoin_by = Some(Instant::now() + self.config.rejoin_timeout);
        }
    }

    /// Starts streaming on the current peer, unless it already streams or
    /// the grant does not include view.
    async fn start_streaming(&mut self) -> anyhow::Result<()> {
        if !allows(self.grant.as_ref(), Access::View) {
            tracing::info!(session = %self.id, "connected; not streaming: the grant does not include view");
            return Ok(());
        }
        let Some(current) = self.current.as_mut() else { return Ok(()) };
        if matches!(current.streaming, Streaming::Live { .. }) {
            return Ok(());
        }
        // The offerer picks the payload type (Chromium uses its own number).
        let parameters = current.peer.sender.get_parameters().await.context("cannot read the video sender")?;
        let payload_type = parameters
            .rtp_parameters
            .codecs
            .first()
            .map(|codec| codec.payload_type)
            .context("no video codec was negotiated")?;
        let target = StreamTarget { track: current.peer.track.clone(), ssrc: current.peer.ssrc, payload_type };
        let (stopped_sender, stopped) = oneshot::channel();
        let stream = media::start(target, self.config.display.clone(), self.stream_controls.clone(), stopped_sender)?;
        tracing::info!(session = %self.id, payload_type, "streaming the screen");
        let viewing = self.activity.during(Happening::StreamStarted, Happening::StreamStopped);
        current.streaming = Streaming::Live { _stream: stream, stopped, _viewing: viewing };
        Ok(())
    }

    async fn teardown(mut self, end: End) {
        // Nothing reaches the desktop once this returns.
        self.input_gate.close().await;
        tracing::info!(session = %self.id, ?end, "session ending");
        if let Some(current) = self.current.take() {
            current.close(&self.id).await;
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
