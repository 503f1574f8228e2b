//! berth compiles a fleet of `barcelona.yml` instance files into reviewable AWS
//! artifacts. The stages run in this order, each in its own module and each
//! only looking forward: [`load`] → [`check`] → [`model`] → [`plan`] →
//! [`render`] → [`emit`]; [`diff`] compares two renderings, and [`apply`] is
//! the separate stage that hands `out/` to AWS.
//!
//! The library never prints, exits or reads the environment; the binary does.

pub mod annotations;
pub mod apply;
pub mod check;
pub mod compiler;
pub mod cost;
pub mod diagnostic;
pub mod diff;
pub mod editor;
pub mod emit;
pub mod limits;
pub mod load;
pub mod model;
pub mod plan;
pub mod render;
pub mod review;
pub mod schema;
