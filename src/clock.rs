//! The crate's clock for cooldowns, minute windows, budgets and periods: Unix milliseconds
//! that never jump when the system clock is set, and that follow `tokio::time::pause` and
//! `advance` in the runtime that reads them.
//!
//! The wall clock and a monotonic instant are read once per process, as a pair. "Now" is that
//! wall-clock reading plus the time since that instant, measured by tokio's clock of the
//! current runtime (which is the monotonic clock unless the runtime's time is paused). The
//! pair is taken from `std`, never from a runtime, so a paused runtime that happens to read the
//! clock first cannot shift it for every other runtime of the process (the cause of a budget
//! test that failed in 40 % of parallel runs). Within a paused runtime, time moves only as
//! that runtime's clock is advanced, so tests can step through minutes and periods.
//!
//! It also converts days since the epoch to and from UTC calendar dates (budget periods,
//! SigV4 dates, RFC 3339 timestamps).

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The (instant, Unix milliseconds) pair read once per process.
fn base() -> (Instant, u64) {
    static BASE: OnceLock<(Instant, u64)> = OnceLock::new();
    *BASE.get_or_init(|| {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        (Instant::now(), unix)
    })
}

/// Milliseconds since the Unix epoch, now (see the module docs).
pub(crate) fn now_ms() -> u64 {
    let (at, unix_ms) = base();
    let now = tokio::time::Instant::now().into_std();
    // A paused runtime's clock may stand before the base (it was paused earlier than the base
    // was read), so the difference is signed.
    match now.checked_duration_since(at) {
        Some(ahead) => unix_ms.saturating_add(u64::try_from(ahead.as_millis()).unwrap_or(u64::MAX)),
        None => unix_ms.saturating_sub(
            u64::try_from(at.saturating_duration_since(now).as_millis()).unwrap_or(u64::MAX),
        ),
    }
}

/// `ms` (Unix milliseconds) as a `SystemTime`.
pub(crate) fn system_time(ms: u64) -> SystemTime {
    UNIX_EPOCH + std::time::Duration::from_millis(ms)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01, proleptic Gregorian (the inverse of
/// [`civil_from_days`]; `m` in 1–12).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn follows_the_wall_clock_outside_a_runtime() {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(now_ms().abs_diff(wall) < 1_000);
    }

    #[test]
    fn a_paused_runtime_moves_only_its_own_clock() {
        let paused = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        // The paused runtime reads first and jumps two hours ahead.
        let (before, after) = paused.block_on(async {
            let before = now_ms();
            tokio::time::advance(Duration::from_secs(7_200)).await;
            (before, now_ms())
        });
        assert!(after - before >= 7_199_999, "{before} {after}");
        // Another runtime (and plain code) still sees the real time, moving on.
        let real = now_ms();
        assert!(real.abs_diff(before) < 1_000, "{real} vs {before}");
        let other = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let later = other.block_on(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            now_ms()
        });
        assert!(
            later >= real + 15 && later < real + 1_000,
            "{later} vs {real}"
        );
    }
}
