//! Loading a template set the gateway's way: every `error*` file in a folder,
//! known by its base name, parsed once and executed on either engine path.
//!
//! The gateway parses the same glob twice, with `html/template` (JSON) and
//! `text/template` (XML). Here the files are parsed once into named trees,
//! associated across files with Go's rules, and given to gotmpl's two engines.
//! html/template escapes a template (and what it calls) on its first
//! execution; so does this set, per entry template, so that one template's
//! escaping error never breaks another, as in Go.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, OnceLock};

use gotmpl::parse::{ListNode, Parser};
use gotmpl::{MissingKey, TemplateError, Value};

use crate::error::{ExecError, LoadError, SourceError};
use crate::format::Format;
use crate::gocompat;
use crate::limits::{LimitedWriter, RenderLimits, RenderScope};
use crate::tree::{self, UseKind};

/// One template file as read from disk (or given in memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFile {
    /// The base name, which is the template's name (`error_401.json`).
    pub name: String,
    /// The file's text. Bytes of a file that are not UTF-8 are held as
    /// characters U+10FE80 to U+10FEFF (the engine's own, see
    /// docs/go-templates.md) and leave in the body as the bytes they were.
    pub text: Arc<str>,
}

/// Something about a set worth telling, that does not stop it loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadWarning {
    /// The file concerned, or the folder.
    pub file: String,
    /// What to know.
    pub message: String,
}

impl std::fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// An immutable, loaded template set: what the gateway would hold after
/// start-up. Cheap to share behind an `Arc`; rendering never mutates it
/// (apart from html/template's once-only, per-template escaping).
pub struct TemplateSet {
    dir: Option<PathBuf>,
    files: Vec<TemplateFile>,
    /// Every named template after association: file names and `define`s.
    trees: BTreeMap<String, Arc<ListNode>>,
    /// Which file each named template came from.
    origin: BTreeMap<String, usize>,
    text: gotmpl::Template,
    html: BTreeMap<String, OnceLock<gotmpl::html::Template>>,
    warnings: Vec<LoadWarning>,
    limits: RenderLimits,
    /// Go errors on a missing field of the legacy path's struct data, and
    /// prints `<no value>` (`""` in HTML) for a missing key of the map data
    /// Error Overrides templates get.
    missing_key: MissingKey,
}

