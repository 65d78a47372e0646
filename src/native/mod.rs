//! error-render's own templates ("native", as opposed to Tyk's Go templates):
//! Tera files beside Tyk's `error*` files that render HTML, plain text,
//! RFC 9457 problem details and, where Tyk's files have no page, JSON and XML.
//!
//! The files are named so that a gateway sharing the folder never loads them
//! (it parses every top-level `error*` file): `<code>.<ext>.tera`,
//! `<N>xx.<ext>.tera` and `default.<ext>.tera` are pages, for `<ext>` one of
//! `html`, `txt`, `json`, `xml` and `problem.json`; any other `*.tera` file is
//! a layout or include every page may use (`{% extends "layout.tera" %}`).
//! [`NativeSet::lookup`] walks code, class, default; [`NativeSet::builtin`]
//! holds the compiled-in pages for `html`, `txt` and `problem.json`.
//!
//! Every printed value is escaped for its kind (HTML, XML, JSON string
//! content; plain text as is): Tera's escape function belongs to a
//! [`tera::Tera`] instance, so the set parses the files once and keeps one
//! instance per kind that has pages. `docs/formats.md` describes it all.

mod data;
mod escape;
mod limit;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path as FsPath, PathBuf};
use std::sync::LazyLock;

use crate::error::{ExecError, LoadError, SourceError};
use crate::limits::RenderLimits;
use crate::set::TemplateFile;

pub use data::{ABOUT_BLANK, NativeData, problem_type};

/// The suffix that makes a file in the template folder a native template.
pub const SUFFIX: &str = ".tera";

/// Whether a file of the template folder is a native template (`*.tera`).
pub fn is_native_name(name: &str) -> bool {
    name.len() > SUFFIX.len() && name.ends_with(SUFFIX)
}

/// What a native page renders, named by the extension in its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum NativeKind {
    /// `*.html.tera`: an HTML page, values HTML-escaped.
    Html,
    /// `*.txt.tera`: plain text, values as they are.
    Text,
    /// `*.json.tera`: JSON, values escaped as JSON string content.
    Json,
    /// `*.xml.tera`: XML, values XML-escaped.
    Xml,
    /// `*.problem.json.tera`: RFC 9457 problem details, escaped as JSON.
    Problem,
}

impl NativeKind {
    /// Every kind, in lookup order of their extensions' specificity.
    pub const ALL: [NativeKind; 5] = [
        NativeKind::Html,
        NativeKind::Text,
        NativeKind::Json,
        NativeKind::Xml,
        NativeKind::Problem,
    ];

    /// The extension in a page's file name, before `.tera`.
    pub const fn ext(self) -> &'static str {
        match self {
            NativeKind::Html => "html",
            NativeKind::Text => "txt",
            NativeKind::Json => "json",
            NativeKind::Xml => "xml",
            NativeKind::Problem => "problem.json",
        }
    }

    /// The kind whose [`ext`](Self::ext) this is.
    pub fn from_ext(ext: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.ext() == ext)
    }
}

/// Which errors a page answers, from the first part of its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PageKey {
    /// `404.html.tera`.
    Code(u16),
    /// `4xx.html.tera`: the hundreds digit.
    Class(u16),
    /// `default.html.tera`.
    Default,
}

/// The kind and key of a page's file name; `None` for a layout or include.
fn classify(name: &str) -> Option<(NativeKind, PageKey)> {
    let stem = name.strip_suffix(SUFFIX)?;
    // `problem.json` before `json`, so `404.problem.json.tera` is no JSON page
    // named `404.problem`.
    let (kind, key) = [NativeKind::Problem]
        .into_iter()
        .chain(NativeKind::ALL)
        .find_map(|k| {
            let key = stem.strip_suffix(k.ext())?.strip_suffix('.')?;
            Some((k, key))
        })?;
    let digit = |b: u8| b.is_ascii_digit();
    let key = match key.as_bytes() {
        b"default" => PageKey::Default,
        [h @ b'1'..=b'9', b'x', b'x'] => PageKey::Class(u16::from(h - b'0')),
        [h @ b'1'..=b'9', t, u] if digit(*t) && digit(*u) => PageKey::Code(key.parse().ok()?),
        _ => return None,
    };
    Some((kind, key))
}

/// A loaded set of native templates: immutable, cheap to share behind an
/// `Arc`. A folder without `*.tera` files gives an empty set, which holds
/// no Tera instance at all.
pub struct NativeSet {
    dir: Option<PathBuf>,
    files: Vec<TemplateFile>,
    pages: BTreeMap<(NativeKind, PageKey), String>,
    /// One instance per kind that has pages, each with every file.
    engines: HashMap<NativeKind, tera::Tera>,
    limits: RenderLimits,
}

