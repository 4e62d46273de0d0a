//! End-to-end load benchmark of the `litellm` crate against a loopback upstream.
//!
//! ```sh
//! cargo run --release -p litellm-perf --bin e2e            # every suite, ≈ 7 minutes
//! cargo run --release -p litellm-perf --bin e2e -- latency # one suite
//! cargo run --release -p litellm-perf --bin e2e -- --quick # a smoke run, seconds
//! target/release/e2e loop client 20000                      # one arm alone, for profilers
//! ```
//!
//! Suites: `latency` (concurrency 1: added latency over R0, CPU-µs and allocations per call),
//! `python` (Python LiteLLM, when `target/pylitellm` exists), `throughput` (open-loop rate
//! ladder on one client thread), `stream` (time to first token, per-chunk gap, CPU per chunk;
//! with and without a gap between chunks), `memory` (RSS per open stream, 1,000 and 5,000
//! streams). Markdown tables go to stdout and `target/perf/e2e.md`, every figure to
//! `target/perf/e2e.json`. What each figure means and what limits it: `docs/benchmarks.md`.

mod arms;
mod measure;
mod memory;
mod report_md;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use litellm_perf::alloc::CountingAlloc;
use litellm_perf::upstream;

use arms::{Arm, Clients};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Settings of a run.
#[derive(Clone, Debug)]
pub struct Opts {
    suites: Vec<String>,
    quick: bool,
    out: PathBuf,
    /// Latency suite: rounds × batch calls per arm.
    rounds: u32,
    batch: u64,
    warmup: u64,
    /// Throughput: p99 bound, seconds per step, first rate.
    bound: Duration,
    step_secs: f64,
    start_rate: f64,
    /// Streaming: rounds × batch streams per arm without a gap; with the gap.
    stream_rounds: u32,
    stream_batch: u64,
    gap: Duration,
    gap_rounds: u32,
    gap_batch: u64,
    /// Memory: stream counts.
    streams: Vec<usize>,
    /// Python: rounds × batch calls per arm.
    py_rounds: u32,
    py_batch: u32,
    /// Only these arms (all when empty).
    arms: Vec<Arm>,
    /// Throughput: independent ladders run (the best one per arm is kept).
    ladders: u32,
}

const SUITES: [&str; 5] = ["latency", "python", "throughput", "stream", "memory"];

impl Opts {
    fn parse(args: Vec<String>) -> Result<Opts, String> {
        let mut o = Opts {
            suites: Vec::new(),
            quick: false,
            out: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/perf")),
            rounds: 40,
            batch: 500,
            warmup: 1000,
            bound: Duration::from_millis(20),
            step_secs: 1.0,
            start_rate: 2000.0,
            stream_rounds: 20,
            stream_batch: 250,
            gap: Duration::from_millis(1),
            gap_rounds: 8,
            gap_batch: 50,
            streams: vec![1000, 5000],
            py_rounds: 10,
            py_batch: 200,
            arms: Vec::new(),
            ladders: 2,
        };
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            let mut val = |name: &str| {
                it.next()
                    .ok_or_else(|| format!("{name} needs a value"))
                    .and_then(|v| {
                        v.parse::<f64>()
                            .map_err(|_| format!("{name}: not a number: {v}"))
                    })
            };
            match a.as_str() {
                "--quick" => o.quick = true,
                "--out" => o.out = PathBuf::from(it.next().ok_or("--out needs a path")?),
                "--rounds" => o.rounds = val("--rounds")? as u32,
                "--batch" => o.batch = val("--batch")? as u64,
                "--p99-bound-ms" => o.bound = Duration::from_secs_f64(val("--p99-bound-ms")? / 1e3),
                "--step-secs" => o.step_secs = val("--step-secs")?,
                "--start-rate" => o.start_rate = val("--start-rate")?,
                "--ladders" => o.ladders = (val("--ladders")? as u32).max(1),
                "--gap-us" => o.gap = Duration::from_micros(val("--gap-us")? as u64),
                "--arms" => {
                    for k in it.next().ok_or("--arms needs a list")?.split(',') {
                        o.arms
                            .push(Arm::from_key(k).ok_or_else(|| format!("unknown arm {k}"))?);
                    }
                }
                "-h" | "--help" => {
                    return Err(format!(
                        "e2e [SUITE…] [--quick] [--out DIR] [--rounds N] [--batch N] \
                         [--p99-bound-ms MS] [--step-secs S] [--gap-us US] [--arms A,B,…]\nsuites: {}\narms: {}",
                        SUITES.join(", "),
                        Arm::ALL.map(Arm::key).join(", ")
                    ));
                }
                s if SUITES.contains(&s) => o.suites.push(s.to_string()),
                other => return Err(format!("unknown argument {other} (try --help)")),
            }
        }
        if o.suites.is_empty() {
            o.suites = SUITES.iter().map(|s| s.to_string()).collect();
        }
        if o.quick {
            o.rounds = 3;
            o.batch = 100;
            o.warmup = 50;
            o.step_secs = 0.3;
            o.start_rate = 1000.0;
            o.stream_rounds = 2;
            o.stream_batch = 50;
            o.gap_rounds = 1;
            o.gap_batch = 10;
            o.streams = vec![200];
            o.py_rounds = 1;
            o.py_batch = 50;
            o.ladders = 1;
        }
        Ok(o)
    }

    fn runs(&self, suite: &str) -> bool {
        self.suites.iter().any(|s| s == suite)
    }

    /// `arms` less those not asked for (R0 is always kept: every figure is relative to it).
    fn pick(&self, arms: &[Arm]) -> Vec<Arm> {
        arms.iter()
            .copied()
            .filter(|a| *a == Arm::R0 || self.arms.is_empty() || self.arms.contains(a))
            .collect()
    }
}

