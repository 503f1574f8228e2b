//! Waves: `apply --waves 1,10%,rest` rolls a district's heritages out in
//! batches, a canary first. This file reads the spec, cuts the heritages
//! into waves and describes what became of each; it must not call AWS (the
//! deploy runs the waves, [`super::service`] waits for their services).

use std::fmt;
use std::str::FromStr;

/// One wave's size, as `--waves` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    /// `3`: that many heritages.
    Count(usize),
    /// `10%`: that share of the heritages being applied, rounded up, at
    /// least one.
    Percent(usize),
    /// `rest`: every heritage left.
    Rest,
}

/// `--waves`: the sizes of the waves, in order. The last wave is `rest`
/// when the list does not cover every heritage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waves {
    sizes: Vec<Size>,
    spec: String,
}

impl FromStr for Waves {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let help = "give a count (`1`), a percentage of the heritages being applied (`10%`) or `rest`, separated by commas: `--waves 1,10%,rest`";
        let mut sizes = Vec::new();
        let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
        for (i, part) in parts.iter().enumerate() {
            let size = if part.is_empty() {
                return Err(format!("`{spec}` has an empty wave size: {help}"));
            } else if *part == "rest" {
                if i + 1 < parts.len() {
                    return Err(format!(
                        "`rest` must be the last wave of `{spec}`: it takes every heritage left, so no wave can follow it"
                    ));
                }
                Size::Rest
            } else if let Some(number) = part.strip_suffix('%') {
                match number.parse::<usize>() {
                    Ok(0) => {
                        return Err(format!(
                            "wave size `{part}` deploys nothing: a percentage is from `1%` to `100%`"
                        ));
                    }
                    Ok(n) if n > 100 => {
                        return Err(format!(
                            "wave size `{part}` is more than every heritage: a percentage is from `1%` to `100%`"
                        ));
                    }
                    Ok(n) => Size::Percent(n),
                    Err(_) => return Err(format!("`{part}` is not a wave size: {help}")),
                }
            } else {
                match part.parse::<usize>() {
                    Ok(0) => {
                        return Err(format!(
                            "wave size `0` deploys nothing: a count is at least `1`; {help}"
                        ));
                    }
                    Ok(n) => Size::Count(n),
                    Err(_) => return Err(format!("`{part}` is not a wave size: {help}")),
                }
            };
            sizes.push(size);
        }
        Ok(Self {
            sizes,
            spec: spec.to_owned(),
        })
    }
}

impl fmt::Display for Waves {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec)
    }
}

impl Waves {
    /// Cuts `items` (in `out/` order) into waves: each wave's size from the
    /// spec, a percentage of all of `items`, the last wave what is left.
    #[must_use]
    pub fn cut<T: Clone>(&self, items: &[T]) -> Vec<Vec<T>> {
        let total = items.len();
        let mut waves = Vec::new();
        let mut taken = 0;
        let mut sizes = self.sizes.iter();
        while taken < total {
            let left = total - taken;
            let size = match sizes.next() {
                Some(Size::Count(n)) => (*n).min(left),
                Some(Size::Percent(p)) => (total * p).div_ceil(100).clamp(1, left),
                Some(Size::Rest) | None => left,
            };
            waves.push(items[taken..taken + size].to_vec());
            taken += size;
        }
        waves
    }
}

/// What became of one wave, for reports that list them
/// (`apply --format json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaveOutcome {
    /// Every heritage deployed and, where its app stack changed, its
    /// services stable.
    Done,
    /// A dry run: the wave would be deployed.
    WouldDeploy,
    /// The wave stopped at `heritage` (`None`: at the district stack,
    /// before the wave began); `deployed` are those of its heritages
    /// deployed before.
    Failed {
        heritage: Option<String>,
        reason: String,
        deployed: Vec<String>,
    },
    /// The run stopped before this wave.
    NotStarted,
}

impl WaveOutcome {
    /// The outcome's name in reports: `done`, `failed`, ….
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::WouldDeploy => "would-deploy",
            Self::Failed { .. } => "failed",
            Self::NotStarted => "not-started",
        }
    }
}

/// One wave of one district and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveReport {
    pub district: String,
    /// From 1.
    pub number: usize,
    pub heritages: Vec<String>,
    pub outcome: WaveOutcome,
}

