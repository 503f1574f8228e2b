//! berth's integration tests, one binary (`autotests = false`).
//!
//! - `support`: a temporary fleet and a runner for the real `berth` binary.
//! - `validate`: golden tests of every diagnostic berth reports, as a user sees it.
//! - `build`: artifacts of the example and golden fleets, determinism, atomic writes.
//! - `cli`: commands, flags and exit codes.
//! - `diff`: golden before/after fleets, baselines, formats and exit codes of `berth diff`.
//! - `schema`: the committed schemas are what the code generates.

mod build;
mod cli;
mod diff;
mod schema;
mod support;
mod validate;
