//! Text for people: the tables `depinsim` prints. Each is a function from results to a
//! `String` that the commands print; nothing here writes a file or knows a file format.
//!
//! - [`run`]: a run's headline figures, and how each provider group serves the model;
//! - [`compare`]: variants (or runs) against a baseline, with paired intervals;
//! - [`viability`]: the viability table of a run, with its verdicts;
//! - [`check`]: a run's metrics against a baseline, verdict by verdict, and the
//!   self-test's false alarms and detectable changes;
//! - [`plot`]: a run's charts (SVG text and pixels), and [`html`]: report.html and
//!   report.md;
//! - [`calibration`]: a calibration profile against its peaks and targets, and the
//!   compiler's resource report of the CUDA kernels.

pub mod calibration;
pub mod check;
pub mod compare;
pub mod html;
pub mod plot;
pub mod run;
pub mod viability;
