//! The compiler: runs load → check → model in order and hands back the
//! resolved fleet with every diagnostic found on the way; then plan → render
//! into the files of `out/`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::check::{self, Validators};
use crate::diagnostic::{Diagnostic, Sources};
use crate::emit;
use crate::load::{self, LoadError};
use crate::model::{self, Fleet};
use crate::plan;
use crate::render::{Previous, RenderError, Renderer};

/// What reading a fleet produced.
#[derive(Debug)]
pub struct Analysis {
    pub sources: Sources,
    /// The resolved fleet; only present when there are no errors.
    pub fleet: Option<Fleet>,
    /// Errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// How many instance files were read.
    pub instance_files: usize,
}

impl Analysis {
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads, checks and resolves the fleet under `root`.
pub fn analyze(root: &Path) -> Result<Analysis, LoadError> {
    analyze_checked(root).map(|(analysis, _)| analysis)
}

/// [`analyze`], also handing back the checked fleet (what review apps are
/// made from, see [`crate::review`]).
pub fn analyze_checked(root: &Path) -> Result<(Analysis, check::CheckedFleet), LoadError> {
    let loaded = load::load(root)?;
    let validators = Validators::new();
    let (mut checked, found) = check::check(&loaded, &validators);
    let mut diagnostics = loaded.diagnostics.clone();
    diagnostics.extend(found);
    let (pages, found) = check::pages::read(root, &checked, &loaded.sources);
    checked.pages = pages;
    diagnostics.extend(found);
    let instance_files = loaded.districts.iter().map(|d| d.instances.len()).sum();
    let fleet = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        let (fleet, found) = model::resolve(&checked, &loaded.sources);
        diagnostics.extend(found);
        Some(fleet)
    };
    let mut analysis = Analysis {
        sources: loaded.sources,
        fleet,
        diagnostics,
        instance_files,
    };
    sort(&mut analysis);
    if analysis.has_errors() {
        analysis.fleet = None;
    }
    Ok((analysis, checked))
}

/// Orders diagnostics by file and position so output is stable, and keeps
/// one of each: a mistake in a merged template (`<<: *web_base`) is found
/// once per service that merges it, at the same place with the same words.
fn sort(analysis: &mut Analysis) {
    let sources = &analysis.sources;
    analysis.diagnostics.sort_by_cached_key(|d| match &d.span {
        Some(span) => (1, sources.path(span.file).to_owned(), span.range.start),
        None => (0, String::new(), 0),
    });
    let mut seen = std::collections::HashSet::new();
    analysis
        .diagnostics
        .retain(|d| seen.insert((d.code, d.message.clone(), d.span.clone())));
}

/// A problem rendering the fleet's artifacts.
#[derive(Debug, thiserror::Error)]
pub enum RenderFailure {
    #[error("{0}")]
    Templates(#[from] RenderError),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Artifacts(Vec<RenderError>),
}

/// Plans and renders every artifact of a resolved fleet: the files of `out/`,
/// keyed by path, manifest included. Templates come from `root/templates`
/// where the fleet overrides them.
pub fn render(fleet: &Fleet, root: &Path) -> Result<BTreeMap<String, String>, RenderFailure> {
    render_reusing(fleet, root, &Previous::none()).map(|r| r.files)
}

/// What [`render_reusing`] made: the files with their text, the artifacts
/// kept in `out/` without it (only with [`Previous::read_verifying`]), and
/// how many artifacts were reused.
#[derive(Debug)]
pub struct Tree {
    pub files: BTreeMap<String, String>,
    pub kept: emit::Kept,
    pub reused: usize,
}

/// [`render`], taking from `previous` (what an earlier build left in
/// `out/`) every artifact whose inputs and bytes are unchanged. The result
/// is the same, byte for byte.
pub fn render_reusing(
    fleet: &Fleet,
    root: &Path,
    previous: &Previous,
) -> Result<Tree, RenderFailure> {
    let renderer = Renderer::new(&root.join("templates"))?;
    let units = plan::plan(fleet);
    let done = renderer
        .render_all(&units, previous)
        .map_err(RenderFailure::Artifacts)?;
    let reused = done.iter().filter(|r| r.reused).count();
    let artifacts: Vec<_> = units.into_iter().flat_map(|u| u.artifacts).collect();
    let (files, kept) = emit::files_keeping(&artifacts, done);
    Ok(Tree {
        files,
        kept,
        reused,
    })
}