impl std::fmt::Debug for TemplateSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateSet")
            .field("dir", &self.dir)
            .field("templates", &self.trees.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Whether a file name is one the gateway loads (its glob is `error*`).
pub fn is_template_name(name: &str) -> bool {
    name.starts_with("error")
}

impl TemplateSet {
    /// Loads every file in `dir` whose name starts with `error`, as the
    /// gateway does at start-up.
    ///
    /// Fails when the folder cannot be read, holds no such file, or any file
    /// cannot be read safely (not a regular file, a link out of the folder,
    /// over the size limits) or does not parse (every failing file is
    /// reported). A set without
    /// `error.json` loads, with a warning.
    pub fn load(dir: impl AsRef<FsPath>) -> Result<Self, LoadError> {
        Self::load_limited(dir, RenderLimits::service())
    }

    /// [`load`](Self::load) under `limits`.
    pub fn load_limited(dir: impl AsRef<FsPath>, limits: RenderLimits) -> Result<Self, LoadError> {
        let dir = dir.as_ref();
        // Go loads any bytes; those that are not UTF-8 go out as they are.
        let (files, problems) =
            read_folder(dir, is_template_name, &limits, "templates", |bytes| {
                Ok(crate::rawbytes::from_bytes(&bytes).into())
            })?;
        if !problems.is_empty() {
            return Err(LoadError::Parse(problems));
        }
        if files.is_empty() {
            return Err(LoadError::NoTemplates {
                dir: dir.to_owned(),
            });
        }
        let mut set = Self::build(files, limits, MissingKey::Error)?;
        set.dir = Some(dir.to_owned());
        Ok(set)
    }

    /// Builds a set from files held in memory (name, text), with the same
    /// rules as [`load`](Self::load). Names not starting with `error` are
    /// ignored, as the gateway's glob would.
    pub fn from_files(files: impl IntoIterator<Item = TemplateFile>) -> Result<Self, LoadError> {
        Self::from_files_limited(files, RenderLimits::service())
    }

    /// [`from_files`](Self::from_files) under `limits`: the set refuses to
    /// load when it holds too many or too large files, or (when
    /// `max_template_calls` is set) recursive or call-multiplying templates;
    /// every render is bounded in range iterations, output and time.
    pub fn from_files_limited(
        files: impl IntoIterator<Item = TemplateFile>,
        limits: RenderLimits,
    ) -> Result<Self, LoadError> {
        // A character of the range that stands for raw bytes enters as its
        // bytes, so that it leaves the engine as itself.
        let files = files.into_iter().map(|mut file| {
            if let std::borrow::Cow::Owned(text) = crate::rawbytes::protect(&file.text) {
                file.text = text.into();
            }
            file
        });
        Self::build(files, limits, MissingKey::Error)
    }

    /// A set of files whose text is already engine text (from
    /// [`TemplateSet::files`], or read with `rawbytes::from_bytes` as
    /// [`load`](Self::load) does): not protected a second time, so a byte
    /// that is not UTF-8 stays that byte.
    pub(crate) fn from_engine_files(
        files: impl IntoIterator<Item = TemplateFile>,
        limits: RenderLimits,
    ) -> Result<Self, LoadError> {
        Self::build(files, limits, MissingKey::Error)
    }

    /// The same files, executed with Go's rules for map data: a missing key
    /// prints `<no value>` (text/template) or nothing (html/template) where
    /// this set fails. Error Overrides give their templates a map.
    pub(crate) fn for_map_data(&self) -> Result<Self, LoadError> {
        let mut set = Self::build(self.files.clone(), self.limits, MissingKey::Invalid)?;
        set.dir.clone_from(&self.dir);
        Ok(set)
    }

    /// The set of `files`, whose text is engine text (see `rawbytes`).
    fn build(
        files: impl IntoIterator<Item = TemplateFile>,
        limits: RenderLimits,
        missing_key: MissingKey,
    ) -> Result<Self, LoadError> {
        let mut files: Vec<TemplateFile> = files
            .into_iter()
            .filter(|f| is_template_name(&f.name))
            .collect();
        if files.is_empty() {
            return Err(LoadError::NoTemplates {
                dir: PathBuf::new(),
            });
        }
        check_sizes(&files, &limits)?;
        // Go's filepath.Glob sorts matches; later files win redefinitions.
        files.sort_by(|a, b| a.name.cmp(&b.name));

        let mut trees: BTreeMap<String, Arc<ListNode>> = BTreeMap::new();
        let mut origin = BTreeMap::new();
        let mut problems = Vec::new();
        for (index, file) in files.iter().enumerate() {
            match parse_file(file) {
                Ok(parsed) => {
                    for (name, tree) in parsed {
                        // Go's `associate`: an empty body never replaces an
                        // existing template of the same name.
                        if tree.is_empty_tree() && trees.contains_key(&name) {
                            continue;
                        }
                        origin.insert(name.clone(), index);
                        trees.insert(name, Arc::new(tree));
                    }
                }
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            return Err(LoadError::Parse(problems));
        }

        let mut text = gotmpl::Template::new("")
            .missing_key(missing_key)
            .max_range_iters(limits.max_range_iterations)
            .funcs(gocompat::funcs());
        for (name, tree) in &trees {
            let mut tree = (**tree).clone();
            gocompat::rewrite_actions(&mut tree, print_action(missing_key));
            text = text.add_parse_tree(name, tree);
        }
        let html = trees.keys().map(|n| (n.clone(), OnceLock::new())).collect();
        let mut warnings = Vec::new();
        if !trees.contains_key("error.json") {
            warnings.push(LoadWarning {
                file: "error.json".into(),
                message: "missing: the gateway crashes any request that finds no other template; \
                          error-render answers those with its bundled default"
                    .into(),
            });
        }
        let set = TemplateSet {
            dir: None,
            files,
            trees,
            origin,
            text,
            html,
            warnings,
            limits,
            missing_key,
        };
        if let Some(max) = limits.max_template_calls {
            set.check_template_calls(max)?;
        }
        Ok(set)
    }

    /// The limits every render of this set runs under.
    pub fn limits(&self) -> &RenderLimits {
        &self.limits
    }

    /// The folder the set was loaded from, if any.
    pub fn dir(&self) -> Option<&FsPath> {
        self.dir.as_deref()
    }

    /// The files of the set, sorted by name.
    pub fn files(&self) -> &[TemplateFile] {
        &self.files
    }

    /// Warnings found while loading (e.g. no `error.json`).
    pub fn warnings(&self) -> &[LoadWarning] {
        &self.warnings
    }

    /// Whether a template of that name exists (a file or a `define`).
    pub fn contains(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// The names of every template in the set, sorted.
    pub fn template_names(&self) -> impl Iterator<Item = &str> {
        self.trees.keys().map(String::as_str)
    }

    /// The file a named template was defined in.
    pub fn file_of(&self, name: &str) -> Option<&TemplateFile> {
        self.origin.get(name).map(|&i| &self.files[i])
    }

    pub(crate) fn tree(&self, name: &str) -> Option<&ListNode> {
        self.trees.get(name).map(|t| &**t)
    }

    /// Executes template `name` on `path` (html/template for JSON,
    /// text/template for XML) into `out`. On error `out` holds what was
    /// written before the failure. `out` is engine text: bytes that are not
    /// UTF-8 are mapped characters there, which `rawbytes::into_body` turns
    /// back into the bytes of the body.
    pub(crate) fn execute(
        &self,
        name: &str,
        path: Format,
        data: &Value,
        out: &mut String,
    ) -> Result<(), ExecError> {
        let protected = crate::rawbytes::protect_value(data);
        let data = protected.as_ref().unwrap_or(data);
        let scope = RenderScope::enter(&self.limits);
        let mut writer = LimitedWriter::new(out, &self.limits);
        let result = match path {
            // Go templates are the gateway's formats; until the Tera pages
            // answer the others, they take the engine path of their kin.
            Format::Xml | Format::Text => self.text.execute_template_fmt(&mut writer, name, data),
            Format::Json | Format::Html | Format::Problem => match self.html_template(name) {
                Some(t) => t.execute_fmt(&mut writer, data),
                None => Err(TemplateError::UndefinedTemplate(name.to_owned())),
            },
        };
        match (result, scope.exceeded()) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(exceeded)) => Err(ExecError {
                template: name.to_owned(),
                line: None,
                column: None,
                message: exceeded.to_string(),
            }),
            (Err(TemplateError::RangeIterLimit), None) => Err(ExecError {
                template: name.to_owned(),
                line: None,
                column: None,
                message: format!(
                    "more than {} range iterations in one render \
                     (limits.max_range_iterations): look for a runaway range",
                    self.limits.max_range_iterations
                ),
            }),
            (Err(TemplateError::RecursionLimit), None) => Err(ExecError {
                template: name.to_owned(),
                line: None,
                column: None,
                message: "templates nested deeper than 200 levels ({{template}} calls inside \
                          if, range and with): error-render's limit, stricter than Go's \
                          100,000; a template that calls itself must stop sooner"
                    .to_owned(),
            }),
            (Err(e), None) => Err(gocompat::exec_error(name, e)),
        }
    }

    /// The html/template for entry `name`: the entry and every template it
    /// calls, escaped together on first use, as Go escapes on `Execute`.
    fn html_template(&self, name: &str) -> Option<&gotmpl::html::Template> {
        let cell = self.html.get(name)?;
        Some(cell.get_or_init(|| {
            let mut t = gotmpl::html::Template::new(name)
                .missing_key(self.missing_key)
                .max_range_iters(self.limits.max_range_iterations)
                .funcs(gocompat::funcs());
            let mut trees: Vec<(String, ListNode)> = self
                .call_closure(&[name.to_owned()])
                .into_iter()
                .map(|callee| {
                    let mut tree = (*self.trees[&callee]).clone();
                    gocompat::rewrite_actions(
                        &mut tree,
                        match self.missing_key {
                            MissingKey::Invalid => gocompat::PRINT_MAP_DATA,
                            _ => gocompat::PRINT_DATA,
                        },
                    );
                    gocompat::html_eval_args(&mut tree);
                    gocompat::predefined_escapers_in_range(&mut tree, false);
                    (callee, tree)
                })
                .collect();
            crate::contexts::fix_entry(name, &mut trees, self.missing_key);
            for (callee, tree) in trees {
                t = match t.add_parse_tree(&callee, tree) {
                    Ok(t) => t,
                    // Only fails after execution has started, which it has not.
                    Err(_) => unassembled_template(name),
                };
            }
            // An empty parse names the entry's tree as the root to execute.
            t.parse("").unwrap_or_else(|_| unassembled_template(name))
        }))
    }

    /// The entries and, transitively, every existing template they call.
    pub(crate) fn call_closure(&self, entries: &[String]) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = entries.to_vec();
        while let Some(name) = todo.pop() {
            let Some(tree) = self.trees.get(&name) else {
                continue;
            };
            if !seen.insert(name) {
                continue;
            }
            for u in tree::uses(tree) {
                if u.kind == UseKind::Template && !seen.contains(&u.name) {
                    todo.push(u.name);
                }
            }
        }
        seen
    }
}

