//! `depinsim validate`: check scenario files, and say how each provider group serves the
//! model.

use std::process::ExitCode;

use anyhow::Result;
use depinsim::cli::ValidateArgs;
use depinsim::experiment::threads_for;
use depinsim::export::json::ServingPlan;
use depinsim::report;
use depinsim::scenario::load_file;
use depinsim::sim::footprint::Footprint;

/// Every file's problems (exit 2 if any has one), or its serving plan.
pub(super) fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let ovs = super::overrides(&args.set)?;
    let mut failed = 0;
    for path in &args.scenarios {
        match load_file(path, &ovs) {
            Ok(s) => {
                out!("ok: {} ({})", path.display(), s.name());
                for plan in ServingPlan::of(&s) {
                    out!("{}", report::run::serving_line(&plan));
                }
                let threads = threads_for(&s, 0);
                let footprint = Footprint::of(&s);
                out!(
                    "{}",
                    report::run::memory_line(&footprint, threads, s.replications())
                );
            }
            Err(e) => {
                err!("{e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        err!(
            "{failed} of {} scenario files have problems",
            args.scenarios.len()
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
