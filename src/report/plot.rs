//! Pictures for people: [`chart`] draws line, bar and tornado charts (SVG text or RGB
//! pixels, the bundled font, the same bytes for the same data); [`run`] chooses a run's
//! charts from its records, [`sweep`] a sweep's.

pub mod chart;
pub mod run;
pub mod sweep;