impl TemplateSet {
    /// Refuses, before anything runs, a template whose `{{template}}` calls
    /// recurse or could add up to more than `max` in one render: work that
    /// writes nothing is invisible to the output and time checks.
    fn check_template_calls(&self, max: u64) -> Result<(), LoadError> {
        let mut counted: BTreeMap<&str, u64> = BTreeMap::new();
        let mut problems = Vec::new();
        for file in &self.files {
            let mut path = Vec::new();
            if let Err(problem) = self.count_calls(&file.name, max, &mut path, &mut counted)
                && !problems.contains(&problem)
            {
                problems.push(problem);
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LoadError::Parse(problems))
        }
    }

    /// The worst-case number of template executions that running `name`
    /// makes (itself included), counting both branches of every `{{if}}`.
    fn count_calls<'s>(
        &'s self,
        name: &'s str,
        max: u64,
        path: &mut Vec<&'s str>,
        counted: &mut BTreeMap<&'s str, u64>,
    ) -> Result<u64, SourceError> {
        if let Some(&n) = counted.get(name) {
            return Ok(n);
        }
        let Some((name, tree)) = self.trees.get_key_value(name) else {
            // Calling a missing template fails when it runs.
            return Ok(1);
        };
        path.push(name);
        let mut total: u64 = 1;
        for call in tree::uses(tree)
            .into_iter()
            .filter(|u| u.kind == UseKind::Template)
        {
            let place = |message: String| {
                let file = self.file_of(name);
                SourceError {
                    file: file.map_or_else(|| name.clone(), |f| f.name.clone()),
                    line: Some(call.line),
                    column: file.map(|f| tree::column(&f.text, call.offset)),
                    message,
                }
            };
            if let Some(start) = path.iter().position(|p| *p == call.name) {
                let cycle = path[start..].join(" → ");
                return Err(place(format!(
                    "template {:?} calls itself ({cycle} → {}): recursive templates are not \
                     run under these limits; unroll the recursion",
                    call.name, call.name
                )));
            }
            let calls = match self.trees.get_key_value(call.name.as_str()) {
                Some((callee, _)) => self.count_calls(callee, max, path, counted)?,
                // Calling a missing template fails when it runs.
                None => 1,
            };
            total = total.saturating_add(calls);
            if total > max {
                return Err(place(format!(
                    "template {name:?} could make more than {max} template calls in one \
                     render (limits.max_template_calls): call fewer templates"
                )));
            }
        }
        path.pop();
        counted.insert(name, total);
        Ok(total)
    }
}

