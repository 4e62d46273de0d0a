//! The Markdown tables, one per metric, every arm a row, ratios to R0 (and to Python LiteLLM).

use std::time::Duration;

use litellm_perf::report::{Table, num, ratio, signed, thousands};

use crate::arms::Arm;
use crate::measure::{LatencyResult, StreamResult, ThroughputResult};
use crate::memory::MemoryResult;

fn label(key: &str, streaming: bool) -> String {
    Arm::from_key(key)
        .map(|a| a.label(streaming).to_string())
        .unwrap_or_else(|| key.to_string())
}

fn py(p: &serde_json::Value, arm: &str, field: &str) -> f64 {
    p.get(arm)
        .and_then(|a| a.get(field))
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(f64::NAN)
}

/// Latency at concurrency 1.
pub fn latency(results: &[LatencyResult], python: Option<&serde_json::Value>) -> String {
    let Some(r0) = results.iter().find(|r| r.arm == "r0") else {
        return String::new();
    };
    let mut t = Table::new([
        "arm",
        "p50 µs",
        "p99 µs",
        "p99.9 µs",
        "added p50",
        "added p99",
        "added p99.9",
        "p50 ÷ R0",
        "calls",
    ]);
    for r in results {
        let l = &r.latency;
        t.row([
            label(r.arm, false),
            num(l.p50_us, 1),
            num(l.p99_us, 1),
            num(l.p999_us, 1),
            signed(l.p50_us - r0.latency.p50_us, 1),
            signed(l.p99_us - r0.latency.p99_us, 1),
            signed(l.p999_us - r0.latency.p999_us, 1),
            ratio(l.p50_us / r0.latency.p50_us),
            format!(
                "{}{}",
                thousands(l.n),
                if r.cost.errors > 0 {
                    format!(" ({} errors)", r.cost.errors)
                } else {
                    String::new()
                }
            ),
        ]);
    }
    let mut s = String::from(
        "### Latency at concurrency 1\n\nOne call at a time, arms interleaved in rounds; \
         latency of the whole call (request built, sent, answer decoded); \"added\" is the \
         difference with R0 at the same percentile.\n\n",
    );
    s.push_str(&t.render());
    if let Some(p) = python {
        s.push('\n');
        s.push_str(&python_table(p, results));
    }
    s.push('\n');
    s
}

