//! berth's integration tests, one binary (`autotests = false`).
//!
//! - `support`: a temporary fleet and a runner for the real `berth` binary.
//! - `annotations`: `validate --format github` and `--format sarif` for CI.
//! - `barcelona`: Barcelona's own files compile unchanged, with Barcelona's meaning.
//! - `validate`: golden tests of every diagnostic berth reports, as a user sees it.
//! - `build`: artifacts of the example and golden fleets, determinism, atomic writes.
//! - `cdn`: `cdn:` on a bucket: the distribution, the private bucket, `S3_ALIAS_HOST`, its errors.
//! - `cli`: commands, flags and exit codes.
//! - `dns`: `dns:` on a district: Route 53 alias records, where each lives, the zone's errors, names claimed twice.
//! - `output`: `build --format json`, and what `-q` and `-v` print.
//! - `contract`: the example and fixture Mastodon fleets give each process what Mastodon 4.3.2 reads.
//! - `cost`: the price table and `berth cost`: shape, coverage of emitted types, estimates by hand.
//! - `diff`: golden before/after fleets, baselines, formats and exit codes of `berth diff`.
//! - `drift`: `berth diff --deployed` against a fake `aws`.
//! - `editor`: the pinned yaml-language-server over LSP on the fleets, with the published schemas.
//! - `fleet`: rules across instances, name limits, data stacks, secrets.
//! - `fuzz`: mutated golden fleets never panic, never fail inside berth, always render when accepted.
//! - `off_hours`: the one-person fleet (no NAT, off at night) against the same fleet with NAT, always on.
//! - `schema`: the committed schemas are what the code generates.
//! - `terraform`: the Terraform configurations: listing, escaping, wiring, safety, targets.
//! - `provider_schema`: every Terraform resource against the AWS provider's argument schema.
//! - `limits`: AWS's limits on load balancers, rules and templates.
//! - `secure`: secure defaults of the artifacts (what checkov checks) and the keys that opt out.
//! - `parity`: CloudFormation and Terraform artifacts describe the same infrastructure.
//! - `apply`: `berth apply` and `destroy` against a fake `aws`: the exact calls.
//! - `review`: `berth review`: golden review apps, names, keeping `out/review/`; deploy, delete and list against a fake `aws`.
//! - `run`: `berth run` against a fake `aws`: the calls, log streaming, exit codes.
//! - `e2e`: `berth apply` on moto's server (ignored here; `scripts/moto-e2e` runs it).

mod annotations;
mod apply;
mod barcelona;
mod build;
mod cdk_oracle;
mod cdn;
mod cli;
mod contract;
mod cost;
mod diff;
mod dns;
mod drift;
mod e2e;
mod editor;
mod fleet;
mod fuzz;
mod limits;
mod off_hours;
mod output;
mod parity;
mod provider_schema;
mod review;
mod run;
mod schema;
mod secure;
mod support;
mod terraform;
mod validate;