/// Refuses a set with more files, or larger files, than the limits allow,
/// before parsing any of them.
fn check_sizes(files: &[TemplateFile], limits: &RenderLimits) -> Result<(), LoadError> {
    let mut problems = Vec::new();
    if let Some(max) = limits.max_templates.filter(|&max| files.len() > max) {
        problems.push(SourceError {
            file: files[max].name.clone(),
            line: None,
            column: None,
            message: format!(
                "too many templates: {} files, at most {max} allowed (limits.max_templates)",
                files.len()
            ),
        });
    }
    if let Some(max) = limits.max_template_bytes {
        for f in files.iter().filter(|f| f.text.len() > max) {
            problems.push(SourceError {
                file: f.name.clone(),
                line: None,
                column: None,
                message: format!(
                    "the template is {} bytes, at most {max} allowed (limits.max_template_bytes)",
                    f.text.len()
                ),
            });
        }
    }
    if let Some(max) = limits.max_set_bytes {
        let total: usize = files.iter().map(|f| f.text.len()).sum();
        if total > max {
            problems.push(SourceError {
                file: files.last().map_or_else(String::new, |f| f.name.clone()),
                line: None,
                column: None,
                message: format!(
                    "the templates hold {total} bytes together, at most {max} allowed \
                     (limits.max_set_bytes)"
                ),
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(LoadError::Parse(problems))
    }
}

/// Why [`read_template`] refused or failed to read a template file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The operating system's error.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A link leading out of the template folder.
    #[error(
        "a link to {} ({}), outside the template folder: only links within the folder \
         (such as a Kubernetes ConfigMap's ..data) are followed; copy the file into the folder",
        written.display(),
        real.display()
    )]
    OutsideLink { written: PathBuf, real: PathBuf },
    /// A FIFO, socket or device.
    #[error("{} is not a regular file ({kind}): only regular files are loaded", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    /// Over the size limit named by `setting`.
    #[error("the file is {size} bytes or more, at most {max} allowed ({setting})")]
    TooLarge {
        size: u64,
        max: usize,
        setting: &'static str,
    },
}

