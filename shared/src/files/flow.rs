//! Flow control for one transfer, the same on both ends: the sender keeps
//! at most [`WINDOW_BYTES`] that the receiver has not confirmed, the
//! receiver confirms every [`ACK_EVERY_BYTES`] it has written and checks
//! that each chunk goes on exactly where the last one ended and stays
//! within the announced size. So neither end ever holds more than a window
//! of a file in memory, however large it is, and a slow disk slows the
//! sender instead of filling queues.

/// The most bytes in flight (sent, not confirmed).
pub const WINDOW_BYTES: u64 = 4 * 1024 * 1024;
/// How often the receiver confirms what it holds.
pub const ACK_EVERY_BYTES: u64 = 1024 * 1024;

/// What broke a transfer's flow; the transfer fails with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// A chunk did not start where the previous one ended.
    #[error("a chunk at byte {got} arrived where byte {expected} was due")]
    OutOfOrder { expected: u64, got: u64 },
    /// A chunk went past the announced size.
    #[error("a chunk went past the file's announced {size} bytes")]
    PastTheEnd { size: u64 },
    /// A confirmation of fewer bytes than already confirmed, or of more
    /// than were sent.
    #[error("the other end confirmed {confirmed} bytes, with {sent} sent and {acked} confirmed before")]
    BadConfirmation { confirmed: u64, sent: u64, acked: u64 },
}

/// The sending end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sending {
    size: u64,
    sent: u64,
    acked: u64,
}

impl Sending {
    /// A file of `size` bytes, sent from `offset` (what the receiver holds).
    pub fn new(size: u64, offset: u64) -> Self {
        let offset = offset.min(size);
        Self { size, sent: offset, acked: offset }
    }

    /// The next chunk to send — its offset and length, at most `chunk` —
    /// if bytes remain and the window has room; counted as sent.
    pub fn next_chunk(&mut self, chunk: usize) -> Option<(u64, usize)> {
        let room = WINDOW_BYTES.saturating_sub(self.sent - self.acked);
        let left = self.size - self.sent;
        let length = (chunk as u64).min(room).min(left);
        if length == 0 {
            return None;
        }
        let offset = self.sent;
        self.sent += length;
        // `length` ≤ `chunk`, a usize.
        Some((offset, usize::try_from(length).unwrap_or(chunk)))
    }

    /// The receiver confirmed holding `bytes`.
    pub fn on_confirmed(&mut self, bytes: u64) -> Result<(), FlowError> {
        if bytes < self.acked || bytes > self.sent {
            return Err(FlowError::BadConfirmation { confirmed: bytes, sent: self.sent, acked: self.acked });
        }
        self.acked = bytes;
        Ok(())
    }

    /// Whether [`Sending::next_chunk`] would give a chunk now.
    pub fn can_send(&self) -> bool {
        self.sent < self.size && self.sent - self.acked < WINDOW_BYTES
    }

    /// Every byte was sent.
    pub fn all_sent(&self) -> bool {
        self.sent == self.size
    }

    /// Bytes the receiver confirmed.
    pub fn confirmed(&self) -> u64 {
        self.acked
    }

    /// Bytes sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    pub fn size(&self) -> u64 {
        self.size
    }
}

/// The receiving end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receiving {
    size: u64,
    received: u64,
    acked: u64,
}

impl Receiving {
    /// A file of `size` bytes, of which `offset` are held already.
    pub fn new(size: u64, offset: u64) -> Self {
        let offset = offset.min(size);
        Self { size, received: offset, acked: offset }
    }

    /// A chunk of `length` bytes at `offset` arrived (and, by the time the
    /// answer is acted on, was written): the bytes to confirm now, if any
    /// — every [`ACK_EVERY_BYTES`], and at the end.
    pub fn on_chunk(&mut self, offset: u64, length: usize) -> Result<Option<u64>, FlowError> {
        if offset != self.received {
            return Err(FlowError::OutOfOrder { expected: self.received, got: offset });
        }
        let end = offset.saturating_add(length as u64);
        if end > self.size {
            return Err(FlowError::PastTheEnd { size: self.size });
        }
        self.received = end;
        if self.received - self.acked >= ACK_EVERY_BYTES || self.is_complete() {
            self.acked = self.received;
            return Ok(Some(self.received));
        }
        Ok(None)
    }

    /// Every byte arrived.
    pub fn is_complete(&self) -> bool {
        self.received == self.size
    }

    /// Bytes held.
    pub fn received(&self) -> u64 {
        self.received
    }

    pub fn size(&self) -> u64 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: usize = 64 * 1024;

    /// Moves a whole file from `sending` to `receiving`, confirming as the
    /// receiver says; the most bytes ever in flight.
    fn transfer(sending: &mut Sending, receiving: &mut Receiving) -> u64 {
        let mut in_flight = Vec::new();
        let mut most = 0;
        loop {
            while let Some(chunk) = sending.next_chunk(CHUNK) {
                in_flight.push(chunk);
            }
            most = most.max(sending.sent() - sending.confirmed());
            if in_flight.is_empty() {
                return most;
            }
            for (offset, length) in in_flight.drain(..) {
                if let Some(bytes) = receiving.on_chunk(offset, length).expect("in order") {
                    sending.on_confirmed(bytes).expect("a fair confirmation");
                }
            }
        }
    }

    #[test]
    fn a_two_gib_file_moves_with_never_more_than_a_window_in_flight() {
        let size = 2 * 1024 * 1024 * 1024 + 12_345;
        let (mut sending, mut receiving) = (Sending::new(size, 0), Receiving::new(size, 0));
        let most = transfer(&mut sending, &mut receiving);
        assert!(most <= WINDOW_BYTES, "{most} in flight");
        assert!(sending.all_sent() && receiving.is_complete());
        assert_eq!(sending.confirmed(), size, "the end is always confirmed");
    }

    #[test]
    fn a_resumed_transfer_goes_on_from_what_the_receiver_holds() {
        let (mut sending, mut receiving) =
            (Sending::new(10 * CHUNK as u64, 3 * CHUNK as u64), Receiving::new(10 * CHUNK as u64, 3 * CHUNK as u64));
        assert_eq!(sending.next_chunk(CHUNK), Some((3 * CHUNK as u64, CHUNK)));
        assert_eq!(receiving.on_chunk(3 * CHUNK as u64, CHUNK), Ok(None));
        transfer(&mut sending, &mut receiving);
        assert!(receiving.is_complete());
        assert_eq!(Sending::new(5, 9).next_chunk(CHUNK), None, "an offset past the end sends nothing");
    }

    #[test]
    fn gaps_overruns_and_false_confirmations_fail_the_transfer() {
        let mut receiving = Receiving::new(100, 0);
        assert_eq!(receiving.on_chunk(10, 5), Err(FlowError::OutOfOrder { expected: 0, got: 10 }));
        assert_eq!(receiving.on_chunk(0, 101), Err(FlowError::PastTheEnd { size: 100 }));
        assert_eq!(receiving.on_chunk(0, 100), Ok(Some(100)), "the end is confirmed");
        let mut sending = Sending::new(100, 0);
        sending.next_chunk(40);
        assert!(sending.on_confirmed(41).is_err(), "more than was sent");
        assert_eq!(sending.on_confirmed(40), Ok(()));
        assert!(sending.on_confirmed(20).is_err(), "backwards");
        let empty = Receiving::new(0, 0);
        assert!(empty.is_complete(), "an empty file is complete at once");
    }
}
