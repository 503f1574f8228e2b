//! `berth cost`: renders the fleet in memory and prints its monthly
//! estimate from berth's price table.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::ValueEnum;

use berth::compiler;
use berth::cost::{self, price::PriceTable, render};

use super::{Args, DiagnosticFormat, analyze, color_enabled, report, write_stdout};

#[derive(Debug, clap::Args)]
pub struct CostArgs {
    /// Only this district.
    #[arg(long, value_name = "DISTRICT")]
    district: Option<String>,
    /// Only this heritage (and its district's shared costs).
    #[arg(long, value_name = "HERITAGE")]
    heritage: Option<String>,
    /// `text` for a terminal, `markdown` for a pull-request comment, `json` for tools.
    #[arg(long, value_enum, default_value_t = CostFormat::Text)]
    format: CostFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CostFormat {
    Text,
    Markdown,
    Json,
}

pub fn run(args: &Args, cost_args: &CostArgs) -> Result<ExitCode> {
    let analysis = analyze(args)?;
    let Some(fleet) = &analysis.fleet else {
        report(
            &analysis,
            &args.root,
            DiagnosticFormat::Human,
            color_enabled(args.color),
        );
        bail!("the fleet has errors; fix them to estimate its cost");
    };
    let files = compiler::render(fleet, &args.root)?;
    let regions = cost::districts_of(fleet);
    let mut estimate = cost::estimate(&files, &regions, &PriceTable::builtin());
    if let Some(name) = &cost_args.district {
        if !estimate.districts.iter().any(|d| &d.name == name) {
            let names: Vec<_> = regions.keys().map(|n| format!("`{n}`")).collect();
            bail!(
                "no district named `{name}`; the fleet has {}",
                names.join(", ")
            );
        }
        estimate.districts.retain(|d| &d.name == name);
    }
    if let Some(name) = &cost_args.heritage {
        for district in &mut estimate.districts {
            district.heritages.retain(|h| &h.name == name);
        }
        estimate.districts.retain(|d| !d.heritages.is_empty());
        if estimate.districts.is_empty() {
            let names: Vec<_> = fleet
                .heritages()
                .map(|(_, h)| format!("`{}`", h.name))
                .collect();
            bail!(
                "no heritage named `{name}`; the fleet has {}",
                names.join(", ")
            );
        }
    }
    estimate.total = estimate.districts.iter().map(|d| d.total).sum();
    let text = match cost_args.format {
        CostFormat::Text => render::text(&estimate),
        CostFormat::Markdown => render::markdown(&estimate),
        CostFormat::Json => render::json(&estimate),
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
