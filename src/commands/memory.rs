//! The memory this process may use, read from the machine, and the refusal of a run or
//! sweep whose estimate does not fit it (issue 13). The library estimates
//! ([`depinsim::sim::footprint`]); reading `/proc`, the cgroup's files and the resource
//! limits is the binary's, like the environment.
//!
//! The limit is the smallest of: physical memory (`MemTotal` in `/proc/meminfo`: what the
//! machine has, the same at every run, where `MemAvailable` moves with whatever else is
//! running and with the page cache, so a decision on it would not be repeatable; a run
//! above what is available now gets a warning instead); the memory limit of the process's
//! cgroup and of each cgroup above it (v2 `memory.max`, v1 `memory.limit_in_bytes`, under
//! `/sys/fs/cgroup`), which is what a container's out-of-memory killer enforces; and the
//! soft `RLIMIT_AS` (`Max address space` in `/proc/self/limits`). `--max-memory` replaces
//! them all.

use std::path::Path;

use anyhow::Result;
use depinsim::report::run::{count, size};
use depinsim::scenario::defaults::MEMORY_SHARE;
use depinsim::sim::footprint::Footprint;

use super::Usage;

/// A limit on the memory this process may use, and where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Limit {
    /// Bytes.
    pub(super) bytes: u64,
    /// Where the figure was read, in words.
    pub(super) source: String,
}

/// `MemTotal` or another `/proc/meminfo` field (`key`), bytes.
fn meminfo(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.split(':').next() == Some(key))?;
    let mut words = line.split_once(':')?.1.split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => n.checked_mul(1024),
        None => Some(n),
        Some(_) => None,
    }
}

/// The process's cgroup paths from `/proc/self/cgroup`: the v2 one (`0::/path`), and the
/// v1 memory controller's (`N:memory:/path`, or with other controllers).
fn cgroup_paths(text: &str) -> (Option<String>, Option<String>) {
    let (mut v2, mut v1) = (None, None);
    for line in text.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2 = Some(path.to_string());
        } else if controllers.split(',').any(|c| c == "memory") {
            v1 = Some(path.to_string());
        }
    }
    (v2, v1)
}

/// A cgroup memory limit file: `max` is none, else bytes.
fn cgroup_limit(text: &str) -> Option<u64> {
    match text.trim() {
        "max" => None,
        t => t.parse().ok(),
    }
}

/// The soft `Max address space` of `/proc/self/limits`, bytes (`unlimited`: none).
fn address_space(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `path` and each cgroup above it, the deepest first.
fn ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut p = path.trim_end_matches('/').to_string();
    while !p.is_empty() {
        out.push(p.clone());
        p.truncate(p.rfind('/').unwrap_or(0));
    }
    out.push(String::new());
    out
}

/// The smallest limit among the cgroup `path`'s own and its ancestors', each in file
/// `file` under `root`.
fn cgroup_tree_limit(root: &str, path: &str, file: &str) -> Option<Limit> {
    ancestors(path)
        .into_iter()
        .filter_map(|p| {
            let f = format!("{root}{p}/{file}");
            let bytes = cgroup_limit(&std::fs::read_to_string(&f).ok()?)?;
            Some(Limit {
                bytes,
                source: format!("the cgroup's limit, {f}"),
            })
        })
        .min_by_key(|l| l.bytes)
}

/// The smallest limit on this process's memory that the machine states (None if it states
/// none that could be read).
fn detected() -> Option<Limit> {
    let read = |p: &str| std::fs::read_to_string(Path::new(p)).ok();
    let mut found = Vec::new();
    if let Some(b) = read("/proc/meminfo").and_then(|t| meminfo(&t, "MemTotal")) {
        found.push(Limit {
            bytes: b,
            source: "physical memory, MemTotal in /proc/meminfo".into(),
        });
    }
    let (v2, v1) = read("/proc/self/cgroup").map_or((None, None), |t| cgroup_paths(&t));
    if let Some(p) = v2 {
        for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
            found.extend(cgroup_tree_limit(root, &p, "memory.max"));
        }
    }
    if let Some(p) = v1 {
        found.extend(cgroup_tree_limit(
            "/sys/fs/cgroup/memory",
            &p,
            "memory.limit_in_bytes",
        ));
    }
    if let Some(b) = read("/proc/self/limits").and_then(|t| address_space(&t)) {
        found.push(Limit {
            bytes: b,
            source: "RLIMIT_AS, Max address space in /proc/self/limits".into(),
        });
    }
    found.into_iter().min_by_key(|l| l.bytes)
}

/// The limit a run is held to: `--max-memory` when given, else [`detected`].
fn limit(max_memory: Option<u64>) -> Option<Limit> {
    match max_memory {
        Some(bytes) => Some(Limit {
            bytes,
            source: "--max-memory".into(),
        }),
        None => detected(),
    }
}

