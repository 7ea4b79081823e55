//! What it costs to check or settle GPU work on a blockchain.
//!
//! Two calculators:
//!
//! - [`EvmVerification`]: the gas, dollar cost and wall-clock time of verifying a computation
//!   by re-executing it inside the Ethereum Virtual Machine, counted as multiply-adds times a
//!   gas price per multiply-add. With the defaults it reproduces the claim that one
//!   matrix multiplication of GPT-3's size on Ethereum "costs up to $10B of gas and takes a
//!   month": a 12288 x 12288 by 12288 x 12288 product is 1.86e12 multiply-adds, 1.5e13 gas at
//!   the 8-gas floor, about $10B at 200 gwei and $3,400/ETH, and about 34 days of every
//!   60M-gas block. [`EvmVerification::table`] prints the sensitivity to gas price and gas per
//!   multiply-add.
//! - [`Chain`]: the fee for settling many small payments on a chain, with batching:
//!   `ceil(payments / batch)` transactions times the fee per transaction, plus an optional
//!   cost per payment (calldata). Reference chains: [`Chain::solana`],
//!   [`Chain::ethereum_l1`], [`Chain::l2_assumed`].
//!
//! Gas costs of opcodes are those of the Ethereum Yellow Paper, Appendix G (fee schedule)
//! and Appendix H (instruction set), also tabulated at <https://www.evm.codes>.

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::core::diagnostics::Issues;
use crate::core::path::YamlPath;

/// Gas of the EVM `ADD` opcode (G_verylow; Yellow Paper, Appendix G).
pub const GAS_ADD: f64 = 3.0;
/// Gas of the EVM `MUL` opcode (G_low; Yellow Paper, Appendix G).
pub const GAS_MUL: f64 = 5.0;
/// Gas per multiply-add at the floor: one `MUL` and one `ADD` (5 + 3), ignoring memory
/// access, loop control and stack shuffling. No contract can do better per multiply-add
/// on 256-bit words.
pub const GAS_PER_MULTIPLY_ADD_FLOOR: f64 = GAS_MUL + GAS_ADD;
/// Gas per multiply-add of a realistic contract loop: the `MUL` and `ADD` plus two operand
/// loads (`MLOAD`, 3 gas each), index arithmetic, a bounds comparison and a conditional jump
/// (`JUMPI`, 10 gas), stack operations (`DUP`/`SWAP`/`PUSH`, 3 gas each) and the
/// accumulator store. An estimate of about 75 gas, not a measurement of a particular
/// contract; compiled Solidity with bounds checks may cost more.
pub const GAS_PER_MULTIPLY_ADD_CONTRACT: f64 = 75.0;
/// Seconds per slot on Ethereum since the Merge (September 2022): `SECONDS_PER_SLOT = 12`
/// in the consensus specifications (`ethereum/consensus-specs`, phase0 configuration). At
/// most one block per slot.
pub const SLOT_SECONDS: f64 = 12.0;
/// Ethereum block gas limit from August 2021 (London upgrade, EIP-1559: 15M target,
/// 30M limit) until February 2025.
pub const BLOCK_GAS_LIMIT_2021: f64 = 30e6;
/// Ethereum block gas limit after validators raised it in February 2025.
pub const BLOCK_GAS_LIMIT_FEB_2025: f64 = 36e6;
/// Ethereum block gas limit after validators raised it in July 2025.
pub const BLOCK_GAS_LIMIT_JUL_2025: f64 = 45e6;
/// Ethereum block gas limit after validators raised it in late 2025 (around the Fusaka
/// upgrade). The default of [`EvmVerification::block_gas_limit`].
pub const BLOCK_GAS_LIMIT_LATE_2025: f64 = 60e6;
/// Most gas one transaction may use under EIP-7983 ("Transaction Gas Limit Cap"):
/// 2^24 = 16,777,216, about 16.8M. A re-execution larger than this must be split over at
/// least [`EvmVerification::transactions`] transactions.
pub const EIP_7983_TX_GAS_CAP: f64 = 16_777_216.0;
/// Gas of a plain Ether transfer: the intrinsic transaction cost G_transaction = 21,000
/// (Yellow Paper, Appendix G).
pub const GAS_ETH_TRANSFER: f64 = 21_000.0;
/// Gas per non-zero calldata byte (EIP-2028, Istanbul upgrade).
pub const GAS_CALLDATA_NONZERO_BYTE: f64 = 16.0;
/// Gas per zero calldata byte (Yellow Paper, Appendix G, G_txdatazero).
pub const GAS_CALLDATA_ZERO_BYTE: f64 = 4.0;
/// Solana base fee per signature, in lamports (Solana documentation, "Transaction Fees").
pub const SOLANA_BASE_FEE_LAMPORTS_PER_SIGNATURE: f64 = 5_000.0;
/// Fraction of the Solana base fee that is burned; the rest goes to the block producer
/// (Solana documentation, "Transaction Fees"). Priority fees go wholly to the block
/// producer since SIMD-0096.
pub const SOLANA_BASE_FEE_BURN_FRACTION: f64 = 0.5;
/// Lamports per SOL.
pub const LAMPORTS_PER_SOL: f64 = 1e9;
/// Wei per gwei, as a fraction of an Ether: 1 gwei = 1e-9 ETH.
const ETH_PER_GWEI: f64 = 1e-9;

