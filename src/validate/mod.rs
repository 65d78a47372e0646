//! `error-render validate`: checks a template folder (and optionally its
//! `override_messages`) for every problem that would break, or surprise, a
//! Tyk Gateway using it, and reports them for people and for CI.
//!
//! [`validate`] reads the folder the gateway's way (every `error*` file),
//! reports every file that does not parse, then renders every catalogue
//! entry and a set of hostile messages through the real [`Renderer`], for a
//! JSON and an XML request, and judges each output by the template that
//! produced it: a `.json` template must give valid JSON, a `.xml` template
//! well-formed XML. Lints then point at what works here but not on the
//! gateway (fields its classic handler does not give, html/template
//! rewriting, files it never or wrongly loads).
//!
//! Execution failures are judged with error-render's own data (the
//! extension fields `StatusCode`, `Title`, `Action` and `ID` present, as
//! `RenderOptions::strict_tyk` is off): a template using `.StatusCode`
//! renders here, and the `non-tyk-field` lint is what says the gateway cuts
//! its output off at that field.
//!
//! ```
//! use error_render::validate::{validate, ValidateOptions};
//!
//! let report = validate(&ValidateOptions::new("templates"))?;
//! assert_eq!(report.findings, []);
//! assert_eq!(report.exit_code(false), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error_override_checks;
mod finding;
mod folder;
mod html;
mod override_checks;
mod render_checks;
mod report;
mod set_checks;
mod wellformed;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

pub use finding::{Check, Finding, Rule, Severity};
pub use report::{JSON_SCHEMA_VERSION, Report, SARIF_URI_BASE_ID, SARIF_VERSION};

use crate::escape::Profile;
use crate::format::Format;
use crate::native::NativeSet;
use crate::overrides::OverridesError;
use crate::render::{RenderOptions, Renderer};
use crate::set::TemplateSet;

/// What to validate, and how.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// The template folder (the gateway's `template_path`).
    pub dir: PathBuf,
    /// A standalone `override_messages` file (YAML or JSON).
    pub overrides: Option<PathBuf>,
    /// A `tyk.conf` whose `override_messages` are checked and applied
    /// when there is no `overrides` file (which wins, as in the service).
    pub tyk_conf: Option<PathBuf>,
    /// Which gateway release's escaping to reproduce.
    pub profile: Profile,
    /// Make every warning an error.
    pub strict: bool,
    /// A folder of API definitions whose Error Overrides rules are checked
    /// (default: the tyk.conf's `app_path`, when it is a folder; the
    /// tyk.conf's own `error_overrides` are checked whenever `tyk_conf` is
    /// given).
    pub apis: Option<PathBuf>,
    /// The formats the service offers (the `formats` setting): every
    /// catalogue entry is rendered through each; HTML, text and problem
    /// details are skipped when not listed. Default: all five.
    pub formats: Vec<Format>,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            dir: PathBuf::new(),
            overrides: None,
            tyk_conf: None,
            profile: Profile::default(),
            strict: false,
            apis: None,
            formats: Format::ALL.to_vec(),
        }
    }
}

impl ValidateOptions {
    /// Options for `dir` with the defaults: no overrides, profile 5.15, not
    /// strict, every format.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ValidateOptions {
            dir: dir.into(),
            ..Self::default()
        }
    }
}

/// Why validation could not run at all (exit code 2). Problems in the
/// templates themselves are never this: they are [`Finding`]s.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// The template folder does not exist.
    #[error(
        "{}: no such folder: pass the folder holding error.json (the gateway's template_path)",
        path.display()
    )]
    DirNotFound {
        /// The folder given.
        path: PathBuf,
    },
    /// The path is not a folder.
    #[error(
        "{}: not a folder: pass the folder holding the templates, not a file",
        path.display()
    )]
    NotADir {
        /// The path given.
        path: PathBuf,
    },
    /// The template folder cannot be listed.
    #[error("{}: cannot read the folder: {message}; check its permissions", path.display())]
    DirUnreadable {
        /// The folder given.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// The overrides file or tyk.conf cannot be read, or is not JSON/YAML
    /// at all.
    // Not a `#[source]`: the message already holds the whole reason, and
    // printing the chain would say it twice.
    #[error("overrides not usable: {0}")]
    Overrides(OverridesError),
}

