//! The browser's clipboard through its asynchronous Clipboard API: copying
//! text to it, and reading text from it where the browser allows.

use js_sys::{Function, Reflect};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// The completion callback, taken by whichever promise callback runs.
type Done = Rc<Cell<Option<Box<dyn FnOnce(bool)>>>>;

/// Asks the browser to put `text` on the clipboard, then calls `done(true)`
/// once it did, or `done(false)` if it refused or has no Clipboard API
/// (pages served over plain HTTP from anywhere but localhost have none).
pub fn copy_text(text: &str, done: impl FnOnce(bool) + 'static) {
    // Looked up by name: web-sys gates its Clipboard binding behind an
    // unstable-API flag.
    let call = |name: &str, this: &JsValue, arguments: &[JsValue]| -> Option<JsValue> {
        let function = Reflect::get(this, &JsValue::from_str(name)).ok()?.dyn_into::<Function>().ok()?;
        let arguments: js_sys::Array = arguments.iter().collect();
        function.apply(this, &arguments).ok()
    };
    let promise = web_sys::window().and_then(|window| {
        let clipboard = Reflect::get(&window.navigator(), &JsValue::from_str("clipboard")).ok()?;
        if clipboard.is_undefined() {
            return None;
        }
        call("writeText", &clipboard, &[JsValue::from_str(text)])
    });
    let Some(promise) = promise else {
        done(false);
        return;
    };
    // Exactly one of the two callbacks runs; each frees itself when it does.
    let done: Done = Rc::new(Cell::new(Some(Box::new(done))));
    let finish = |outcome: bool| {
        let done = Rc::clone(&done);
        Closure::once_into_js(move |_: JsValue| {
            if let Some(done) = done.take() {
                done(outcome);
            }
        })
    };
    let (on_ok, on_err) = (finish(true), finish(false));
    if call("then", &promise, &[on_ok, on_err]).is_none()
        && let Some(done) = done.take()
    {
        done(false);
    }
}

/// Reads the text on the browser's clipboard, if the browser lets this
/// page (it asks the user the first time, and only on a click); `None`
/// when it refuses or has no Clipboard API.
pub async fn read_text() -> Option<String> {
    let clipboard = Reflect::get(&web_sys::window()?.navigator(), &JsValue::from_str("clipboard")).ok()?;
    if clipboard.is_undefined() {
        return None;
    }
    let read = Reflect::get(&clipboard, &JsValue::from_str("readText")).ok()?.dyn_into::<Function>().ok()?;
    let promise = read.call0(&clipboard).ok()?.dyn_into::<js_sys::Promise>().ok()?;
    wasm_bindgen_futures::JsFuture::from(promise).await.ok()?.as_string()
}