/// Multiply-adds of the product of an `m x k` matrix by a `k x n` matrix: `m * k * n`.
///
/// GPT-3's hidden size is 12,288 (Brown et al. 2020, "Language Models are Few-Shot
/// Learners", Table 2.1), so `matmul(12288, 12288, 12288)` = 1.86e12 is the square product
/// of the claim reproduced by [`EvmVerification::default`].
pub fn matmul(m: u64, k: u64, n: u64) -> f64 {
    m as f64 * k as f64 * n as f64
}

/// The cost and time of verifying a computation on Ethereum by re-executing it in the EVM.
///
/// The computation is reduced to its multiply-adds; gas is multiply-adds times gas per
/// multiply-add; cost is gas times the gas price; time assumes the computation fills every
/// block. The defaults are the claim "one matrix multiplication of GPT on Ethereum costs up
/// to $10B of gas and takes a month".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct EvmVerification {
    /// Multiply-adds to re-execute. Default 12288^3 = 1.86e12: one product of two
    /// 12,288 x 12,288 matrices (GPT-3's hidden size, Brown et al. 2020, Table 2.1).
    pub multiply_adds: f64,
    /// Gas per multiply-add. Default 8, the floor: `MUL` (5 gas) plus `ADD` (3 gas), Yellow
    /// Paper Appendix G, ignoring memory and loop overhead. A realistic contract loop costs
    /// about 75.
    pub gas_per_multiply_add: f64,
    /// Gas price in gwei (1e-9 ETH per gas). Default 200, a congested-period price: gas
    /// prices ran 20-100+ gwei through busy 2021-24 and about 1-3 gwei in 2025 (Etherscan
    /// average gas price history).
    pub gas_price_gwei: f64,
    /// Price of one Ether in US dollars. Default 3,400.
    pub eth_usd: f64,
    /// Gas limit of one block. Default 60M (late 2025); it was 30M from 2021, 36M from
    /// February 2025 and 45M from July 2025.
    pub block_gas_limit: f64,
    /// Seconds between blocks. Default 12, the slot time since the Merge (consensus
    /// specifications, `SECONDS_PER_SLOT`).
    pub block_time_s: f64,
}

impl Default for EvmVerification {
    fn default() -> Self {
        Self {
            multiply_adds: matmul(12_288, 12_288, 12_288),
            gas_per_multiply_add: GAS_PER_MULTIPLY_ADD_FLOOR,
            gas_price_gwei: 200.0,
            eth_usd: 3_400.0,
            block_gas_limit: BLOCK_GAS_LIMIT_LATE_2025,
            block_time_s: SLOT_SECONDS,
        }
    }
}

