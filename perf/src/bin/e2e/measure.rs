//! Latency at concurrency 1, the open-loop throughput ladder, and streaming.
//!
//! Everything runs on one current-thread tokio runtime (one core's worth of client), inside a
//! `LocalSet`; the upstream is another process.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use litellm_perf::alloc::{self, AllocCount};
use litellm_perf::report::{self, Quantiles};
use litellm_perf::sys;
use serde::Serialize;

use crate::arms::{Arm, Clients};

/// What one arm cost over its measured calls.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Cost {
    /// Measured calls.
    pub calls: u64,
    /// Calls that failed (not in the histograms).
    pub errors: u64,
    /// Client CPU (user + system, whole process) per call, µs.
    pub cpu_us: f64,
    /// Allocation events per call.
    pub allocs: f64,
    /// Bytes allocated per call.
    pub alloc_bytes: f64,
}

#[derive(Default)]
struct Acc {
    calls: u64,
    errors: u64,
    cpu: Duration,
    alloc: AllocCount,
}

impl Acc {
    fn cost(&self) -> Cost {
        let n = self.calls.max(1) as f64;
        Cost {
            calls: self.calls,
            errors: self.errors,
            cpu_us: self.cpu.as_secs_f64() * 1e6 / n,
            allocs: self.alloc.allocs as f64 / n,
            alloc_bytes: self.alloc.bytes as f64 / n,
        }
    }
}

/// Latency and cost of one arm at concurrency 1.
#[derive(Clone, Debug, Serialize)]
pub struct LatencyResult {
    /// Arm key.
    pub arm: &'static str,
    /// Latency of a whole call.
    pub latency: Quantiles,
    /// CPU and allocations.
    pub cost: Cost,
}

/// Runs `rounds` rounds of `batch` calls per arm, arms interleaved (A B C … A B C …), after a
/// warm-up of `warmup` calls per arm.
pub async fn latency(
    clients: &Clients,
    arms: &[Arm],
    warmup: u64,
    rounds: u32,
    batch: u64,
) -> Vec<LatencyResult> {
    let mut seq = 0u64;
    for &arm in arms {
        for _ in 0..warmup {
            seq += 1;
            if let Err(e) = clients.chat(arm, seq).await {
                panic!("warm-up of {}: {e}", arm.key());
            }
        }
    }
    let mut hists: HashMap<Arm, Histogram<u64>> =
        arms.iter().map(|&a| (a, report::histogram())).collect();
    let mut accs: HashMap<Arm, Acc> = arms.iter().map(|&a| (a, Acc::default())).collect();
    for round in 0..rounds {
        for &arm in arms {
            let h = hists.get_mut(&arm).expect("histogram");
            let mut errors = 0;
            let cpu0 = sys::cpu_time();
            let a0 = alloc::snapshot();
            for _ in 0..batch {
                seq += 1;
                let t0 = Instant::now();
                match clients.chat(arm, seq).await {
                    Ok(len) if len > 0 => report::record(h, t0.elapsed()),
                    Ok(_) => errors += 1,
                    Err(e) => {
                        errors += 1;
                        if errors == 1 {
                            eprintln!("  {}: {e}", arm.key());
                        }
                    }
                }
            }
            let acc = accs.get_mut(&arm).expect("acc");
            acc.alloc += alloc::snapshot() - a0;
            acc.cpu += sys::cpu_time() - cpu0;
            acc.calls += batch;
            acc.errors += errors;
        }
        eprint!("\r  latency: round {}/{rounds}", round + 1);
    }
    eprintln!();
    arms.iter()
        .map(|&a| LatencyResult {
            arm: a.key(),
            latency: Quantiles::of(&hists[&a]),
            cost: accs[&a].cost(),
        })
        .collect()
}

// ---- throughput --------------------------------------------------------------------------

/// One step of the ladder: `rate` calls/s, open loop, for the step's duration.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// Arm key.
    pub arm: &'static str,
    /// Intended rate.
    pub rate: f64,
    /// Latency from the intended send time.
    pub latency: Quantiles,
    /// Calls that failed or had not finished by the drain deadline.
    pub failed: u64,
    /// Client CPU used / wall time of the step (1.0 = one core busy).
    pub cpu_load: f64,
    /// p99 within the bound and no failure.
    pub pass: bool,
    /// The first error seen, if any.
    pub first_error: Option<String>,
}

/// A step stops starting calls when more than this many are in flight.
const MAX_IN_FLIGHT: u64 = 512;

