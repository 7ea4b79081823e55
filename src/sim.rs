//! One replication of a scenario on the event engine: the [`world::World`] that ties
//! users, provider pools, jobs, the token economy and providers' supply decisions together.

pub mod event;
pub mod jobs;
pub mod pool;
pub mod replica;
pub mod supply;
pub mod tokens;
pub mod world;
mod world_metrics;