impl EvmVerification {
    /// Total gas: multiply-adds times gas per multiply-add.
    pub fn gas(&self) -> f64 {
        self.multiply_adds * self.gas_per_multiply_add
    }

    /// Cost in Ether: gas times the gas price (1 gwei = 1e-9 ETH).
    pub fn cost_eth(&self) -> f64 {
        self.gas() * self.gas_price_gwei * ETH_PER_GWEI
    }

    /// Cost in US dollars: [`Self::cost_eth`] times the Ether price.
    pub fn cost_usd(&self) -> f64 {
        self.cost_eth() * self.eth_usd
    }

    /// Blocks needed if the computation fills every block: gas / block gas limit
    /// (fractional; no other transaction gets in).
    pub fn blocks(&self) -> f64 {
        self.gas() / self.block_gas_limit
    }

    /// Days of chain time: [`Self::blocks`] times the block time, over 86,400 s per day.
    pub fn days(&self) -> f64 {
        self.blocks() * self.block_time_s / 86_400.0
    }

    /// Transactions needed when one transaction may use at most `tx_gas_cap` gas
    /// (for example [`EIP_7983_TX_GAS_CAP`]): `ceil(gas / tx_gas_cap)`. Zero when there is
    /// no gas.
    pub fn transactions(&self, tx_gas_cap: f64) -> u64 {
        (self.gas() / tx_gas_cap).ceil() as u64
    }

    /// Records a problem at `at.key(field)` for every input that is not finite and
    /// positive (the `onchain` command turns the field into its flag). Returns whether
    /// there was none.
    pub fn validate(&self, at: &YamlPath, issues: &mut Issues) -> bool {
        let before = issues.len();
        for (field, value) in [
            ("multiply_adds", self.multiply_adds),
            ("gas_per_multiply_add", self.gas_per_multiply_add),
            ("gas_price_gwei", self.gas_price_gwei),
            ("eth_usd", self.eth_usd),
            ("block_gas_limit", self.block_gas_limit),
            ("block_time_s", self.block_time_s),
        ] {
            if let Some(problem) = not_positive(value) {
                issues.push(&at.key(field), problem, "");
            }
        }
        issues.len() == before
    }

    /// A plain-text table of gas, dollar cost and days of full blocks for this computation
    /// at gas prices of 1, 20 and 200 gwei and at 8 (floor) and 75 (contract loop) gas per
    /// multiply-add, keeping this calculator's multiply-adds, Ether price, block gas limit
    /// and block time.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "EVM re-execution of {:.3e} multiply-adds at ${:.0}/ETH, {:.0}M-gas blocks every {} s",
            self.multiply_adds,
            self.eth_usd,
            self.block_gas_limit / 1e6,
            self.block_time_s
        );
        let _ = writeln!(
            out,
            "{:>10}  {:>8}  {:>10}  {:>12}  {:>10}",
            "gas/madd", "gwei", "gas", "usd", "days"
        );
        for gas_per_multiply_add in [GAS_PER_MULTIPLY_ADD_FLOOR, GAS_PER_MULTIPLY_ADD_CONTRACT] {
            for gas_price_gwei in [1.0, 20.0, 200.0] {
                let row = Self {
                    gas_per_multiply_add,
                    gas_price_gwei,
                    ..self.clone()
                };
                let _ = writeln!(
                    out,
                    "{:>10}  {:>8}  {:>10.3e}  {:>12}  {:>10.1}",
                    gas_per_multiply_add,
                    gas_price_gwei,
                    row.gas(),
                    format_usd(row.cost_usd()),
                    row.days()
                );
            }
        }
        out
    }
}

/// The table of [`EvmVerification::table`] for the default case: one GPT-3-sized matrix
/// product at $3,400/ETH and 60M-gas blocks every 12 s.
pub fn report() -> String {
    EvmVerification::default().table()
}

