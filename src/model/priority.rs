//! Listener rule priorities assigned from names, stable across fleet changes.
//!
//! A rule without `rule_priority` gets a priority derived from a hash of its
//! district, heritage, service and listener position only — so adding or
//! removing another instance never moves it. Bands keep the order the load
//! balancer needs: rules with a specific path come first, host-only rules
//! next, catch-all rules last. Explicit priorities below 1000 are never
//! taken by assignment.

use sha2::{Digest, Sha256};

/// First priority berth assigns; explicit priorities below it never collide with assigned ones.
pub const ASSIGNED_FROM: u32 = 1000;

/// What a rule matches, which decides its band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Specificity {
    /// A path pattern other than `/*` (maybe with a host).
    Path,
    /// Host names only.
    Host,
    /// Everything (no condition, or only `/*`).
    CatchAll,
}

/// The priority berth assigns to a rule identified by `key`.
#[must_use]
pub fn assign(key: &str, specificity: Specificity) -> u32 {
    let digest = Sha256::digest(key.as_bytes());
    let hash = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let (start, width) = match specificity {
        Specificity::Path => (ASSIGNED_FROM, 24_000),
        Specificity::Host => (25_000, 24_000),
        Specificity::CatchAll => (49_000, 1_000),
    };
    start + hash % width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_order_rules() {
        for key in ["a", "b", "mstdn/bcn-users/streaming/0", "x/y/z/1"] {
            let path = assign(key, Specificity::Path);
            let host = assign(key, Specificity::Host);
            let all = assign(key, Specificity::CatchAll);
            assert!((1000..25_000).contains(&path));
            assert!((25_000..49_000).contains(&host));
            assert!((49_000..=50_000).contains(&all));
        }
    }

    #[test]
    fn assignment_depends_on_the_key_only() {
        assert_eq!(
            assign("mstdn/bcn-users/web/0", Specificity::Host),
            assign("mstdn/bcn-users/web/0", Specificity::Host)
        );
        assert_ne!(
            assign("mstdn/bcn-users/web/0", Specificity::Host),
            assign("mstdn/bcn-users/web/1", Specificity::Host)
        );
    }
}
