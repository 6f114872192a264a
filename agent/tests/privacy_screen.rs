//! The privacy screen on a real X server (Xvfb): over a lock it covers
//! what the X server shows while capture still sees the windows beneath
//! (bare desktop reads black there); it is put back when another program
//! takes it off; taking it away, unlocking, and the watcher's end each
//! give the display back. Without a lock it is refused.

#![allow(clippy::unwrap_used)]

mod common;

use common::{BLUE, RED, Xvfb, bgr, draw_scene};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tether_agent::platform::x11_capture::X11Capturer;
use tether_agent::platform::x11_physical::{PhysicalInput, Report};
use tether_agent::platform::x11_privacy::Cover;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConfigureWindowAux, ConnectionExt, CreateWindowAux, ImageFormat, WindowClass};
use x11rb::rust_connection::RustConnection;

const DEADLINE: Duration = Duration::from_secs(10);

/// What the X server itself shows at `(x, y)`, as `[b, g, r]`.
fn shown_at(conn: &RustConnection, x: i16, y: i16) -> [u8; 3] {
    let root = conn.setup().roots[0].root;
    let image = conn.get_image(ImageFormat::Z_PIXMAP, root, x, y, 1, 1, u32::MAX).unwrap().reply().unwrap();
    [image.data[0], image.data[1], image.data[2]]
}

/// Waits for the watcher's next report that `wanted` picks.
fn next_report(reports: &mpsc::Receiver<Report>, wanted: impl Fn(&Report) -> bool) -> Report {
    let until = Instant::now() + DEADLINE;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let report = reports.recv_timeout(left).expect("a report before the deadline");
        if wanted(&report) {
            return report;
        }
    }
}

/// Polls `condition` until it holds or the deadline passes.
fn eventually(what: &str, condition: impl Fn() -> bool) {
    let until = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < until, "{what} did not happen within {DEADLINE:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_screen_hides_the_display_but_not_the_picture_and_always_goes_away() {
    let xvfb = Xvfb::start(320, 240);
    let (conn, window) = draw_scene(&xvfb.display);
    let cover = Cover::default();
    let (sender, reports) = mpsc::channel();
    let report = move |report: Report| {
        let _ = sender.send(report);
    };
    let physical = PhysicalInput::open(Some(&xvfb.display), report, cover.clone()).unwrap();
    let lines = vec!["Tess is working on this computer.".to_owned()];

    physical.cover(Some(lines.clone()));
    let refused = next_report(&reports, |report| matches!(report, Report::CoverFailed(_)));
    assert!(matches!(refused, Report::CoverFailed(reason) if reason.contains("not locked")));
    assert_eq!(shown_at(&conn, 90, 70), bgr(BLUE), "nothing covers an unlocked display");

    physical.lock();
    next_report(&reports, |report| matches!(report, Report::Locked { .. }));
    physical.cover(Some(lines.clone()));
    assert_eq!(
        next_report(&reports, |report| matches!(report, Report::Covered { .. })),
        Report::Covered { monitors: 1 }
    );
    assert_eq!(shown_at(&conn, 90, 70), [0, 0, 0], "the window is hidden on the display");
    assert_eq!(shown_at(&conn, 5, 5), [0, 0, 0], "and so is the desktop");
    let mut capturer = X11Capturer::open(Some(&xvfb.display)).unwrap().beneath(cover.clone());
    let beneath = capturer.grab().unwrap();
    assert_eq!(beneath.pixel(90, 70), Some(bgr(BLUE)), "the technician still sees the window");
    assert_eq!(beneath.pixel(5, 5), Some([0, 0, 0]), "bare desktop reads black beneath the cover");

    // A window moved meanwhile shows where it went.
    conn.configure_window(window, &ConfigureWindowAux::new().x(200).y(150)).unwrap();
    conn.get_input_focus().unwrap().reply().unwrap();
    let moved = capturer.grab().unwrap();
    assert_eq!(moved.pixel(250, 190), Some(bgr(BLUE)));
    assert_eq!(moved.pixel(90, 70), Some([0, 0, 0]));

    // Another program takes the cover off the display: it is put back.
    conn.unmap_window(cover.window().unwrap()).unwrap();
    conn.flush().unwrap();
    eventually("the cover put back", || shown_at(&conn, 250, 190) == [0, 0, 0]);

    // Taken away, the lock staying: the display and plain capture are back.
    physical.cover(None);
    eventually("the display back", || shown_at(&conn, 250, 190) == bgr(BLUE));
    assert_eq!(shown_at(&conn, 5, 5), bgr(RED));
    assert_eq!(cover.window(), None);
    assert_eq!(capturer.grab().unwrap().pixel(5, 5), Some(bgr(RED)));

    // Up again, then unlocking takes it away too.
    physical.cover(Some(lines.clone()));
    next_report(&reports, |report| matches!(report, Report::Covered { .. }));
    physical.unlock();
    eventually("unlocking to uncover", || shown_at(&conn, 250, 190) == bgr(BLUE));

    // Up again, then the watcher ends (as when the agent exits): its connection takes the cover along.
    physical.lock();
    physical.cover(Some(lines));
    next_report(&reports, |report| matches!(report, Report::Covered { .. }));
    assert_eq!(shown_at(&conn, 250, 190), [0, 0, 0]);
    drop(physical);
    eventually("the watcher's end to uncover", || shown_at(&conn, 250, 190) == bgr(BLUE));
}

#[test]
fn a_compositing_manager_is_refused_and_one_starting_later_ends_the_screen_saying_so() {
    let xvfb = Xvfb::start(320, 240);
    let (conn, _window) = draw_scene(&xvfb.display);
    let (sender, reports) = mpsc::channel();
    let report = move |report: Report| {
        let _ = sender.send(report);
    };
    let cover = Cover::default();
    let physical = PhysicalInput::open(Some(&xvfb.display), report, cover.clone()).unwrap();
    physical.lock();
    next_report(&reports, |report| matches!(report, Report::Locked { .. }));
    physical.cover(Some(vec!["Tess".to_owned()]));
    next_report(&reports, |report| matches!(report, Report::Covered { .. }));

    // A compositing manager starts: it would paint over the screen, so the screen goes and says why.
    let selection = conn.intern_atom(false, b"_NET_WM_CM_S0").unwrap().reply().unwrap().atom;
    let owner = conn.generate_id().unwrap();
    let root = conn.setup().roots[0].root;
    conn.create_window(0, owner, root, 0, 0, 1, 1, 0, WindowClass::INPUT_ONLY, 0, &CreateWindowAux::new()).unwrap();
    conn.set_selection_owner(owner, selection, x11rb::CURRENT_TIME).unwrap();
    conn.flush().unwrap();
    let ended = next_report(&reports, |report| matches!(report, Report::CoverFailed(_)));
    assert!(
        matches!(&ended, Report::CoverFailed(reason) if reason.contains("compositing manager started")),
        "{ended:?}"
    );
    eventually("the display back", || shown_at(&conn, 90, 70) == bgr(BLUE));
    assert_eq!(cover.window(), None);

    // While it runs, the screen is refused with the reason.
    physical.cover(Some(vec!["Tess".to_owned()]));
    let refused = next_report(&reports, |report| matches!(report, Report::CoverFailed(_)));
    assert!(
        matches!(&refused, Report::CoverFailed(reason) if reason.contains("compositing manager runs")),
        "{refused:?}"
    );
    assert_eq!(shown_at(&conn, 90, 70), bgr(BLUE));
}