impl std::fmt::Debug for NativeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeSet")
            .field("dir", &self.dir)
            .field(
                "files",
                &self.files.iter().map(|f| &f.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Default for NativeSet {
    fn default() -> Self {
        Self::empty()
    }
}

/// The compiled-in pages, parsed on first use.
static BUILTIN: LazyLock<NativeSet> = LazyLock::new(|| {
    let file = |name: &str, text: &str| TemplateFile {
        name: name.into(),
        text: text.into(),
    };
    NativeSet::from_files([
        file(
            "default.html.tera",
            include_str!("builtin/default.html.tera"),
        ),
        file("default.txt.tera", include_str!("builtin/default.txt.tera")),
        file(
            "default.problem.json.tera",
            include_str!("builtin/default.problem.json.tera"),
        ),
    ])
    .unwrap_or_else(|e| panic!("the compiled-in native templates are broken (a build bug): {e}"))
});

impl NativeSet {
    /// A set with no templates.
    pub fn empty() -> Self {
        NativeSet {
            dir: None,
            files: Vec::new(),
            pages: BTreeMap::new(),
            engines: HashMap::new(),
            limits: RenderLimits::service(),
        }
    }

    /// The compiled-in pages: `default.html.tera`, `default.txt.tera` and
    /// `default.problem.json.tera` (JSON and XML have Tyk's own defaults).
    ///
    /// # Panics
    ///
    /// On first use, if the compiled-in templates do not load: a build bug,
    /// which a unit test rules out.
    pub fn builtin() -> &'static NativeSet {
        &BUILTIN
    }

    /// Loads every `*.tera` file at the top of `dir` (the template folder),
    /// under the service's limits.
    pub fn load(dir: impl AsRef<FsPath>) -> Result<Self, LoadError> {
        Self::load_limited(dir, RenderLimits::service())
    }

    /// [`load`](Self::load) under `limits`. Files are read as Tyk's are:
    /// regular files only, or links that stay inside the folder, each and
    /// all together within the size limits; every file that cannot be read
    /// or parsed is reported. Subfolders are skipped.
    pub fn load_limited(dir: impl AsRef<FsPath>, limits: RenderLimits) -> Result<Self, LoadError> {
        let dir = dir.as_ref();
        let (files, problems) =
            crate::set::read_folder(dir, is_native_name, &limits, ".tera templates", |bytes| {
                match String::from_utf8(bytes) {
                    Ok(text) => Ok(text.into()),
                    Err(e) => Err(format!(
                        "not valid UTF-8 (byte {}): save the template as UTF-8",
                        e.utf8_error().valid_up_to()
                    )),
                }
            })?;
        if files.is_empty() && problems.is_empty() {
            let mut set = Self::empty();
            set.dir = Some(dir.to_owned());
            set.limits = limits;
            return Ok(set);
        }
        if !problems.is_empty() {
            return Err(LoadError::Parse(problems));
        }
        let mut set = Self::from_files_limited(files, limits)?;
        set.dir = Some(dir.to_owned());
        Ok(set)
    }

    /// A set from files held in memory (the preview's playground), under the
    /// service's limits. Names not ending in `.tera` are ignored.
    pub fn from_files(files: impl IntoIterator<Item = TemplateFile>) -> Result<Self, LoadError> {
        Self::from_files_limited(files, RenderLimits::service())
    }

    /// [`from_files`](Self::from_files) under `limits`: the number and size
    /// of files are checked before parsing, and every render is bounded in
    /// output, time and `range()` length.
    pub fn from_files_limited(
        files: impl IntoIterator<Item = TemplateFile>,
        limits: RenderLimits,
    ) -> Result<Self, LoadError> {
        let mut files: Vec<TemplateFile> = files
            .into_iter()
            .filter(|f| is_native_name(&f.name))
            .collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        files.dedup_by(|later, earlier| later.name == earlier.name);
        let mut set = Self::empty();
        set.limits = limits;
        if files.is_empty() {
            return Ok(set);
        }
        check_sizes(&files, &limits)?;

        // Each file alone first, so that every broken file is reported with
        // its place; Tera's bulk add stops at the first file that does not
        // parse. Alone, a file may also fail for what it names (a layout, an
        // include): the whole set below reports that.
        let problems: Vec<SourceError> = files
            .iter()
            .filter_map(|f| {
                let e = tera::Tera::new().add_raw_template(&f.name, &f.text).err()?;
                match e.kind() {
                    tera::ErrorKind::SyntaxError(report) => {
                        Some(report_error(report, "Tera syntax"))
                    }
                    _ => None,
                }
            })
            .collect();
        if !problems.is_empty() {
            return Err(LoadError::Parse(problems));
        }

        let mut base = tera::Tera::new();
        limit::restrict_functions(&mut base, &limits);
        base.add_raw_templates(files.iter().map(|f| (f.name.as_str(), &*f.text)))
            .map_err(|e| LoadError::Parse(set_errors(&files, &e)))?;

        for f in &files {
            if let Some(page) = classify(&f.name) {
                set.pages.insert(page, f.name.clone());
            }
        }
        for kind in NativeKind::ALL {
            if !set.pages.keys().any(|(k, _)| *k == kind) {
                continue;
            }
            let mut engine = base.clone();
            match escape::for_kind(kind) {
                // An empty suffix matches every name: escape everything.
                Some(f) => {
                    engine.autoescape_on([""]);
                    engine.set_escape_fn(f);
                }
                None => engine.autoescape_on(Vec::<&str>::new()),
            }
            set.engines.insert(kind, engine);
        }
        set.files = files;
        Ok(set)
    }

    /// Whether the set holds no templates.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The folder the set was loaded from, if any.
    pub fn dir(&self) -> Option<&FsPath> {
        self.dir.as_deref()
    }

    /// The files of the set, sorted by name.
    pub fn files(&self) -> &[TemplateFile] {
        &self.files
    }

    /// The limits every render of this set runs under.
    pub fn limits(&self) -> &RenderLimits {
        &self.limits
    }

    /// The page that answers `code` in `kind`: `<code>.<ext>.tera`, else
    /// `<N>xx.<ext>.tera`, else `default.<ext>.tera`, else none.
    pub fn lookup(&self, code: u16, kind: NativeKind) -> Option<&str> {
        [
            PageKey::Code(code),
            PageKey::Class(code / 100),
            PageKey::Default,
        ]
        .into_iter()
        .find_map(|key| self.pages.get(&(kind, key)))
        .map(String::as_str)
    }

    /// The page that answers `code` in `kind` by its own name or its class
    /// (`<code>.<ext>.tera`, `<N>xx.<ext>.tera`), not `default`: for JSON
    /// and XML these come before Tyk's `error.<ext>`, `default` after it.
    pub fn lookup_specific(&self, code: u16, kind: NativeKind) -> Option<&str> {
        [PageKey::Code(code), PageKey::Class(code / 100)]
            .into_iter()
            .find_map(|key| self.pages.get(&(kind, key)))
            .map(String::as_str)
    }

    /// Renders page `name` (a file of this set) for `data`, escaping every
    /// printed value for `kind`.
    pub fn render(
        &self,
        name: &str,
        kind: NativeKind,
        data: &NativeData,
    ) -> Result<String, ExecError> {
        let Some(engine) = self.engines.get(&kind) else {
            return Err(ExecError {
                template: name.to_owned(),
                line: None,
                column: None,
                message: format!(
                    "no .{} page in this set: name a page `<code>.{ext}.tera`, \
                     `<N>xx.{ext}.tera` or `default.{ext}.tera`",
                    kind.ext(),
                    ext = kind.ext()
                ),
            });
        };
        let mut out = limit::LimitedOutput::new(&self.limits);
        let result = engine.render_to(name, &data.context(), &mut out);
        match (result, out.exceeded()) {
            (Ok(()), _) => out.into_string().map_err(|message| ExecError {
                template: name.to_owned(),
                line: None,
                column: None,
                message,
            }),
            (Err(_), Some(exceeded)) => Err(ExecError {
                template: name.to_owned(),
                line: None,
                column: None,
                message: exceeded,
            }),
            (Err(e), None) => Err(render_error(name, &e)),
        }
    }

    /// Looks up the page for `code` in `kind` in this set, then among the
    /// [built-in pages](Self::builtin), and renders it; `None` when neither
    /// has one (JSON and XML, whose defaults are Tyk's).
    pub fn render_or_builtin(
        &self,
        code: u16,
        kind: NativeKind,
        data: &NativeData,
    ) -> Option<Result<String, ExecError>> {
        if let Some(name) = self.lookup(code, kind) {
            return Some(self.render(name, kind, data));
        }
        let builtin = Self::builtin();
        builtin
            .lookup(code, kind)
            .map(|name| builtin.render(name, kind, data))
    }
}

/// Refuses more, or larger, files than the limits allow, before parsing.
fn check_sizes(files: &[TemplateFile], limits: &RenderLimits) -> Result<(), LoadError> {
    let problem = |file: &TemplateFile, message: String| SourceError {
        file: file.name.clone(),
        line: None,
        column: None,
        message,
    };
    let mut problems = Vec::new();
    if let Some(max) = limits.max_templates
        && files.len() > max
    {
        problems.push(problem(
            &files[max],
            format!(
                "too many .tera templates: {} files, at most {max} allowed (limits.max_templates)",
                files.len()
            ),
        ));
    }
    if let Some(max) = limits.max_template_bytes {
        for f in files.iter().filter(|f| f.text.len() > max) {
            problems.push(problem(
                f,
                format!(
                    "the template is {} bytes, at most {max} allowed (limits.max_template_bytes)",
                    f.text.len()
                ),
            ));
        }
    }
    if let Some(max) = limits.max_set_bytes {
        let total: usize = files.iter().map(|f| f.text.len()).sum();
        if total > max
            && let Some(last) = files.last()
        {
            problems.push(problem(
                last,
                format!(
                    "the .tera templates hold {total} bytes together, at most {max} allowed \
                     (limits.max_set_bytes)"
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(LoadError::Parse(problems))
    }
}

/// The 1-based line and column of a Tera span (its column is 0-based; ours,
/// as Go's and pest's, count from 1).
fn place(span: &tera::Span) -> (usize, usize) {
    (span.start_line, span.start_col + 1)
}

/// A syntax error at Tera's place: its file, line and column, and its
/// message after `what`.
fn report_error(report: &tera::ReportError, what: &str) -> SourceError {
    let (line, column) = place(report.span());
    SourceError {
        file: report.filename().to_owned(),
        line: Some(line),
        column: Some(column),
        message: format!("{what}: {}", report.message()),
    }
}

/// One of the reports Tera joins into the message of a set that does not
/// assemble (an unknown filter, function, test or include, a block no
/// layout has): `error: <message>` then `--> <file>:<line>:<column>`, the
/// column already 1-based. Tera keeps no typed form of these.
static REPORT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?m)^error: (.*)\n\s*--> (.+):(\d+):(\d+)$")
        .unwrap_or_else(|e| panic!("constant regex: {e}"))
});

/// The 1-based line and column of the first `needle` in `text`.
fn first_place(text: &str, needle: &str) -> Option<(usize, usize)> {
    let at = text.find(needle)?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before, |nl| &before[nl + 1..])
        .chars()
        .count()
        + 1;
    Some((line, column))
}

/// The errors of a set that does not assemble, each at its place: Tera's
/// own for what a file names, the `extends` statement for inheritance
/// (Tera gives the file but no span there; a file has one `extends`, first).
fn set_errors(files: &[TemplateFile], e: &tera::Error) -> Vec<SourceError> {
    let at_extends = |name: &str, message: String| {
        let place = files
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| first_place(&f.text, "extends"));
        vec![SourceError {
            file: name.to_owned(),
            line: place.map(|(l, _)| l),
            column: place.map(|(_, c)| c),
            message,
        }]
    };
    match e.kind() {
        tera::ErrorKind::MissingParent { current, parent } => at_extends(
            current,
            format!("Tera: {e}: add {parent} to the folder or extend an existing layout"),
        ),
        tera::ErrorKind::CircularExtend { tpl, .. } => {
            at_extends(tpl, format!("Tera: {e}: break the cycle of extends"))
        }
        tera::ErrorKind::SyntaxError(report) => vec![report_error(report, "Tera syntax")],
        _ => {
            let message = e.to_string();
            let placed: Vec<SourceError> = REPORT
                .captures_iter(&message)
                .map(|c| SourceError {
                    file: c[2].to_owned(),
                    line: c[3].parse().ok(),
                    column: c[4].parse().ok(),
                    message: format!("Tera: {}", &c[1]),
                })
                .collect();
            if placed.is_empty() {
                vec![SourceError {
                    file: "(native templates)".to_owned(),
                    line: None,
                    column: None,
                    message: format!("Tera: {message}"),
                }]
            } else {
                placed
            }
        }
    }
}

