//! Every public future can be spawned on a multi-threaded runtime (is `Send + 'static` when
//! its inputs are owned), and the main types are `Send + Sync`.

use litellm::{
    ChatRequest, ChatStream, Client, EmbeddingRequest, Error, Message, TextCompletionRequest,
};

fn assert_send<T: Send>(_: &T) {}
fn assert_send_sync<T: Send + Sync>() {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_can_be_spawned() {
    assert_send_sync::<Client>();
    assert_send_sync::<Error>();
    assert_send_sync::<ChatRequest>();
    assert_send::<ChatStream>(&ChatStream::from_chunks(Vec::new(), Default::default()));

    let client = Client::builder().no_env().build().unwrap();
    let req = || ChatRequest::new("mock/m", vec![Message::user("hi")]);
    let c = client.clone();
    let chat = tokio::spawn(async move { c.chat(req()).await });
    let c = client.clone();
    let stream = tokio::spawn(async move { c.chat_stream(req()).await?.collect_response().await });
    let c = client.clone();
    let embed = tokio::spawn(async move { c.embed(EmbeddingRequest::new("mock/e", "x")).await });
    let c = client.clone();
    let text = tokio::spawn(async move {
        c.text_completion(TextCompletionRequest::new("mock/t", "x"))
            .await
    });
    let free = tokio::spawn(litellm::completion("mock/m", vec![Message::user("hi")]));
    let free_stream = tokio::spawn(litellm::chat_stream(req()));
    let free_embed = tokio::spawn(litellm::embedding("mock/e", vec!["a", "b"]));
    assert!(chat.await.unwrap().is_ok());
    assert!(stream.await.unwrap().is_ok());
    assert!(embed.await.unwrap().is_ok());
    assert!(text.await.unwrap().is_ok());
    assert!(free.await.unwrap().is_ok());
    assert!(free_stream.await.unwrap().is_ok());
    assert_eq!(free_embed.await.unwrap().unwrap().data.len(), 2);

    let router = litellm::Router::builder()
        .client(client)
        .deployment(litellm::router::Deployment::new("g", "mock/m"))
        .build()
        .unwrap();
    assert_send_sync::<litellm::Router>();
    let r = router.clone();
    let routed = tokio::spawn(async move { r.chat(req()).await });
    let r = router.clone();
    let routed_stream =
        tokio::spawn(async move { r.chat_stream(req()).await?.collect_response().await });
    let r = router.clone();
    let routed_embed = tokio::spawn(async move { r.embedding("g", "x").await });
    assert!(routed.await.unwrap().is_ok());
    assert!(routed_stream.await.unwrap().is_ok());
    assert!(routed_embed.await.unwrap().is_ok());
}

/// The chat and stream-opening futures hold the request on the heap and box the call's state machine once, so a
/// caller's own future that awaits one stays small and moving it copies little (`Client`'s was
/// 3.8 KB before). Sizes, not timings: they do not depend on the machine's speed.
#[test]
fn chat_futures_are_small() {
    let client = Client::builder().no_env().build().unwrap();
    let req = || ChatRequest::new("mock/m", vec![Message::user("hi")]);
    let chat = client.chat(req());
    assert!(
        std::mem::size_of_val(&chat) <= 1536,
        "Client::chat future is {} bytes",
        std::mem::size_of_val(&chat)
    );
    let router = litellm::Router::builder()
        .client(client.clone())
        .deployment(litellm::router::Deployment::new("g", "mock/m"))
        .build()
        .unwrap();
    let routed = router.chat(req());
    assert!(
        std::mem::size_of_val(&routed) <= 1536,
        "Router::chat future is {} bytes",
        std::mem::size_of_val(&routed)
    );
    let stream = client.chat_stream(req());
    assert!(
        std::mem::size_of_val(&stream) <= 1536,
        "Client::chat_stream future is {} bytes",
        std::mem::size_of_val(&stream)
    );
    let routed_stream = router.chat_stream(req());
    assert!(
        std::mem::size_of_val(&routed_stream) <= 1536,
        "Router::chat_stream future is {} bytes",
        std::mem::size_of_val(&routed_stream)
    );
}
