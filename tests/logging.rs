//! Logging as a new user sets it up: a `tracing-subscriber` `fmt` layer with an `EnvFilter`
//! (what `RUST_LOG=litellm=info` gives), and no `LITELLM_LOG` / `log_level`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use litellm::prelude::*;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;

/// A writer the `fmt` layer writes its lines to.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Lines;
    fn make_writer(&'a self) -> Lines {
        self.clone()
    }
}

impl Lines {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Sets a thread-local `fmt` subscriber filtered by `directives` (as `RUST_LOG` would be).
fn subscriber(directives: &str) -> (Lines, tracing::subscriber::DefaultGuard) {
    let lines = Lines::default();
    let sub = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(lines.clone()))
        .with(EnvFilter::new(directives));
    let guard = tracing::subscriber::set_default(sub);
    (lines, guard)
}

/// The value of `name=` in the fields of a call line (after the span and the message).
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let line = &line[line.find(" llm call ")?..];
    let at = line.find(&format!(" {name}="))? + name.len() + 2;
    line[at..].split_whitespace().next()
}

async fn four_calls(client: &Client) {
    for q in ["one", "two", "three"] {
        client
            .completion("mock/gpt-4o-mini", vec![Message::user(q)])
            .await
            .unwrap();
    }
    let failed = client
        .chat(
            ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("four")])
                .mock_response(MockResponse::error(ErrorKind::RateLimit)),
        )
        .await;
    assert!(failed.is_err());
}

#[tokio::test(flavor = "current_thread")]
async fn rust_log_litellm_info_alone_gives_one_line_per_call() {
    let (lines, _guard) = subscriber("litellm=info");
    // No log level in code; LITELLM_LOG is not needed (when it is set, it only adds fields).
    let client = Client::builder().no_env().build().unwrap();
    four_calls(&client).await;
    let text = lines.text();
    let calls: Vec<&str> = text.lines().filter(|l| l.contains("llm call")).collect();
    assert_eq!(calls.len(), 4, "{text}");
    assert_eq!(calls.iter().filter(|l| l.contains(" INFO ")).count(), 3);
    assert_eq!(calls.iter().filter(|l| l.contains(" WARN ")).count(), 1);
    assert!(
        calls[3].contains("error_kind=\"rate_limit\""),
        "{}",
        calls[3]
    );
    for line in &calls[..3] {
        assert!(line.contains("litellm::call"), "{line}");
        assert_eq!(field(line, "model"), Some("mock/gpt-4o-mini"), "{line}");
        // Readable numbers: latency to 0.1 ms, cost to whole nano-dollars.
        let latency = field(line, "latency_ms").unwrap();
        assert!(
            latency.split('.').nth(1).is_none_or(|d| d.len() <= 1),
            "{line}"
        );
        let cost = field(line, "cost_usd").unwrap();
        assert!(
            cost.split('.').nth(1).is_none_or(|d| d.len() <= 9),
            "{line}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_subscriber_that_does_not_want_litellm_gets_nothing() {
    for directives in ["myapp=info", "warn", "litellm=warn"] {
        let (lines, _guard) = subscriber(directives);
        let client = Client::builder().no_env().build().unwrap();
        four_calls(&client).await;
        let text = lines.text();
        assert!(!text.contains("llm call"), "{directives}: {text}");
    }
}

/// A provider of the user's own that logs inside the call.
struct Chatty;

#[async_trait]
impl Provider for Chatty {
    fn name(&self) -> &str {
        "chatty"
    }

    async fn chat(&self, _req: &ChatRequest, cx: &CallContext) -> Result<ChatResponse> {
        tracing::info!(target: "myapp", "inside my provider");
        Ok(ChatResponse::from_text(cx.model.as_str(), "hi").with_usage(Usage::new(1, 1)))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn events_inside_a_call_carry_its_llm_call_span() {
    let (lines, _guard) = subscriber("litellm=info,myapp=info");
    let client = Client::builder()
        .no_env()
        .provider("chatty", Arc::new(Chatty))
        .build()
        .unwrap();
    let router = Router::builder()
        .client(client.clone())
        .deployment(Deployment::new("group", "chatty/v2").id("dep-1"))
        .build()
        .unwrap();
    client
        .completion("chatty/v1", vec![Message::user("x")])
        .await
        .unwrap();
    router
        .completion("group", vec![Message::user("x")])
        .await
        .unwrap();
    let text = lines.text();
    let mine: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("inside my provider"))
        .collect();
    let calls: Vec<&str> = text.lines().filter(|l| l.contains("llm call")).collect();
    assert_eq!((mine.len(), calls.len()), (2, 2), "{text}");
    for (event, call) in mine.iter().zip(&calls) {
        let id = field(call, "call_id").unwrap();
        assert!(event.contains("llm_call{"), "{event}");
        assert!(event.contains(id), "{id} not in {event}");
        assert_eq!(event.matches(id).count(), 1, "recorded once: {event}");
        // The call line itself runs inside the span too.
        assert!(call.contains("llm_call{"), "{call}");
    }
    assert!(mine[0].contains("model=\"chatty/v1\""), "{}", mine[0]);
    assert!(mine[1].contains("model=\"group\""), "{}", mine[1]);
}
