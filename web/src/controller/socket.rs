//! The session's signalling WebSocket (`/api/sessions/{id}/signal`) with
//! typed messages. Its handlers are removed when it is dropped, so a
//! replaced socket never reports again.

use tether_shared::signal::{ControllerToServer, ServerToController};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, WebSocket};

/// What the socket reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketEvent {
    /// Connected; authenticate now.
    Open,
    /// A message from the server.
    Message(ServerToController),
    /// Closed, or could not connect (an `error` is always followed by this).
    Closed,
}

/// The socket's URL for a page served from `protocol` (`https:` → `wss`)
/// and `host`, with the session id as one path segment.
pub fn signal_url(protocol: &str, host: &str, session_id: &str) -> String {
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}/api/sessions/{}/signal", encode_segment(session_id))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// An open (or opening) signalling socket.
pub struct SignalSocket {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut()>,
}

impl std::fmt::Debug for SignalSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalSocket").field("url", &self.socket.url()).finish()
    }
}

impl SignalSocket {
    /// Connects to `url`; `on_event` hears everything that happens.
    pub fn open(url: &str, on_event: impl Fn(SocketEvent) + 'static) -> Result<Self, String> {
        let socket = WebSocket::new(url).map_err(|err| format!("{err:?}"))?;
        let on_event = std::rc::Rc::new(on_event);
        let on_open = {
            let on_event = on_event.clone();
            Closure::<dyn FnMut()>::new(move || on_event(SocketEvent::Open))
        };
        let on_message = {
            let on_event = on_event.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let Some(text) = event.data().as_string() else { return };
                match serde_json::from_str::<ServerToController>(&text) {
                    Ok(message) => on_event(SocketEvent::Message(message)),
                    Err(err) => web_sys::console::warn_1(&format!("ignoring a signalling message: {err}").into()),
                }
            })
        };
        let on_close = Closure::<dyn FnMut()>::new(move || on_event(SocketEvent::Closed));
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self { socket, _on_open: on_open, _on_message: on_message, _on_close: on_close })
    }

    /// Sends a message; false if the socket is not open.
    pub fn send(&self, message: &ControllerToServer) -> bool {
        match serde_json::to_string(message) {
            Ok(text) => self.socket.send_with_str(&text).is_ok(),
            Err(_) => false,
        }
    }
}

impl Drop for SignalSocket {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        // Already closing or closed is fine.
        let _ = self.socket.close();
    }
}

#[cfg(test)]
mod tests {
    use super::signal_url;

    #[test]
    fn urls_follow_the_page() {
        assert_eq!(
            signal_url("http:", "127.0.0.1:8080", "0b6c7f0e-1d2a-4b8e-9f00-0123456789ab"),
            "ws://127.0.0.1:8080/api/sessions/0b6c7f0e-1d2a-4b8e-9f00-0123456789ab/signal"
        );
        assert_eq!(
            signal_url("https:", "tether.example", "a/b c"),
            "wss://tether.example/api/sessions/a%2Fb%20c/signal"
        );
    }
}
