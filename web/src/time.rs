//! Time conversions for the UI: Unix milliseconds to the browser's local
//! time, and `datetime-local` input values back to Unix milliseconds.

use wasm_bindgen::JsValue;

/// Formats Unix milliseconds as local `YYYY-MM-DD HH:MM:SS`.
pub fn local_date_time(unix_ms: i64) -> String {
    // f64 holds every millisecond timestamp of the next 285,000 years exactly.
    let date = js_sys::Date::new(&JsValue::from_f64(unix_ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

/// Formats Unix milliseconds as a local date, `YYYY-MM-DD`.
pub fn local_date(unix_ms: i64) -> String {
    local_date_time(unix_ms).split(' ').next().unwrap_or_default().to_owned()
}

/// Parses the value of an `<input type="datetime-local">` (local time,
/// `YYYY-MM-DDTHH:MM[:SS]`) into Unix milliseconds. `None` when empty or invalid.
pub fn parse_local_input(value: &str) -> Option<i64> {
    let value = value.trim();
    // Without a zone suffix, ECMAScript reads a date-time form as local time.
    if value.len() < 16 || value.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let ms = js_sys::Date::new(&JsValue::from_str(value)).get_time();
    // Bounded by the Date range (±8.64e15), well inside i64.
    ms.is_finite().then_some(ms as i64)
}
