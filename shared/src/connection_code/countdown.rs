//! The countdown beside a connection code: whole seconds left, rounded up so
//! the display reaches 0:00 exactly when the code expires, as `m:ss` (or
//! `h:mm:ss` for lifetimes of an hour or more).

use super::UnixMillis;

/// Whole seconds until `expires_at`, rounded up; 0 once it has passed.
pub fn remaining_secs(expires_at: UnixMillis, now: UnixMillis) -> u64 {
    let left_ms = expires_at.saturating_sub(now).max(0).unsigned_abs();
    left_ms.div_ceil(1000)
}

/// The countdown text: `15:00`, `0:09`, `1:00:00`.
pub fn countdown_text(expires_at: UnixMillis, now: UnixMillis) -> String {
    let secs = remaining_secs(expires_at, now);
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    if hours > 0 { format!("{hours}:{minutes:02}:{seconds:02}") } else { format!("{minutes}:{seconds:02}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn counts_down_in_whole_seconds() {
        let expires = 1_700_000_000_000 + 15 * MINUTE;
        let issued = expires - 15 * MINUTE;
        let cases = [
            (issued, "15:00"),
            (issued + 1, "15:00"),
            (issued + 999, "15:00"),
            (issued + 1000, "14:59"),
            (expires - 10 * 1000, "0:10"),
            (expires - 1, "0:01"),
            (expires, "0:00"),
            (expires + 5 * MINUTE, "0:00"),
        ];
        for (now, text) in cases {
            assert_eq!(countdown_text(expires, now), text, "at {}", now - issued);
        }
        assert_eq!(remaining_secs(expires, issued + 500), 900);
        assert_eq!(remaining_secs(expires, i64::MIN), u64::try_from(i64::MAX).expect("fits") / 1000 + 1);
    }

    #[test]
    fn long_lifetimes_show_hours() {
        assert_eq!(countdown_text(90 * MINUTE, 0), "1:30:00");
        assert_eq!(countdown_text(60 * MINUTE, 1), "1:00:00");
        assert_eq!(countdown_text(60 * MINUTE - 1000, 0), "59:59");
    }
}
