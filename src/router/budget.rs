//! The retry budget: how many retries the router may make, across groups and calls, as a share
//! of the calls that succeed (tower's `TpsBudget` semantics).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::now_ms;
use crate::error::{Error, Result};

/// Slots of the ring: the window moves in steps of `ttl / SLOTS`.
const SLOTS: usize = 10;

/// A slot whose epoch is ahead of a caller's by less than this many epochs is newer than the
/// caller's (which is then late and must not wipe it); any other epoch is older.
const NEWER: u32 = 1 << 16;

/// Parts per million: `retry_percent` is kept as an integer so the arithmetic is exact.
const PPM: u128 = 1_000_000;

/// A time-windowed budget of retries shared by every call of a router (or of several routers,
/// through one `Arc`), with the semantics of tower's `TpsBudget`.
///
/// Each [`deposit`](Self::deposit) (the router makes one for every routed call that succeeds)
/// earns `retry_percent` of a retry; each [`withdraw`](Self::withdraw) (one for every upstream
/// attempt of a call after its first: a retry in the same group or an attempt in a fallback
/// group) spends one. Deposits and withdrawals count for `ttl`, then expire. On top of the
/// deposits, `min_per_sec` retries a second are always allowed: over any `ttl` window the
/// router makes at most `min_per_sec × ttl + retry_percent × successes` retries.
///
/// The window is a ring of ten slots of `ttl / 10` each, one atomic per slot and counter: no
/// lock, no allocation. Time is the crate's clock, so tests with tokio's paused clock step
/// through windows with `tokio::time::advance`.
///
/// ```
/// use std::time::Duration;
/// use litellm::router::RetryBudget;
///
/// // 10 s window, 1 retry a second always allowed, plus 20 % of successes.
/// let budget = RetryBudget::new(Duration::from_secs(10), 1, 0.2)?;
/// assert_eq!(budget.balance(), 10);
/// for _ in 0..10 {
///     assert!(budget.withdraw());
/// }
/// assert!(!budget.withdraw(), "the floor is spent");
/// for _ in 0..5 {
///     budget.deposit();
/// }
/// assert!(budget.withdraw(), "five successes earned one retry");
/// assert!(!budget.withdraw());
/// assert!(RetryBudget::new(Duration::from_secs(10), 1, -0.5).is_err());
/// # Ok::<(), litellm::Error>(())
/// ```
#[derive(Debug)]
pub struct RetryBudget {
    ttl: Duration,
    min_per_sec: u32,
    retry_percent: f64,
    /// Width of one slot in milliseconds (`ttl / SLOTS`, at least 100 ms).
    slot_ms: u64,
    /// Retries always allowed per window, in parts per million of a retry.
    reserve_ppm: u128,
    /// `retry_percent` in parts per million.
    percent_ppm: u128,
    deposits: [Slot; SLOTS],
    withdrawals: [Slot; SLOTS],
}

impl Default for RetryBudget {
    /// tower's defaults: a 10 s window, 10 retries a second always allowed, and 20 % of the
    /// successes.
    fn default() -> Self {
        RetryBudget::build(Duration::from_secs(10), 10, 0.2)
    }
}

impl RetryBudget {
    /// The shortest window accepted.
    pub const MIN_TTL: Duration = Duration::from_secs(1);
    /// The longest window accepted.
    pub const MAX_TTL: Duration = Duration::from_secs(60);
    /// The largest `retry_percent` accepted (1,000 = ten retries per success).
    pub const MAX_RETRY_PERCENT: f64 = 1_000.0;

    /// A budget over a `ttl` window (1 s to 60 s) allowing `min_per_sec` retries a second
    /// whatever happens, plus `retry_percent` (a fraction: 0.2 = one retry per five successes;
    /// 0 to 1,000) of the successes in the window.
    ///
    /// A `ttl` outside 1–60 s, or a `retry_percent` that is negative, not finite or above
    /// 1,000, is a `Config` error. `min_per_sec: 0` with `retry_percent: 0.0` allows no retry
    /// at all.
    pub fn new(ttl: Duration, min_per_sec: u32, retry_percent: f64) -> Result<RetryBudget> {
        if !(Self::MIN_TTL..=Self::MAX_TTL).contains(&ttl) {
            return Err(Error::config(format!(
                "retry_budget: ttl {:.3} s is outside 1–60 s",
                ttl.as_secs_f64()
            )));
        }
        if !(retry_percent.is_finite() && (0.0..=Self::MAX_RETRY_PERCENT).contains(&retry_percent))
        {
            return Err(Error::config(format!(
                "retry_budget: retry_percent {retry_percent} is not a fraction from 0 to 1000 \
                 (e.g. 0.2 for 20 %)"
            )));
        }
        Ok(RetryBudget::build(ttl, min_per_sec, retry_percent))
    }

