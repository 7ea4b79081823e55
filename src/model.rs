//! The domain: GPU classes and the roofline ([`gpu`]), and the [`world::World`] that ties
//! regions, provider pools and inference demand to the event engine.

pub mod gpu;
pub mod jobs;
pub mod pool;
pub mod training;
pub mod world;
mod world_metrics;
