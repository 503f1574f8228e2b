//! The price table: AWS list prices per region, one row per billable
//! dimension, each with its unit, the date it was read and the page it came
//! from (`prices.json`, built into the binary). It must not compute
//! estimates; [`super::estimate`] does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The table as written in `prices.json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    /// The date every row was read on or before (`YYYY-MM-DD`).
    pub date: String,
    pub currency: String,
    /// Hours in the month estimates are made for (AWS's own 730).
    pub hours_per_month: f64,
    pub note: String,
    pub prices: Vec<Price>,
    /// How each resource type berth can emit (CloudFormation and Terraform)
    /// is billed: `free`, `usage` (priced per unit used) or `priced`.
    pub resource_types: BTreeMap<String, TypeBilling>,
}

/// One price: a dimension (`key`, e.g. `nat.hour`) of one region, with a
/// `variant` for keys that have several (instance types, engines).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub key: String,
    pub variant: String,
    pub region: String,
    pub usd: f64,
    pub unit: String,
    /// When the figure was read (`YYYY-MM-DD`).
    pub read: String,
    /// The page it was read from.
    pub source: String,
    /// Whether the figure was confirmed on the page named in `source`.
    pub verified: bool,
    /// False for rows of resource types berth does not emit yet.
    pub emitted: bool,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Billing {
    Free,
    Usage,
    Priced,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TypeBilling {
    pub billing: Billing,
    /// The price keys that apply.
    pub prices: Vec<String>,
    pub note: String,
}

const TABLE: &str = include_str!("prices.json");

impl PriceTable {
    /// The table built into berth.
    ///
    /// # Panics
    /// Never for the committed table: a test parses it.
    #[must_use]
    pub fn builtin() -> Self {
        serde_json::from_str(TABLE).expect("prices.json is valid (tested)")
    }

    /// The price of `key` (and `variant`, `""` when it has none) in `region`.
    #[must_use]
    pub fn find(&self, key: &str, variant: &str, region: &str) -> Option<&Price> {
        self.prices
            .iter()
            .find(|p| p.key == key && p.variant == variant && p.region == region)
    }
}
