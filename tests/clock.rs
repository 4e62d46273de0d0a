//! Item 14 of the hardening issue: the crate's clock (cooldowns, minute windows, budget
//! periods) once took its base from whichever tokio runtime read it first. A paused test
//! runtime that had advanced hours ahead froze the clock for every other runtime of the
//! process, so budget and quota windows stopped turning (a budget test failed in 40 % of
//! parallel runs, and users' own paused-time tests could hit it). This file holds one test, so
//! that it is the first reader of the clock in its process.

use std::sync::Arc;
use std::time::Duration;

use litellm::accounting::ledger::{Ledger, Quota, Scope};
use litellm::{ChatRequest, Client, ErrorKind, Message, Metadata};

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

fn call() -> ChatRequest {
    ChatRequest::new("mock/gpt-4o-mini", vec![Message::user("Hi")])
        .metadata(Metadata::new().key("k"))
        .mock_response("ok")
}

#[test]
fn each_paused_runtime_keeps_its_own_time() {
    // A first runtime jumps three hours ahead, then reads the clock through a quota check.
    paused().block_on(async {
        tokio::time::advance(Duration::from_secs(3 * 3600)).await;
        let ledger = Arc::new(Ledger::new().quota(Quota::new(Scope::Key("k".into())).rpm(5)));
        let client = Client::builder().ledger(ledger).build().unwrap();
        client.chat(call()).await.unwrap();
    });
    // A second runtime's minute windows still turn when its own clock is advanced.
    paused().block_on(async {
        let ledger = Arc::new(Ledger::new().quota(Quota::new(Scope::Key("k".into())).rpm(1)));
        let client = Client::builder().ledger(ledger).build().unwrap();
        client.chat(call()).await.unwrap();
        let err = client.chat(call()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimit);
        let wait = err.retry_after().unwrap();
        assert!(wait <= Duration::from_secs(60), "{wait:?}");
        tokio::time::advance(wait + Duration::from_millis(1)).await;
        client
            .chat(call())
            .await
            .expect("a new minute admits the call");
    });
}
