//! Capture on a real X server: known colours drawn on Xvfb come back from
//! MIT-SHM capture at the right places, changes are detected by tile, and
//! the frame survives H.264 encoding and decoding.

#![allow(clippy::unwrap_used)]

mod common;

use common::Xvfb;
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;
use tether_agent::encode::{EncoderSettings, H264Encoder};
use tether_agent::frame::changed_tiles;
use tether_agent::platform::x11_capture::X11Capturer;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ChangeWindowAttributesAux, ConnectionExt, CreateWindowAux, WindowClass};
use x11rb::rust_connection::RustConnection;

const RED: u32 = 0x00_d0_20_20;
const BLUE: u32 = 0x00_20_40_e0;

/// Paints the root red and puts a blue 100×80 window at (40, 30).
fn draw_scene(display: &str) -> (RustConnection, u32) {
    let (conn, screen_index) = x11rb::connect(Some(display)).unwrap();
    let screen = &conn.setup().roots[screen_index];
    let root = screen.root;
    conn.change_window_attributes(root, &ChangeWindowAttributesAux::new().background_pixel(RED)).unwrap();
    conn.clear_area(false, root, 0, 0, 0, 0).unwrap();
    let window = conn.generate_id().unwrap();
    conn.create_window(
        screen.root_depth,
        window,
        root,
        40,
        30,
        100,
        80,
        0,
        WindowClass::INPUT_OUTPUT,
        screen.root_visual,
        &CreateWindowAux::new().background_pixel(BLUE).override_redirect(1),
    )
    .unwrap();
    conn.map_window(window).unwrap();
    conn.get_input_focus().unwrap().reply().unwrap(); // round trip: drawn before we capture
    (conn, window)
}

fn bgr(pixel: u32) -> [u8; 3] {
    [(pixel & 0xff) as u8, ((pixel >> 8) & 0xff) as u8, ((pixel >> 16) & 0xff) as u8]
}

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
