//! [`JsonLinesLogger`]: a callback that writes each event as one JSON line.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use super::callback::{Callback, CallbackResult, Hook};
use super::event::CallEvent;

/// A [`Callback`] that writes every event as one line of JSON to a file or any writer.
///
/// Each line is [`CallEvent::to_redacted_json`] plus a `"hook"` field (`"success"`,
/// `"failure"`, …): times are Unix seconds, durations seconds, credentials in metadata
/// redacted. By default only `success` and `failure` are written (one line per call); choose
/// others with [`hooks`](JsonLinesLogger::hooks).
///
/// Writing happens on the callback's background task (see [`Callbacks`](super::Callbacks)),
/// never in the call. **Flushing:** by default every line is flushed as it is written (one
/// `write` per line, so `tail -f` sees it and a crash loses nothing); with
/// [`buffered`](JsonLinesLogger::buffered) lines collect in an 8 KiB buffer and are written when
/// it fills, on [`Callbacks::flush`](super::Callbacks::flush) /
/// [`shutdown`](super::Callbacks::shutdown), and when the logger is dropped. The writer is
/// called on a tokio worker thread: use a file or an in-memory writer, not one that can block
/// for long (a slow writer only backs up this logger's own queue).
///
/// ```no_run
/// use std::sync::Arc;
/// use litellm::observe::{Callbacks, JsonLinesLogger};
///
/// let logger = JsonLinesLogger::file("calls.jsonl")?;
/// let callbacks = Callbacks::builder().callback(Arc::new(logger)).build();
/// # let _ = callbacks;
/// # Ok::<(), litellm::Error>(())
/// ```
pub struct JsonLinesLogger {
    out: Mutex<BufWriter<Box<dyn Write + Send>>>,
    target: String,
    hooks: Vec<Hook>,
    flush_each: bool,
}

impl fmt::Debug for JsonLinesLogger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesLogger")
            .field("target", &self.target)
            .field("hooks", &self.hooks)
            .field("flush_each_line", &self.flush_each)
            .finish()
    }
}

impl JsonLinesLogger {
    /// Appends to the file at `path`, creating it if needed.
    ///
    /// # Errors
    ///
    /// A [`Config`](crate::ErrorKind::Config) error when the file cannot be opened: its
    /// message names the path and the reason, and the `std::io::Error` is its
    /// [`source`](std::error::Error::source) (so `?` works in a function returning
    /// `litellm::Result`, and `e.source()` can be downcast to the `io::Error`).
    pub fn file(path: impl AsRef<Path>) -> crate::Result<JsonLinesLogger> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| {
                crate::Error::new(
                    crate::ErrorKind::Config,
                    format!("cannot open the JSON-lines log file {}", path.display()),
                )
                .with_source(e)
            })?;
        let mut logger = JsonLinesLogger::writer(file);
        logger.target = path.display().to_string();
        Ok(logger)
    }

    /// Writes to any writer (a file, `std::io::stdout()`, a `Vec<u8>` behind your own handle,
    /// …).
    pub fn writer(writer: impl Write + Send + 'static) -> JsonLinesLogger {
        JsonLinesLogger {
            out: Mutex::new(BufWriter::new(Box::new(writer))),
            target: "writer".to_owned(),
            hooks: vec![Hook::Success, Hook::Failure],
            flush_each: true,
        }
    }

    /// Which hooks write a line (default `success` and `failure`: one line per call).
    #[must_use]
    pub fn hooks(mut self, hooks: &[Hook]) -> Self {
        self.hooks = hooks.to_vec();
        self
    }

    /// Buffer lines instead of flushing each one (see the type docs). Off by default.
    #[must_use]
    pub fn buffered(mut self, on: bool) -> Self {
        self.flush_each = !on;
        self
    }

    fn write(&self, hook: Hook, event: &CallEvent) -> CallbackResult {
        let mut line = serde_json::to_vec(&event.to_hook_json(hook))?;
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        out.write_all(&line)?;
        if self.flush_each {
            out.flush()?;
        }
        Ok(())
    }
}

#[async_trait]
impl Callback for JsonLinesLogger {
    fn name(&self) -> &str {
        "json_lines_logger"
    }

    fn wants(&self, hook: Hook) -> bool {
        self.hooks.contains(&hook)
    }