/// A chain on which payments are settled, reduced to a fee per transaction and a fee per
/// payment carried in a transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Chain {
    /// Name of the chain, for reports.
    pub name: String,
    /// Fee of one settlement transaction in US dollars, whatever the number of payments it
    /// carries.
    pub fee_per_tx_usd: f64,
    /// Additional cost per payment carried in a transaction, in US dollars (calldata,
    /// storage writes). Default 0.
    #[serde(default)]
    pub fee_per_payment_usd: f64,
    /// The assumptions behind the fee, for reports.
    #[serde(default)]
    pub assumptions: String,
}

impl Chain {
    /// Solana: a base fee of 5,000 lamports per signature (half burned, half to the block
    /// producer) plus an optional priority fee of compute-unit price (micro-lamports per
    /// compute unit) times the compute-unit limit / 1e6 lamports (Solana documentation,
    /// "Transaction Fees" and "Prioritization Fees"), at a SOL price of `sol_usd` dollars.
    /// A payment with one signer and no priority fee: `signatures = 1`,
    /// `cu_price_micro_lamports = 0`.
    pub fn solana(
        sol_usd: f64,
        signatures: u32,
        cu_price_micro_lamports: f64,
        cu_limit: u32,
    ) -> Self {
        let lamports = SOLANA_BASE_FEE_LAMPORTS_PER_SIGNATURE * f64::from(signatures)
            + cu_price_micro_lamports * f64::from(cu_limit) / 1e6;
        Self {
            name: "solana".into(),
            fee_per_tx_usd: lamports / LAMPORTS_PER_SOL * sol_usd,
            fee_per_payment_usd: 0.0,
            assumptions: format!(
                "{signatures} signature(s) at 5,000 lamports, priority {cu_price_micro_lamports} \
                 micro-lamports/CU x {cu_limit} CU, SOL at ${sol_usd}"
            ),
        }
    }

    /// Ethereum L1: one plain transfer of 21,000 gas (Yellow Paper, G_transaction) per
    /// transaction at `gas_price_gwei` and `eth_usd`. A batch that pays many recipients uses
    /// more gas than a plain transfer; add that with [`Chain::with_fee_per_payment_usd`]
    /// (for example [`calldata_gas`] per payment times the gas price).
    pub fn ethereum_l1(gas_price_gwei: f64, eth_usd: f64) -> Self {
        Self {
            name: "ethereum".into(),
            fee_per_tx_usd: GAS_ETH_TRANSFER * gas_price_gwei * ETH_PER_GWEI * eth_usd,
            fee_per_payment_usd: 0.0,
            assumptions: format!("21,000-gas transfer at {gas_price_gwei} gwei, ETH at ${eth_usd}"),
        }
    }

    /// An Ethereum layer 2 (rollup) at an assumed fee per transaction in US dollars, for
    /// example $0.01. The fee is an assumption, not derived from a fee mechanism: rollup
    /// fees depend on the L1 data price and the rollup's own pricing.
    pub fn l2_assumed(fee_per_tx_usd: f64) -> Self {
        Self {
            name: "l2".into(),
            fee_per_tx_usd,
            fee_per_payment_usd: 0.0,
            assumptions: format!("assumed ${fee_per_tx_usd} per transaction"),
        }
    }

    /// This chain with a cost per payment carried in a transaction, in US dollars.
    pub fn with_fee_per_payment_usd(mut self, usd: f64) -> Self {
        self.fee_per_payment_usd = usd;
        self
    }

    /// Transactions needed to settle `payments` payments, `batch` to a transaction:
    /// `ceil(payments / batch)`. A batch of 0 counts as 1.
    pub fn transactions(payments: u64, batch: u32) -> u64 {
        payments.div_ceil(u64::from(batch.max(1)))
    }

    /// Cost in US dollars of settling `payments` payments, `batch` to a transaction:
    /// [`Chain::transactions`] times the fee per transaction, plus the fee per payment times
    /// `payments`.
    pub fn settlement_cost_usd(&self, payments: u64, batch: u32) -> f64 {
        Self::transactions(payments, batch) as f64 * self.fee_per_tx_usd
            + payments as f64 * self.fee_per_payment_usd
    }

