//! The bottom layer, which imports nothing else of the crate: the event kernel
//! ([`engine`]), random streams ([`rng`]), distributions ([`dist`]), units ([`units`]), and
//! the problems found in input ([`diagnostics`]) at a document path ([`path`]), SHA-256
//! digests ([`digest`]) and text escaped for markup ([`markup`]).

pub mod diagnostics;
pub mod digest;
pub mod dist;
pub mod engine;
pub mod markup;
pub mod path;
pub mod rng;
pub mod units;