    /// A budget from values already checked.
    fn build(ttl: Duration, min_per_sec: u32, retry_percent: f64) -> RetryBudget {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        // `retry_percent` ≤ 1,000, so this is at most 10⁹: exact in f64 and in u128.
        let percent_ppm = (retry_percent * PPM as f64).round().max(0.0) as u128;
        RetryBudget {
            ttl,
            min_per_sec,
            retry_percent,
            slot_ms: (ttl_ms / SLOTS as u64).max(1),
            reserve_ppm: u128::from(min_per_sec) * u128::from(ttl_ms) * PPM / 1_000,
            percent_ppm,
            deposits: Default::default(),
            withdrawals: Default::default(),
        }
    }

    /// The window deposits and withdrawals count in.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Retries a second always allowed.
    pub fn min_per_sec(&self) -> u32 {
        self.min_per_sec
    }

    /// The share of deposits that may be spent on retries.
    pub fn retry_percent(&self) -> f64 {
        self.retry_percent
    }

    /// The slot `now` (Unix ms) falls in.
    fn epoch(&self, now: u64) -> u64 {
        now / self.slot_ms
    }

    /// Records a success: it earns `retry_percent` of a retry for the next `ttl`.
    pub fn deposit(&self) {
        let epoch = self.epoch(now_ms());
        self.deposits[slot_of(epoch)].add(epoch, 1);
    }

    /// Takes one retry from the budget: `true` when there was one to take. A refused
    /// withdrawal takes nothing. Concurrent withdrawals never overdraw the budget (two racing
    /// for the last retry may both be refused).
    pub fn withdraw(&self) -> bool {
        self.take().is_some()
    }

    /// [`withdraw`](Self::withdraw), returning what [`refund`](Self::refund) needs.
    pub(crate) fn take(&self) -> Option<Withdrawal> {
        let epoch = self.epoch(now_ms());
        let slot = &self.withdrawals[slot_of(epoch)];
        slot.add(epoch, 1);
        if self.available_ppm(epoch) >= 0 {
            Some(Withdrawal(epoch))
        } else {
            slot.sub(epoch, 1);
            None
        }
    }

    /// Gives back a withdrawal that was not spent (a retry allowed, then not made because no
    /// deployment could take it), in the slot it was counted in: nothing once that slot has
    /// expired (the withdrawal with it).
    pub(crate) fn refund(&self, w: Withdrawal) {
        self.withdrawals[slot_of(w.0)].sub(w.0, 1);
    }

    /// The retries that may be taken now (whole retries; 0 when the budget is spent).
    pub fn balance(&self) -> u64 {
        let epoch = self.epoch(now_ms());
        let ppm = self.available_ppm(epoch).max(0).unsigned_abs();
        u64::try_from(ppm / PPM).unwrap_or(u64::MAX)
    }

    /// Reserve plus the earned share of deposits minus withdrawals, in parts per million of a
    /// retry, over the window ending in `epoch`.
    fn available_ppm(&self, epoch: u64) -> i128 {
        let deposits = sum(&self.deposits, epoch);
        let withdrawals = sum(&self.withdrawals, epoch);
        let earned = self.reserve_ppm + self.percent_ppm * u128::from(deposits);
        let spent = u128::from(withdrawals) * PPM;
        // Both stay far below i128::MAX (≤ 2⁶⁴ × 10⁹ or so).
        i128::try_from(earned).unwrap_or(i128::MAX) - i128::try_from(spent).unwrap_or(i128::MAX)
    }
}

/// One retry taken from a [`RetryBudget`]: the slot it is counted in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Withdrawal(u64);

fn slot_of(epoch: u64) -> usize {
    (epoch % SLOTS as u64) as usize
}