    /// Records a problem at `at` (where the chain is given) unless the fee per transaction
    /// is finite and positive and the fee per payment finite and not negative; the message
    /// names the fee, which the chain's own fields determine. Returns whether there was
    /// no problem.
    pub fn validate(&self, at: &YamlPath, issues: &mut Issues) -> bool {
        let before = issues.len();
        let fix = "give positive prices for the chain's fee (gas price, coin price, or fee per transaction)";
        if let Some(problem) = not_positive(self.fee_per_tx_usd) {
            issues.push(at, format!("fee_per_tx_usd {problem}"), fix);
        }
        if !self.fee_per_payment_usd.is_finite() || self.fee_per_payment_usd < 0.0 {
            issues.push(
                at,
                format!(
                    "fee_per_payment_usd is {}; it must be a finite number, 0 or more (0 for no per-payment cost)",
                    self.fee_per_payment_usd
                ),
                fix,
            );
        }
        issues.len() == before
    }
}

/// Gas of `nonzero_bytes` non-zero and `zero_bytes` zero bytes of calldata: 16 gas per
/// non-zero byte (EIP-2028) and 4 per zero byte (Yellow Paper, G_txdatazero).
pub fn calldata_gas(nonzero_bytes: u64, zero_bytes: u64) -> f64 {
    nonzero_bytes as f64 * GAS_CALLDATA_NONZERO_BYTE + zero_bytes as f64 * GAS_CALLDATA_ZERO_BYTE
}

/// What is wrong with `value` unless it is finite and positive.
fn not_positive(value: f64) -> Option<String> {
    (!value.is_finite() || value <= 0.0)
        .then(|| format!("is {value}; it must be a finite number greater than 0"))
}