/// Validates a template folder (and its overrides) and reports every
/// problem found, sorted by file, line, column and rule.
///
/// Fails only when validation cannot run: the folder is missing or
/// unreadable, or the overrides file is unreadable or not JSON/YAML at all.
pub fn validate(opts: &ValidateOptions) -> Result<Report, ValidateError> {
    let mut out = Collector::default();
    let overrides = override_checks::load(opts, &mut out)?;
    let loaded = folder::load(&opts.dir, &mut out)?;
    if let Some(set) = loaded.set {
        let options = RenderOptions {
            profile: opts.profile,
            overrides,
            // Our behaviour, documented above: the extension fields exist;
            // `non-tyk-field` covers the gateway.
            strict_tyk: false,
            ..RenderOptions::default()
        };
        let scope = Scope {
            names_checked: true,
            failed_files: &loaded.failed,
            formats: &opts.formats,
        };
        let set = Arc::new(set);
        let native = Arc::new(loaded.native);
        check_set(&set, &native, &options, &scope, &mut out);
        error_override_checks::check(opts, Some(&set), &mut out);
    } else {
        error_override_checks::check(opts, None, &mut out);
    }
    let mut findings = out.findings;
    if opts.strict {
        for f in &mut findings {
            f.severity = Severity::Error;
        }
    }
    let mut report = Report {
        dir: opts.dir.clone(),
        overrides: opts.overrides.clone().or_else(|| opts.tyk_conf.clone()),
        findings,
        checks: out.checks.into_iter().collect(),
    };
    report.sort();
    Ok(report)
}

/// Lints a set that already loaded (for a service's status page): missing
/// `error.json`/`error.xml`, renders of every catalogue entry and hostile
/// message with `options`, the Tyk compatibility lints (loaded editor
/// leftovers included), and blocks Go's parser would reject. Folder-level
/// checks (files the gateway would not load, unreadable files) are left to
/// [`validate`]. Findings are sorted; severities are the rules' own.
///
/// The set is re-assembled from its files to render it through a
/// [`Renderer`]; [`lint_renderer`] avoids that when a renderer exists.
pub fn lint_set(set: &TemplateSet, options: &RenderOptions) -> Vec<Finding> {
    match TemplateSet::from_engine_files(set.files().iter().cloned(), *set.limits()) {
        Ok(copy) => lint(
            &Arc::new(copy),
            &Arc::new(NativeSet::empty()),
            options,
            &Format::ALL,
        ),
        // Cannot happen for a set that loaded; report rather than panic.
        Err(e) => e
            .problems()
            .into_iter()
            .map(|p| Finding::new(Rule::ParseError, Some(p.file), p.message).at(p.line, p.column))
            .collect(),
    }
}

/// [`lint_set`] for the set, the `.tera` pages and the options of an
/// existing renderer (every format rendered).
pub fn lint_renderer(renderer: &Renderer) -> Vec<Finding> {
    lint_renderer_in(renderer, &Format::ALL)
}

/// [`lint_renderer`] rendering the `.tera` pages in `formats` only (the
/// service's `formats` setting, as `validate --config` does).
pub(crate) fn lint_renderer_in(renderer: &Renderer, formats: &[Format]) -> Vec<Finding> {
    lint(
        renderer.set(),
        renderer.native(),
        renderer.options(),
        formats,
    )
}

fn lint(
    set: &Arc<TemplateSet>,
    native: &Arc<NativeSet>,
    options: &RenderOptions,
    formats: &[Format],
) -> Vec<Finding> {
    let mut out = Collector::default();
    let failed = BTreeSet::new();
    let scope = Scope {
        names_checked: false,
        failed_files: &failed,
        formats,
    };
    check_set(set, native, options, &scope, &mut out);
    let mut findings = out.findings;
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// What the folder-level pass already covered.
struct Scope<'a> {
    /// File names were already checked (editor leftovers) from the listing.
    names_checked: bool,
    /// Files that exist but did not load: not reported again as missing.
    failed_files: &'a BTreeSet<String>,
    /// The formats rendered.
    formats: &'a [Format],
}

fn check_set(
    set: &Arc<TemplateSet>,
    native: &Arc<NativeSet>,
    options: &RenderOptions,
    scope: &Scope<'_>,
    out: &mut Collector,
) {
    set_checks::missing_files(set, scope.failed_files, out);
    if !scope.names_checked {
        // The folder pass did these for `validate`.
        for file in set.files() {
            folder::check_name(&file.name, out);
            out.checked(Rule::ParseError, Some(&file.name));
        }
    }
    set_checks::unknown_codes(set, &options.overrides, out);
    set_checks::non_tyk_fields(set, out);
    set_checks::html_rewrites(set, out);
    set_checks::templates_without_data(set, out);
    render_checks::run(set, native, options, scope.formats, out);
}

/// Gathers findings and the checks that ran.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    findings: Vec<Finding>,
    checks: BTreeSet<Check>,
}

impl Collector {
    /// Records that `rule` was checked on `file` (None: the folder).
    pub(crate) fn checked(&mut self, rule: Rule, file: Option<&str>) {
        self.checks.insert(Check {
            rule,
            file: file.map(str::to_owned),
        });
    }

    /// Records a finding (and its check).
    pub(crate) fn push(&mut self, finding: Finding) {
        self.checked(finding.rule, finding.file.as_deref());
        self.findings.push(finding);
    }
}
