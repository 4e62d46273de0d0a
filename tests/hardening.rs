//! Regression tests for the defects found when the crate was tried as a hostile upstream, a
//! careless caller and a new user would (issue 11). Each test failed before its fix.

use litellm::{ErrorKind, Message, completion};

/// Item 1: a model name with multi-byte characters once panicked the price-name normaliser
/// (it cut names at byte offsets).
#[tokio::test]
async fn multibyte_model_names_are_priced_without_panic() {
    for model in [
        "mock/gpt-4o-\u{200b}mini",
        "mock/m-aéé-01-0",
        "mock/é-2024-08-0é",
        "mock/🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀",
    ] {
        let resp = completion(model, vec![Message::user("Hi")]).await.unwrap();
        assert!(resp.text().is_some(), "{model}");
    }
    let _ = ErrorKind::BadRequest;
}
