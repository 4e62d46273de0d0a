//! Stoplight Prism for conformance tests: starts `prism mock` on a free loopback port for one of
//! the official specs in `../shared/specs/`, and a runner for labelled cases.
//!
//! Needs Prism (`.ci/install-prism.sh`, which needs Node) and the spec; `LITELLM_PRISM_BIN`
//! and the spec's own variable override both paths. When either is missing the test prints a
//! notice and passes, unless `LITELLM_REQUIRE_PRISM=1` (set in CI), which makes it a failure.

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Longest wait for Prism to listen (it loads a spec in 9 to 20 s here).
pub const STARTUP_LIMIT: Duration = Duration::from_secs(90);

/// A running Prism; killed when dropped (also when the test panics).
pub struct Prism {
    child: Child,
    pub port: u16,
    output: Arc<Mutex<String>>,
}

impl Prism {
    /// Starts `prism mock` for `spec` on a free loopback port.
    fn spawn(bin: &Path, spec: &Path) -> std::io::Result<Prism> {
        let port = free_port()?;
        let mut child = Command::new(bin)
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(spec)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let output = Arc::new(Mutex::new(String::new()));
        if let Some(out) = child.stdout.take() {
            collect_lines(out, &output);
        }
        if let Some(err) = child.stderr.take() {
            collect_lines(err, &output);
        }
        Ok(Prism {
            child,
            port,
            output,
        })
    }

    /// Waits until Prism accepts connections; fails with its output (and its exit code, when it
    /// exited first).
    async fn wait_ready(&mut self, limit: Duration) -> Result<(), (Option<i32>, String)> {
        let start = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    // Let the reader threads drain the pipes.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Err((
                        status.code(),
                        format!(
                            "prism exited ({status}) before listening on port {}; its output:\n{}",
                            self.port,
                            self.output()
                        ),
                    ));
                }
                Ok(None) => {}
                Err(e) => return Err((None, format!("could not poll the prism process: {e}"))),
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if start.elapsed() > limit {
                return Err((
                    None,
                    format!(
                        "prism did not listen on port {} within {limit:?}; its output:\n{}",
                        self.port,
                        self.output()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn output(&self) -> String {
        self.output.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago.
fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Appends every line of `pipe` to `sink` on a background thread (ends when the pipe closes).
fn collect_lines(pipe: impl Read + Send + 'static, sink: &Arc<Mutex<String>>) {
    let sink = Arc::clone(sink);
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut s) = sink.lock() {
                s.push_str(&line);
                s.push('\n');
            }
        }
    });
}

/// Where a tool or file is: the variable's value, else `default`.
pub fn locate(var: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or(default)
}

/// Prints why the test is skipped, or panics with it when `LITELLM_REQUIRE_PRISM=1`.
///
/// The notice goes straight to the process's stderr, past the test harness's capture, so it
/// shows in a plain `cargo test` run.
pub fn skip(reason: &str) {
    if std::env::var("LITELLM_REQUIRE_PRISM").is_ok_and(|v| v == "1") {
        panic!("LITELLM_REQUIRE_PRISM=1 but the Prism conformance test cannot run: {reason}");
    }
    let _ = writeln!(
        std::io::stderr().lock(),
        "NOTICE: skipping the Prism conformance test: {reason}.\n        Install Prism with \
         .ci/install-prism.sh (needs Node), or set LITELLM_PRISM_BIN and the spec's variable; \
         set LITELLM_REQUIRE_PRISM=1 to make this a failure."
    );
}

// ---------------------------------------------------------------------------------------------
// Case runner and checks.

/// Runs labelled cases, keeping going after a failure so one run reports all of them.
#[derive(Default)]
pub struct Cases {
    pub passed: Vec<String>,
    pub failed: Vec<String>,
}

impl Cases {
    pub async fn run(
        &mut self,
        name: impl Into<String>,
        case: impl Future<Output = Result<(), String>>,
    ) {
        let name = name.into();
        let start = Instant::now();
        match case.await {
            Ok(()) => {
                eprintln!("ok    {name} ({} ms)", start.elapsed().as_millis());
                self.passed.push(name);
            }
            Err(e) => {
                eprintln!("FAIL  {name}: {e}");
                self.failed.push(format!("{name}: {e}"));
            }
        }
    }
}

/// The result of a call on one of Prism's random answers: the answer, or `None` when the crate
/// decoded it and then refused its usage on purpose. Prism fills token counts with the
/// extremes the spec allows (up to 2³¹ or 2⁶³), far past `Usage::MAX_TOKENS`; the crate refuses
/// those after the whole answer was decoded (`InvalidResponse`, code `implausible_usage`), which
/// is what a real vendor sending them would get. Any other error is the case's failure.
pub fn decoded<T>(r: litellm::Result<T>) -> Result<Option<T>, String> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code() == Some("implausible_usage") => Ok(None),
        Err(e) => Err(failed(e)),
    }
}

