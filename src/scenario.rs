//! Scenario files: YAML text -> serde mirror ([`raw`]) -> validated, typed [`Scenario`].
//!
//! Only this module knows YAML. Loading goes: read the file, parse it into a document,
//! apply `--set` overrides, deserialize into [`raw::RawScenario`] (collecting every unknown
//! field), then validate every value. Every problem is an [`crate::core::diagnostics::Issue`] that names the
//! YAML path, the line where it can, and the fix.

pub mod defaults;
pub mod lines;
mod load;
pub mod overrides;
pub mod raw;
mod shape;
mod spec;
pub mod sweep;
mod validate;

pub use load::{LoadError, load_file, load_str, load_str_in, schema_json};
pub use spec::{
    Cloud, CloudServing, CloudSizing, Dispatch, JobClass, JobQueue, Placement, Pool, Provisioned,
    Region, Routing, Scenario, Tier, TokenSpec, UserGroup, Viability,
};
