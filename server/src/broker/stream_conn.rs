//! TURN over TCP and TLS for the embedded relay: listeners whose
//! connections the `turn` crate's server (which speaks datagrams only)
//! sees as one packet connection. Each connection's stream is cut into messages
//! (`tether_shared::turn_stream`) that arrive as datagrams from the
//! connection's address; what the server sends to that address is written
//! back on the connection, ChannelData padded. The relayed side stays UDP,
//! as RFC 8656 has it for TURN over TCP.
//!
//! A stream that is not TURN is closed; at most [`MAX_CONNECTIONS`] are
//! open at once, and a connection that sends nothing whole for
//! [`IDLE_TIMEOUT`] is closed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tether_shared::turn_stream::{Cutter, padding};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use webrtc_util::Conn;

/// Connections open at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 1_024;
/// How long a connection may go without a whole message (an allocation
/// refreshes at least every 10 minutes; ICE checks far more often).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Messages waiting for the TURN server, from every connection.
const INCOMING_QUEUE: usize = 1_024;
/// Messages waiting to be written to one connection.
const OUTGOING_QUEUE: usize = 256;

type Writers = Arc<Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>>;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener, plain TCP or TLS with this configuration.
pub struct Listener {
    pub tcp: TcpListener,
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// The relay's TCP (and TLS) listeners as the `turn` server's packet connection.
pub struct StreamConn {
    local_addr: SocketAddr,
    incoming: tokio::sync::Mutex<mpsc::Receiver<(Vec<u8>, SocketAddr)>>,
    writers: Writers,
}

/// The listeners' tasks: dropping this closes every listener and
/// connection (the relay keeps it until it stops).
#[derive(Debug)]
pub struct Listening {
    _tasks: JoinSet<()>,
}

impl StreamConn {
    /// Serves TURN on the connections the `listeners` accept (the first
    /// one's address is the connection's) until the [`Listening`] is
    /// dropped.
    pub fn serve(listeners: Vec<Listener>) -> std::io::Result<(Arc<Self>, Listening)> {
        let local_addr = listeners.first().ok_or_else(|| std::io::Error::other("no listener"))?.tcp.local_addr()?;
        let (delivered, incoming) = mpsc::channel(INCOMING_QUEUE);
        let writers = Writers::default();
        let mut tasks = JoinSet::new();
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        for listener in listeners {
            tasks.spawn(accept(listener, delivered.clone(), Arc::clone(&writers), Arc::clone(&slots)));
        }
        let conn = StreamConn { local_addr, incoming: tokio::sync::Mutex::new(incoming), writers };
        Ok((Arc::new(conn), Listening { _tasks: tasks }))
    }
}

/// Accepts connections until the listener fails, at most
/// [`MAX_CONNECTIONS`] at once over every listener (`slots`).
async fn accept(
    listener: Listener,
    delivered: mpsc::Sender<(Vec<u8>, SocketAddr)>,
    writers: Writers,
    slots: Arc<Semaphore>,
) {
    let acceptor = listener.tls.map(tokio_rustls::TlsAcceptor::from);
    let mut connections = JoinSet::new();
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { return };
        let (stream, peer) = match listener.tcp.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "the embedded relay's TCP listener failed");
                return;
            }
        };
        let _ = stream.set_nodelay(true);
        let (delivered, writers, acceptor) = (delivered.clone(), Arc::clone(&writers), acceptor.clone());
        connections.spawn(async move {
            match acceptor {
                None => serve_stream(stream, peer, delivered, writers).await,
                Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => serve_stream(stream, peer, delivered, writers).await,
                    Ok(Err(err)) => tracing::debug!(%peer, error = %err, "a TURN-over-TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "a TURN-over-TLS handshake timed out"),
                },
            }
            drop(slot);
        });
        // Reap the finished ones so the set does not grow.
        while connections.try_join_next().is_some() {}
    }
}

/// Carries one connection's messages both ways until either side ends.
pub async fn serve_stream<S>(
    stream: S,
    peer: SocketAddr,
    delivered: mpsc::Sender<(Vec<u8>, SocketAddr)>,
    writers: Writers,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (outgoing, mut to_write) = mpsc::channel::<Vec<u8>>(OUTGOING_QUEUE);
    writers.lock().unwrap_or_else(PoisonError::into_inner).insert(peer, outgoing);
    let writing = async move {
        while let Some(message) = to_write.recv().await {
            let pad = [0u8; 3];
            writer.write_all(&message).await?;
            writer.write_all(&pad[..padding(&message)]).await?;
        }
        std::io::Result::Ok(())
    };
    let reading = async {
        let mut cutter = Cutter::default();
        let mut chunk = vec![0u8; 16_384];
        loop {
            while let Some(message) = cutter.next_message().map_err(std::io::Error::other)? {
                if delivered.send((message, peer)).await.is_err() {
                    return Ok(());
                }
            }
            let read = tokio::time::timeout(IDLE_TIMEOUT, reader.read(&mut chunk))
                .await
                .map_err(|_| std::io::Error::other("idle"))??;
            if read == 0 {
                return std::io::Result::Ok(());
            }
            cutter.push(&chunk[..read]);
        }
    };
    let ended = tokio::select! {
        ended = reading => ended,
        ended = writing => ended,
    };
    if let Err(err) = ended {
        tracing::debug!(%peer, error = %err, "a TURN connection ended");
    }
    writers.lock().unwrap_or_else(PoisonError::into_inner).remove(&peer);
}

fn unsupported() -> webrtc_util::Error {
    webrtc_util::Error::Other("not supported on the relay's TCP listener".into())
}

#[async_trait]
impl Conn for StreamConn {
    async fn connect(&self, _addr: SocketAddr) -> webrtc_util::Result<()> {
        Err(unsupported())
    }

    async fn recv(&self, _buf: &mut [u8]) -> webrtc_util::Result<usize> {
        Err(unsupported())
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        let Some((message, peer)) = self.incoming.lock().await.recv().await else {
            return Err(webrtc_util::Error::ErrClosedListener);
        };
        // The server's buffer holds any UDP datagram, so any message.
        let length = message.len().min(buf.len());
        buf[..length].copy_from_slice(&message[..length]);
        Ok((length, peer))
    }

    async fn send(&self, _buf: &[u8]) -> webrtc_util::Result<usize> {
        Err(unsupported())
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        let writer = self.writers.lock().unwrap_or_else(PoisonError::into_inner).get(&target).cloned();
        let Some(writer) = writer else {
            return Err(webrtc_util::Error::Other(format!("no connection from {target}")));
        };
        // A connection that cannot keep up loses messages, as UDP would.
        match writer.try_send(buf.to_vec()) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => Ok(buf.len()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(webrtc_util::Error::Other(format!("{target} hung up"))),
        }
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(self.local_addr)
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        None
    }

    /// Nothing: the `turn` crate closes its client-facing connection whenever
    /// one allocation ends, which for a shared listener would end every
    /// client's. The listeners end when their [`Listening`] is dropped.
    async fn close(&self) -> webrtc_util::Result<()> {
        Ok(())
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}
