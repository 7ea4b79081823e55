//! Units shared by every layer: simulated time is an integer of nanoseconds
//! ([`crate::core::engine::SimTime`]); rates and money are per hour and per year.

/// Nanoseconds in an hour, as a float (GPU-time integrals are in GPU-nanoseconds).
pub const NANOS_PER_HOUR: f64 = 3.6e12;
/// Nanoseconds in an hour, as simulated time.
pub const HOUR_NS: u64 = 3_600_000_000_000;
/// Seconds in an hour.
pub const SECONDS_PER_HOUR: f64 = 3600.0;
/// Hours in a year: 365.25 days, the Julian year that emission schedules and write-offs use.
pub const HOURS_PER_YEAR: f64 = 8766.0;
/// Hours in a month: a twelfth of [`HOURS_PER_YEAR`], 730.5 (30.4375 days).
pub const HOURS_PER_MONTH: f64 = HOURS_PER_YEAR / 12.0;