/// The files at the top of `dir` whose names `accept` takes, in name
/// order: each read with [`read_template`] (subfolders skipped) within
/// `limits`, all together within `max_set_bytes` (reading stops at the
/// file that goes over; `what` names the files in that message), and made
/// text by `decode` (else the message it returns). Every file that cannot
/// be read or decoded is a problem of the second list; only a folder that
/// cannot be listed or resolved is an error. The one folder walk of the
/// Go templates and the `.tera` pages, so both refuse the same files.
pub(crate) fn read_folder(
    dir: &FsPath,
    accept: impl Fn(&str) -> bool,
    limits: &RenderLimits,
    what: &str,
    decode: impl Fn(Vec<u8>) -> Result<Arc<str>, String>,
) -> Result<(Vec<TemplateFile>, Vec<SourceError>), LoadError> {
    let io = |path: &FsPath, e: std::io::Error| LoadError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        if let Some(name) = entry.file_name().to_str()
            && accept(name)
        {
            names.push(name.to_owned());
        }
    }
    if names.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    names.sort();
    // Links must resolve inside the folder as it really is (the folder
    // itself may be a link, as a ConfigMap mount's parent often is).
    let real_dir = std::fs::canonicalize(dir).map_err(|e| io(dir, e))?;
    let mut files = Vec::with_capacity(names.len());
    let mut problems = Vec::new();
    let mut total: usize = 0;
    for name in names {
        let problem = |message: String| SourceError {
            file: name.clone(),
            line: None,
            column: None,
            message,
        };
        let bytes = match read_template(dir, &real_dir, &name, limits.max_template_bytes) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(e) => {
                problems.push(problem(e.to_string()));
                continue;
            }
        };
        total = total.saturating_add(bytes.len());
        if let Some(max) = limits.max_set_bytes
            && total > max
        {
            problems.push(problem(format!(
                "the {what} hold more than {max} bytes together (limits.max_set_bytes), \
                 reached with this file: remove files or raise the limit"
            )));
            break;
        }
        match decode(bytes) {
            Ok(text) => files.push(TemplateFile { name, text }),
            Err(message) => problems.push(problem(message)),
        }
    }
    Ok((files, problems))
}

/// Reads template `name` of `dir` safely: only a regular file, or a link
/// that stays inside the folder (`real_dir`, `dir` resolved; Kubernetes'
/// `..data` layout); never more than `max` bytes, checked before reading
/// (from the metadata) and while reading (a file growing meanwhile). A FIFO,
/// device or socket is refused without opening it for a blocking read.
///
/// `Ok(None)`: a directory (skipped, as Go's glob would fail on it).
pub(crate) fn read_template(
    dir: &FsPath,
    real_dir: &FsPath,
    name: &str,
    max: Option<usize>,
) -> Result<Option<Vec<u8>>, ReadError> {
    let path = dir.join(name);
    let io = |source: std::io::Error| ReadError::Io {
        path: path.clone(),
        source,
    };
    let link = std::fs::symlink_metadata(&path).map_err(io)?;
    let target = if link.file_type().is_symlink() {
        let real = std::fs::canonicalize(&path).map_err(io)?;
        if !real.starts_with(real_dir) {
            // Named as written (`/proc/self/environ`), and as resolved.
            let written = std::fs::read_link(&path).unwrap_or_else(|_| real.clone());
            return Err(ReadError::OutsideLink { written, real });
        }
        // The resolved path, so the file checked is the file read.
        real
    } else {
        path.clone()
    };
    let meta = std::fs::metadata(&target).map_err(io)?;
    if meta.is_dir() {
        return Ok(None);
    }
    read_regular(&path, &target, max, "limits.max_template_bytes").map(Some)
}

