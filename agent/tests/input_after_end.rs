//! Input after the end of a session, on a real X server: a controller
//! floods the input queue with typing, the session ends, and nothing is
//! typed after the end returns. The X server itself is the witness: a
//! focused window counts the key presses it receives. To make the moment
//! of the end deterministic, the test holds the X server (a server grab)
//! while it floods the queue and starts the end, so at most the one event
//! the injecting thread had already begun can still land.

#![allow(clippy::unwrap_used)]

mod common;

use common::Xvfb;
use std::time::{Duration, Instant};
use tether_agent::inject::{INPUT_QUEUE, InjectError, Injector, InputGate};
use tether_shared::input::InputEvent;
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, EventMask, InputFocus, WindowClass};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

const DEADLINE: Duration = Duration::from_secs(20);
const FLOOD: usize = 3_000;

/// A focused window on the X server, counting the key presses it gets.
struct TypingTarget {
    conn: RustConnection,
    presses: usize,
}

impl TypingTarget {
    fn open(display: &str) -> Self {
        let (conn, screen_index) = x11rb::connect(Some(display)).unwrap();
        let screen = &conn.setup().roots[screen_index];
        let window = conn.generate_id().unwrap();
        let listen = CreateWindowAux::new().event_mask(EventMask::KEY_PRESS);
        conn.create_window(0, window, screen.root, 0, 0, 100, 100, 0, WindowClass::INPUT_OUTPUT, 0, &listen).unwrap();
        conn.map_window(window).unwrap();
        conn.sync().unwrap();
        conn.set_input_focus(InputFocus::NONE, window, x11rb::CURRENT_TIME).unwrap();
        conn.sync().unwrap();
        Self { conn, presses: 0 }
    }

    /// Key presses so far: a round trip first, so every event the server
    /// generated before it is here.
    fn presses(&mut self) -> usize {
        self.conn.sync().unwrap();
        while let Some(event) = self.conn.poll_for_event().unwrap() {
            if matches!(event, Event::KeyPress(_)) {
                self.presses += 1;
            }
        }
        self.presses
    }

    /// Waits until at least `wanted` presses arrived, with a deadline.
    fn wait_for(&mut self, wanted: usize) {
        let give_up = Instant::now() + DEADLINE;
        // Each look is a round trip to the X server, which paces the loop.
        while self.presses() < wanted {
            assert!(Instant::now() < give_up, "only {} of {wanted} key presses arrived", self.presses);
        }
    }

    /// Holds the X server: no other client's requests run until released.
    fn hold_server(&self) {
        self.conn.grab_server().unwrap();
        self.conn.sync().unwrap();
    }

    fn release_server(&self) {
        self.conn.ungrab_server().unwrap();
        self.conn.flush().unwrap();
    }
}

fn letter() -> InputEvent {
    InputEvent::Text { text: "a".into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_queued_is_typed_after_the_session_ends() {
    let xvfb = Xvfb::start(320, 240);
    let mut target = TypingTarget::open(&xvfb.display);
    let gate = InputGate::open();
    let injector = Injector::start(Some(xvfb.display.clone()), gate.clone()).await.unwrap();

    // Typing reaches the target while the session lives.
    for _ in 0..3 {
        injector.inject(letter()).unwrap();
    }
    target.wait_for(3);
    let before_flood = target.presses();

    // A flood while the X server is held: the queue fills and stays full.
    target.hold_server();
    let mut accepted = 0;
    for _ in 0..FLOOD {
        match injector.inject(letter()) {
            Ok(()) => accepted += 1,
            Err(InjectError::Full) => {}
            Err(InjectError::Stopped) => panic!("the input thread stopped"),
        }
    }
    // The queue's worth, and perhaps the one event the thread took and is
    // stuck typing.
    assert!(
        (INPUT_QUEUE..=INPUT_QUEUE + 1).contains(&accepted),
        "the queue is bounded: {accepted} of {FLOOD} accepted"
    );

    // The session ends the way a session's teardown ends it.
    let closing = gate.close();
    target.release_server();
    tokio::time::timeout(DEADLINE, closing).await.expect("the end waits out only the event in flight");
    let at_end = target.presses() - before_flood;
    assert!(at_end <= 1, "only the event already being typed may land: {at_end} of {accepted} were typed");

    // What was still queued is dropped, not typed later.
    tokio::time::timeout(DEADLINE, injector.stop()).await.expect("the input thread drains its queue");
    let after_end = target.presses() - before_flood;
    assert_eq!(after_end, at_end, "key presses arrived after the session ended");
}