fn python_table(p: &serde_json::Value, results: &[LatencyResult]) -> String {
    let httpx50 = py(p, "httpx", "p50_us");
    let httpx99 = py(p, "httpx", "p99_us");
    let lite50 = py(p, "litellm_router", "p50_us");
    let lite99 = py(p, "litellm_router", "p99_us");
    let mut t = Table::new([
        "Python arm",
        "p50 µs",
        "p99 µs",
        "p99.9 µs",
        "added p50 over httpx",
        "added p99 over httpx",
        "CPU-µs/call",
    ]);
    for (k, name) in [
        ("httpx", "raw httpx (AsyncClient + json)"),
        ("litellm_router", "Python LiteLLM `Router.acompletion`"),
    ] {
        t.row([
            name.to_string(),
            num(py(p, k, "p50_us"), 1),
            num(py(p, k, "p99_us"), 1),
            num(py(p, k, "p999_us"), 1),
            signed(py(p, k, "p50_us") - httpx50, 1),
            signed(py(p, k, "p99_us") - httpx99, 1),
            num(py(p, k, "cpu_us"), 1),
        ]);
    }
    let version = p
        .get("versions")
        .and_then(|v| v.get("litellm"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("?");
    let mut s = format!("Python LiteLLM {version}, same upstream, concurrency 1:\n\n");
    s.push_str(&t.render());
    let r0 = results.iter().find(|r| r.arm == "r0");
    if let (Some(r0), Some(router)) = (r0, results.iter().find(|r| r.arm == "router-1")) {
        let added = router.latency.p50_us - r0.latency.p50_us;
        let added99 = router.latency.p99_us - r0.latency.p99_us;
        s.push_str(&format!(
            "\nRatio to Python LiteLLM: its Router adds {} µs p50 / {} µs p99 over raw httpx; \
             the Rust `Router` (1 deployment) adds {} µs p50 / {} µs p99 over R0 \
             ({} less at p50). Whole call: Python LiteLLM {} µs p50 vs Rust `Router` {} µs \
             ({} faster).\n",
            num(lite50 - httpx50, 0),
            num(lite99 - httpx99, 0),
            num(added, 1),
            num(added99, 1),
            if added > 0.0 {
                ratio((lite50 - httpx50) / added)
            } else {
                "∞×".into()
            },
            num(lite50, 0),
            num(router.latency.p50_us, 1),
            ratio(lite50 / router.latency.p50_us),
        ));
    }
    s
}

/// Python only (no Rust latency suite in this run).
pub fn python_only(p: &serde_json::Value) -> String {
    format!("### Python LiteLLM\n\n{}\n", python_table(p, &[]))
}

/// CPU and allocations per call.
pub fn cost(results: &[LatencyResult]) -> String {
    let Some(r0) = results.iter().find(|r| r.arm == "r0") else {
        return String::new();
    };
    let mut t = Table::new([
        "arm",
        "CPU-µs/call",
        "added",
        "÷ R0",
        "allocations/call",
        "added",
        "KiB allocated/call",
    ]);
    for r in results {
        let c = &r.cost;
        t.row([
            label(r.arm, false),
            num(c.cpu_us, 1),
            signed(c.cpu_us - r0.cost.cpu_us, 1),
            ratio(c.cpu_us / r0.cost.cpu_us),
            num(c.allocs, 0),
            signed(c.allocs - r0.cost.allocs, 0),
            num(c.alloc_bytes / 1024.0, 1),
        ]);
    }
    format!(
        "### Client CPU and allocations per call\n\nSame calls as the latency table: \
         getrusage(RUSAGE_SELF) user+system time of the client process over the arm's calls / \
         calls; allocations counted by the bench's global allocator (alloc + realloc).\n\n{}\n",
        t.render()
    )
}

/// The throughput ladder.
pub fn throughput(results: &[ThroughputResult], bound: Duration) -> String {
    let per_cpu = |r: &ThroughputResult| {
        r.at_max
            .as_ref()
            .map(|s| s.rate / s.cpu_load)
            .unwrap_or(f64::NAN)
    };
    let r0 = results.iter().find(|r| r.arm == "r0");
    let r0_rate = r0.map(|r| r.max_rate).unwrap_or(f64::NAN);
    let r0_per_cpu = r0.map(per_cpu).unwrap_or(f64::NAN);
    let mut t = Table::new([
        "arm",
        "max calls/s",
        "÷ R0",
        "p50 µs there",
        "p99 µs there",
        "client CPU there",
        "calls per client CPU-second there",
        "÷ R0",
    ]);
    for r in results {
        let (p50, p99, cpu) = r
            .at_max
            .as_ref()
            .map(|s| (s.latency.p50_us, s.latency.p99_us, s.cpu_load))
            .unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        t.row([
            label(r.arm, false),
            thousands(r.max_rate.round() as u64),
            ratio(r.max_rate / r0_rate),
            num(p50, 0),
            num(p99, 0),
            format!("{}%", num(cpu * 100.0, 0)),
            thousands(per_cpu(r).round() as u64),
            ratio(per_cpu(r) / r0_per_cpu),
        ]);
    }
    format!(
        "### Throughput on one client core\n\nOpen loop: calls are started at a fixed rate \
         whatever the answers do, latency counted from each call's intended start (so a \
         stalled client is charged for the calls it should have started). Highest rate whose \
         p99 ≤ {} ms with no failure (a failing step is retried once; best of the ladders); \
         rates ×1.4, then ×1.06 above the last pass; the client is one current-thread tokio \
         runtime. \"Calls per client CPU-second\" is that rate / the client's CPU load there: \
         what one fully busy core would serve at that batching. The cache-hit arm is left out \
         (it never reaches the server).\n\n{}\n",
        bound.as_secs_f64() * 1e3,
        t.render()
    )
}

/// A streaming table.
pub fn streaming(results: &[StreamResult], gap: Duration) -> String {
    let Some(r0) = results.iter().find(|r| r.arm == "r0") else {
        return String::new();
    };
    let mut t = Table::new([
        "arm",
        "TTFT p50 µs",
        "added",
        "TTFT p99 µs",
        "added",
        "gap/chunk p50 µs",
        "added",
        "whole stream p50 µs",
        "added",
        "CPU-µs/chunk",
        "÷ R0",
        "allocations/stream",
    ]);
    for r in results {
        let per_chunk = r.cost.cpu_us / f64::from(r.events);
        let r0_chunk = r0.cost.cpu_us / f64::from(r0.events);
        t.row([
            label(r.arm, true),
            num(r.ttft.p50_us, 1),
            signed(r.ttft.p50_us - r0.ttft.p50_us, 1),
            num(r.ttft.p99_us, 1),
            signed(r.ttft.p99_us - r0.ttft.p99_us, 1),
            num(r.chunk_gap.p50_us, 2),
            signed(r.chunk_gap.p50_us - r0.chunk_gap.p50_us, 2),
            num(r.total.p50_us, 1),
            signed(r.total.p50_us - r0.total.p50_us, 1),
            num(per_chunk, 2),
            ratio(per_chunk / r0_chunk),
            num(r.cost.allocs, 0),
        ]);
    }
    let title = if gap.is_zero() {
        "### Streaming, 7 chunks, no gap".to_string()
    } else {
        format!(
            "### Streaming, 7 chunks, {} µs asked between chunks (R0's gap/chunk shows what the \
             upstream's timer delivered)",
            gap.as_micros()
        )
    };
    format!(
        "{title}\n\nOne stream at a time, arms interleaved; each stream: a role chunk, 5 content \
         chunks, a finish chunk, the usage chunk, `[DONE]`. TTFT: call start → first chunk with \
         content. Gap/chunk: (end of stream − first content chunk) / 6. CPU per chunk: \
         client CPU / 8 SSE events.\n\n{}\n",
        t.render()
    )
}

/// Memory per open stream.
pub fn memory(results: &[MemoryResult]) -> String {
    let mut t = Table::new([
        "arm",
        "streams open",
        "RSS before MiB",
        "RSS open MiB",
        "KiB/stream",
        "vs R0 KiB",
        "time to open all s",
        "CPU-µs/open",
    ]);
    for r in results {
        let r0 = results
            .iter()
            .find(|x| x.arm == "r0" && x.streams == r.streams)
            .map(|x| x.bytes_per_stream)
            .unwrap_or(f64::NAN);
        t.row([
            label(&r.arm, true),
            format!(
                "{} / {}",
                thousands(r.open as u64),
                thousands(r.streams as u64)
            ),
            num(r.rss_before_kib as f64 / 1024.0, 1),
            num(r.rss_open_kib as f64 / 1024.0, 1),
            num(r.bytes_per_stream / 1024.0, 1),
            signed((r.bytes_per_stream - r0) / 1024.0, 1),
            num(r.open_secs, 2),
            num(r.cpu_secs * 1e6 / r.open.max(1) as f64, 0),
        ]);
    }
    format!(
        "### Memory per open stream\n\nA fresh client process per row (current-thread runtime, one \
         core) opens the streams, 200 at a time, reads each one's first chunk and holds it \
         while the upstream waits 10 minutes before the next chunk; (VmRSS with all open − \
         VmRSS before) / streams.\n\n{}\n",
        t.render()
    )
}