/// Reads `target` (named `path` in errors) if it is a regular file of at
/// most `max` bytes: the size is checked from the metadata before reading
/// and again while reading (a file growing meanwhile), and a FIFO, device
/// or socket is refused without waiting on it (opened non-blocking, then
/// checked with fstat).
pub(crate) fn read_regular(
    path: &FsPath,
    target: &FsPath,
    max: Option<usize>,
    setting: &'static str,
) -> Result<Vec<u8>, ReadError> {
    use std::io::Read as _;

    let io = |source: std::io::Error| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let not_regular = |meta: &std::fs::Metadata| ReadError::NotRegular {
        path: path.to_owned(),
        kind: file_kind(meta),
    };
    let meta = std::fs::metadata(target).map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    if let Some(max) = max
        && meta.len() > max as u64
    {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            max,
            setting,
        });
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Swapped for a FIFO since the check above, the open must not wait
        // for a writer; the fstat below then refuses it.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(target).map_err(io)?;
    let opened = file.metadata().map_err(io)?;
    if !opened.is_file() {
        return Err(not_regular(&opened));
    }
    let limit = max.map_or(u64::MAX, |m| m as u64 + 1);
    let mut bytes = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0));
    file.take(limit).read_to_end(&mut bytes).map_err(io)?;
    if let Some(max) = max
        && bytes.len() > max
    {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            max,
            setting,
        });
    }
    Ok(bytes)
}

/// What kind of file a non-regular, non-directory entry is, for errors.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    let _ = meta;
    "not a file"
}

/// A template that cannot be assembled is replaced by one that fails with a
/// clear error when executed, rather than panicking the service.
fn unassembled_template(name: &str) -> gotmpl::html::Template {
    gotmpl::html::Template::new(name)
}

/// Parses one file into its named trees: the file's own body under its base
/// name, plus its `define`s, with gotmpl applying Go's in-file rules.
/// The function every action's value goes through on the XML path: map
/// data (Error Overrides, [`TemplateSet::for_map_data`]) prints as a Go map.
fn print_action(missing_key: MissingKey) -> &'static str {
    match missing_key {
        MissingKey::Invalid => gocompat::PRINT_MAP_DATA,
        _ => gocompat::PRINT,
    }
}

fn parse_file(file: &TemplateFile) -> Result<Vec<(String, ListNode)>, SourceError> {
    let to_source_error = |e: TemplateError| gocompat::parse_error(&file.name, e);
    if let Some(u) = crate::blocks::check_blocks(&file.text) {
        return Err(SourceError {
            file: file.name.clone(),
            line: Some(u.line),
            column: Some(u.column),
            message: u.message,
        });
    }
    let trimmed = crate::blocks::go_trim_markers(&file.text);
    let text = trimmed.as_deref().unwrap_or(&file.text);
    let min_ints = crate::blocks::min_int_literals(text);
    let (text, min_int_offsets) = match &min_ints {
        Some((text, offsets)) => (text.as_str(), offsets.as_slice()),
        None => (text, &[][..]),
    };
    let parsed = gotmpl::Template::new(&file.name)
        .parse(text)
        .map_err(to_source_error)?;
    let mut out: Vec<(String, ListNode)> = parsed
        .templates()
        .into_iter()
        .filter_map(|n| parsed.lookup(n).map(|t| (n.to_owned(), t.clone())))
        .collect();
    if !out.iter().any(|(n, _)| n == &file.name) {
        // An empty (or whitespace-only) body is still the file's template in
        // Go, and executing it writes that whitespace.
        let (top, _) = Parser::with_name(Some(&file.name), text, "{{", "}}")
            .and_then(Parser::parse)
            .map_err(to_source_error)?;
        out.push((file.name.clone(), top));
    }
    check_functions(file, &out)?;
    for (_, tree) in &mut out {
        gocompat::check_scopes(tree).map_err(|r| SourceError {
            file: file.name.clone(),
            line: Some(r.pos.line),
            column: Some(tree::column(&file.text, r.pos.offset)),
            message: r.message,
        })?;
    }
    for (_, tree) in &mut out {
        if !min_int_offsets.is_empty() {
            gocompat::set_min_int_literals(tree, min_int_offsets);
        }
        if crate::rawbytes::has_mapped(text) {
            gocompat::quoted_literals_replace_bytes(tree, text);
        }
        gocompat::rewrite(tree);
    }
    Ok(out)
}