/// Counts of the slots whose epoch lies in the window ending at `epoch`.
fn sum(slots: &[Slot; SLOTS], epoch: u64) -> u64 {
    slots.iter().map(|s| u64::from(s.get(epoch))).sum()
}

/// One slot of the ring: `(epoch, count)` packed in one atomic, the epoch's low 32 bits above
/// the count, so moving to a new epoch and counting are one compare-and-swap.
#[derive(Debug, Default)]
struct Slot(AtomicU64);

impl Slot {
    fn unpack(v: u64) -> (u32, u32) {
        ((v >> 32) as u32, v as u32)
    }

    fn pack(epoch: u64, count: u32) -> u64 {
        ((epoch as u32 as u64) << 32) | u64::from(count)
    }

    /// Adds `n` to the slot's count for `epoch` (starting over from 0 when the slot holds an
    /// older epoch; nothing when it already holds a newer one, which a delayed caller must not
    /// wipe).
    fn add(&self, epoch: u64, n: u32) {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            let (tag, count) = Self::unpack(cur);
            let next = match tag.wrapping_sub(epoch as u32) {
                0 => Self::pack(epoch, count.saturating_add(n)),
                // A few ring turns ahead: a caller that read the clock long ago.
                ahead if ahead < NEWER => return,
                // Older (or never written).
                _ => Self::pack(epoch, n),
            };
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Takes `n` from the slot's count for `epoch` (nothing once the slot holds another epoch).
    fn sub(&self, epoch: u64, n: u32) {
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |cur| {
                let (tag, count) = Self::unpack(cur);
                (tag == epoch as u32).then(|| Self::pack(epoch, count.saturating_sub(n)))
            });
    }