fn format_usd(usd: f64) -> String {
    if usd >= 1e9 {
        format!("${:.1}B", usd / 1e9)
    } else if usd >= 1e6 {
        format!("${:.1}M", usd / 1e6)
    } else if usd >= 1e3 {
        format!("${:.1}k", usd / 1e3)
    } else {
        format!("${usd:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounds to two significant digits.
    fn sig2(x: f64) -> f64 {
        let scale = 10f64.powf(x.abs().log10().floor() - 1.0);
        (x / scale).round() * scale
    }

    fn assert_sig2(actual: f64, expected: f64) {
        assert!(
            (sig2(actual) - expected).abs() <= 1e-9 * expected.abs(),
            "{actual} rounds to {} at two significant digits, expected {expected}",
            sig2(actual)
        );
    }

    #[test]
    fn gpt_matmul_has_1_86e12_multiply_adds() {
        let v = EvmVerification::default();
        assert_eq!(v.multiply_adds, 1_855_425_871_872.0);
        assert_sig2(v.multiply_adds, 1.9e12);
        assert_eq!(GAS_PER_MULTIPLY_ADD_FLOOR, 8.0);
    }

    #[test]
    fn floor_case_costs_10_billion_and_34_days() {
        let v = EvmVerification::default();
        assert_sig2(v.gas(), 1.5e13);
        assert_sig2(v.cost_usd(), 1.0e10);
        assert_sig2(v.days(), 34.0);
        assert!((v.blocks() - 247_390.1).abs() < 1.0);
    }

    #[test]
    fn contract_loop_case_costs_billions_and_a_year_or_two() {
        let v = EvmVerification {
            gas_per_multiply_add: GAS_PER_MULTIPLY_ADD_CONTRACT,
            gas_price_gwei: 20.0,
            ..EvmVerification::default()
        };
        assert_sig2(v.gas(), 1.4e14);
        // $9.5B at $3,400/ETH; the "~$8B" figure is the same gas at about $3,000/ETH.
        assert_sig2(v.cost_usd(), 9.5e9);
        assert_sig2(
            EvmVerification {
                eth_usd: 3_000.0,
                ..v.clone()
            }
            .cost_usd(),
            8.3e9,
        );
        // 0.88 years at 60M-gas blocks; 1.2 years at 45M; 1.8 years at 30M.
        let years = |limit: f64| {
            EvmVerification {
                block_gas_limit: limit,
                ..v.clone()
            }
            .days()
                / 365.0
        };
        assert_sig2(years(BLOCK_GAS_LIMIT_LATE_2025), 0.88);
        assert_sig2(years(BLOCK_GAS_LIMIT_JUL_2025), 1.2);
        assert_sig2(years(BLOCK_GAS_LIMIT_FEB_2025), 1.5);
        assert_sig2(years(BLOCK_GAS_LIMIT_2021), 1.8);
    }

    #[test]
    fn floor_case_at_1_gwei_costs_tens_of_millions() {
        let v = EvmVerification {
            gas_price_gwei: 1.0,
            ..EvmVerification::default()
        };
        // $50M at $3,400/ETH; the "~$45M" figure is about $3,000/ETH.
        assert_sig2(v.cost_usd(), 5.0e7);
        assert_sig2(
            EvmVerification {
                eth_usd: 3_000.0,
                ..v
            }
            .cost_usd(),
            4.5e7,
        );
    }

    #[test]
    fn transactions_under_eip_7983_cap() {
        let v = EvmVerification::default();
        assert_eq!(EIP_7983_TX_GAS_CAP, 2f64.powi(24));
        // 12288^3 x 8 = 27 x 2^39 gas, exactly 27 x 2^15 transactions of 2^24 gas.
        assert_eq!(v.transactions(EIP_7983_TX_GAS_CAP), 884_736);
        let small = EvmVerification {
            multiply_adds: 1.0,
            gas_per_multiply_add: EIP_7983_TX_GAS_CAP + 1.0,
            ..EvmVerification::default()
        };
        assert_eq!(small.transactions(EIP_7983_TX_GAS_CAP), 2);
    }

    #[test]
    fn cost_linear_in_prices_and_days_inverse_in_block_limit() {
        let v = EvmVerification::default();
        let double_gas_price = EvmVerification {
            gas_price_gwei: 2.0 * v.gas_price_gwei,
            ..v.clone()
        };
        let double_eth = EvmVerification {
            eth_usd: 2.0 * v.eth_usd,
            ..v.clone()
        };
        let double_limit = EvmVerification {
            block_gas_limit: 2.0 * v.block_gas_limit,
            ..v.clone()
        };
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(rel(double_gas_price.cost_usd(), 2.0 * v.cost_usd()) < 1e-12);
        assert!(rel(double_eth.cost_usd(), 2.0 * v.cost_usd()) < 1e-12);
        assert!(rel(double_limit.days(), v.days() / 2.0) < 1e-12);
        assert_eq!(double_gas_price.days(), v.days());
        let mut last = f64::INFINITY;
        for limit in [
            BLOCK_GAS_LIMIT_2021,
            BLOCK_GAS_LIMIT_FEB_2025,
            BLOCK_GAS_LIMIT_JUL_2025,
            BLOCK_GAS_LIMIT_LATE_2025,
        ] {
            let days = EvmVerification {
                block_gas_limit: limit,
                ..v.clone()
            }
            .days();
            assert!(days < last);
            last = days;
        }
    }

    #[test]
    fn validate_flags_non_positive_and_non_finite() {
        let fields = |check: &dyn Fn(&mut Issues) -> bool| -> Vec<String> {
            let mut issues = Issues::default();
            assert_eq!(check(&mut issues), issues.is_empty());
            issues.iter().map(|i| i.path.to_string()).collect()
        };
        let at = YamlPath::root();
        assert!(fields(&|i| EvmVerification::default().validate(&at, i)).is_empty());
        let bad = EvmVerification {
            gas_price_gwei: 0.0,
            eth_usd: f64::NAN,
            block_gas_limit: -1.0,
            ..EvmVerification::default()
        };
        let found = fields(&|i| bad.validate(&at, i));
        assert_eq!(found, ["gas_price_gwei", "eth_usd", "block_gas_limit"]);
        let chain_at = at.key("chain");
        assert!(fields(&|i| Chain::l2_assumed(0.01).validate(&chain_at, i)).is_empty());
        let chain = Chain::l2_assumed(f64::INFINITY).with_fee_per_payment_usd(-1.0);
        let mut issues = Issues::default();
        chain.validate(&chain_at, &mut issues);
        let found: Vec<&str> = issues
            .iter()
            .map(|i| i.message.split(' ').next().unwrap_or(""))
            .collect();
        assert_eq!(found, ["fee_per_tx_usd", "fee_per_payment_usd"]);
        assert!(issues.iter().all(|i| i.path == chain_at));
    }

    #[test]
    fn table_lists_six_rows() {
        let table = report();
        assert_eq!(table.lines().count(), 2 + 6);
        assert!(table.contains("$10.1B"), "{table}");
        assert!(table.contains("34.4"), "{table}");
    }

    #[test]
    fn serde_defaults_and_round_trip() {
        let v: EvmVerification = serde_json::from_str(r#"{"gas_price_gwei": 1}"#).unwrap();
        assert_eq!(v.gas_price_gwei, 1.0);
        assert_eq!(v.multiply_adds, EvmVerification::default().multiply_adds);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(serde_json::from_str::<EvmVerification>(&json).unwrap(), v);
        let schema = schemars::schema_for!(EvmVerification);
        assert!(
            serde_json::to_string(&schema)
                .unwrap()
                .contains("block_gas_limit")
        );
    }

    #[test]
    fn batching_divides_transaction_count() {
        assert_eq!(Chain::transactions(1_000, 1), 1_000);
        assert_eq!(Chain::transactions(1_000, 10), 100);
        assert_eq!(Chain::transactions(1_001, 10), 101);
        assert_eq!(Chain::transactions(5, 0), 5);
        let l2 = Chain::l2_assumed(0.01);
        assert!((l2.settlement_cost_usd(1_000, 1) - 10.0).abs() < 1e-9);
        assert!((l2.settlement_cost_usd(1_000, 100) - 0.1).abs() < 1e-12);
        let with_calldata = l2.with_fee_per_payment_usd(0.001);
        assert!((with_calldata.settlement_cost_usd(1_000, 100) - 1.1).abs() < 1e-12);
    }

    #[test]
    fn solana_base_fee_is_exact() {
        // 5,000 lamports = 5e-6 SOL; at $200/SOL that is $0.001.
        let sol = Chain::solana(200.0, 1, 0.0, 0);
        assert_eq!(sol.fee_per_tx_usd, 5_000.0 / 1e9 * 200.0);
        assert!((sol.fee_per_tx_usd - 0.001).abs() < 1e-15);
        // Priority fee: 1,000,000 micro-lamports/CU x 200,000 CU / 1e6 = 200,000 lamports.
        let busy = Chain::solana(200.0, 1, 1e6, 200_000);
        assert!((busy.fee_per_tx_usd - 205_000.0 / 1e9 * 200.0).abs() < 1e-15);
        assert!((sol.settlement_cost_usd(1_000, 1) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn eth_transfer_at_20_gwei_costs_1_428() {
        let eth = Chain::ethereum_l1(20.0, 3_400.0);
        assert!((eth.fee_per_tx_usd - 1.428).abs() < 1e-12);
        let calldata = calldata_gas(52, 12) * 20.0 * 1e-9 * 3_400.0;
        assert_eq!(calldata_gas(52, 12), 880.0);
        let batched = eth.with_fee_per_payment_usd(calldata);
        let cost = batched.settlement_cost_usd(100, 100);
        assert!((cost - (1.428 + 100.0 * calldata)).abs() < 1e-9);
    }
}
