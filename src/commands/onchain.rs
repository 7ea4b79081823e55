//! `depinsim onchain`: what verifying a matrix product on Ethereum by re-executing it costs.

use std::process::ExitCode;

use depinsim::cli::OnchainArgs;
use depinsim::core::diagnostics::Issues;
use depinsim::core::path::YamlPath;
use depinsim::economics::onchain::{EvmVerification, matmul};

/// Prints the cost table, or every bad flag (exit 2).
pub(super) fn onchain(a: OnchainArgs) -> ExitCode {
    let v = EvmVerification {
        multiply_adds: matmul(a.m, a.k, a.n),
        eth_usd: a.eth_usd,
        block_gas_limit: a.block_gas_limit,
        ..EvmVerification::default()
    };
    let mut problems = Issues::default();
    if !v.validate(&YamlPath::root(), &mut problems) {
        for i in problems.iter() {
            err!("--{}: {}", i.path.to_string().replace('_', "-"), i.message);
        }
        return ExitCode::from(2);
    }
    out!("{}", v.table());
    ExitCode::SUCCESS
}
