//! TURN over a byte stream (TCP, TLS): where one message ends. On a
//! stream, STUN messages carry their own length (a 20-byte header, then
//! that many bytes), and ChannelData messages a 4-byte header with the
//! data's length, padded to a multiple of four (RFC 8656 §12.5). The relay
//! and the agent's tunnel cut a stream into the datagrams a UDP TURN
//! endpoint expects, and pad what they write.

/// The longest message: a STUN header and the longest length.
pub const MAX_MESSAGE: usize = STUN_HEADER + u16::MAX as usize;

/// The STUN magic cookie, bytes 4 to 8 of every STUN message.
const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];
const STUN_HEADER: usize = 20;
const CHANNEL_HEADER: usize = 4;

/// One message found at the start of a stream's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed {
    /// The message's own bytes (what a datagram would carry).
    pub message: usize,
    /// The bytes it takes on the stream, padding included (consume these).
    pub on_stream: usize,
}

/// Why a stream is not TURN: close it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error("neither a STUN nor a ChannelData message")]
    NotTurn,
    #[error("a STUN message without the magic cookie")]
    NoCookie,
    #[error("a STUN message whose length is not a multiple of four")]
    BadLength,
    #[error("a message longer than TURN allows")]
    TooLong,
}

/// One stream's bytes as they arrive, cut into messages: what the relay's
/// listener and the agent's tunnel each keep per connection.
#[derive(Debug, Default)]
pub struct Cutter {
    buffer: Vec<u8>,
}

impl Cutter {
    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole message (without its padding), or `None` to read
    /// more; an error means the stream is not TURN: close it.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, StreamError> {
        match next_message(&self.buffer)? {
            Some(framed) => {
                let message = self.buffer[..framed.message].to_vec();
                self.buffer.drain(..framed.on_stream);
                Ok(Some(message))
            }
            None if self.buffer.len() > MAX_MESSAGE => Err(StreamError::TooLong),
            None => Ok(None),
        }
    }
}

/// The message at the start of `buffer`, once all of it is there (`None`:
/// read more).
pub fn next_message(buffer: &[u8]) -> Result<Option<Framed>, StreamError> {
    let Some(&first) = buffer.first() else { return Ok(None) };
    match first >> 6 {
        0b00 => {
            let Some(header) = buffer.get(..STUN_HEADER) else { return Ok(None) };
            if header[4..8] != MAGIC_COOKIE {
                return Err(StreamError::NoCookie);
            }
            let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
            if length % 4 != 0 {
                return Err(StreamError::BadLength);
            }
            let total = STUN_HEADER + length;
            Ok((buffer.len() >= total).then_some(Framed { message: total, on_stream: total }))
        }
        // Channel numbers are 0x4000 to 0x4FFF (RFC 8656); older clients
        // use up to 0x7FFF (RFC 5766), which the relay itself refuses or not.
        0b01 => {
            let Some(header) = buffer.get(..CHANNEL_HEADER) else { return Ok(None) };
            let message = CHANNEL_HEADER + usize::from(u16::from_be_bytes([header[2], header[3]]));
            let on_stream = message.next_multiple_of(4);
            Ok((buffer.len() >= on_stream).then_some(Framed { message, on_stream }))
        }
        _ => Err(StreamError::NotTurn),
    }
}

/// STUN message type of a successful Allocate response.
const ALLOCATE_SUCCESS: [u8; 2] = [0x01, 0x03];
/// The XOR-RELAYED-ADDRESS attribute.
const XOR_RELAYED_ADDRESS: u16 = 0x0016;

/// The relayed address a successful Allocate response grants (its
/// XOR-RELAYED-ADDRESS), for telling which allocation a relay candidate
/// came from; `None` for any other message or a malformed one.
pub fn relayed_address(message: &[u8]) -> Option<std::net::SocketAddr> {
    if message.get(..2)? != ALLOCATE_SUCCESS || message.get(4..8)? != MAGIC_COOKIE {
        return None;
    }
    let transaction = message.get(8..STUN_HEADER)?;
    let length = usize::from(u16::from_be_bytes([message[2], message[3]]));
    let mut attributes = message.get(STUN_HEADER..STUN_HEADER + length)?;
    while attributes.len() >= 4 {
        let kind = u16::from_be_bytes([attributes[0], attributes[1]]);
        let size = usize::from(u16::from_be_bytes([attributes[2], attributes[3]]));
        let value = attributes.get(4..4 + size)?;
        if kind == XOR_RELAYED_ADDRESS {
            let port = u16::from_be_bytes([*value.get(2)?, *value.get(3)?]) ^ 0x2112;
            let mask: Vec<u8> = MAGIC_COOKIE.iter().chain(transaction).copied().collect();
            let unmask = |bytes: &[u8]| -> Vec<u8> { bytes.iter().zip(&mask).map(|(byte, key)| byte ^ key).collect() };
            let ip: std::net::IpAddr = match (value.get(1)?, value.len()) {
                (0x01, 8) => <[u8; 4]>::try_from(unmask(&value[4..8])).ok()?.into(),
                (0x02, 20) => <[u8; 16]>::try_from(unmask(&value[4..20])).ok()?.into(),
                _ => return None,
            };
            return Some(std::net::SocketAddr::new(ip, port));
        }
        attributes = attributes.get((4 + size).next_multiple_of(4)..).unwrap_or_default();
    }
    None
}