/// A failed call as text, with Prism's body (the list of violations on a 422).
pub fn failed(e: litellm::Error) -> String {
    let d = e.details();
    let mut out = format!("{}: {}", e.kind(), d.message);
    if let Some(status) = d.status {
        out.push_str(&format!(" (HTTP {status})"));
    }
    if let Some(body) = &d.body {
        out.push_str(&format!("\n      body: {body}"));
    }
    out
}

impl Prism {
    /// Starts Prism for `spec_file` (a file in `../shared/specs/`, or `$spec_var`). `None` after
    /// a printed notice when Prism, Node or the spec is missing (a panic when
    /// `LITELLM_REQUIRE_PRISM=1`).
    pub async fn start(spec_file: &str, spec_var: &str) -> Option<Prism> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let bin = locate(
            "LITELLM_PRISM_BIN",
            root.join("target/prism/node_modules/.bin/prism"),
        );
        let spec = locate(spec_var, root.join("../shared/specs").join(spec_file));
        if !bin.is_file() {
            skip(&format!("Prism not found at {}", bin.display()));
            return None;
        }
        if !spec.is_file() {
            skip(&format!("spec not found at {}", spec.display()));
            return None;
        }

        // A port taken between `free_port` and Prism's bind makes Prism exit; try a few ports.
        let started = Instant::now();
        let mut prism = None;
        for attempt in 1..=3 {
            let mut p = match Prism::spawn(&bin, &spec) {
                Ok(p) => p,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    skip(&format!(
                        "could not run {} ({e}); is Node installed?",
                        bin.display()
                    ));
                    return None;
                }
                Err(e) => panic!("could not start {}: {e}", bin.display()),
            };
            match p.wait_ready(STARTUP_LIMIT).await {
                Ok(()) => {
                    prism = Some(p);
                    break;
                }
                // `#!/usr/bin/env node` without Node: env exits with 127.
                Err((Some(127), e)) => {
                    skip(&format!("Prism could not run; is Node installed? {e}"));
                    return None;
                }
                Err((_, e)) if attempt < 3 && e.contains("EADDRINUSE") => {
                    eprintln!("prism lost its port, retrying: {e}");
                }
                Err((_, e)) => panic!("{e}"),
            }
        }
        let prism = prism.expect("prism started");
        eprintln!(
            "prism listening on 127.0.0.1:{} after {:.1} s",
            prism.port,
            started.elapsed().as_secs_f64()
        );
        Some(prism)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Cases {
    /// Panics listing every failed case, if any failed.
    pub fn finish(self, started: Instant) {
        eprintln!(
            "{} cases passed, {} failed, {:.1} s including Prism's start",
            self.passed.len(),
            self.failed.len(),
            started.elapsed().as_secs_f64()
        );
        // A 422's body, which lists Prism's violations, is part of each failure's text.
        assert!(
            self.failed.is_empty(),
            "{} of {} conformance cases failed:\n- {}",
            self.failed.len(),
            self.failed.len() + self.passed.len(),
            self.failed.join("\n- ")
        );
    }
}
