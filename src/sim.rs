//! One replication of a scenario on the event engine. The [`world::World`] owns the provider
//! groups' GPUs ([`pool`]) and dispatches each [`event::Event`] to the subsystem it belongs
//! to: [`inference`] (users, routing, replicas and queues), [`reliability`] (failures,
//! repairs and owners' hours), [`jobs`] (training and fine-tuning, with [`job_queue`]'s
//! backfilling rule and [`job_course`]'s course of one job), [`tokens`] (the token
//! economy's epochs) and [`supply`] (providers joining and leaving); [`timeseries`] writes
//! the per-epoch rows and `providers` names the providers' metrics at the end.

pub mod event;
pub mod footprint;
pub mod inference;
pub mod job_course;
pub mod job_queue;
pub mod jobs;
pub mod pool;
mod providers;
pub mod reliability;
pub mod replica;
pub mod supply;
pub mod timeseries;
pub mod tokens;
pub mod world;
