//! The remote computer's screen: the `<video>` that shows it, the remote
//! pointer drawn over it, and the mouse, wheel and keyboard input it
//! captures, mapped to the target's pixels (the real screen's, even when
//! the video is scaled down). With a guidance tool picked, a drag over the
//! picture draws a shape instead.
//!
//! One pointer shows at a time: while the technician's own pointer is over
//! the picture and input is live, it takes the remote cursor's shape (no
//! lag); otherwise the remote cursor is drawn where the agent says it is
//! (e.g. while the user at the other end moves it).

use crate::controller::ViewMode;
use crate::controller::control::{CursorView, ShapeView};
use crate::controller::events::{DeltaMode, MoveThrottle, WheelAccumulator, key_event, mouse_button};
use crate::controller::geometry::{Outside, Size, cursor_box, one_to_one, to_target};
use crate::controller::guide::{DrawTool, Stroke};
use leptos::ev::{FocusEvent, KeyboardEvent, MouseEvent, PointerEvent, WheelEvent};
use leptos::html::Video;
use leptos::prelude::*;
use tether_shared::guidance::Shape;
use tether_shared::input::{InputEvent, ScreenSize};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// `clientX` and `clientY` with their fractions, where the browser gives
/// them (web-sys reads them as whole numbers).
fn client_point(event: &MouseEvent) -> (f64, f64) {
    let read = |name: &str, whole: i32| {
        js_sys::Reflect::get(event, &JsValue::from_str(name))
            .ok()
            .and_then(|value| value.as_f64())
            .unwrap_or(f64::from(whole))
    };
    (read("clientX", event.client_x()), read("clientY", event.client_y()))
}

/// The bit of DOM mouse button `button` in a set of held buttons.
fn button_bit(button: i16) -> u8 {
    match button {
        0..=4 => 1 << button,
        _ => 0,
    }
}