/// Refuses (a usage error, exit 2) a run whose estimate, `replications` replications of
/// `footprint` with `in_flight` at once, exceeds [`MEMORY_SHARE`] of `limit`: the message
/// gives the estimate, its largest part, the limit and where it comes from, and the fix.
/// `what` names the run ("the run", "the sweep's largest variant").
fn check(
    footprint: &Footprint,
    in_flight: usize,
    replications: u32,
    limit: Option<&Limit>,
    what: &str,
) -> Result<()> {
    let need = footprint.run(in_flight, replications);
    let Some(limit) = limit else { return Ok(()) };
    let allowed = (limit.bytes as f64 * MEMORY_SHARE) as u64;
    if need <= allowed {
        return Ok(());
    }
    let each = footprint.replication();
    let rest = need.saturating_sub(each.saturating_mul(in_flight as u64));
    let largest = footprint.largest();
    let part = largest.map_or(String::new(), |p| {
        format!(
            "\n    largest part of a replication: {} {} x {} = {}",
            count(p.count),
            p.what,
            size(p.each),
            size(p.bytes())
        )
    });
    let threads = if in_flight > 1 {
        ", or fewer replications at once (--threads 1)"
    } else {
        ""
    };
    Err(Usage(format!(
        "{what} would need about {} of memory, more than {:.0}% of the {} this process may use ({})\n    \
         estimate: {in_flight} replication(s) at once x {} each, and {} for the process and the results{part}\n    \
         fix: {}{threads}; if the limit is wrong, give the memory the run may use with --max-memory SIZE (e.g. --max-memory 64GiB)",
        size(need),
        MEMORY_SHARE * 100.0,
        size(limit.bytes),
        limit.source,
        size(each),
        size(rest),
        largest.map_or("a smaller scenario", |p| p.fix),
    ))
    .into())
}

/// Admits (or refuses, as [`admit`]) the replications of scenario `s` on the worker threads
/// that `threads` (0: every core) gives it, and returns that number of threads.
pub(super) fn admit_run(
    s: &depinsim::scenario::Scenario,
    threads: u16,
    max_memory: Option<u64>,
    what: &str,
) -> Result<usize> {
    let in_flight = depinsim::experiment::threads_for(s, usize::from(threads));
    admit(
        &Footprint::of(s),
        in_flight,
        s.replications(),
        max_memory,
        what,
    )?;
    Ok(in_flight)
}

/// Refuses a run of `replications` replications of `footprint`, `in_flight` at once, that
/// does not fit the limit (`--max-memory`, else the machine's: [`check`]); warns when it fits
/// the machine's limit but not the memory available now.
pub(super) fn admit(
    footprint: &Footprint,
    in_flight: usize,
    replications: u32,
    max_memory: Option<u64>,
    what: &str,
) -> Result<()> {
    check(
        footprint,
        in_flight,
        replications,
        limit(max_memory).as_ref(),
        what,
    )?;
    if max_memory.is_none()
        && let Some(w) = warning(footprint, in_flight, replications)
    {
        err!("{w}");
    }
    Ok(())
}

/// A warning when the estimate fits the limit but not the memory available now (other
/// processes, or the page cache, hold the rest): such a run may be slow or killed.
fn warning(footprint: &Footprint, in_flight: usize, replications: u32) -> Option<String> {
    let need = footprint.run(in_flight, replications);
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let available = meminfo(&text, "MemAvailable")?;
    (need > available).then(|| {
        format!(
            "warning: the run may need about {}, more than the {} of memory available now (MemAvailable in /proc/meminfo)",
            size(need),
            size(available)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_gives_kibibytes_as_bytes() {
        let text = "MemTotal:       24523684 kB\nMemFree:        21061552 kB\nMemAvailable:   23043140 kB\n";
        assert_eq!(meminfo(text, "MemTotal"), Some(24_523_684 * 1024));
        assert_eq!(meminfo(text, "MemAvailable"), Some(23_043_140 * 1024));
        assert_eq!(meminfo(text, "SwapTotal"), None);
        assert_eq!(meminfo("MemTotal: lots kB", "MemTotal"), None);
        assert_eq!(meminfo("MemTotal: 12 MB", "MemTotal"), None);
    }

    #[test]
    fn cgroup_files_name_the_v2_path_and_the_v1_memory_controller() {
        assert_eq!(
            cgroup_paths("0::/user.slice/app\n"),
            (Some("/user.slice/app".into()), None)
        );
        let hybrid = "9:name=systemd:/\n4:memory:/process_api/ef84\n2:cpuacct,cpu:/\n0::/\n";
        assert_eq!(
            cgroup_paths(hybrid),
            (Some("/".into()), Some("/process_api/ef84".into()))
        );
        assert_eq!(
            cgroup_paths("5:blkio,memory:/docker/abc\n"),
            (None, Some("/docker/abc".into()))
        );
        assert_eq!(cgroup_paths("garbage\n"), (None, None));
    }

    #[test]
    fn a_cgroup_limit_of_max_is_none_and_a_number_is_bytes() {
        assert_eq!(cgroup_limit("max\n"), None);
        assert_eq!(cgroup_limit("8589934592\n"), Some(8_589_934_592));
        assert_eq!(
            cgroup_limit("9223372036854771712"),
            Some(9_223_372_036_854_771_712)
        );
        assert_eq!(cgroup_limit(""), None);
    }

    #[test]
    fn the_address_space_limit_is_the_soft_one() {
        let head =
            "Limit                     Soft Limit           Hard Limit           Units     \n";
        let unlimited = format!(
            "{head}Max address space         unlimited            unlimited            bytes     \n"
        );
        assert_eq!(address_space(&unlimited), None);
        let set = format!(
            "{head}Max stack size            8388608              unlimited            bytes     \nMax address space         4294967296           unlimited            bytes     \n"
        );
        assert_eq!(address_space(&set), Some(4_294_967_296));
        assert_eq!(address_space(head), None);
    }

    #[test]
    fn a_cgroup_is_limited_by_itself_and_every_cgroup_above_it() {
        assert_eq!(ancestors("/a/b"), ["/a/b", "/a", ""]);
        assert_eq!(ancestors("/"), [""]);
        assert_eq!(ancestors(""), [""]);
    }
}
