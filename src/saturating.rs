//! Counters that stop at their maximum instead of wrapping: totals fed by numbers a vendor or
//! a caller reports (tokens, spend) must never roll over to small values.

use std::sync::atomic::{AtomicU64, Ordering};

/// Adds `n` to `counter`, stopping at `u64::MAX`.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    // One compare-and-swap when uncontended, like `fetch_add`.
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_add(n))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_maximum() {
        let c = AtomicU64::new(u64::MAX - 1);
        add(&c, 5);
        assert_eq!(c.load(Ordering::Relaxed), u64::MAX);
        add(&c, u64::MAX);
        assert_eq!(c.load(Ordering::Relaxed), u64::MAX);
    }
}