    /// The count, when the slot's epoch lies in the `SLOTS` epochs ending at `epoch`.
    fn get(&self, epoch: u64) -> u32 {
        let (tag, count) = Self::unpack(self.0.load(Ordering::Acquire));
        if (epoch as u32).wrapping_sub(tag) < SLOTS as u32 {
            count
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn budget(ttl_s: u64, min: u32, pct: f64) -> RetryBudget {
        RetryBudget::new(Duration::from_secs(ttl_s), min, pct).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn deposits_earn_a_share_of_retries() {
        let b = budget(10, 0, 0.2);
        assert_eq!(b.balance(), 0);
        assert!(!b.withdraw(), "nothing deposited, no floor");
        for _ in 0..4 {
            b.deposit();
        }
        assert_eq!(b.balance(), 0, "four successes are 0.8 of a retry");
        assert!(!b.withdraw());
        b.deposit();
        assert_eq!(b.balance(), 1);
        assert!(b.withdraw());
        assert!(!b.withdraw());
        for _ in 0..50 {
            b.deposit();
        }
        assert_eq!(b.balance(), 10);
        for _ in 0..10 {
            assert!(b.withdraw());
        }
        assert!(!b.withdraw());
        assert_eq!(b.balance(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn percentages_above_one_and_zero() {
        let b = budget(5, 0, 2.5);
        b.deposit();
        b.deposit();
        assert_eq!(b.balance(), 5, "2.5 retries per success");
        let none = budget(5, 0, 0.0);
        for _ in 0..100 {
            none.deposit();
        }
        assert!(!none.withdraw(), "0 % and no floor: never a retry");
        // 0.1 × 10 is exactly one retry (no floating-point shortfall).
        let tenth = budget(5, 0, 0.1);
        for _ in 0..10 {
            tenth.deposit();
        }
        assert!(tenth.withdraw());
        assert!(!tenth.withdraw());
    }

    #[tokio::test(start_paused = true)]
    async fn min_per_sec_is_a_floor_over_the_window() {
        let b = budget(2, 3, 0.2);
        assert_eq!(b.balance(), 6, "3 a second over 2 s");
        for _ in 0..6 {
            assert!(b.withdraw());
        }
        assert!(!b.withdraw());
        // Refused withdrawals took nothing: one deposit × 5 earns exactly one.
        for _ in 0..5 {
            b.deposit();
        }
        assert!(b.withdraw());
        assert!(!b.withdraw());
        // Once the window has passed, the floor is whole again (and the deposits are gone).
        tokio::time::advance(Duration::from_millis(2_001)).await;
        assert_eq!(b.balance(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn deposits_and_withdrawals_expire_slot_by_slot() {
        let b = budget(10, 0, 1.0);
        for _ in 0..4 {
            b.deposit();
        }
        tokio::time::advance(Duration::from_secs(5)).await;
        for _ in 0..6 {
            b.deposit();
        }
        assert_eq!(b.balance(), 10);
        assert!(b.withdraw());
        assert!(b.withdraw());
        assert_eq!(b.balance(), 8);
        // 10.5 s after the first deposits: they have expired, the later ones count.
        tokio::time::advance(Duration::from_millis(5_500)).await;
        assert_eq!(b.balance(), 4, "6 deposits − 2 withdrawals");
        // 15.5 s: everything has expired, withdrawals too.
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(b.balance(), 0);
        b.deposit();
        assert_eq!(b.balance(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn refunds_give_back_a_withdrawal_in_its_own_slot() {
        let b = budget(10, 0, 1.0);
        b.deposit();
        b.deposit();
        let w = b.take().unwrap();
        assert_eq!(b.balance(), 1);
        // A slot (1 s) later, the refund still finds the withdrawal.
        tokio::time::advance(Duration::from_millis(1_500)).await;
        b.refund(w);
        assert_eq!(b.balance(), 2);
        // A refund never goes below zero.
        b.refund(w);
        assert_eq!(b.balance(), 2);
        // Once its slot has expired, a refund does nothing (the withdrawal expired with it).
        let w = b.take().unwrap();
        tokio::time::advance(Duration::from_secs(11)).await;
        b.refund(w);
        assert_eq!(b.balance(), 0, "the deposits have expired too");
    }

    #[test]
    fn bad_values_are_refused() {
        for (ttl, pct) in [
            (Duration::from_millis(999), 0.2),
            (Duration::from_secs(61), 0.2),
            (Duration::ZERO, 0.2),
            (Duration::from_secs(10), -0.1),
            (Duration::from_secs(10), f64::NAN),
            (Duration::from_secs(10), f64::INFINITY),
            (Duration::from_secs(10), 1_000.5),
        ] {
            let e = RetryBudget::new(ttl, 10, pct).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config, "{ttl:?} {pct}");
        }
        assert!(RetryBudget::new(Duration::from_secs(1), 0, 0.0).is_ok());
        assert!(RetryBudget::new(Duration::from_secs(60), u32::MAX, 1_000.0).is_ok());
        let d = RetryBudget::default();
        assert_eq!(
            (d.ttl(), d.min_per_sec(), d.retry_percent()),
            (Duration::from_secs(10), 10, 0.2)
        );
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let b = RetryBudget::new(Duration::from_secs(60), u32::MAX, 1_000.0).unwrap();
        assert_eq!(b.balance(), u64::from(u32::MAX) * 60);
        assert!(b.withdraw());
        b.deposit();
    }

    #[test]
    fn slots_restart_and_never_overwrite_a_newer_epoch() {
        let fresh = Slot::default();
        fresh.add(3_500_000_000, 1);
        assert_eq!(
            fresh.get(3_500_000_000),
            1,
            "a never-written slot takes any epoch"
        );
        let s = Slot::default();
        s.add(7, 2);
        s.add(7, 1);
        assert_eq!(s.get(7), 3);
        assert_eq!(s.get(16), 3, "still inside the window");
        assert_eq!(s.get(17), 0, "expired");
        s.add(17, 1);
        assert_eq!(s.get(17), 1);
        s.add(7, 5);
        assert_eq!(s.get(17), 1, "a delayed caller does not wipe a newer epoch");
        s.sub(7, 1);
        assert_eq!(s.get(17), 1);
        s.sub(17, 5);
        assert_eq!(s.get(17), 0);
    }

    #[test]
    fn concurrent_withdrawals_never_overdraw() {
        let b = Arc::new(RetryBudget::new(Duration::from_secs(60), 10, 0.0).unwrap());
        let granted: usize = (0..8)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || (0..1_000).filter(|_| b.withdraw()).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .sum();
        // Racing withdrawals may refuse each other, never overdraw: what is left is exactly
        // what was not granted (the window is 60 s, nothing expires meanwhile).
        assert!(granted <= 600, "{granted}");
        let rest = std::iter::from_fn(|| b.withdraw().then_some(())).count();
        assert_eq!(granted + rest, 600);
    }
}
