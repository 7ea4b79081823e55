//! Exact queueing results the simulator is checked against (and that users can compare with):
//! Erlang C for M/M/c, Pollaczek-Khinchine for M/G/1, Little's law.

/// Erlang C: probability that an arrival waits in an M/M/c queue with offered load
/// `a = lambda / mu` (requires a < c). Computed with the stable Erlang B recursion
/// B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), then C = c B / (c - a (1 - B)).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let c = f64::from(c);
    c * b / (c - a * (1.0 - b))
}

/// Mean queueing wait of M/M/c with arrival rate `lambda` and service rate `mu` per server.
pub fn mmc_mean_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda)
}

/// Pollaczek-Khinchine mean wait of M/G/1: `lambda E[S^2] / (2 (1 - rho))`, `rho = lambda E[S]`.
pub fn pk_mean_wait(lambda: f64, mean_s: f64, second_moment_s2: f64) -> f64 {
    lambda * second_moment_s2 / (2.0 * (1.0 - lambda * mean_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_closed_forms() {
        // M/M/1: P(wait) = rho.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        // M/M/2 with a = 1: (1/2 / (1/2)) / (1 + 1 + 1) = 1/3.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // M/M/8 at rho 0.8 (a = 6.4), from the textbook sum formula: 0.457645 (computed
        // independently from the a^k / k! series).
        assert!((erlang_c(8, 6.4) - 0.457_645).abs() < 1e-6);
    }

    #[test]
    fn mmc_and_pk_agree_on_mm1() {
        // M/M/1 is both M/M/c with c = 1 and M/G/1 with E[S^2] = 2 / mu^2.
        let (lambda, mu) = (0.6, 1.0);
        let w = mmc_mean_wait(1, lambda, mu);
        assert!((w - lambda / (mu * (mu - lambda))).abs() < 1e-12);
        assert!((pk_mean_wait(lambda, 1.0 / mu, 2.0 / (mu * mu)) - w).abs() < 1e-12);
        // M/D/1: half the M/M/1 wait.
        assert!((pk_mean_wait(lambda, 1.0, 1.0) - w / 2.0).abs() < 1e-12);
    }
}