    async fn before_call(&self, event: &CallEvent) -> CallbackResult {
        self.write(Hook::BeforeCall, event)
    }

    async fn on_success(&self, event: &CallEvent) -> CallbackResult {
        self.write(Hook::Success, event)
    }

    async fn on_failure(&self, event: &CallEvent) -> CallbackResult {
        self.write(Hook::Failure, event)
    }

    async fn on_stream_end(&self, event: &CallEvent) -> CallbackResult {
        self.write(Hook::StreamEnd, event)
    }

    async fn flush(&self) -> CallbackResult {
        self.out
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{CallType, Callbacks, EventError};
    use crate::{ErrorKind, Metadata, Usage};
    use std::io;
    use std::sync::Arc;

    /// A writer whose bytes the test can read.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn lines(&self) -> Vec<serde_json::Value> {
            let bytes = self.0.lock().unwrap().clone();
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        }
    }

    fn events() -> (CallEvent, CallEvent) {
        let meta = Metadata::new().user("u").value("api_key", "sk-secret");
        let mut ok = CallEvent::new(CallType::Chat, "gpt-4o", meta.clone());
        ok.usage = Some(Usage::new(3, 4));
        ok.cost = Some(0.5);
        let mut bad = CallEvent::new(CallType::Chat, "gpt-4o", meta);
        bad.error = Some(EventError {
            kind: ErrorKind::Timeout,
            message: "timed out".into(),
            status: None,
        });
        (ok, bad)
    }

    #[tokio::test]
    async fn writes_one_redacted_line_per_finished_call() {
        let buf = Shared::default();
        let cbs = Callbacks::new([Arc::new(JsonLinesLogger::writer(buf.clone())) as _]);
        let (ok, bad) = events();
        cbs.before_call(&ok);
        cbs.call_finished(Arc::new(ok.clone()));
        cbs.call_finished(Arc::new(bad.clone()));
        cbs.flush().await;
        let lines = buf.lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["hook"], "success");
        assert_eq!(lines[0]["call_id"], ok.call_id.as_str());
        assert_eq!(lines[0]["usage"]["total_tokens"], 7);
        assert_eq!(lines[0]["cost"], 0.5);
        assert_eq!(lines[1]["hook"], "failure");
        assert_eq!(lines[1]["error"]["kind"], "timeout");
        let all = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(!all.contains("sk-secret"));
        assert!(all.contains("[REDACTED]"));
    }

    #[tokio::test]
    async fn buffered_lines_appear_on_flush_and_file_appends() {
        let dir = std::env::temp_dir().join(format!("litellm-jsonl-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("calls.jsonl");
        let (ok, _) = events();
        for round in 0..2 {
            let logger = JsonLinesLogger::file(&path)
                .unwrap()
                .buffered(true)
                .hooks(&Hook::ALL);
            assert!(format!("{logger:?}").contains("calls.jsonl"));
            let cbs = Callbacks::new([Arc::new(logger) as _]);
            cbs.stream_ended(Arc::new(ok.clone()));
            cbs.flush().await;
            let text = std::fs::read_to_string(&path).unwrap();
            // stream_end + success per round, appended to the earlier rounds.
            assert_eq!(text.lines().count(), 2 * (round + 1));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_that_cannot_be_opened_is_a_config_error_naming_the_path() {
        let path = std::env::temp_dir()
            .join(format!("litellm-jsonl-missing-{}", rand::random::<u64>()))
            .join("calls.jsonl");
        // `?` in a function returning `litellm::Result` (this failed to compile with an
        // `io::Result`).
        fn open(path: &Path) -> crate::Result<JsonLinesLogger> {
            let logger = JsonLinesLogger::file(path)?;
            Ok(logger)
        }
        let e = open(&path).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        assert!(e.message().contains(&path.display().to_string()), "{e}");
        let io = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<io::Error>())
            .expect("the io::Error is the source");
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn write_errors_are_counted_not_raised() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::Error::other("disk full"))
            }
        }
        let cbs = Callbacks::new([Arc::new(JsonLinesLogger::writer(Broken)) as _]);
        let (ok, _) = events();
        cbs.call_finished(Arc::new(ok));
        cbs.flush().await;
        // The line and the flush both failed.
        assert_eq!(cbs.stats().failed, 2);
    }
}
