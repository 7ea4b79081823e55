//! The events of a replication: small `Copy` values carrying indices, which every
//! subsystem schedules and the [`super::world::World`] dispatches.

/// The model's events: small values carrying indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// User group `0` issues a request.
    Arrival(u32),
    /// Replica `0` reaches its next first token or completion (stale unless it is the
    /// replica's `next_at`).
    Step(u32),
    /// An epoch ends: write a time-series row.
    Epoch,
    /// The warm-up ends: statistics start.
    WarmupEnd,
    /// A job of class `0` arrives.
    JobArrival(u32),
    /// The job in slot `0` ends.
    JobDone(u32),
    /// A GPU of pool `0` lent to a job fails (the job's own model restarts it).
    JobGpuFailure(u32),
    /// A GPU of pool `0` may fail.
    GpuFailure(u32),
    /// A failed GPU of pool `0` is repaired.
    GpuRepair(u32),
    /// The owners of pool `0` lend their GPUs again.
    Lend(u32),
    /// The owners of pool `0` take their GPUs back.
    Withdraw(u32),
    /// A token epoch ends: mint, pay and burn.
    TokenEpoch,
    /// Providers review their returns (scenarios with a supply section and no token; with a
    /// token, reviews follow token epochs).
    Review,
    /// `1` GPUs that decided to join pool `0` start serving.
    Join(u32, u32),
}
