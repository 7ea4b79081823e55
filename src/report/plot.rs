//! Pictures for people: [`chart`] draws line and bar charts (SVG text or RGB pixels, the
//! bundled font, the same bytes for the same data); [`run`] chooses a run's charts from its
//! records.

pub mod chart;
pub mod run;
