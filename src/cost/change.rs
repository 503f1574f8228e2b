//! The cost change between two estimates (what `berth diff` shows): the
//! total, each heritage's total, and the lines that cause it. It must not
//! print; the diff's printers format [`CostChange::lines`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Estimate, Line, LineKind};

/// The monthly cost change of a diff, in USD.
#[derive(Debug, Clone, Serialize)]
pub struct CostChange {
    pub before: f64,
    pub after: f64,
    pub delta: f64,
    /// Heritages whose total (own + allocated shared) changes.
    pub heritages: Vec<HeritageDelta>,
    /// The priced lines that change, added or removed.
    pub causes: Vec<Cause>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeritageDelta {
    pub district: String,
    pub heritage: String,
    pub before: f64,
    pub after: f64,
    pub delta: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    pub district: String,
    /// `None` for the district's shared resources.
    pub heritage: Option<String>,
    pub resource: String,
    /// What was priced before and after (`None` when added or removed).
    pub before: Option<String>,
    pub after: Option<String>,
    pub delta: f64,
}

fn cents(usd: f64) -> f64 {
    // `+ 0.0` turns the -0.0 of an empty sum into 0.0.
    (usd * 100.0).round() / 100.0 + 0.0
}

type Key = (String, Option<String>, String, String);

/// Every counted or unpriced line of an estimate, keyed by district,
/// heritage, resource and price key.
fn keyed(estimate: &Estimate) -> BTreeMap<Key, &Line> {
    let mut lines = BTreeMap::new();
    for district in &estimate.districts {
        let shared = district.lines.iter().map(|l| (None, l));
        let own = district
            .heritages
            .iter()
            .flat_map(|h| h.lines.iter().map(|l| (Some(h.name.clone()), l)));
        for (heritage, line) in shared.chain(own) {
            if line.kind == LineKind::Usage && line.monthly == 0.0 {
                continue;
            }
            let key = (
                district.name.clone(),
                heritage,
                line.resource.clone(),
                line.price_key.clone(),
            );
            lines.insert(key, line);
        }
    }
    lines
}

fn heritage_totals(estimate: &Estimate) -> BTreeMap<(String, String), f64> {
    estimate
        .districts
        .iter()
        .flat_map(|d| {
            d.heritages
                .iter()
                .map(|h| ((d.name.clone(), h.name.clone()), h.total))
        })
        .collect()
}

/// What changes from `before` to `after`; `None` when nothing priced does.
#[must_use]
pub fn change(before: &Estimate, after: &Estimate) -> Option<CostChange> {
    let old = keyed(before);
    let new = keyed(after);
    let mut keys: Vec<&Key> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut causes = Vec::new();
    for key in keys {
        let (a, b) = (old.get(key), new.get(key));
        let monthly = |l: Option<&&Line>| l.map_or(0.0, |l| l.monthly);
        let delta = cents(monthly(b) - monthly(a));
        let same_item = a.map(|l| &l.item) == b.map(|l| &l.item);
        if delta == 0.0 && same_item {
            continue;
        }
        causes.push(Cause {
            district: key.0.clone(),
            heritage: key.1.clone(),
            resource: key.2.clone(),
            before: a.map(|l| l.item.clone()),
            after: b.map(|l| l.item.clone()),
            delta,
        });
    }
    let (old_h, new_h) = (heritage_totals(before), heritage_totals(after));
    let mut names: Vec<_> = old_h.keys().chain(new_h.keys()).cloned().collect();
    names.sort();
    names.dedup();
    let heritages: Vec<HeritageDelta> = names
        .into_iter()
        .filter_map(|name| {
            let b = old_h.get(&name).copied().unwrap_or(0.0);
            let a = new_h.get(&name).copied().unwrap_or(0.0);
            let delta = cents(a - b);
            (delta != 0.0).then_some(HeritageDelta {
                district: name.0,
                heritage: name.1,
                before: b,
                after: a,
                delta,
            })
        })
        .collect();
    if causes.is_empty() && heritages.is_empty() {
        return None;
    }
    Some(CostChange {
        before: before.total,
        after: after.total,
        delta: cents(after.total - before.total),
        heritages,
        causes,
    })
}

/// `+$14.60/mo`, `-$3.65/mo`, `±$0.00/mo`.
#[must_use]
pub fn signed(usd: f64) -> String {
    if usd > 0.0 {
        format!("+${usd:.2}/mo")
    } else if usd < 0.0 {
        format!("-${:.2}/mo", -usd)
    } else {
        "±$0.00/mo".to_owned()
    }
}

impl CostChange {
    /// The change as lines of plain text, total first:
    /// `+$14.60/mo: bcn-users Database postgres db.t4g.micro single-az → postgres db.t4g.small single-az`.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{} in total (${:.2} → ${:.2} a month)",
            signed(self.delta),
            self.before,
            self.after
        )];
        for h in &self.heritages {
            lines.push(format!(
                "{}: heritage {}/{} (${:.2} → ${:.2}, shared costs included)",
                signed(h.delta),
                h.district,
                h.heritage,
                h.before,
                h.after
            ));
        }
        for cause in &self.causes {
            let owner = cause
                .heritage
                .as_deref()
                .map_or_else(|| format!("district {}", cause.district), ToOwned::to_owned);
            let what = match (&cause.before, &cause.after) {
                (Some(b), Some(a)) if b == a => b.clone(),
                (Some(b), Some(a)) => format!("{b} → {a}"),
                (None, Some(a)) => format!("{a} (added)"),
                (Some(b), None) => format!("{b} (removed)"),
                (None, None) => String::new(),
            };
            lines.push(format!(
                "{}: {owner} {} {what}",
                signed(cause.delta),
                cause.resource
            ));
        }
        lines
    }
}
