//! End-to-end load benchmarks of the `litellm` crate (not published).
//!
//! - [`upstream`]: the loopback OpenAI-shaped server (`src/bin/upstream.rs`, also started by
//!   `e2e` as a child process so client and server CPU are counted apart);
//! - [`sys`]: getrusage, VmRSS and RLIMIT_NOFILE;
//! - [`alloc`]: the counting global allocator the bench binary installs;
//! - [`report`]: HDR summaries and Markdown tables.
//!
//! How to run and what the figures mean: `docs/benchmarks.md`, section "End-to-end (loopback)".

pub mod alloc;
pub mod report;
pub mod sys;
pub mod upstream;
