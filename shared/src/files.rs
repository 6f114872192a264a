//! The `files` tool: moving files between the controller and the agent over
//! their own data channel. [`wire`] is what goes over it, [`flow`] the
//! window that keeps either end from holding more than a few megabytes of a
//! file, [`rate`] the speed and time left, and [`name`] which names may be
//! written or read on the computer.

pub mod flow;
pub mod name;
pub mod rate;
pub mod wire;

/// A size for people: "512 B", "1.5 KiB", "2.0 GiB".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Precision beyond one decimal place is not wanted here.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(2 << 30), "2.0 GiB");
        assert_eq!(human_size(u64::MAX), "16384.0 PiB");
    }
}