/// A render error of page `page`, at Tera's span: in the file that was
/// running, which is a layout or an include when the error is there.
fn render_error(page: &str, e: &tera::Error) -> ExecError {
    let (template, line, column, mut message) = match e.kind() {
        tera::ErrorKind::RenderingError(report) => {
            let (line, column) = place(report.span());
            (
                report.filename().to_owned(),
                Some(line),
                Some(column),
                format!("Tera: {}", report.message()),
            )
        }
        _ => (page.to_owned(), None, None, format!("Tera: {e}")),
    };
    if template != page {
        message.push_str(&format!(" (rendering page {page})"));
    }
    ExecError {
        template,
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> TemplateFile {
        TemplateFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// A set is shared across threads behind the store's `Arc`.
    #[test]
    fn a_set_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<NativeSet>();
    }

    #[test]
    fn page_names_are_classified_by_kind_and_key() {
        use NativeKind::*;
        let cases = [
            ("404.html.tera", Some((Html, PageKey::Code(404)))),
            ("4xx.txt.tera", Some((Text, PageKey::Class(4)))),
            ("default.json.tera", Some((Json, PageKey::Default))),
            ("503.xml.tera", Some((Xml, PageKey::Code(503)))),
            ("429.problem.json.tera", Some((Problem, PageKey::Code(429)))),
            ("5xx.problem.json.tera", Some((Problem, PageKey::Class(5)))),
            ("layout.tera", None),
            ("base.html.tera", None),
            ("0xx.html.tera", None),
            ("40.html.tera", None),
            ("4044.html.tera", None),
            ("404.htm.tera", None),
            (".tera", None),
        ];
        for (name, want) in cases {
            assert_eq!(classify(name), want, "{name}");
        }
    }

    #[test]
    fn builtins_load_and_cover_html_text_and_problem_only() {
        let b = NativeSet::builtin();
        for kind in [NativeKind::Html, NativeKind::Text, NativeKind::Problem] {
            assert!(b.lookup(500, kind).is_some(), "{kind:?}");
        }
        assert_eq!(b.lookup(500, NativeKind::Json), None);
        assert_eq!(b.lookup(500, NativeKind::Xml), None);
    }

    #[test]
    fn empty_set_has_no_engine() {
        let set = NativeSet::from_files([file("error.json", "{{.Message}}")]).unwrap();
        assert!(set.is_empty());
        assert!(set.engines.is_empty());
        assert_eq!(set.lookup(404, NativeKind::Html), None);
    }

    #[test]
    fn only_kinds_with_pages_get_an_engine() {
        let set = NativeSet::from_files([
            file("layout.tera", "[{% block b %}{% endblock %}]"),
            file(
                "404.html.tera",
                "{% extends \"layout.tera\" %}{% block b %}x{% endblock %}",
            ),
        ])
        .unwrap();
        assert_eq!(set.engines.keys().collect::<Vec<_>>(), [&NativeKind::Html]);
    }

    #[test]
    fn every_broken_file_is_reported_with_its_own_place() {
        let err = NativeSet::from_files([
            file("a.tera", "fine"),
            file("b.tera", "line one\n  {{ Message "),
            file("c.tera", "fine"),
            file("d.tera", "{% if %}"),
        ])
        .unwrap_err();
        let problems = err.problems();
        let places: Vec<_> = problems.iter().map(|p| (p.file.as_str(), p.line)).collect();
        assert_eq!(places, [("b.tera", Some(2)), ("d.tera", Some(1))], "{err}");
    }

    #[test]
    fn get_env_is_refused_and_range_is_capped() {
        let set = NativeSet::from_files_limited(
            [
                file("500.txt.tera", "{{ get_env(name=\"PATH\") }}"),
                file(
                    "501.txt.tera",
                    "{% for i in range(end=100000) %}{% endfor %}",
                ),
            ],
            RenderLimits::inline(),
        )
        .unwrap();
        let data = NativeData::new(500, "m");
        let env = set
            .render("500.txt.tera", NativeKind::Text, &data)
            .unwrap_err();
        assert!(env.message.contains("get_env"), "{env}");
        let range = set
            .render("501.txt.tera", NativeKind::Text, &data)
            .unwrap_err();
        assert!(
            range.message.contains("limits.max_range_iterations"),
            "{range}"
        );
    }

    #[test]
    fn output_over_the_limit_is_an_error_not_a_truncated_body() {
        let limits = RenderLimits {
            max_output_bytes: 10,
            ..RenderLimits::service()
        };
        let set = NativeSet::from_files_limited(
            [file("500.txt.tera", "{{ Message }}{{ Message }}")],
            limits,
        )
        .unwrap();
        let err = set
            .render(
                "500.txt.tera",
                NativeKind::Text,
                &NativeData::new(500, "123456"),
            )
            .unwrap_err();
        assert!(err.message.contains("limits.max_output_bytes"), "{err}");
    }
}