/// How many zero bytes follow `message` on a stream: ChannelData is
/// padded to a multiple of four; STUN messages already are.
pub fn padding(message: &[u8]) -> usize {
    message.len().next_multiple_of(4) - message.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stun(length: u16) -> Vec<u8> {
        let mut message = vec![0x00, 0x01];
        message.extend(length.to_be_bytes());
        message.extend(MAGIC_COOKIE);
        message.extend([7; 12]);
        message.extend(vec![0; usize::from(length)]);
        message
    }

    #[test]
    fn stun_messages_end_where_their_length_says() {
        let message = stun(8);
        assert_eq!(next_message(&message[..19]), Ok(None));
        assert_eq!(next_message(&message[..27]), Ok(None));
        let mut two = message.clone();
        two.extend(stun(0));
        assert_eq!(next_message(&two), Ok(Some(Framed { message: 28, on_stream: 28 })));
        let mut uncookied = message.clone();
        uncookied[4] = 0;
        assert_eq!(next_message(&uncookied), Err(StreamError::NoCookie));
        let mut odd = message;
        odd[3] = 7;
        assert_eq!(next_message(&odd), Err(StreamError::BadLength));
    }

    #[test]
    fn channel_data_is_padded_to_four_on_a_stream() {
        let data = [0x40, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0];
        assert_eq!(next_message(&data[..9]), Ok(None), "the padding is not there yet");
        assert_eq!(next_message(&data), Ok(Some(Framed { message: 9, on_stream: 12 })));
        assert_eq!(padding(&data[..9]), 3);
        assert_eq!(padding(&stun(4)), 0);
    }

    #[test]
    fn an_allocate_success_names_its_relayed_address() {
        // 10.231.4.1:50000, XORed with the cookie; the port with its top half.
        let mut message = vec![0x01, 0x03, 0x00, 0x0c];
        message.extend(MAGIC_COOKIE);
        message.extend([9; 12]);
        message.extend([0x00, 0x16, 0x00, 0x08, 0x00, 0x01]);
        message.extend((50_000u16 ^ 0x2112).to_be_bytes());
        message.extend([10 ^ 0x21, 231 ^ 0x12, 4 ^ 0xa4, 1 ^ 0x42]);
        assert_eq!(relayed_address(&message), Some("10.231.4.1:50000".parse().expect("address")));
        message[1] = 0x13;
        assert_eq!(relayed_address(&message), None, "an error response grants nothing");
        assert_eq!(relayed_address(&message[..10]), None);
    }

    #[test]
    fn a_cutter_gives_whole_messages_as_they_arrive() {
        let mut cutter = Cutter::default();
        let data = [0x40, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0];
        let message = stun(4);
        cutter.push(&data[..6]);
        assert_eq!(cutter.next_message(), Ok(None));
        cutter.push(&data[6..]);
        cutter.push(&message[..10]);
        assert_eq!(cutter.next_message(), Ok(Some(data[..9].to_vec())), "the padding left behind");
        assert_eq!(cutter.next_message(), Ok(None));
        cutter.push(&message[10..]);
        assert_eq!(cutter.next_message(), Ok(Some(message)));
        cutter.push(&[0x80, 0, 0, 0]);
        assert_eq!(cutter.next_message(), Err(StreamError::NotTurn));
    }

    #[test]
    fn anything_else_is_not_turn() {
        for first in [0x80, 0xc0, 0xff] {
            assert_eq!(next_message(&[first, 0, 0, 0]), Err(StreamError::NotTurn), "{first:#x}");
        }
        let mut tls_hello = vec![0x16, 0x03, 0x01, 0x00, 0xf4];
        tls_hello.resize(64, 0);
        assert_eq!(next_message(&tls_hello), Err(StreamError::NoCookie), "TLS spoken to a TCP port");
        assert_eq!(next_message(&[]), Ok(None));
    }
}
