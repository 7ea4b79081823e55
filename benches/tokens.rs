//! Benchmark: one token epoch's settlement over 10,000 provider groups (`Tokens::settle`:
//! gathering each group's work, uptime and fees, then the ledger's emission split and fees),
//! reported per group. Ten years of daily epochs are 3,652 such passes, so the time per
//! group times 36.5 million is what the token economy adds to a ten-year run beyond its
//! workload events (`benches/tokens.sh` measures the whole run).
//!
//! Cases (group `token_epoch`): `basic` (emission, GBM price, direct payment) and `economy`
//! (also stakes with slashing, a reward lock-up, a market pool with speculation and Solana
//! settlement). Groups are idle one-GPU pools, the state of the generated ten-year scenario
//! on most days.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use depinsim::core::rng::Streams;
use depinsim::scenario::load_str;
use depinsim::sim::pool::PoolState;
use depinsim::sim::tokens::Tokens;

const GROUPS: usize = 10_000;
const DAY: u64 = 86_400 * 1_000_000_000;

fn scenario(extra: &str) -> String {
    let mut s = String::from(
        "simulation: {horizon_h: 87660, warmup_h: 24, epoch_h: 8766, replications: 1, seed: 1}
regions: [{name: a}]
providers:
",
    );
    for i in 0..GROUPS {
        let gpu = if i % 4 == 0 { "h100_sxm" } else { "rtx_4090" };
        s += &format!(
            "  - {{name: p{i:05}, region: a, gpu: {gpu}, count: 1, hourly_cost_usd: 0.2}}\n"
        );
    }
    s += "inference:
  model: {name: llama-3.1-8b, context_tokens: 32768}
  users: [{region: a, rate_per_s: 0.00001}]
token:
  emission:
    schedule: {exponential_decay: {initial_per_epoch: 100000, decay: 0.01, period_h: 730.5}}
    epoch_h: 24
    initial_supply: 1000000000
  work_share: 0.5
";
    s + extra
}

fn bench(c: &mut Criterion) {
    let cases = [
        (
            "basic",
            "  price: {gbm: {initial_usd: 1.0, drift_per_year: 0.0, volatility_per_year: 0.8}}\n",
        ),
        (
            "economy",
            "  price: {amm: {token_reserve: 100000000, usd_reserve: 100000000, provider_sell_share: 0.5, speculation_usd_per_day: 100000}}
  staking: {per_gpu: 1000, slash_per_failure: 0.01}
  reward_lockup: {share: 0.75, release_h: 4320}
  settlement: {chain: {solana: {sol_usd: 150}}, batch: 100}
",
        ),
    ];
    let mut g = c.benchmark_group("token_epoch");
    g.throughput(Throughput::Elements(GROUPS as u64));
    for (name, extra) in cases {
        let s = load_str(&scenario(extra), name, name, &[]).expect("valid scenario");
        let streams = Streams::new(1, 0);
        let pools: Vec<PoolState> = s
            .pools()
            .iter()
            .map(|p| PoolState::new(p.count, p.count, p.price_usd_per_gpu_hour))
            .collect();
        let mut tokens = Tokens::new(&s, &streams).expect("token section");
        let mut now = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                now += DAY;
                tokens.settle(&s, black_box(now), black_box(&pools));
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
