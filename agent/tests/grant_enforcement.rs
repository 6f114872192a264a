//! A session enforces its grant on loopback with Xvfb, whatever arrives:
//! an offer from a controller the grant does not name is refused (and
//! reported), never answered or swapped in, while the granted controller
//! keeps its video; in Monitor the screen streams but the input channel is
//! refused; and a grant that narrows from Active to Monitor stops input at
//! once (reported), the X server never seeing the key. (The tools' own
//! rules are tested in `session_tools.rs`.)

#![allow(clippy::unwrap_used)]

mod common;

use common::session_harness::{DEADLINE, Harness, wait_open};
use std::time::{Duration, Instant};
use tether_shared::mode::SessionMode;
use tether_shared::signal::Refused;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::ConnectionExt;

fn key_down(conn: &impl Connection, keycode: u8) -> bool {
    let keys = conn.query_keymap().unwrap().reply().unwrap().keys;
    keys[usize::from(keycode / 8)] & (1 << (keycode % 8)) != 0
}

fn pointer(conn: &impl Connection) -> (i16, i16) {
    let root = conn.setup().roots[0].root;
    let reply = conn.query_pointer(root).unwrap().reply().unwrap();
    (reply.root_x, reply.root_y)
}

/// Polls the X server until `check` holds, with a deadline.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_from_a_controller_the_grant_does_not_name_is_refused_never_swapped_in() {
    let mut h = Harness::start();

    // Before any grant, nobody is answered.
    let _ungranted = h.offer(1, None).await;
    let refusal = h.refusal().await;
    assert_eq!(refusal.what, Refused::Offer);
    assert!(refusal.reason.contains("no grant"), "{}", refusal.reason);

    let mut granted = h.offer(2, Some(SessionMode::Active)).await;
    assert_eq!(h.answered().await, 2);
    granted.receives_video("the granted controller").await;

    // Another connection offers without a grant naming it: refused, and the
    // granted controller keeps the session.
    let _intruder = h.offer(3, None).await;
    let refusal = h.refusal().await;
    assert_eq!(refusal.what, Refused::Offer);
    assert!(refusal.reason.contains("does not name"), "{}", refusal.reason);
    granted.receives_video("the granted controller, after the refused offer").await;
    assert!(h.answers.try_recv().is_err(), "the intruder was never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_streams_but_never_injects_and_a_narrowed_grant_stops_input_at_once() {
    let mut h = Harness::start();
    let x = x11rb::connect(Some(&h.xvfb.display)).unwrap().0;

    // Monitor: frames, but the input channel is refused.
    let mut monitor = h.offer(1, Some(SessionMode::Monitor)).await;
    assert_eq!(h.answered().await, 1);
    monitor.receives_video("in Monitor").await;
    let refusal = h.refusal().await;
    assert_eq!(refusal.what, Refused::Channel, "{refusal:?}");
    assert!(refusal.reason.contains("input"), "{}", refusal.reason);
    drop(monitor);

    // Active on a new connection: input reaches the display.
    let mut active = h.offer(2, Some(SessionMode::Active)).await;
    assert_eq!(h.answered().await, 2);
    active.receives_video("in Active").await;
    wait_open(&active.input).await;
    active.input.send_text(r#"{"t":"mouse_move","x":300,"y":200}"#).await.unwrap();
    eventually("the pointer moved", || pointer(&x) == (300, 200)).await;

    // The grant narrows to Monitor for the same controller: a key sent now
    // is refused, reported, and never typed.
    let sdp = active.connection.local_description().await.unwrap().sdp;
    assert!(h.session.grant(common::grants::for_offer("s1", &sdp, SessionMode::Monitor)).await);
    let mut refusal = None;
    let deadline = Instant::now() + DEADLINE;
    while refusal.is_none() {
        assert!(Instant::now() < deadline, "input was not refused after the grant narrowed");
        active.input.send_text(r#"{"t":"key","key":"KeyA","down":true}"#).await.unwrap();
        refusal = tokio::time::timeout(Duration::from_millis(200), h.refusals.recv()).await.ok().flatten();
    }
    assert_eq!(refusal.unwrap().what, Refused::Input);

    // Control comes back: later input lands, the refused key never did.
    assert!(h.session.grant(common::grants::for_offer("s1", &sdp, SessionMode::Active)).await);
    let deadline = Instant::now() + DEADLINE;
    while pointer(&x) != (310, 210) {
        assert!(Instant::now() < deadline, "input did not come back with control");
        active.input.send_text(r#"{"t":"mouse_move","x":310,"y":210}"#).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!key_down(&x, 38), "the key sent while in Monitor reached the display");
    active.receives_video("still streaming").await;
}
