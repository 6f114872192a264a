//! Where the remote picture sits inside the `<video>` element and which
//! target pixel a point on the element is: `object-fit: contain` letterboxing
//! in fit mode, and the same maths (with no bars) at 1:1. The video may be
//! scaled down from the screen (the quality preset): the picture's place
//! comes from the video's size, pixels from the screen's.

use tether_shared::input::ScreenSize;

/// A size in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    pub width: f64,
    pub height: f64,
}

/// The picture's rectangle inside the element, in CSS pixels from the
/// element's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// How a picture of `video` pixels is laid out in an element of `element`
/// size with `object-fit: contain`: scaled to fit whole, centred, bars on
/// the two sides or above and below. `None` before the first frame (a zero
/// video size) or for an element with no area.
pub fn contain(element: Size, video: ScreenSize) -> Option<Placement> {
    if video.width == 0 || video.height == 0 || element.width <= 0.0 || element.height <= 0.0 {
        return None;
    }
    let (vw, vh) = (f64::from(video.width), f64::from(video.height));
    let scale = (element.width / vw).min(element.height / vh);
    let (width, height) = (vw * scale, vh * scale);
    Some(Placement { left: (element.width - width) / 2.0, top: (element.height - height) / 2.0, width, height })
}

/// What to do with a point that lies in the bars, outside the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    /// Ignore it (a plain pointer move over the bars).
    Ignore,
    /// Use the nearest edge pixel (a drag or a button release that left the picture).
    Clamp,
}

/// The screen pixel under `(x, y)`, CSS pixels from the element's
/// top-left, for a `video`-sized picture of a `screen`-sized display.
pub fn to_target(
    x: f64,
    y: f64,
    element: Size,
    video: ScreenSize,
    screen: ScreenSize,
    outside: Outside,
) -> Option<(u32, u32)> {
    if screen.width == 0 || screen.height == 0 {
        return None;
    }
    let picture = contain(element, video)?;
    let u = (x - picture.left) / picture.width;
    let v = (y - picture.top) / picture.height;
    let inside = (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v);
    if !inside && outside == Outside::Ignore {
        return None;
    }
    let pixel = |fraction: f64, extent: u32| {
        let max = f64::from(extent - 1);
        // Clamped into 0..=extent-1 before the conversion, so it cannot wrap.
        (fraction * f64::from(extent)).floor().clamp(0.0, max) as u32
    };
    Some((pixel(u, screen.width), pixel(v, screen.height)))
}

/// Where to draw a `width × height` cursor image whose hot spot is
/// `hot` when the pointer is at screen pixel `at`: scaled like the
/// picture, in CSS pixels from the element's top-left.
pub fn cursor_box(
    element: Size,
    video: ScreenSize,
    screen: ScreenSize,
    at: (u32, u32),
    image: (u32, u32),
    hot: (u32, u32),
) -> Option<Placement> {
    if screen.width == 0 || screen.height == 0 {
        return None;
    }
    let picture = contain(element, video)?;
    let scale_x = picture.width / f64::from(screen.width);
    let scale_y = picture.height / f64::from(screen.height);
    Some(Placement {
        left: picture.left + (f64::from(at.0) - f64::from(hot.0)) * scale_x,
        top: picture.top + (f64::from(at.1) - f64::from(hot.1)) * scale_y,
        width: f64::from(image.0) * scale_x,
        height: f64::from(image.1) * scale_y,
    })
}

