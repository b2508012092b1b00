// tokio::time::timeout around a future that is ready at once, inside one task on a 2-worker
// runtime: the counterpart of coral's BM_TimeoutReadyTask (bench/timeout_benchmark.cc). Prints
// the median of the rounds in ns per timeout.
//
//   cargo run --release --offline [-- iterations rounds]

use std::hint::black_box;
use std::time::{Duration, Instant};

async fn ready(x: u64) -> u64 {
    x
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iterations: u64 = args.get(1).map_or(1_000_000, |a| a.parse().expect("iterations"));
    let rounds: u32 = args.get(2).map_or(5, |a| a.parse().expect("rounds"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("runtime");
    let mut samples = Vec::new();
    for round in 0..rounds {
        let elapsed = runtime.block_on(async move {
            tokio::spawn(async move {
                let start = Instant::now();
                let mut sum = 0u64;
                for i in 0..iterations {
                    match tokio::time::timeout(Duration::from_secs(3600), ready(black_box(i))).await
                    {
                        Ok(v) => sum = sum.wrapping_add(v),
                        Err(_) => unreachable!("a ready future cannot time out"),
                    }
                }
                black_box(sum);
                start.elapsed()
            })
            .await
            .expect("task")
        });
        let ns = elapsed.as_nanos() as f64 / iterations as f64;
        println!("round {round}: {ns:.1} ns/op");
        samples.push(ns);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    let median = samples[samples.len() / 2];
    println!("tokio_timeout_ready: {median:.1} ns/op (median of {rounds}, {iterations} each)");
}
