//! Memory per open stream: a fresh child process per (arm, count) opens that many streams to an
//! upstream that sends the first chunk and then holds every stream open, reads its own VmRSS
//! before and after, and prints one JSON line. A fresh process, because an allocator keeps
//! freed memory: a second measurement in the same process would reuse the first one's pages.

use std::rc::Rc;
use std::time::{Duration, Instant};

use litellm_perf::sys;
use serde::{Deserialize, Serialize};

use crate::arms::{Arm, Clients};

/// What a child reports.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemoryResult {
    /// Arm key.
    pub arm: String,
    /// Streams asked for.
    pub streams: usize,
    /// Streams open at the measurement (first chunk read, held).
    pub open: usize,
    /// Streams that failed to open.
    pub errors: usize,
    /// VmRSS before opening (after a warm-up stream), KiB.
    pub rss_before_kib: u64,
    /// VmRSS with every stream open, KiB.
    pub rss_open_kib: u64,
    /// (open − before) / open, bytes.
    pub bytes_per_stream: f64,
    /// Time to open them all, s.
    pub open_secs: f64,
    /// Client CPU spent opening them, s.
    pub cpu_secs: f64,
}

/// Streams opened at once (the rest wait): a burst of thousands of connects overflows the
/// listen queue and costs SYN retransmits, which measure the kernel, not the client.
const OPENING: usize = 200;

/// The child: open `streams` streams through `arm` to 127.0.0.1:`port`, report, exit.
pub fn child(arm: Arm, streams: usize, port: u16) -> MemoryResult {
    sys::raise_nofile_limit();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let clients = Rc::new(Clients::new(port));
        // warm-up: one stream opened and dropped, so lazy statics and the pool exist
        drop(open_one(&clients, arm, 0).await.expect("warm-up stream"));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let rss_before_kib = sys::rss_kib();
        let cpu0 = sys::cpu_time();
        let t0 = Instant::now();
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(OPENING));
        let (release_tx, release_rx) = tokio::sync::watch::channel(false);
        let (opened_tx, mut opened_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
        for i in 0..streams {
            let (clients, gate, mut rx, tx) = (
                clients.clone(),
                gate.clone(),
                release_rx.clone(),
                opened_tx.clone(),
            );
            tokio::task::spawn_local(async move {
                let permit = gate.acquire_owned().await.expect("semaphore");
                match open_one(&clients, arm, i as u64 + 1).await {
                    Ok(held) => {
                        drop(permit);
                        let _ = tx.send(true);
                        let _ = rx.wait_for(|released| *released).await;
                        drop(held);
                    }
                    Err(e) => {
                        eprintln!("memory child {}: {e}", arm.key());
                        let _ = tx.send(false);
                    }
                }
            });
        }
        drop(opened_tx);
        let (mut open, mut errors) = (0usize, 0usize);
        while open + errors < streams {
            match opened_rx.recv().await {
                Some(true) => open += 1,
                Some(false) => errors += 1,
                None => break,
            }
        }
        let open_secs = t0.elapsed().as_secs_f64();
        let cpu_secs = (sys::cpu_time() - cpu0).as_secs_f64();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let rss_open_kib = sys::rss_kib();
        let _ = release_tx.send(true);
        MemoryResult {
            arm: arm.key().to_string(),
            streams,
            open,
            errors,
            rss_before_kib,
            rss_open_kib,
            bytes_per_stream: (rss_open_kib.saturating_sub(rss_before_kib) as f64 * 1024.0)
                / open.max(1) as f64,
            open_secs,
            cpu_secs,
        }
    })
}

/// A stream held open, inline in its task as a program would hold it (not boxed: the
/// measurement includes the stream's own size).
#[allow(clippy::large_enum_variant)]
enum Held {
    R0(#[allow(dead_code)] crate::arms::R0Sse),
    Litellm(#[allow(dead_code)] litellm::ChatStream),
}

/// Opens one stream and reads its first chunk.
async fn open_one(clients: &Clients, arm: Arm, i: u64) -> Result<Held, String> {
    use futures::StreamExt;
    if arm == Arm::R0 {
        let mut s = clients.r0_open(&crate::arms::prompt(arm, i)).await?;
        s.first().await?;
        return Ok(Held::R0(s));
    }
    let mut s = clients.litellm_open(arm, i).await?;
    match s.next().await {
        Some(Ok(_)) => Ok(Held::Litellm(s)),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("stream ended before a chunk".into()),
    }
}