/// The element size that shows the picture at one screen pixel per device
/// pixel (1:1 mode): the screen size divided by the device pixel ratio (a
/// scaled-down video is stretched back to it).
pub fn one_to_one(video: ScreenSize, device_pixel_ratio: f64) -> Size {
    let ratio = if device_pixel_ratio.is_finite() && device_pixel_ratio > 0.0 { device_pixel_ratio } else { 1.0 };
    Size { width: f64::from(video.width) / ratio, height: f64::from(video.height) / ratio }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HD: ScreenSize = ScreenSize { width: 1280, height: 720 };

    fn size(width: f64, height: f64) -> Size {
        Size { width, height }
    }

    #[test]
    fn wide_elements_get_bars_left_and_right() {
        let placed = contain(size(1000.0, 360.0), HD).expect("placement");
        assert_eq!(placed, Placement { left: 180.0, top: 0.0, width: 640.0, height: 360.0 });
    }

    #[test]
    fn tall_elements_get_bars_above_and_below() {
        let placed = contain(size(640.0, 600.0), HD).expect("placement");
        assert_eq!(placed, Placement { left: 0.0, top: 120.0, width: 640.0, height: 360.0 });
    }

    #[test]
    fn nothing_to_place_before_the_first_frame() {
        assert_eq!(contain(size(640.0, 480.0), ScreenSize { width: 0, height: 0 }), None);
        assert_eq!(contain(size(0.0, 480.0), HD), None);
        let flat = ScreenSize { width: 0, height: 720 };
        assert_eq!(to_target(1.0, 1.0, size(640.0, 480.0), flat, HD, Outside::Clamp), None);
        assert_eq!(to_target(1.0, 1.0, size(640.0, 480.0), HD, flat, Outside::Clamp), None);
    }

    #[test]
    fn points_map_through_the_letterbox() {
        let element = size(1000.0, 360.0); // picture at x 180..820, scale 0.5
        let map = |x, y| to_target(x, y, element, HD, HD, Outside::Ignore);
        assert_eq!(map(180.0, 0.0), Some((0, 0)));
        assert_eq!(map(500.0, 180.0), Some((640, 360)));
        assert_eq!(map(819.9, 359.9), Some((1279, 719)));
        assert_eq!(map(180.4, 0.4), Some((0, 0)));
        assert_eq!(map(180.5, 0.5), Some((1, 1)));
    }

    #[test]
    fn the_bars_are_ignored_or_clamped() {
        let element = size(1000.0, 360.0);
        assert_eq!(to_target(100.0, 100.0, element, HD, HD, Outside::Ignore), None);
        assert_eq!(to_target(820.0, 100.0, element, HD, HD, Outside::Ignore), None);
        assert_eq!(to_target(100.0, 100.0, element, HD, HD, Outside::Clamp), Some((0, 200)));
        assert_eq!(to_target(990.0, -40.0, element, HD, HD, Outside::Clamp), Some((1279, 0)));
        assert_eq!(to_target(500.0, 9_999.0, element, HD, HD, Outside::Clamp), Some((640, 719)));
    }

    #[test]
    fn one_to_one_has_no_bars() {
        let element = one_to_one(HD, 2.0);
        assert_eq!(element, size(640.0, 360.0));
        assert_eq!(contain(element, HD), Some(Placement { left: 0.0, top: 0.0, width: 640.0, height: 360.0 }));
        assert_eq!(to_target(10.25, 20.75, element, HD, HD, Outside::Ignore), Some((20, 41)));
        assert_eq!(one_to_one(HD, 0.0), size(1280.0, 720.0));
        assert_eq!(one_to_one(HD, f64::NAN), size(1280.0, 720.0));
    }

    const HALF: ScreenSize = ScreenSize { width: 640, height: 360 };

    #[test]
    fn a_scaled_video_still_maps_to_screen_pixels() {
        let element = size(1000.0, 360.0); // picture at x 180..820
        let map = |x, y| to_target(x, y, element, HALF, HD, Outside::Ignore);
        assert_eq!(map(180.0, 0.0), Some((0, 0)));
        assert_eq!(map(500.0, 180.0), Some((640, 360)));
        assert_eq!(map(819.9, 359.9), Some((1279, 719)));
        let actual = one_to_one(HD, 1.0);
        assert_eq!(to_target(1279.5, 0.0, actual, HALF, HD, Outside::Ignore), Some((1279, 0)));
    }

    #[test]
    fn the_cursor_is_drawn_where_the_pointer_is_and_scaled_like_the_picture() {
        let element = size(1000.0, 360.0); // scale 0.5, picture at x 180
        let placed = cursor_box(element, HALF, HD, (640, 360), (32, 32), (4, 2)).expect("placed");
        assert_eq!(placed, Placement { left: 180.0 + 318.0, top: 179.0, width: 16.0, height: 16.0 });
        let actual = one_to_one(HD, 1.0);
        let placed = cursor_box(actual, HALF, HD, (10, 20), (24, 24), (0, 0)).expect("placed");
        assert_eq!(placed, Placement { left: 10.0, top: 20.0, width: 24.0, height: 24.0 });
        assert_eq!(cursor_box(element, HALF, ScreenSize { width: 0, height: 0 }, (0, 0), (1, 1), (0, 0)), None);
    }
}
