//! berth's integration tests, one binary (`autotests = false`).
//!
//! - `support`: a temporary fleet and a runner for the real `berth` binary.
//! - `validate`: golden tests of every diagnostic berth reports, as a user sees it.
//! - `build`: artifacts of the example and golden fleets, determinism, atomic writes.
//! - `cli`: commands, flags and exit codes.
//! - `schema`: the committed schemas are what the code generates.
//! - `apply`: `berth apply` and `destroy` against a fake `aws`: the exact calls.
//! - `e2e`: `berth apply` on moto's server (ignored here; `scripts/moto-e2e` runs it).

mod apply;
mod build;
mod cli;
mod e2e;
mod schema;
mod support;
mod validate;
