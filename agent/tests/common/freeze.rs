//! A TCP forwarder that can freeze: while frozen it moves no byte either
//! way but keeps every connection open, as a SIGSTOPped server does
//! (its kernel still holds the connections; nothing answers).

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running forwarder to one upstream address.
pub struct Freezer {
    pub address: SocketAddr,
    frozen: Arc<watch::Sender<bool>>,
}

impl Freezer {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let frozen = Arc::new(watch::channel(false).0);
        let switch = Arc::clone(&frozen);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else { continue };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, switch.subscribe()));
                tokio::spawn(pump(server_read, client_write, switch.subscribe()));
            }
        });
        Self { address, frozen }
    }

    /// Stops every byte, both ways, keeping connections open.
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Lets the bytes held back flow again.
    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        if frozen.wait_for(|frozen| !*frozen).await.is_err() {
            return;
        }
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            // Frozen while waiting to read: stop reading at once.
            _ = frozen.wait_for(|frozen| *frozen) => continue,
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if frozen.wait_for(|frozen| !*frozen).await.is_err() || to.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
