//! The loopback upstream as its own process: `upstream [flags]` prints its port on the first
//! line of stdout and serves until killed. Flags: see `litellm_perf::upstream::USAGE`.

fn main() {
    let config = match litellm_perf::upstream::Config::from_args(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = litellm_perf::upstream::run(config) {
        eprintln!("upstream: {e}");
        std::process::exit(1);
    }
}