/// `` `a`, `b` ``, or `none`.
fn listed(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary of a district's waves after a failure: how many were done,
/// where it stopped and why, and which heritages were deployed, failed and
/// not touched. `later` are the districts the run did not reach.
#[must_use]
pub fn summary(district: &str, reports: &[WaveReport], later: &[String]) -> Vec<String> {
    let done = reports
        .iter()
        .filter(|r| r.outcome == WaveOutcome::Done)
        .count();
    let mut deployed = Vec::new();
    let mut failed = Vec::new();
    let mut untouched = Vec::new();
    let mut stop = String::new();
    for report in reports {
        match &report.outcome {
            WaveOutcome::Done | WaveOutcome::WouldDeploy => {
                deployed.extend(report.heritages.iter().cloned());
            }
            WaveOutcome::Failed {
                heritage,
                reason,
                deployed: before,
            } => {
                deployed.extend(before.iter().cloned());
                stop = match heritage {
                    Some(h) => {
                        failed.push(h.clone());
                        format!("; wave {} failed at `{h}`: {reason}", report.number)
                    }
                    None => format!(
                        "; the district stack failed before wave {}: {reason}",
                        report.number
                    ),
                };
                untouched.extend(
                    report
                        .heritages
                        .iter()
                        .filter(|h| !before.contains(h) && Some(*h) != heritage.as_ref())
                        .cloned(),
                );
            }
            WaveOutcome::NotStarted => untouched.extend(report.heritages.iter().cloned()),
        }
    }
    let mut lines = vec![
        format!(
            "waves of `{district}`: {done} of {} done{stop}",
            reports.len()
        ),
        format!("  deployed: {}", listed(&deployed)),
        format!("  failed: {}", listed(&failed)),
        format!("  not touched: {}", listed(&untouched)),
    ];
    if !later.is_empty() {
        let districts: Vec<String> = later.iter().map(|d| format!("district `{d}`")).collect();
        lines.push(format!(
            "  not reached: {}, with their heritages",
            districts.join(", ")
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::Waves;

    #[test]
    fn specs_cut_heritages_into_waves() {
        let five = ["a", "b", "c", "d", "e"];
        for (spec, sizes) in [
            ("1,2,rest", vec![1, 2, 2]),
            ("1,2", vec![1, 2, 2]),
            ("1", vec![1, 4]),
            ("1,10%,rest", vec![1, 1, 3]),
            ("50%", vec![3, 2]),
            ("100%", vec![5]),
            ("rest", vec![5]),
            ("2,2,2,2", vec![2, 2, 1]),
            ("9", vec![5]),
            (" 1 , rest", vec![1, 4]),
        ] {
            let waves: Waves = spec.parse().unwrap();
            let cut: Vec<usize> = waves.cut(&five).iter().map(Vec::len).collect();
            assert_eq!(cut, sizes, "{spec}");
        }
        let waves: Waves = "1".parse().unwrap();
        assert!(waves.cut::<&str>(&[]).is_empty());
    }

    #[test]
    fn bad_specs_say_what_a_wave_size_is() {
        for (spec, message) in [
            (
                "0",
                "wave size `0` deploys nothing: a count is at least `1`; give a count (`1`), a percentage of the heritages being applied (`10%`) or `rest`, separated by commas: `--waves 1,10%,rest`",
            ),
            (
                "abc",
                "`abc` is not a wave size: give a count (`1`), a percentage of the heritages being applied (`10%`) or `rest`, separated by commas: `--waves 1,10%,rest`",
            ),
            (
                "150%",
                "wave size `150%` is more than every heritage: a percentage is from `1%` to `100%`",
            ),
            (
                "0%",
                "wave size `0%` deploys nothing: a percentage is from `1%` to `100%`",
            ),
            (
                "rest,1",
                "`rest` must be the last wave of `rest,1`: it takes every heritage left, so no wave can follow it",
            ),
            (
                "1,,2",
                "`1,,2` has an empty wave size: give a count (`1`), a percentage of the heritages being applied (`10%`) or `rest`, separated by commas: `--waves 1,10%,rest`",
            ),
            (
                "-1",
                "`-1` is not a wave size: give a count (`1`), a percentage of the heritages being applied (`10%`) or `rest`, separated by commas: `--waves 1,10%,rest`",
            ),
        ] {
            assert_eq!(spec.parse::<Waves>().unwrap_err(), message, "{spec}");
        }
    }
}
