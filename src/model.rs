//! The domain: GPU classes and the roofline ([`gpu`]), the model catalogue ([`catalogue`]),
//! continuous-batching replicas ([`serving`]), and the [`world::World`] that ties
//! regions, provider pools and inference demand to the event engine.

pub mod catalogue;
pub mod gpu;
pub mod jobs;
pub mod pool;
pub mod serving;
pub mod supply;
pub mod tokens;
pub mod training;
pub mod world;
mod world_metrics;
