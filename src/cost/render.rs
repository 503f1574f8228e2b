//! The printers of an [`Estimate`]: text for a terminal, Markdown for a
//! pull-request comment, JSON for tools. They must not compute; every
//! figure comes from the estimate.

use std::fmt::Write;

use super::{Estimate, Line, LineKind};

fn usd(amount: f64) -> String {
    format!("${amount:.2}")
}

/// The unit price as the table states it (more decimals than cents).
fn unit_price(line: &Line) -> String {
    match line.unit_usd {
        Some(price) => format!("${price}/{}", line.unit),
        None => "not in the price table".to_owned(),
    }
}

fn line_text(line: &Line) -> String {
    let text = line_figures(line);
    if line.note.is_empty() {
        text
    } else {
        format!("{text} — {}", line.note)
    }
}

fn line_figures(line: &Line) -> String {
    match line.kind {
        LineKind::Fixed => format!(
            "{:>10}/mo  {} ({}): {} {} × {}",
            usd(line.monthly),
            line.item,
            line.resource,
            trim(line.quantity),
            line.unit,
            unit_price(line)
        ),
        LineKind::Usage if line.quantity > 0.0 => format!(
            "{:>10}/mo  {} ({}): assumed {} {} × {} (usage-based)",
            usd(line.monthly),
            line.item,
            line.resource,
            trim(line.quantity),
            line.unit,
            unit_price(line)
        ),
        LineKind::Usage => format!(
            "{:>13}  {} ({}): {} (usage-based, not in the total)",
            "usage",
            line.item,
            line.resource,
            unit_price(line)
        ),
        LineKind::Unpriced => format!(
            "{:>13}  {} ({}): {} `{}`{}",
            "unpriced",
            line.item,
            line.resource,
            "no price for",
            line.price_key,
            if line.variant.is_empty() {
                String::new()
            } else {
                format!(" `{}`", line.variant)
            }
        ),
    }
}

/// `2` rather than `2.0`, `1460` rather than `1460.0`.
fn trim(n: f64) -> String {
    let text = format!("{n:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[must_use]
pub fn text(estimate: &Estimate) -> String {
    let mut out = String::new();
    for district in &estimate.districts {
        let _ = writeln!(
            out,
            "district {} ({}): {}/mo",
            district.name,
            district.region,
            usd(district.total)
        );
        let _ = writeln!(out, "  shared: {}/mo", usd(district.shared));
        for line in &district.lines {
            let _ = writeln!(out, "    {}", line_text(line));
        }
        for heritage in &district.heritages {
            let _ = writeln!(
                out,
                "  heritage {}: {}/mo ({} own + {} shared, {:.1}% of reserved CPU and memory)",
                heritage.name,
                usd(heritage.total),
                usd(heritage.own),
                usd(heritage.allocated),
                heritage.share * 100.0
            );
            for line in &heritage.lines {
                let _ = writeln!(out, "    {}", line_text(line));
            }
        }
    }
    let _ = writeln!(
        out,
        "total: {}/mo ({} hours, {} list prices of {})",
        usd(estimate.total),
        estimate.hours_per_month,
        estimate.currency,
        estimate.prices_date
    );
    out
}

/// The item with its note, for a table cell.
fn item(line: &Line) -> String {
    if line.note.is_empty() {
        line.item.clone()
    } else {
        format!("{} ({})", line.item, line.note)
    }
}

fn row(line: &Line) -> String {
    match line.kind {
        LineKind::Fixed => format!(
            "| {} | `{}` | {} {} | {} | {} |",
            item(line),
            line.resource,
            trim(line.quantity),
            line.unit,
            unit_price(line),
            usd(line.monthly)
        ),
        LineKind::Usage if line.quantity > 0.0 => format!(
            "| {} | `{}` | assumed {} {} | {} | {} |",
            item(line),
            line.resource,
            trim(line.quantity),
            line.unit,
            unit_price(line),
            usd(line.monthly)
        ),
        LineKind::Usage => format!(
            "| {} | `{}` | usage | {} | not counted |",
            item(line),
            line.resource,
            unit_price(line)
        ),
        LineKind::Unpriced => format!(
            "| {} | `{}` | {} | not in the price table | unpriced |",
            item(line),
            line.resource,
            trim(line.quantity)
        ),
    }
}

#[must_use]
pub fn markdown(estimate: &Estimate) -> String {
    let mut out = format!(
        "### Monthly cost estimate: {}\n\n{} hours a month, {} list prices of {}; usage-based lines show their unit price and are not counted.\n",
        usd(estimate.total),
        estimate.hours_per_month,
        estimate.currency,
        estimate.prices_date
    );
    let header = "| Item | Resource | Quantity | Unit price | Monthly |\n|---|---|---|---|---|\n";
    for district in &estimate.districts {
        let _ = write!(
            out,
            "\n#### District `{}` ({}): {}\n\nShared: {}\n\n{header}",
            district.name,
            district.region,
            usd(district.total),
            usd(district.shared)
        );
        for line in &district.lines {
            let _ = writeln!(out, "{}", row(line));
        }
        for heritage in &district.heritages {
            let _ = write!(
                out,
                "\n##### Heritage `{}`: {} ({} own + {} shared, {:.1}%)\n\n{header}",
                heritage.name,
                usd(heritage.total),
                usd(heritage.own),
                usd(heritage.allocated),
                heritage.share * 100.0
            );
            for line in &heritage.lines {
                let _ = writeln!(out, "{}", row(line));
            }
        }
    }
    out
}

/// # Panics
/// Never: the estimate holds only numbers and strings.
#[must_use]
pub fn json(estimate: &Estimate) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(estimate).expect("an estimate serializes")
    )
}
