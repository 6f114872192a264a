//! Time conversions for the UI: Unix milliseconds to the browser's local
//! time, relative phrases ("5 min ago"), and `datetime-local` input values
//! back to Unix milliseconds.

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

/// Formats Unix milliseconds as local `HH:MM`.
pub fn local_time(unix_ms: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_ms as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// The browser's clock, in Unix milliseconds.
pub fn now_ms() -> i64 {
    // Date.now() is an integral number of milliseconds well inside i64.
    js_sys::Date::now() as i64
}

/// `then` relative to `now` (both Unix milliseconds) in a short phrase:
/// "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago", or for
/// the future "in 5 min", "in 3 h", "in 2 days". Minutes and larger units
/// are rounded to the nearest whole one, so 47 h 59 min reads "2 days".
pub fn relative(now: i64, then: i64) -> String {
    let delta = then.saturating_sub(now);
    let seconds = delta.unsigned_abs() / 1_000;
    if seconds < 10 {
        return "just now".to_owned();
    }
    let nearest = |unit: u64| (seconds + unit / 2) / unit;
    let amount = if seconds < 60 {
        format!("{seconds} s")
    } else if nearest(60) < 60 {
        format!("{} min", nearest(60))
    } else if nearest(3_600) < 24 {
        format!("{} h", nearest(3_600))
    } else {
        match nearest(86_400) {
            1 => "1 day".to_owned(),
            days => format!("{days} days"),
        }
    };
    if delta < 0 { format!("{amount} ago") } else { format!("in {amount}") }
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

#[cfg(test)]
mod tests {
    use super::relative;

    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn relative_phrases() {
        let past = |seconds: i64| relative(NOW, NOW - seconds * 1_000);
        let future = |seconds: i64| relative(NOW, NOW + seconds * 1_000);
        assert_eq!(past(0), "just now");
        assert_eq!(future(9), "just now");
        assert_eq!(past(42), "42 s ago");
        assert_eq!(past(59), "59 s ago");
        assert_eq!(past(60), "1 min ago");
        assert_eq!(past(89), "1 min ago");
        assert_eq!(past(90), "2 min ago");
        assert_eq!(past(3_569), "59 min ago");
        assert_eq!(future(3_599), "in 1 h");
        assert_eq!(future(2 * 3_600 + 59), "in 2 h");
        assert_eq!(future(23 * 3_600 + 1_799), "in 23 h");
        assert_eq!(future(23 * 3_600 + 1_800), "in 1 day");
        assert_eq!(past(86_400), "1 day ago");
        assert_eq!(future(2 * 86_400 - 60), "in 2 days");
        assert_eq!(future(30 * 86_400), "in 30 days");
        // Absurd inputs saturate instead of overflowing.
        let most_days = ((1_u64 << 63) / 1_000 + 43_200) / 86_400;
        assert_eq!(relative(NOW, i64::MIN), format!("{most_days} days ago"));
    }
}