/// The upstream, a child process; killed when dropped.
pub struct Upstream {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Upstream {
    /// Starts the `upstream` binary next to this one (else this binary in upstream mode).
    pub fn start(config: &upstream::Config) -> Upstream {
        let me = std::env::current_exe().expect("current exe");
        let sibling = me.with_file_name("upstream");
        let mut cmd = if sibling.exists() {
            Command::new(sibling)
        } else {
            let mut c = Command::new(&me);
            c.arg("upstream");
            c
        };
        let mut config = config.clone();
        config.exit_on_stdin_eof = true;
        let mut child = cmd
            .args(config.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the upstream");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("upstream stdout"))
            .read_line(&mut line)
            .expect("read the upstream's port");
        let port = line.trim().parse().expect("the upstream prints its port");
        Upstream { child, port }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("upstream") => {
            args.remove(0);
            let config = upstream::Config::from_args(args).unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(2)
            });
            if let Err(e) = upstream::run(config) {
                eprintln!("upstream: {e}");
                std::process::exit(1);
            }
            return;
        }
        Some("memory-child") => {
            let arm = args
                .get(1)
                .and_then(|k| Arm::from_key(k))
                .expect("memory-child ARM STREAMS PORT");
            let streams: usize = args
                .get(2)
                .and_then(|s| s.parse().ok())
                .expect("memory-child ARM STREAMS PORT");
            let port: u16 = args
                .get(3)
                .and_then(|s| s.parse().ok())
                .expect("memory-child ARM STREAMS PORT");
            let r = memory::child(arm, streams, port);
            println!("{}", serde_json::to_string(&r).expect("json"));
            let _ = std::io::stdout().flush();
            // Exit without dropping thousands of held streams.
            std::process::exit(0);
        }
        Some("loop") => {
            // `e2e loop ARM N`: N calls through one arm only, for `perf stat`/`perf record`.
            let arm = args
                .get(1)
                .and_then(|k| Arm::from_key(k))
                .expect("loop ARM N");
            let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
            let up = Upstream::start(&upstream::Config::default());
            let clients = Clients::new(up.port);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async {
                for i in 0..1000 {
                    clients.chat(arm, i).await.expect("warm-up call");
                }
                let cpu0 = litellm_perf::sys::cpu_time();
                let t0 = Instant::now();
                for i in 0..n {
                    clients.chat(arm, i).await.expect("call");
                }
                let wall = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
                let cpu = (litellm_perf::sys::cpu_time() - cpu0).as_secs_f64() * 1e6 / n as f64;
                println!("{}: {wall:.1} µs wall, {cpu:.1} µs CPU per call", arm.key());
            });
            return;
        }
        Some("loop-stream") => {
            // `e2e loop-stream ARM N`: N streams read to their end through one arm only.
            let arm = args
                .get(1)
                .and_then(|k| Arm::from_key(k))
                .expect("loop-stream ARM N");
            let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
            let up = Upstream::start(&upstream::Config::default());
            let clients = Clients::new(up.port);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async {
                for i in 0..1000 {
                    clients.stream(arm, i).await.expect("warm-up stream");
                }
                let cpu0 = litellm_perf::sys::cpu_time();
                let t0 = Instant::now();
                for i in 0..n {
                    clients.stream(arm, i).await.expect("stream");
                }
                let wall = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
                let cpu = (litellm_perf::sys::cpu_time() - cpu0).as_secs_f64() * 1e6 / n as f64;
                println!(
                    "{}: {wall:.1} µs wall, {cpu:.1} µs CPU per stream",
                    arm.key()
                );
            });
            return;
        }
        _ => {}
    }
    let opts = Opts::parse(args).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let (nofile, _) = litellm_perf::sys::raise_nofile_limit();
    let started = Instant::now();
    let mut all = serde_json::json!({
        "machine": litellm_perf::sys::machine(),
        "nofile": nofile,
        "quick": opts.quick,
        "settings": format!("{opts:?}"),
    });
    let mut md = String::new();
    md.push_str(&format!(
        "Machine: {}. Client: one current-thread tokio runtime; upstream: its own process, 1 worker thread.\n\n",
        litellm_perf::sys::machine()
    ));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();

    let chat_up = Upstream::start(&upstream::Config::default());
    let clients = Rc::new(Clients::new(chat_up.port));
    let mut load = serde_json::Map::new();
    load.insert("start".into(), loadavg().into());
    let mut latency = None;
    if opts.runs("latency") {
        eprintln!(
            "== latency (concurrency 1), {} rounds × {} calls per arm",
            opts.rounds, opts.batch
        );
        let r = local.block_on(
            &rt,
            measure::latency(
                &clients,
                &opts.pick(&Arm::ALL),
                opts.warmup,
                opts.rounds,
                opts.batch,
            ),
        );
        all["latency"] = serde_json::to_value(&r).expect("json");
        load.insert("after latency".into(), loadavg().into());
        latency = Some(r);
    }
    let mut python = None;
    if opts.runs("python") {
        eprintln!("== Python LiteLLM");
        python = run_python(&opts, chat_up.port);
        all["python"] = python.clone().unwrap_or(serde_json::Value::Null);
    }
    if let Some(l) = &latency {
        md.push_str(&report_md::latency(l, python.as_ref()));
        md.push_str(&report_md::cost(l));
        all["cost_ledger"] = clients.ledger.export_json();
    } else if let Some(p) = &python {
        md.push_str(&report_md::python_only(p));
    }
    if opts.runs("python") && python.is_none() {
        md.push_str("Python LiteLLM: skipped (no `target/pylitellm`; see docs/benchmarks.md).\n\n");
    }
    if opts.runs("throughput") {
        eprintln!(
            "== throughput (open loop, p99 ≤ {:?}, {} s steps)",
            opts.bound, opts.step_secs
        );
        let arms: Vec<Arm> = opts
            .pick(&Arm::ALL)
            .into_iter()
            .filter(|&a| !matches!(a, Arm::CacheHit | Arm::R0Typed | Arm::Provider))
            .collect();
        let ladder = measure::Ladder {
            start: opts.start_rate,
            coarse: 1.4,
            fine: 1.06,
            secs: opts.step_secs,
            bound: opts.bound,
            max_rate: 200_000.0,
        };
        // Other processes on a shared machine can only lower a figure: best of the ladders.
        let mut ladders = Vec::new();
        for k in 0..opts.ladders {
            eprintln!("  ladder {}/{}", k + 1, opts.ladders);
            ladders.push(local.block_on(&rt, measure::throughput(clients.clone(), &arms, ladder)));
        }
        let r: Vec<measure::ThroughputResult> = (0..arms.len())
            .map(|i| {
                ladders
                    .iter()
                    .map(|l| l[i].clone())
                    .max_by(|a, b| a.max_rate.total_cmp(&b.max_rate))
                    .expect("a ladder")
            })
            .collect();
        all["throughput_ladders"] = serde_json::to_value(&ladders).expect("json");
        md.push_str(&report_md::throughput(&r, opts.bound));
        load.insert("after throughput".into(), loadavg().into());
        all["throughput"] = serde_json::to_value(&r).expect("json");
    }
    drop(clients);
    drop(chat_up);
    if opts.runs("stream") {
        let mut streams = serde_json::Map::new();
        for (name, gap, rounds, batch) in [
            (
                "no gap",
                Duration::ZERO,
                opts.stream_rounds,
                opts.stream_batch,
            ),
            ("gap", opts.gap, opts.gap_rounds, opts.gap_batch),
        ] {
            eprintln!("== streaming, {name} ({gap:?} between chunks)");
            let up = Upstream::start(&upstream::Config {
                gap,
                ..Default::default()
            });
            let clients = Clients::new(up.port);
            let r = local.block_on(
                &rt,
                measure::streaming(&clients, &opts.pick(&Arm::STREAM), 20, rounds, batch, 7),
            );
            md.push_str(&report_md::streaming(&r, gap));
            streams.insert(
                format!("gap_{}us", gap.as_micros()),
                serde_json::to_value(&r).expect("json"),
            );
        }
        all["stream"] = serde_json::Value::Object(streams);
        load.insert("after stream".into(), loadavg().into());
    }
    if opts.runs("memory") {
        let mut results = Vec::new();
        for &n in &opts.streams {
            for arm in opts.pick(&[Arm::R0, Arm::Client, Arm::Router1]) {
                eprintln!("== memory: {n} open streams through {}", arm.key());
                let up = Upstream::start(&upstream::Config {
                    gap: Duration::from_secs(600),
                    ..Default::default()
                });
                let out = Command::new(std::env::current_exe().expect("current exe"))
                    .args([
                        "memory-child",
                        arm.key(),
                        &n.to_string(),
                        &up.port.to_string(),
                    ])
                    .stderr(Stdio::inherit())
                    .output()
                    .expect("run the memory child");
                drop(up);
                let line = String::from_utf8_lossy(&out.stdout);
                match serde_json::from_str::<memory::MemoryResult>(line.trim()) {
                    Ok(r) => results.push(r),
                    Err(e) => eprintln!("memory child {} {n}: {e}: {line}", arm.key()),
                }
            }
        }
        md.push_str(&report_md::memory(&results));
        all["memory"] = serde_json::to_value(&results).expect("json");
        load.insert("after memory".into(), loadavg().into());
    }
    all["elapsed_secs"] = serde_json::json!(started.elapsed().as_secs_f64());
    md.push_str(&format!(
        "\nWhole run: {:.0} s. Load average (1 min; other processes on the machine count too): {}.\n",
        started.elapsed().as_secs_f64(),
        load.iter()
            .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    all["loadavg"] = serde_json::Value::Object(load);
    println!("{md}");
    if let Err(e) = std::fs::create_dir_all(&opts.out).and_then(|_| {
        std::fs::write(opts.out.join("e2e.md"), &md)?;
        std::fs::write(
            opts.out.join("e2e.json"),
            serde_json::to_string_pretty(&all).expect("json"),
        )
    }) {
        eprintln!("could not write {}: {e}", opts.out.display());
    } else {
        eprintln!("wrote {0}/e2e.md and {0}/e2e.json", opts.out.display());
    }
}

/// The 1-minute load average, as /proc/loadavg gives it.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Runs `perf/py/bench_litellm.py` with the venv's Python when it exists.
fn run_python(opts: &Opts, port: u16) -> Option<serde_json::Value> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let python = root.join("target/pylitellm/bin/python");
    let script = root.join("perf/py/bench_litellm.py");
    if !python.exists() {
        eprintln!(
            "  skipped: no {} (python3 -m venv target/pylitellm && \
             target/pylitellm/bin/pip install litellm==1.110.2 httpx)",
            python.display()
        );
        return None;
    }
    let out = Command::new(python)
        .arg(script)
        .args([
            "--port",
            &port.to_string(),
            "--rounds",
            &opts.py_rounds.to_string(),
            "--batch",
            &opts.py_batch.to_string(),
            "--warmup",
            if opts.quick { "20" } else { "200" },
        ])
        .stderr(Stdio::inherit())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            match text
                .lines()
                .rev()
                .find_map(|l| serde_json::from_str(l).ok())
            {
                Some(v) => Some(v),
                None => {
                    eprintln!("  skipped: no JSON from the script: {text}");
                    None
                }
            }
        }
        Ok(o) => {
            eprintln!("  skipped: the script failed ({})", o.status);
            None
        }
        Err(e) => {
            eprintln!("  skipped: {e}");
            None
        }
    }
}
