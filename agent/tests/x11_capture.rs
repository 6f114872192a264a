//! Capture on a real X server: known colours drawn on Xvfb come back from
//! MIT-SHM capture at the right places, changes are detected by tile, X
//! DAMAGE tells a still screen (no grab needed) from a drawn one, and the
//! frame survives H.264 encoding and decoding.

#![allow(clippy::unwrap_used)]

mod common;

use common::{BLUE, RED, Xvfb, bgr, draw_scene};
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;
use std::time::{Duration, Instant};
use tether_agent::encode::{EncoderSettings, H264Encoder};
use tether_agent::frame::changed_tiles;
use tether_agent::platform::Damage;
use tether_agent::platform::x11_capture::X11Capturer;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ChangeWindowAttributesAux, ConnectionExt};

#[test]
fn captures_known_colours_and_detects_changes() {
    let xvfb = Xvfb::start(320, 240);
    let (conn, window) = draw_scene(&xvfb.display);
    let mut capturer = X11Capturer::open(Some(&xvfb.display)).unwrap();
    let first = capturer.grab().unwrap();
    assert_eq!((first.width, first.height), (320, 240));
    assert_eq!(first.pixel(5, 5), Some(bgr(RED)));
    assert_eq!(first.pixel(90, 70), Some(bgr(BLUE)));
    assert_eq!(first.pixel(139, 109), Some(bgr(BLUE)));
    assert_eq!(first.pixel(140, 110), Some(bgr(RED)));

    let again = capturer.grab().unwrap();
    assert!(changed_tiles(Some(&first), &again).is_empty(), "a still screen has no changes");

    conn.configure_window(window, &x11rb::protocol::xproto::ConfigureWindowAux::new().x(200).y(150)).unwrap();
    conn.get_input_focus().unwrap().reply().unwrap();
    let moved = capturer.grab().unwrap();
    let changed = changed_tiles(Some(&again), &moved);
    assert!(!changed.is_empty() && changed.len() < 20, "only tiles around the window changed: {changed:?}");
    assert_eq!(moved.pixel(250, 190), Some(bgr(BLUE)));
}

#[test]
fn captured_frames_survive_encoding() {
    let xvfb = Xvfb::start(640, 360);
    let _scene = draw_scene(&xvfb.display);
    let frame = X11Capturer::open(Some(&xvfb.display)).unwrap().grab().unwrap();
    let mut encoder = H264Encoder::new(EncoderSettings::default()).unwrap();
    let encoded = encoder.encode(&frame, true).unwrap().unwrap();
    let mut decoder = Decoder::new().unwrap();
    let yuv = decoder.decode(&encoded.data).unwrap().unwrap();
    let (width, height) = yuv.dimensions();
    let mut rgb = vec![0; width * height * 3];
    yuv.write_rgb8(&mut rgb);
    let at = |x: usize, y: usize| {
        let i = (y * width + x) * 3;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    };
    let close = |got: [u8; 3], want: u32| {
        let [b, g, r] = bgr(want);
        got[0].abs_diff(r) <= 12 && got[1].abs_diff(g) <= 12 && got[2].abs_diff(b) <= 12
    };
    assert!(close(at(10, 10), RED), "background {:?}", at(10, 10));
    assert!(close(at(90, 70), BLUE), "window {:?}", at(90, 70));
}

/// Polls the capturer's damage until it is `want`, with a deadline.
fn wait_for_damage(capturer: &mut X11Capturer, want: Damage) -> Damage {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = capturer.damage().unwrap();
        if got == want || Instant::now() > deadline {
            return got;
        }
        std::thread::yield_now();
    }
}

#[test]
fn damage_skips_grabs_of_a_still_screen_and_sees_drawing() {
    let xvfb = Xvfb::start(320, 240);
    let (conn, window) = draw_scene(&xvfb.display);
    let mut capturer = X11Capturer::open(Some(&xvfb.display)).unwrap();
    assert_eq!(capturer.damage().unwrap(), Damage::Drawn, "nothing grabbed yet");
    let first = capturer.grab().unwrap();

    // Nothing drawn: after a round trip through the server, no event, again
    // and again (not even the stale one from creating the damage object).
    for _ in 0..20 {
        conn.get_input_focus().unwrap().reply().unwrap();
        assert_eq!(capturer.damage().unwrap(), Damage::Still, "a still screen needs no grab");
    }

    // Drawing inside a child window is damage on the root.
    conn.change_window_attributes(window, &ChangeWindowAttributesAux::new().background_pixel(RED)).unwrap();
    conn.clear_area(false, window, 0, 0, 0, 0).unwrap();
    conn.flush().unwrap();
    assert_eq!(wait_for_damage(&mut capturer, Damage::Drawn), Damage::Drawn, "the drawing is reported");
    let drawn = capturer.grab().unwrap();
    assert_eq!(drawn.pixel(90, 70), Some(bgr(RED)));
    assert!(!changed_tiles(Some(&first), &drawn).is_empty());

    // The grab took the damage: still again until the next drawing.
    conn.get_input_focus().unwrap().reply().unwrap();
    assert_eq!(capturer.damage().unwrap(), Damage::Still);
    conn.configure_window(window, &x11rb::protocol::xproto::ConfigureWindowAux::new().x(200).y(150)).unwrap();
    conn.flush().unwrap();
    assert_eq!(wait_for_damage(&mut capturer, Damage::Drawn), Damage::Drawn, "moving a window is reported");
}