/// Go rejects a call to an undefined function when parsing; gotmpl only when
/// executing. Report the first in the file, with its place, as Go does.
fn check_functions(file: &TemplateFile, trees: &[(String, ListNode)]) -> Result<(), SourceError> {
    let first = trees
        .iter()
        .flat_map(|(_, t)| tree::uses(t))
        .filter(|u| u.kind == UseKind::Function && !gocompat::is_go_function(&u.name))
        .min_by_key(|u| u.offset);
    match first {
        None => Ok(()),
        Some(u) => Err(SourceError {
            file: file.name.clone(),
            line: Some(u.line),
            column: Some(tree::column(&file.text, u.offset)),
            message: format!(
                "function {:?} not defined (Go templates offer: {})",
                u.name,
                gocompat::GO_FUNCTIONS.join(", ")
            ),
        }),
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

    fn render(set: &TemplateSet, name: &str, path: Format, msg: &str) -> Result<String, ExecError> {
        let data = Value::Map(Arc::new(
            [(Arc::from("Message"), gotmpl::html::HTML::from(msg).into())].into(),
        ));
        let mut out = String::new();
        set.execute(name, path, &data, &mut out).map(|()| out)
    }

    #[test]
    fn later_file_redefines_and_empty_define_does_not_replace() {
        let set = TemplateSet::from_files([
            file("error_a.json", r#"{{define "x"}}A{{end}}"#),
            file("error_b.json", r#"{{define "x"}}B{{end}}"#),
            file("error_c.json", r#"{{define "x"}}{{end}}{{template "x"}}"#),
        ])
        .unwrap();
        assert_eq!(
            render(&set, "error_c.json", Format::Json, "m").unwrap(),
            "B"
        );
    }

    #[test]
    fn reports_every_file_that_fails_to_parse() {
        let err = TemplateSet::from_files([
            file("error.json", "{{.Message"),
            file("error.xml", "ok"),
            file("error_401.json", "{{if}}"),
        ])
        .unwrap_err();
        let files: Vec<String> = err.problems().into_iter().map(|p| p.file).collect();
        assert_eq!(files, ["error.json", "error_401.json"]);
    }

    #[test]
    fn undefined_function_is_a_load_error_with_place() {
        let err =
            TemplateSet::from_files([file("error.json", "x\n  {{shout .Message}}")]).unwrap_err();
        let p = &err.problems()[0];
        assert_eq!((p.line, p.column), (Some(2), Some(5)));
        assert!(p.message.contains("\"shout\" not defined"), "{p}");
    }

    // gotmpl difference: an unclosed `{{if}}` or a stray `{{end}}` parses;
    // Go refuses both, so the gateway would not start.
    #[test]
    fn gotmpl_difference_unbalanced_blocks_parse() {
        for text in [
            "{{if .Message}}x",
            "x{{end}}y",
            "{{range .X}}{{else}}{{else}}{{end}}",
        ] {
            let err = TemplateSet::from_files([file("error.json", text)]).unwrap_err();
            assert_eq!(err.problems()[0].line, Some(1), "{text}: {err}");
        }
    }

    #[test]
    fn ignores_files_not_named_error() {
        let err = TemplateSet::from_files([file("default_webhook.json", "x")]).unwrap_err();
        assert!(matches!(err, LoadError::NoTemplates { .. }));
    }

    #[test]
    fn warns_without_error_json() {
        let set = TemplateSet::from_files([file("error.xml", "x")]).unwrap();
        assert_eq!(set.warnings()[0].file, "error.json");
    }

    // gotmpl difference: an empty root template fails html escaping
    // ("incomplete or empty template"); Go renders it (as its whitespace).
    #[test]
    fn gotmpl_difference_empty_template_renders_its_whitespace() {
        let set =
            TemplateSet::from_files([file("error.json", " \n"), file("error.xml", "")]).unwrap();
        assert_eq!(
            render(&set, "error.json", Format::Json, "m").unwrap(),
            " \n"
        );
        assert_eq!(render(&set, "error.xml", Format::Xml, "m").unwrap(), "");
    }

    #[test]
    fn escaping_error_in_one_template_leaves_others_working() {
        let set = TemplateSet::from_files([
            file("error.json", "fine {{.Message}}"),
            file("error_403.json", r#"<a href=\"{{.Message}}\">"#),
        ])
        .unwrap();
        assert!(render(&set, "error_403.json", Format::Json, "m").is_err());
        assert_eq!(
            render(&set, "error.json", Format::Json, "m").unwrap(),
            "fine m"
        );
    }
}