/// The video with input capture. Moves go out at most once per animation
/// frame; buttons pressed on the picture are tracked so that a drag may
/// leave it (pointer capture) and still release on the target.
#[component]
pub fn RemoteScreen(
    /// The `<video>` element (the controller attaches the stream to it).
    video: NodeRef<Video>,
    /// Fit to window or 1:1.
    #[prop(into)]
    mode: Signal<ViewMode>,
    /// The remote picture's size, set here as frames arrive.
    picture: RwSignal<Option<ScreenSize>>,
    /// The real screen's size, once the agent said it (the picture may be
    /// scaled down from it).
    #[prop(into)]
    screen: Signal<Option<ScreenSize>>,
    /// The remote pointer.
    #[prop(into)]
    cursor: Signal<Option<CursorView>>,
    /// Whether input reaches the agent.
    #[prop(into)]
    input_ready: Signal<bool>,
    /// Where input events go.
    on_input: Callback<InputEvent>,
    /// The guidance tool picked: while there is one, a drag over the
    /// picture draws instead of sending input.
    #[prop(into)]
    draw_tool: Signal<Option<DrawTool>>,
    /// Where drawn shapes go.
    on_shape: Callback<Shape>,
    /// Overlays shown over the screen (messages, stats).
    children: Children,
) -> impl IntoView {
    let moves = StoredValue::new(MoveThrottle::default());
    let wheel = StoredValue::new(WheelAccumulator::default());
    let held = StoredValue::new(0u8);
    let stroke = StoredValue::new(None::<Stroke>);

    let hovering = RwSignal::new(false);
    let element_size = RwSignal::new(None::<Size>);

    let target_of = move |event: &MouseEvent, outside: Outside| {
        let element = video.get_untracked()?;
        let size = ScreenSize { width: element.video_width(), height: element.video_height() };
        let target = screen.get_untracked().unwrap_or(size);
        let rect = element.get_bounding_client_rect();
        let (x, y) = client_point(event);
        let element_size = Size { width: rect.width(), height: rect.height() };
        to_target(x - rect.left(), y - rect.top(), element_size, size, target, outside)
    };
    // The video's box, kept current (window, mode and picture changes) for
    // placing the remote cursor.
    let measure = move || {
        if let Some(element) = video.get_untracked() {
            let size = Size { width: f64::from(element.client_width()), height: f64::from(element.client_height()) };
            if element_size.get_untracked() != Some(size) {
                element_size.set(Some(size));
            }
        }
    };
    let on_resize = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| measure());
    let observer = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
    let observer = StoredValue::new_local((observer, on_resize));
    video.on_load(move |element| {
        observer.with_value(|(observer, _)| {
            if let Some(observer) = observer {
                observer.observe(&element);
            }
        });
    });
    on_cleanup(move || {
        observer.with_value(|(observer, _)| {
            if let Some(observer) = observer {
                observer.disconnect();
            }
        });
    });
    let cursor_placement = Memo::new(move |_| {
        let cursor = cursor.get()?;
        if !cursor.visible || (hovering.get() && input_ready.get()) {
            return None;
        }
        let video_size = picture.get()?;
        let shape = &cursor.shape;
        cursor_box(
            element_size.get()?,
            video_size,
            screen.get().unwrap_or(video_size),
            (cursor.x, cursor.y),
            (shape.width, shape.height),
            (shape.hot_x, shape.hot_y),
        )
    });
    // The shape changes far less often than the position: only a new one
    // touches the image and the CSS cursor.
    let shape = Memo::new(move |_| cursor.with(|cursor| cursor.as_ref().map(|cursor| cursor.shape.clone())));
    let local_cursor = move || {
        if !input_ready.get() {
            return None;
        }
        shape.with(|shape| shape.as_ref().map(ShapeView::css_cursor))
    };
    let update_picture = move || {
        let Some(element) = video.get_untracked() else { return };
        let size = ScreenSize { width: element.video_width(), height: element.video_height() };
        let size = (size.width > 0 && size.height > 0).then_some(size);
        if picture.get_untracked() != size {
            picture.set(size);
        }
    };

    let on_pointer_down = move |event: PointerEvent| {
        // Keep receiving this pointer's events when a drag leaves the video.
        if let Some(element) = video.get_untracked() {
            let _ = element.set_pointer_capture(event.pointer_id());
        }
    };
    let on_mouse_down = move |event: MouseEvent| {
        event.prevent_default();
        // Where the press is, before focusing (which must not scroll the
        // page under the pointer either).
        let target = target_of(&event, Outside::Ignore);
        if let Some(element) = video.get_untracked() {
            let options = web_sys::FocusOptions::new();
            options.set_prevent_scroll(true);
            let _ = element.focus_with_options(&options);
        }
        let (Some(button), Some((x, y))) = (mouse_button(event.button()), target) else {
            return;
        };
        if let Some(tool) = draw_tool.get_untracked() {
            if event.button() == 0 {
                stroke.set_value(Some(Stroke::start(tool, [x, y])));
            }
            return;
        }
        held.update_value(|held| *held |= button_bit(event.button()));
        moves.update_value(|moves| moves.button_at(x, y));
        on_input.run(InputEvent::MouseButton { button, down: true, x, y });
    };
    let on_mouse_up = move |event: MouseEvent| {
        if stroke.with_value(Option::is_some) && event.button() == 0 {
            if let Some((x, y)) = target_of(&event, Outside::Clamp) {
                stroke.update_value(|stroke| stroke.iter_mut().for_each(|stroke| stroke.extend([x, y])));
            }
            if let Some(shape) = stroke.try_update_value(Option::take).flatten().and_then(Stroke::finish) {
                on_shape.run(shape);
            }
            return;
        }
        let bit = button_bit(event.button());
        if held.get_value() & bit == 0 {
            return; // pressed outside the picture
        }
        held.update_value(|held| *held &= !bit);
        let (Some(button), Some((x, y))) = (mouse_button(event.button()), target_of(&event, Outside::Clamp)) else {
            return;
        };
        moves.update_value(|moves| moves.button_at(x, y));
        on_input.run(InputEvent::MouseButton { button, down: false, x, y });
    };
    let on_mouse_move = move |event: MouseEvent| {
        if stroke.with_value(Option::is_some) {
            if let Some((x, y)) = target_of(&event, Outside::Clamp) {
                stroke.update_value(|stroke| stroke.iter_mut().for_each(|stroke| stroke.extend([x, y])));
            }
            return;
        }
        let outside = if held.get_value() == 0 { Outside::Ignore } else { Outside::Clamp };
        let Some((x, y)) = target_of(&event, outside) else { return };
        if moves.try_update_value(|moves| moves.moved(x, y)).unwrap_or(false) {
            request_animation_frame(move || {
                if let Some(event) = moves.try_update_value(MoveThrottle::on_frame).flatten() {
                    on_input.run(event);
                }
            });
        }
    };
    let on_wheel = move |event: WheelEvent| {
        event.prevent_default();
        let mode = DeltaMode::from_dom(event.delta_mode());
        if let Some(event) = wheel.try_update_value(|wheel| wheel.add(event.delta_x(), event.delta_y(), mode)).flatten()
        {
            on_input.run(event);
        }
    };
    let on_key = move |event: KeyboardEvent, down: bool| {
        // While the screen has focus every key is the remote computer's.
        event.prevent_default();
        if let Some(input) = key_event(&event.code(), down, event.repeat()) {
            on_input.run(input);
        }
    };
    let on_blur = move |_: FocusEvent| {
        held.set_value(0);
        wheel.update_value(WheelAccumulator::reset);
        on_input.run(InputEvent::ReleaseAll);
    };

    let actual_size = move || {
        if mode.get() != ViewMode::OneToOne {
            return None;
        }
        let ratio = window().device_pixel_ratio();
        screen.get().or_else(|| picture.get()).map(|size| one_to_one(size, ratio))
    };

    view! {
        <div
            class="screen-frame"
            data-testid="remote-screen"
            data-mode=move || mode.get().key()
            data-screen=move || screen.get().map(|size| format!("{}x{}", size.width, size.height))
        >
            <div class="screen" class:screen-fit=move || mode.get() == ViewMode::Fit>
                <div class="screen-surface">
                <video
                    node_ref=video
                    class="remote-video"
                    data-testid="remote-video"
                    autoplay
                    muted
                    playsinline
                    prop:muted=true
                    tabindex="0"
                    aria-label="Remote screen"
                    style:width=move || actual_size().map(|size| format!("{}px", size.width))
                    style:height=move || actual_size().map(|size| format!("{}px", size.height))
                    style:cursor=move || if draw_tool.get().is_some() { Some("crosshair".to_owned()) } else { local_cursor() }
                    on:pointerenter=move |_| hovering.set(true)
                    on:pointerleave=move |_| hovering.set(false)
                    on:loadedmetadata=move |_| update_picture()
                    on:resize=move |_| update_picture()
                    on:pointerdown=on_pointer_down
                    on:mousedown=on_mouse_down
                    on:mouseup=on_mouse_up
                    on:mousemove=on_mouse_move
                    on:wheel=on_wheel
                    on:contextmenu=|event: MouseEvent| event.prevent_default()
                    on:keydown=move |event| on_key(event, true)
                    on:keyup=move |event| on_key(event, false)
                    on:blur=on_blur
                ></video>
                <img
                    class="remote-cursor"
                    data-testid="remote-cursor"
                    alt=""
                    aria-hidden="true"
                    hidden=move || cursor_placement.get().is_none()
                    data-x=move || cursor.with(|cursor| cursor.as_ref().map(|cursor| cursor.x))
                    data-y=move || cursor.with(|cursor| cursor.as_ref().map(|cursor| cursor.y))
                    src=move || shape.with(|shape| shape.as_ref().map(|shape| shape.url.clone()))
                    style:left=move || cursor_placement.get().map(|placed| format!("{}px", placed.left))
                    style:top=move || cursor_placement.get().map(|placed| format!("{}px", placed.top))
                    style:width=move || cursor_placement.get().map(|placed| format!("{}px", placed.width))
                    style:height=move || cursor_placement.get().map(|placed| format!("{}px", placed.height))
                />
                </div>
            </div>
            {children()}
        </div>
    }
}
