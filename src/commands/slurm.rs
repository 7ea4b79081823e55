//! `depinsim sweep ... --emit-slurm N`: the Slurm script that runs the sweep as a job array
//! of N shards and then a merge job that waits for every shard (`afterok`), so that a
//! cluster's own scheduler spreads the cells and the result is what one machine would write.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use depinsim::export::file::write_atomic;

/// Writes `out/sweep.sbatch` for the sweep this process was asked to run, split in `n`.
///
/// # Errors
/// The script exists and `force` was not given, or it cannot be written.
pub(super) fn emit(out: &Path, n: u32, force: bool) -> Result<ExitCode> {
    let exe = std::env::current_exe().context("finding the depinsim binary")?;
    let cwd = std::env::current_dir().context("finding the working directory")?;
    let out = cwd.join(out);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let script = script(
        &exe.display().to_string(),
        &cwd.display().to_string(),
        &out.display().to_string(),
        &shard_args(&args),
        n,
        threads(&args),
    );
    let path = out.join("sweep.sbatch");
    write_atomic(&path, script.as_bytes(), force)?;
    out!(
        "wrote {}: submit it with `sh {}` (a job array of {n} shards, then the merge into {})",
        path.display(),
        path.display(),
        out.join("merged").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The sweep's arguments without what each shard sets itself (`--emit-slurm`, `--out`,
/// `--threads`, `--force`, `--quiet`).
fn shard_args(args: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let flag = a.split_once('=').map_or(a.as_str(), |p| p.0);
        match flag {
            "--emit-slurm" | "--out" | "--threads" if !a.contains('=') => {
                it.next();
            }
            "--emit-slurm" | "--out" | "--threads" | "--force" | "--quiet" | "-q" => {}
            _ => kept.push(a.clone()),
        }
    }
    kept
}

/// The threads each shard asked for (`--threads T`), or 1.
fn threads(args: &[String]) -> u32 {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = match a.strip_prefix("--threads") {
            Some("") => it.next().map(String::as_str),
            Some(v) => v.strip_prefix('='),
            None => None,
        };
        if let Some(t) = value.and_then(|v| v.parse().ok()).filter(|&t| t > 0) {
            return t;
        }
    }
    1
}

/// A word quoted for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn script(exe: &str, cwd: &str, out: &str, args: &[String], n: u32, threads: u32) -> String {
    let args: Vec<String> = args.iter().map(|a| quote(a)).collect();
    let (exe, cwd) = (quote(exe), quote(cwd));
    let shards = quote(&format!("{out}/shards"));
    let logs = quote(&format!("{out}/logs"));
    let merged = quote(&format!("{out}/merged"));
    format!(
        r#"#!/bin/sh
# Runs a depinsim sweep on Slurm: a job array of {n} shards, each on {threads} CPU(s), then a
# merge job that starts once every shard has succeeded. Submit it with: sh THIS_FILE
# The merged sweep (what one machine would write) goes to {merged}.
set -eu
cd {cwd}
mkdir -p {logs}
array=$(sbatch --parsable --job-name=depinsim-sweep --array=1-{n} --cpus-per-task={threads} \
  --output={logs}/shard-%a.out <<'SHARD'
#!/bin/sh
exec {exe} {args} --threads {threads} --quiet \
  --shard "$SLURM_ARRAY_TASK_ID/{n}" --out {shards}/"$SLURM_ARRAY_TASK_ID"
SHARD
)
array=${{array%%;*}}
sbatch --parsable --job-name=depinsim-merge --dependency=afterok:"$array" \
  --output={logs}/merge.out <<'MERGE'
#!/bin/sh
exec {exe} merge {shards}/* --out {merged}
MERGE
"#,
        args = args.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn each_shard_gets_the_sweep_without_what_it_sets_itself() {
        let args = words(
            "sweep s.yaml --out o --threads 4 --emit-slurm 8 --set a=1 --quiet --force --seed=3 --out=p",
        );
        assert_eq!(shard_args(&args), words("sweep s.yaml --set a=1 --seed=3"));
        assert_eq!(threads(&args), 4);
        assert_eq!(threads(&words("sweep s.yaml --threads=2")), 2);
        assert_eq!(threads(&words("sweep s.yaml --threads 0")), 1);
    }

    #[test]
    fn the_script_submits_an_array_then_a_merge_after_it() {
        let s = script(
            "/bin/depinsim",
            "/work",
            "/o",
            &words("sweep it's.yaml"),
            3,
            2,
        );
        assert!(s.contains("--array=1-3 --cpus-per-task=2"), "{s}");
        assert!(s.contains(r"'it'\''s.yaml'"), "{s}");
        assert!(s.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\""), "{s}");
        assert!(s.contains("--dependency=afterok:\"$array\""), "{s}");
        assert!(s.contains("merge '/o/shards'/* --out '/o/merged'"), "{s}");
    }
}