async fn open_loop(clients: Rc<Clients>, arm: Arm, rate: f64, secs: f64, bound: Duration) -> Step {
    let n = (rate * secs).ceil() as u64;
    let skip = n / 10; // the first tenth warms connections up and is not recorded
    let period = 1.0 / rate;
    let hist = Rc::new(RefCell::new(report::histogram()));
    let failed = Rc::new(Cell::new(0u64));
    let done = Rc::new(Cell::new(0u64));
    let first_error: Rc<RefCell<Option<String>>> = Rc::new(RefCell::new(None));
    let mut handles = Vec::with_capacity(n as usize);
    let cpu0 = sys::cpu_time();
    let wall0 = Instant::now();
    let start = Instant::now() + Duration::from_millis(2);
    let mut abandoned = 0;
    for i in 0..n {
        let intended = start + Duration::from_secs_f64(i as f64 * period);
        if intended > Instant::now() {
            tokio::time::sleep_until(intended.into()).await;
        }
        // Far behind: every queued call would open its own connection (HTTP/1.1), and a few
        // such steps exhaust the ephemeral ports. The step has failed anyway.
        if i - done.get() > MAX_IN_FLIGHT {
            abandoned = n - i;
            break;
        }
        let (clients, hist, failed, done, first_error) = (
            clients.clone(),
            hist.clone(),
            failed.clone(),
            done.clone(),
            first_error.clone(),
        );
        handles.push(tokio::task::spawn_local(async move {
            let r = clients.chat(arm, i).await;
            let lat = intended.elapsed();
            match r {
                Ok(len) if len > 0 => {
                    if i >= skip {
                        report::record(&mut hist.borrow_mut(), lat);
                    }
                }
                other => {
                    failed.set(failed.get() + 1);
                    let mut fe = first_error.borrow_mut();
                    if fe.is_none() {
                        *fe = Some(match other {
                            Err(e) => e,
                            Ok(_) => "empty answer".into(),
                        });
                    }
                }
            }
            done.set(done.get() + 1);
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while done.get() < n - abandoned && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let unfinished = (n - abandoned) - done.get();
    for h in &handles {
        h.abort();
    }
    for h in handles {
        let _ = h.await;
    }
    let cpu_load = (sys::cpu_time() - cpu0).as_secs_f64() / wall0.elapsed().as_secs_f64();
    let latency = Quantiles::of(&hist.borrow());
    let failed = failed.get() + unfinished + abandoned;
    let mut first_error = first_error.borrow_mut().take();
    if abandoned > 0 {
        first_error = Some(format!(
            "more than {MAX_IN_FLIGHT} calls in flight: the last {abandoned} were not started"
        ));
    }
    if first_error.is_none() && unfinished > 0 {
        first_error = Some(format!(
            "{unfinished} calls unfinished 2 s after the last start"
        ));
    }
    Step {
        arm: arm.key(),
        rate,
        latency,
        failed,
        cpu_load,
        pass: failed == 0 && latency.p99_us <= bound.as_secs_f64() * 1e6,
        first_error,
    }
}

/// The highest rate each arm sustained, with the steps that decided it.
#[derive(Clone, Debug, Serialize)]
pub struct ThroughputResult {
    /// Arm key.
    pub arm: &'static str,
    /// Highest passing rate (calls/s), 0 when none passed.
    pub max_rate: f64,
    /// The passing step at that rate.
    pub at_max: Option<Step>,
    /// Every step run.
    pub steps: Vec<Step>,
}

/// A step that fails is run once more before the arm is dropped (the machine is shared).
async fn step_twice(
    clients: &Rc<Clients>,
    arm: Arm,
    rate: f64,
    secs: f64,
    bound: Duration,
) -> Vec<Step> {
    let first = open_loop(clients.clone(), arm, rate, secs, bound).await;
    if first.pass {
        return vec![first];
    }
    let second = open_loop(clients.clone(), arm, rate, secs, bound).await;
    vec![first, second]
}

/// The settings of the rate ladder.
#[derive(Clone, Copy, Debug)]
pub struct Ladder {
    /// First rate, calls/s.
    pub start: f64,
    /// Factor between coarse steps.
    pub coarse: f64,
    /// Factor between fine steps.
    pub fine: f64,
    /// Seconds per step.
    pub secs: f64,
    /// p99 bound of a passing step.
    pub bound: Duration,
    /// No step above this rate.
    pub max_rate: f64,
}

/// The open-loop rate ladder: coarse steps (×`coarse`) from `start` with every arm still
/// passing run in turn at each rate, then fine steps (×`fine`) above each arm's last pass.
pub async fn throughput(
    clients: Rc<Clients>,
    arms: &[Arm],
    ladder: Ladder,
) -> Vec<ThroughputResult> {
    let Ladder {
        start,
        coarse,
        fine,
        secs,
        bound,
        max_rate,
    } = ladder;
    let mut results: Vec<ThroughputResult> = arms
        .iter()
        .map(|a| ThroughputResult {
            arm: a.key(),
            max_rate: 0.0,
            at_max: None,
            steps: Vec::new(),
        })
        .collect();
    // warm every pool at a low rate
    for &arm in arms {
        open_loop(clients.clone(), arm, start / 2.0, 0.3, bound).await;
    }
    let mut active: Vec<usize> = (0..arms.len()).collect();
    let mut rate = start;
    while !active.is_empty() && rate <= max_rate {
        let mut still = Vec::new();
        for &i in &active {
            let steps = step_twice(&clients, arms[i], rate, secs, bound).await;
            let last = steps.last().cloned().expect("a step");
            eprintln!(
                "  throughput {:>13} {:>8.0}/s p99 {:>9.1} µs cpu {:.2} {}",
                arms[i].key(),
                rate,
                last.latency.p99_us,
                last.cpu_load,
                if last.pass { "pass" } else { "FAIL" }
            );
            if let Some(e) = &last.first_error {
                eprintln!("    {} failed: {e}", last.failed);
            }
            results[i].steps.extend(steps);
            if last.pass {
                results[i].max_rate = rate;
                results[i].at_max = Some(last);
                still.push(i);
            }
        }
        active = still;
        rate *= coarse;
    }
    // fine steps between each arm's last coarse pass and its first coarse failure
    let ceiling: Vec<f64> = results.iter().map(|r| r.max_rate * coarse).collect();
    let mut next: Vec<(usize, f64)> = (0..arms.len())
        .filter(|&i| results[i].max_rate > 0.0 && results[i].max_rate * coarse <= max_rate)
        .map(|i| (i, results[i].max_rate * fine))
        .collect();
    while !next.is_empty() {
        let mut still = Vec::new();
        for &(i, r) in &next {
            if r >= ceiling[i] * 0.999 {
                continue;
            }
            let steps = step_twice(&clients, arms[i], r, secs, bound).await;
            let last = steps.last().cloned().expect("a step");
            eprintln!(
                "  throughput {:>13} {:>8.0}/s p99 {:>9.1} µs cpu {:.2} {} (fine)",
                arms[i].key(),
                r,
                last.latency.p99_us,
                last.cpu_load,
                if last.pass { "pass" } else { "FAIL" }
            );
            results[i].steps.extend(steps);
            if last.pass {
                results[i].max_rate = r;
                results[i].at_max = Some(last);
                still.push((i, r * fine));
            }
        }
        next = still;
    }
    results
}

// ---- streaming ---------------------------------------------------------------------------

/// A streaming arm's figures.
#[derive(Clone, Debug, Serialize)]
pub struct StreamResult {
    /// Arm key.
    pub arm: &'static str,
    /// Call start → first chunk with content.
    pub ttft: Quantiles,
    /// (end − first token) / (chunks − 1): the mean gap between chunks as the caller sees it.
    pub chunk_gap: Quantiles,
    /// Call start → end of stream.
    pub total: Quantiles,
    /// CPU and allocations per call (a call is one whole stream).
    pub cost: Cost,
    /// SSE events the server sent per call (chunks + usage chunk).
    pub events: u32,
    /// Items the client's stream yielded per call (its own event model).
    pub items: u32,
}

/// Streams at concurrency 1, arms interleaved in rounds.
pub async fn streaming(
    clients: &Clients,
    arms: &[Arm],
    warmup: u64,
    rounds: u32,
    batch: u64,
    chunks: u32,
) -> Vec<StreamResult> {
    let mut seq = 0u64;
    for &arm in arms {
        for _ in 0..warmup {
            seq += 1;
            if let Err(e) = clients.stream(arm, seq).await {
                panic!("stream warm-up of {}: {e}", arm.key());
            }
        }
    }
    struct H {
        ttft: Histogram<u64>,
        gap: Histogram<u64>,
        total: Histogram<u64>,
        acc: Acc,
        items: u32,
    }
    let mut hs: HashMap<Arm, H> = arms
        .iter()
        .map(|&a| {
            (
                a,
                H {
                    ttft: report::histogram(),
                    gap: report::histogram(),
                    total: report::histogram(),
                    acc: Acc::default(),
                    items: 0,
                },
            )
        })
        .collect();
    for round in 0..rounds {
        for &arm in arms {
            let h = hs.get_mut(&arm).expect("histograms");
            let cpu0 = sys::cpu_time();
            let a0 = alloc::snapshot();
            for _ in 0..batch {
                seq += 1;
                let t0 = Instant::now();
                match clients.stream(arm, seq).await {
                    Ok(t) => {
                        h.items = t.items;
                        report::record(&mut h.ttft, t.first_token - t0);
                        report::record(
                            &mut h.gap,
                            (t.end - t.first_token) / chunks.saturating_sub(1).max(1),
                        );
                        report::record(&mut h.total, t.end - t0);
                    }
                    Err(e) => {
                        if h.acc.errors == 0 {
                            eprintln!("  {}: {e}", arm.key());
                        }
                        h.acc.errors += 1;
                    }
                }
            }
            h.acc.alloc += alloc::snapshot() - a0;
            h.acc.cpu += sys::cpu_time() - cpu0;
            h.acc.calls += batch;
        }
        eprint!("\r  streaming: round {}/{rounds}", round + 1);
    }
    eprintln!();
    arms.iter()
        .map(|&a| {
            let h = &hs[&a];
            StreamResult {
                arm: a.key(),
                ttft: Quantiles::of(&h.ttft),
                chunk_gap: Quantiles::of(&h.gap),
                total: Quantiles::of(&h.total),
                cost: h.acc.cost(),
                events: chunks + 1,
                items: h.items,
            }
        })
        .collect()
}
