#!/usr/bin/env bash
# A sweep on a real Slurm cluster of one node (this machine, loopback only), against the
# same sweep on one machine: installs Slurm and munge from the distribution's packages if
# they are missing, starts munged, slurmctld and slurmd with a throw-away configuration,
# submits the sweep as a job array of 3 shards and a dependent merge job
# (`depinsim sweep --emit-slurm 3`), waits for it, and compares every file with the
# single-machine result. Needs root (or sudo) for the packages and the daemons.
#
#   tests/slurm/one-node.sh                  # builds the binary first
#   DEPINSIM_BIN=target/release/depinsim tests/slurm/one-node.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

if ! command -v sbatch > /dev/null || ! command -v slurmctld > /dev/null \
  || ! command -v slurmd > /dev/null || ! command -v munged > /dev/null; then
  echo "== installing Slurm and munge (Debian packages)"
  $sudo apt-get update -q > /dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q slurmctld slurmd slurm-client munge > /dev/null
fi

# DEPINSIM_BIN: a binary already built (CI passes the one its tests built, which a plain
# `cargo build` would build again with other dependency features).
if [ -n "${DEPINSIM_BIN:-}" ]; then
  bin=$(realpath "$DEPINSIM_BIN")
else
  cargo build --release --quiet
  bin=$root/target/release/depinsim
fi

work=$(mktemp -d /tmp/depinsim-slurm.XXXXXX)
chmod 755 "$work"
export SLURM_CONF=$work/slurm.conf
cleanup() {
  scontrol shutdown > /dev/null 2>&1 || true
  for pid in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munged.pid"; do
    $sudo kill "$(cat "$pid" 2> /dev/null)" 2> /dev/null || true
  done
  sleep 3
  rm -rf "$work"
}
trap cleanup EXIT

echo "== munge"
mkdir -p "$work/munge"
dd if=/dev/urandom bs=1 count=1024 of="$work/munge/munge.key" status=none
chmod 400 "$work/munge/munge.key"
$sudo munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" \
  --pid-file="$work/munged.pid" --log-file="$work/munge/log" --seed-file="$work/munge/seed"

echo "== slurmctld and slurmd on $(hostname -s)"
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
mkdir -p "$work/state" "$work/spool"
cat > "$SLURM_CONF" <<CONF
ClusterName=depinsim
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldPort=6817
SlurmdPort=6818
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
$sudo env SLURM_CONF="$SLURM_CONF" slurmctld
$sudo env SLURM_CONF="$SLURM_CONF" slurmd
for _ in $(seq 60); do
  state=$(sinfo -h -N -o %t 2> /dev/null || true)
  [ "$state" = idle ] && break
  sleep 1
done
sinfo

sweep=(sweep scenarios/quickstart.yaml --grid 'inference.users.0.rate_per_s=[1.5, 2, 2.5]'
  --grid 'providers.eu-gamers-4090.count=[12, 24]' --set simulation.horizon_h=2 --replications 3)

echo "== the sweep on one machine"
"$bin" "${sweep[@]}" --quiet --out "$work/single"

echo "== the same sweep as a Slurm job array of 3 shards and a merge"
"$bin" "${sweep[@]}" --emit-slurm 3 --out "$work/cluster"
sh "$work/cluster/sweep.sbatch"
squeue
for _ in $(seq 600); do
  [ -z "$(squeue -h -o %i 2> /dev/null)" ] && break
  sleep 1
done
echo "shard logs: $(ls "$work/cluster/logs" | tr '\n' ' ')"
tail -n 1 "$work/cluster/logs/merge.out" 2> /dev/null || true
if [ ! -f "$work/cluster/merged/results.parquet" ]; then
  echo "FAILED: the merge job wrote no results" >&2
  tail -n 20 "$work"/cluster/logs/* "$work/slurmctld.log" >&2 || true
  exit 1
fi

echo "== comparing every file"
if diff -r "$work/single" "$work/cluster/merged"; then
  files=$(find "$work/single" -type f | wc -l)
  echo "PASSED: the merged Slurm sweep is byte-identical to the single-machine sweep ($files files)"
else
  echo "FAILED: the merged Slurm sweep differs from the single-machine sweep" >&2
  exit 1
fi
