//! A district's Route 53 hosted zone (`dns:`): its id and domain name are
//! checked offline, before anything names records in it.
//!
//! berth never looks the zone up: these rules only catch what Route 53 would
//! refuse or what is plainly a mistake (an ARN-like `/hostedzone/` prefix, a
//! lower-case id, a name that is not a domain name).

use crate::diagnostic::Diagnostic;
use crate::schema::DistrictFile;

use super::Checked;

/// The longest hosted zone id: `ResourceId` in the pinned botocore model of
/// Route 53 (`botocore/data/route53/2013-04-01/service-2.json`, `max: 32`).
pub const ZONE_ID_MAX: usize = 32;

/// The longest domain name without its trailing dot (RFC 1035 §2.3.4: 255
/// octets on the wire, 253 characters written out).
const NAME_MAX: usize = 253;

/// A zone's or record's name as berth compares it: lower case, no trailing dot.
#[must_use]
pub fn normalize(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Whether `host` (normalized, maybe `*.`-prefixed) is the zone's apex or a name under it.
#[must_use]
pub fn in_zone(host: &str, zone: &str) -> bool {
    let host = normalize(host);
    host == zone || host.ends_with(&format!(".{zone}"))
}

/// Why `id` is not a hosted zone id, if it is not one.
fn zone_id_problem(id: &str) -> Option<(&'static str, String)> {
    if let Some(rest) = id.strip_prefix("/hostedzone/") {
        return Some((
            "the path of the zone, not its id",
            format!("write the id alone: `zone_id: {rest}`"),
        ));
    }
    let shape = id.len() >= 2
        && id.len() <= ZONE_ID_MAX
        && id.starts_with('Z')
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    (!shape).then(|| {
        (
            "not a hosted zone id",
            format!(
                "a Route 53 hosted zone id is `Z` and upper-case letters and digits, at most {ZONE_ID_MAX} characters, e.g. `Z0123456789ABCDEFGHIJ`: `aws route53 list-hosted-zones-by-name --dns-name <zone>` prints it"
            ),
        )
    })
}

/// Why `name` is not a domain name, if it is not one.
fn name_problem(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Some("the name is empty".to_owned());
    }
    if name.len() > NAME_MAX {
        return Some(format!(
            "it has {} characters; a domain name has at most {NAME_MAX}",
            name.len()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("it has an empty label (two dots in a row, or a leading dot)".to_owned());
        }
        if label.len() > 63 {
            return Some(format!(
                "label `{label}` has {} characters; a label has at most 63",
                label.len()
            ));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Some(format!(
                "label `{label}` has a character other than a letter, a digit or `-`"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("label `{label}` starts or ends with `-`"));
        }
    }
    None
}

/// Checks the `dns:` of a district file: each zone's id and name, and no
/// zone named twice.
#[must_use]
pub fn check_district(file: &Checked<DistrictFile>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(dns) = &file.spec.dns else {
        return out;
    };
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for (at, zone) in dns.zones() {
        if let Some((label, help)) = zone_id_problem(&zone.zone_id) {
            out.push(
                Diagnostic::error(
                    "dns-zone-id",
                    format!("`{}` is not a Route 53 hosted zone id", zone.zone_id),
                )
                .at(file.at(&format!("{at}/zone_id")), label)
                .help(help),
            );
        }
        if let Some(why) = name_problem(&zone.zone) {
            out.push(
                Diagnostic::error(
                    "dns-zone-name",
                    format!("`{}` is not a domain name: {why}", zone.zone),
                )
                .at(file.at(&format!("{at}/zone")), "not a domain name")
                .help("write the zone's name as Route 53 shows it, e.g. `zone: example.com` (a trailing dot is optional)"),
            );
            continue;
        }
        let name = normalize(&zone.zone);
        if let Some(first) = seen.get(&name) {
            out.push(
                Diagnostic::error("dns-zone-twice", format!("zone `{name}` is named twice"))
                    .at(file.at(&format!("{at}/zone")), "again here")
                    .also(file.at(&format!("{first}/zone")), "first here")
                    .help("keep one entry: Route 53 can hold two public zones of one name, but only the one the registrar delegates to answers"),
            );
        } else {
            seen.insert(name, at);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids() {
        for (id, ok) in [
            ("Z0123456789ABCDEFGHIJ", true),
            ("Z2FDTNDATAQYW2", true),
            ("Z", false),
            ("z0123456789", false),
            ("Z0123456789abc", false),
            ("/hostedzone/Z0123456789", false),
            ("A0123456789", false),
            (&format!("Z{}", "1".repeat(31)), true),
            (&format!("Z{}", "1".repeat(32)), false),
        ] {
            assert_eq!(zone_id_problem(id).is_none(), ok, "{id}");
        }
    }

    #[test]
    fn zone_names() {
        for (name, ok) in [
            ("example.com", true),
            ("example.com.", true),
            ("Example.COM", true),
            ("social.example", true),
            ("example..com", false),
            (".example.com", false),
            ("-example.com", false),
            ("exa_mple.com", false),
            ("*.example.com", false),
            ("", false),
            (".", false),
        ] {
            assert_eq!(name_problem(name).is_none(), ok, "{name}");
        }
        assert!(name_problem(&format!("{}.com", "a".repeat(64))).is_some());
    }

    #[test]
    fn names_in_a_zone() {
        assert!(in_zone("example.com", "example.com"));
        assert!(in_zone("Social.Example.com.", "example.com"));
        assert!(in_zone("*.example.com", "example.com"));
        assert!(!in_zone("badexample.com", "example.com"));
        assert!(!in_zone("example.org", "example.com"));
    }
}
