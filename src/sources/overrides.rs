//! `override_messages`: the gateway's replacements for the code and text of
//! its built-in auth errors, from a `tyk.conf` or a standalone YAML/JSON file.
//!
//! The gateway (`overrideTykErrors`) starts from each ID's default and
//! replaces the code only when the configured code is non-zero and the
//! message only when the configured message is non-empty, so the two halves
//! are independent. [`OverrideMessage`] keeps that: `None` means "keep the
//! default". Only the 11 IDs in [`GATEWAY_ERROR_IDS`] are ever read by the
//! gateway; any other ID is stored and ignored.
//!
//! A standalone file is a map from ID to `{code, message}`, in YAML or JSON,
//! optionally nested under a top-level `override_messages` key (so a YAML
//! copy of a `tyk.conf` section works as is):
//!
//! ```yaml
//! auth.key_not_found:
//!   code: 401
//!   message: Invalid or missing API key
//! oauth.auth_field_missing:
//!   code: 401
//! ```
//!
//! Loading separates two kinds of trouble. Mistakes the gateway would reject
//! at start-up (unreadable file, bad syntax, a value of the wrong type) are
//! an [`OverridesError`] naming every bad entry. Mistakes the gateway would
//! accept and silently ignore (an unknown ID, an entry that changes nothing,
//! an unknown field, an odd status code) load, and are listed in
//! [`Overrides::problems`].
//!
//! Gateway releases 5.0.9-5.0.15, 5.2.4-5.2.6 and 5.3.0 onwards ignore
//! `override_messages` altogether (a start-up ordering bug); the renderer
//! reproduces that with `RenderOptions::ignore_overrides`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::catalogue::Catalogue;
use crate::error::{SourceError, join_lines};

/// The gateway's overridable error IDs, in the gateway's order (the same
/// records, with their default code and message, are
/// [`Catalogue::override_ids`]).
pub const GATEWAY_ERROR_IDS: [&str; 11] = [
    "auth.auth_field_missing",
    "auth.key_not_found",
    "auth.cert_not_found",
    "auth.key_is_invalid",
    "auth.cert_expired",
    "auth.cert_required",
    "auth.cert_mismatch",
    "oauth.auth_field_missing",
    "oauth.auth_field_malformed",
    "oauth.key_not_found",
    "oauth.client_deleted",
];

/// One configured override: either half may be absent (zero/empty in Go),
/// in which case the gateway's default is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverrideMessage {
    /// The replacement status code, when non-zero.
    pub code: Option<u16>,
    /// The replacement message, when non-empty.
    pub message: Option<String>,
}

/// A set of overrides keyed by gateway error ID.
///
/// Entries that would change nothing (no code and no message) are left out;
/// entries for unknown IDs are kept, as the gateway keeps them, and never
/// apply to anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    entries: BTreeMap<String, OverrideMessage>,
    problems: Vec<OverrideProblem>,
}

impl Overrides {
    /// Overrides from (id, override) pairs.
    pub fn from_entries(entries: impl IntoIterator<Item = (String, OverrideMessage)>) -> Self {
        Overrides {
            entries: entries.into_iter().collect(),
            problems: Vec::new(),
        }
    }

    /// Loads a standalone overrides file: JSON when the name ends in
    /// `.json`, YAML otherwise.
    pub fn load(path: impl AsRef<Path>) -> Result<Overrides, OverridesError> {
        let path = path.as_ref();
        let text = read(path)?;
        Overrides::parse(
            &text,
            FileFormat::from_path(path),
            &path.display().to_string(),
        )
    }

    /// Parses overrides from text; `file_name` is used in problems and errors.
    pub fn parse(
        text: &str,
        format: FileFormat,
        file_name: &str,
    ) -> Result<Overrides, OverridesError> {
        let root = parse_tree(text, format, file_name)?;
        let loc = Locator::new(text, format);
        let (map, scope) = match root {
            // An empty YAML file: nothing configured.
            Node::Null => return Ok(Overrides::default()),
            // With an `override_messages` key the file is config-shaped (a
            // YAML tyk.conf, say): only that key matters, the rest is other
            // settings and is not an unknown ID.
            Node::Map(mut map) => match map.iter().position(|(k, _)| k.is("override_messages")) {
                Some(i) => {
                    let scope = loc.find_key(0, "override_messages").unwrap_or(0);
                    match map.swap_remove(i).1 {
                        Node::Null => return Ok(Overrides::default()),
                        Node::Map(inner) => (inner, scope),
                        other => {
                            return Err(OverridesError::Invalid(vec![loc.error(
                                file_name,
                                Some(scope),
                                format!(
                                    "override_messages must be a map of error IDs, found {}",
                                    other.describe()
                                ),
                            )]));
                        }
                    }
                }
                None => (map, 0),
            },
            other => {
                return Err(OverridesError::Invalid(vec![SourceError {
                    file: file_name.to_owned(),
                    line: Some(1),
                    column: Some(1),
                    message: format!(
                        "the file must be a map from error ID to {{code, message}} \
                         (optionally under `override_messages`), found {}",
                        other.describe()
                    ),
                }]));
            }
        };
        let mut errors = Vec::new();
        let overrides = check_overrides(map, &loc, scope, file_name, &mut errors);
        if errors.is_empty() {
            Ok(overrides)
        } else {
            sort_errors(&mut errors);
            Err(OverridesError::Invalid(errors))
        }
    }

    /// Whether no override is configured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The override configured for `id`.
    pub fn get(&self, id: &str) -> Option<&OverrideMessage> {
        self.entries.get(id)
    }
    /// Every configured (id, override), sorted by id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &OverrideMessage)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }
    /// Mistakes found while loading that the gateway would accept and
    /// silently ignore, in file order.
    pub fn problems(&self) -> &[OverrideProblem] {
        &self.problems
    }
}

/// The syntax of an overrides file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// JSON (`tyk.conf`, `*.json`).
    Json,
    /// YAML (anything else).
    Yaml,
}

impl FileFormat {
    /// JSON when the file name ends in `.json` (any case), YAML otherwise.
    pub fn from_path(path: &Path) -> FileFormat {
        match path.extension() {
            Some(ext) if ext.eq_ignore_ascii_case("json") => FileFormat::Json,
            _ => FileFormat::Yaml,
        }
    }

    /// `JSON` or `YAML`.
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Json => "JSON",
            FileFormat::Yaml => "YAML",
        }
    }
}

/// What kind of ignorable mistake an [`OverrideProblem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OverrideProblemKind {
    /// The ID is not one of [`GATEWAY_ERROR_IDS`]; the gateway never reads it.
    UnknownId,
    /// The code is not 100-599. Codes 600-999 are kept (the gateway sends
    /// them); codes below 100 or above 999 are dropped, since no HTTP
    /// response can carry them (Go's `WriteHeader` panics).
    CodeOutOfRange,
    /// Neither a non-zero code nor a non-empty message: the entry changes
    /// nothing, and is left out.
    EmptyEntry,
    /// A field other than `code` and `message`; the gateway ignores it.
    UnknownField,
}

/// A mistake in an overrides file that does not stop it loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideProblem {
    /// The file, as given to the loader.
    pub file: String,
    /// 1-based line of the entry (or field), when found.
    pub line: Option<usize>,
    /// 1-based column of the entry (or field), when found.
    pub column: Option<usize>,
    /// The error ID of the entry.
    pub id: String,
    /// What is wrong.
    pub kind: OverrideProblemKind,
    /// What is wrong and what to do, in words.
    pub message: String,
}

impl fmt::Display for OverrideProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = SourceError {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            message: self.message.clone(),
        };
        place.fmt(f)
    }
}

/// Why overrides (or a `tyk.conf`) could not be loaded: mistakes the gateway
/// would refuse to start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OverridesError {
    /// The file could not be read.
    #[error("{}: cannot read: {message}; check the path and its permissions", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// The file is not valid JSON or YAML.
    #[error("{0}")]
    Syntax(SourceError),
    /// Values of the wrong type or out of range; every one is listed.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<SourceError>),
}

impl OverridesError {
    /// Every problem, one per place.
    pub fn errors(&self) -> Vec<SourceError> {
        match self {
            OverridesError::Io { path, message } => vec![SourceError {
                file: path.display().to_string(),
                line: None,
                column: None,
                message: message.clone(),
            }],
            OverridesError::Syntax(e) => vec![e.clone()],
            OverridesError::Invalid(errors) => errors.clone(),
        }
    }
}

/// The settings error-render takes from a gateway's `tyk.conf`. Every other
/// key (there are hundreds) is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TykConf {
    /// Where the file was read from.
    pub path: PathBuf,
    /// `template_path`, as written (see [`TykConf::template_dir`]).
    pub template_path: Option<String>,
    /// `hide_generator_header`.
    pub hide_generator_header: Option<bool>,
    /// `close_connections`.
    pub close_connections: Option<bool>,
    /// `override_messages` (empty when absent).
    pub override_messages: Overrides,
}

impl TykConf {
    /// Reads a `tyk.conf` (JSON).
    pub fn load(path: impl AsRef<Path>) -> Result<TykConf, OverridesError> {
        let path = path.as_ref();
        let text = read(path)?;
        TykConf::parse(&text, path)
    }

    /// Parses `tyk.conf` text; `path` is where it came from, for messages
    /// and for [`TykConf::template_dir`].
    pub fn parse(text: &str, path: impl Into<PathBuf>) -> Result<TykConf, OverridesError> {
        let path = path.into();
        let file = path.display().to_string();
        let root = parse_tree(text, FileFormat::Json, &file)?;
        let loc = Locator::new(text, FileFormat::Json);
        let Node::Map(map) = root else {
            return Err(OverridesError::Invalid(vec![SourceError {
                file,
                line: Some(1),
                column: Some(1),
                message: format!(
                    "a tyk.conf is a JSON object of settings, found {}",
                    root.describe()
                ),
            }]));
        };
        let mut errors = Vec::new();
        let mut conf = TykConf {
            path: path.clone(),
            template_path: None,
            hide_generator_header: None,
            close_connections: None,
            override_messages: Overrides::default(),
        };
        for (key, value) in map {
            let Key::Str(key) = key else { continue };
            // JSON null leaves a Go field at its default, as if absent.
            if matches!(value, Node::Null) {
                continue;
            }
            let here = || loc.find_key(0, &key);
            match (key.as_str(), value) {
                ("template_path", Node::Str(s)) => conf.template_path = Some(s),
                ("hide_generator_header", Node::Bool(b)) => conf.hide_generator_header = Some(b),
                ("close_connections", Node::Bool(b)) => conf.close_connections = Some(b),
                ("override_messages", Node::Map(entries)) => {
                    let scope = here().unwrap_or(0);
                    conf.override_messages =
                        check_overrides(entries, &loc, scope, &file, &mut errors);
                }
                ("template_path", other) => errors.push(loc.error(
                    &file,
                    here(),
                    format!(
                        "template_path must be a string (the templates folder), found {}",
                        other.describe()
                    ),
                )),
                (name @ ("hide_generator_header" | "close_connections"), other) => {
                    errors.push(loc.error(
                        &file,
                        here(),
                        format!(
                            "{name} must be true or false, found {}{}",
                            other.describe(),
                            if matches!(other, Node::Str(_)) {
                                ": remove the quotes"
                            } else {
                                ""
                            }
                        ),
                    ));
                }
                ("override_messages", other) => errors.push(loc.error(
                    &file,
                    here(),
                    format!(
                        "override_messages must be a map of error IDs, found {}",
                        other.describe()
                    ),
                )),
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(conf)
        } else {
            sort_errors(&mut errors);
            Err(OverridesError::Invalid(errors))
        }
    }

    /// The templates folder: `template_path` (the gateway's default,
    /// `templates`, when absent), relative paths resolved against the
    /// folder holding the `tyk.conf`. The gateway itself resolves a relative
    /// path against its working directory, which in the packaged installs is
    /// the folder holding `tyk.conf`.
    pub fn template_dir(&self) -> PathBuf {
        let template_path = Path::new(self.template_path.as_deref().unwrap_or("templates"));
        if template_path.is_absolute() {
            return template_path.to_path_buf();
        }
        match self.path.parent() {
            Some(dir) => dir.join(template_path),
            None => template_path.to_path_buf(),
        }
    }
}

/// The largest overrides file or tyk.conf read: a real one is kilobytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Reads a settings file as the template loader reads templates: a regular
/// file only (a FIFO would block every reload), at most [`MAX_FILE_BYTES`].
fn read(path: &Path) -> Result<String, OverridesError> {
    let io = |message: String| OverridesError::Io {
        path: path.to_path_buf(),
        message,
    };
    let bytes = crate::set::read_regular(
        path,
        path,
        Some(MAX_FILE_BYTES),
        "error-render's limit for override files and tyk.conf",
    )
    .map_err(|e| match e {
        crate::set::ReadError::Io { source, .. } => io(source.to_string()),
        other => io(other.to_string()),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        io(format!(
            "not valid UTF-8 (byte {}): save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn sort_errors(errors: &mut [SourceError]) {
    errors.sort_by_key(|e| (e.line.unwrap_or(usize::MAX), e.column.unwrap_or(0)));
}

/// Checks every entry of an `override_messages` map; wrong types go to
/// `errors` (all of them, not just the first), ignorable mistakes into the
/// result's problems. `scope` is where the map starts in the text, so keys
/// are looked up inside it.
fn check_overrides(
    map: Vec<(Key, Node)>,
    loc: &Locator<'_>,
    scope: usize,
    file: &str,
    errors: &mut Vec<SourceError>,
) -> Overrides {
    let catalogue = Catalogue::builtin();
    let mut out = Overrides::default();
    let problem = |at: Option<usize>, id: &str, kind, message: String| {
        let (line, column) = loc.line_col(at);
        OverrideProblem {
            file: file.to_owned(),
            line,
            column,
            id: id.to_owned(),
            kind,
            message,
        }
    };
    for (key, node) in map {
        let id = match key {
            Key::Str(id) => id,
            Key::Other { found, raw } => {
                let at = raw.and_then(|raw| loc.find_key(scope, &raw));
                errors.push(loc.error(
                    file,
                    at,
                    format!(
                        "error IDs are strings such as auth.key_not_found, found {found}: \
                         use one of {}",
                        GATEWAY_ERROR_IDS.join(", ")
                    ),
                ));
                continue;
            }
        };
        let at = loc.find_key(scope, &id);
        let default = catalogue.override_id(&id);
        if default.is_none() {
            out.problems.push(problem(
                at,
                &id,
                OverrideProblemKind::UnknownId,
                format!(
                    "{id:?} is not a gateway error ID, so the gateway ignores it{}; \
                     the IDs are {}",
                    suggestion(&id),
                    GATEWAY_ERROR_IDS.join(", ")
                ),
            ));
        }
        let fields = match node {
            // `id:` with nothing after it in YAML, or `null` in JSON: Go
            // decodes it to the zero value, an entry that changes nothing.
            Node::Null => Vec::new(),
            Node::Map(fields) => fields,
            other => {
                errors.push(loc.error(
                    file,
                    at,
                    format!(
                        "{id}: an override must be a map such as \
                         {{code: 401, message: \"Invalid API key\"}}, found {}",
                        other.describe()
                    ),
                ));
                continue;
            }
        };
        let mut entry = OverrideMessage::default();
        let mut code_dropped = false;
        let mut bad = false;
        for (field, value) in fields {
            let field_at = || loc.find_key(at.unwrap_or(scope), field.name());
            match (field.name(), value) {
                ("code", value) => match check_code(&id, value) {
                    Ok(Code::Keep) => {}
                    Ok(Code::Set(code)) => entry.code = Some(code),
                    Ok(Code::Odd { code, kept, why }) => {
                        if kept {
                            entry.code = Some(code);
                        } else {
                            code_dropped = true;
                        }
                        out.problems.push(problem(
                            field_at(),
                            &id,
                            OverrideProblemKind::CodeOutOfRange,
                            why,
                        ));
                    }
                    Err(message) => {
                        bad = true;
                        errors.push(loc.error(file, field_at(), message));
                    }
                },
                ("message", Node::Null) => {}
                ("message", Node::Str(s)) => entry.message = Some(s).filter(|s| !s.is_empty()),
                ("message", other) => {
                    bad = true;
                    errors.push(loc.error(
                        file,
                        field_at(),
                        format!(
                            "{id}: message must be a string, found {}: quote it",
                            other.describe()
                        ),
                    ));
                }
                (name, _) => out.problems.push(problem(
                    field_at(),
                    &id,
                    OverrideProblemKind::UnknownField,
                    format!(
                        "{id}: unknown field {name:?}, which the gateway ignores: \
                         an override has only `code` and `message`"
                    ),
                )),
            }
        }
        if bad {
            continue;
        }
        if entry.code.is_none() && entry.message.is_none() {
            // A dropped code was already reported; saying "empty" too would
            // only repeat it.
            if !code_dropped {
                let keeps = match default {
                    Some(d) => {
                        format!("the gateway keeps its default ({} {:?})", d.code, d.message)
                    }
                    None => "it changes nothing".to_owned(),
                };
                out.problems.push(problem(
                    at,
                    &id,
                    OverrideProblemKind::EmptyEntry,
                    format!(
                        "{id}: no non-zero code and no non-empty message, so {keeps}; \
                         set one or remove the entry"
                    ),
                ));
            }
            continue;
        }
        out.entries.insert(id, entry);
    }
    out.problems
        .sort_by_key(|p| (p.line.unwrap_or(usize::MAX), p.column.unwrap_or(0)));
    out
}

/// The outcome of checking a `code` value.
enum Code {
    /// Absent, null or 0: keep the gateway's default.
    Keep,
    /// A status from 100-599.
    Set(u16),
    /// A code that loads but is odd; `kept` says whether it is applied.
    Odd { code: u16, kept: bool, why: String },
}

fn check_code(id: &str, value: Node) -> Result<Code, String> {
    let n = match value {
        Node::Null => return Ok(Code::Keep),
        Node::Int(n) => n,
        Node::Float(f) => {
            return Err(format!(
                "{id}: code must be a whole number such as 401, found {f}"
            ));
        }
        Node::Str(s) => {
            let hint = if s.trim().parse::<i64>().is_ok() {
                ": remove the quotes"
            } else {
                ""
            };
            return Err(format!(
                "{id}: code must be a number such as 401, found the string {s:?}{hint}"
            ));
        }
        other => {
            return Err(format!(
                "{id}: code must be a number such as 401, found {}",
                other.describe()
            ));
        }
    };
    let Ok(code) = u16::try_from(n) else {
        return Err(format!(
            "{id}: code {n} is not a status code: use 100-599, or 0 to keep the gateway's default"
        ));
    };
    Ok(match code {
        0 => Code::Keep,
        100..=599 => Code::Set(code),
        600..=999 => Code::Odd {
            code,
            kept: true,
            why: format!(
                "{id}: code {code} is not an HTTP status (100-599); the gateway sends it \
                 anyway, but clients may reject it"
            ),
        },
        _ => Code::Odd {
            code,
            kept: false,
            why: format!(
                "{id}: code {code} cannot be sent (HTTP codes are 100-999; the gateway \
                 would drop the connection), so it is ignored: use 100-599"
            ),
        },
    })
}

/// ` (did you mean "x"?)` when one known ID is close to `id`.
fn suggestion(id: &str) -> String {
    let best = GATEWAY_ERROR_IDS
        .iter()
        .map(|known| (edit_distance(id, known), *known))
        .min();
    match best {
        Some((d, known)) if d <= 3 => format!(" (did you mean {known:?}?)"),
        _ => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A parsed document, the same for JSON and YAML, so one checker serves
/// both and can report every wrong value (serde's typed decoding would stop
/// at the first).
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List,
    Map(Vec<(Key, Node)>),
    Tagged(String),
}

/// A map key: a string, or whatever else YAML allows (described, plus its
/// source text when it is a plain scalar, for locating it).
pub(crate) enum Key {
    Str(String),
    Other { found: String, raw: Option<String> },
}

impl Key {
    fn is(&self, name: &str) -> bool {
        matches!(self, Key::Str(s) if s == name)
    }
    fn name(&self) -> &str {
        match self {
            Key::Str(s) => s,
            Key::Other { found, raw } => raw.as_deref().unwrap_or(found),
        }
    }
}

impl Node {
    fn describe(&self) -> String {
        match self {
            Node::Null => "null".to_owned(),
            Node::Bool(b) => format!("the boolean {b}"),
            Node::Int(n) => format!("the number {n}"),
            Node::Float(f) => format!("the number {f}"),
            Node::Str(s) => format!("the string {s:?}"),
            Node::List => "a list".to_owned(),
            Node::Map(_) => "a map".to_owned(),
            Node::Tagged(tag) => format!("a value tagged {tag}"),
        }
    }

    fn from_json(v: serde_json::Value) -> Node {
        use serde_json::Value;
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Node::Int(i.into()),
                (None, Some(u)) => Node::Int(u.into()),
                _ => Node::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Node::Str(s),
            Value::Array(_) => Node::List,
            Value::Object(map) => Node::Map(
                map.into_iter()
                    .map(|(k, v)| (Key::Str(k), Node::from_json(v)))
                    .collect(),
            ),
        }
    }

    fn from_yaml(v: serde_yaml_ng::Value) -> Node {
        use serde_yaml_ng::Value;
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Node::Int(i.into()),
                (None, Some(u)) => Node::Int(u.into()),
                _ => Node::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Node::Str(s),
            Value::Sequence(_) => Node::List,
            Value::Mapping(map) => Node::Map(
                map.into_iter()
                    .map(|(k, v)| {
                        let key = match k {
                            Value::String(s) => Key::Str(s),
                            other => {
                                let raw = match &other {
                                    Value::Number(n) => Some(n.to_string()),
                                    Value::Bool(b) => Some(b.to_string()),
                                    _ => None,
                                };
                                let found = Node::from_yaml(other).describe();
                                Key::Other { found, raw }
                            }
                        };
                        (key, Node::from_yaml(v))
                    })
                    .collect(),
            ),
            Value::Tagged(t) => Node::Tagged(t.tag.to_string()),
        }
    }
}

/// Parses text into a [`Node`], turning syntax errors into
/// [`OverridesError::Syntax`] with the parser's line and column.
pub(crate) fn parse_tree(
    text: &str,
    format: FileFormat,
    file: &str,
) -> Result<Node, OverridesError> {
    let syntax = |line: Option<usize>, column: Option<usize>, detail: String| {
        OverridesError::Syntax(SourceError {
            file: file.to_owned(),
            line,
            column,
            message: format!(
                "not valid {}: {detail}; fix the syntax there",
                format.name()
            ),
        })
    };
    match format {
        FileFormat::Json => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => Ok(Node::from_json(v)),
            Err(e) => {
                let (line, column) = (e.line(), e.column());
                let detail = strip_position(&e.to_string(), line, column);
                // serde_json counts columns from 0 at the start of a line.
                Err(syntax(Some(line.max(1)), Some(column.max(1)), detail))
            }
        },
        FileFormat::Yaml => {
            let parsed = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text)
                .and_then(|mut v| v.apply_merge().map(|()| v));
            match parsed {
                Ok(v) => Ok(Node::from_yaml(v)),
                Err(e) => {
                    let position = e.location().map(|l| (l.line(), l.column()));
                    let detail = match position {
                        Some((line, column)) => strip_position(&e.to_string(), line, column),
                        None => e.to_string(),
                    };
                    Err(syntax(position.map(|p| p.0), position.map(|p| p.1), detail))
                }
            }
        }
    }
}

/// The parser's message without its own ` at line L column C` (we print the
/// position in front, as `file:line:column`).
fn strip_position(message: &str, line: usize, column: usize) -> String {
    message.replacen(&format!(" at line {line} column {column}"), "", 1)
}

/// Finds where keys are in the source text. The parsers do not keep
/// positions, so this scans for the key as a quoted or plain map key
/// followed by `:`; good enough to point a person at the right line.
pub(crate) struct Locator<'a> {
    text: &'a str,
    format: FileFormat,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str, format: FileFormat) -> Self {
        Locator { text, format }
    }

    /// The byte offset of the first `key:` at or after `from`.
    pub(crate) fn find_key(&self, from: usize, key: &str) -> Option<usize> {
        if key.is_empty() {
            return None;
        }
        let text = self.text;
        let bytes = text.as_bytes();
        let mut search = from.min(text.len());
        while let Some(found) = text.get(search..)?.find(key) {
            let start = search + found;
            let end = start + key.len();
            search = start + 1;
            // Skip to a char boundary: `key` may start with a multi-byte char.
            while search < text.len() && !text.is_char_boundary(search) {
                search += 1;
            }
            let before = start.checked_sub(1).map(|i| bytes[i]);
            let (key_start, after) = match before {
                Some(q @ (b'"' | b'\'')) if bytes.get(end) == Some(&q) => (start - 1, end + 1),
                // JSON keys are always quoted; YAML plain keys follow
                // indentation or a flow-map delimiter.
                _ if self.format == FileFormat::Yaml
                    && matches!(
                        before,
                        None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'{' | b',' | b'?')
                    ) =>
                {
                    (start, end)
                }
                _ => continue,
            };
            let rest = &text[after..];
            if rest.trim_start().starts_with(':') {
                return Some(key_start);
            }
        }
        None
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_col(&self, at: Option<usize>) -> (Option<usize>, Option<usize>) {
        let Some(at) = at else { return (None, None) };
        let Some(before) = self.text.get(..at) else {
            return (None, None);
        };
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (Some(line), Some(column))
    }

    fn error(&self, file: &str, at: Option<usize>, message: String) -> SourceError {
        let (line, column) = self.line_col(at);
        SourceError {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_ids_match_the_catalogue() {
        let ids: Vec<&str> = Catalogue::builtin()
            .override_ids()
            .iter()
            .map(|o| o.id.as_str())
            .collect();
        assert_eq!(ids, GATEWAY_ERROR_IDS);
    }

    #[test]
    fn locator_finds_quoted_and_plain_keys() {
        let yaml = "a:\n  auth.key_not_found:\n    code: 1\n  'x': 2\n";
        let loc = Locator::new(yaml, FileFormat::Yaml);
        let at = loc.find_key(0, "auth.key_not_found");
        assert_eq!(loc.line_col(at), (Some(2), Some(3)));
        let code = loc.find_key(at.unwrap_or(0), "code");
        assert_eq!(loc.line_col(code), (Some(3), Some(5)));
        assert_eq!(loc.line_col(loc.find_key(0, "x")), (Some(4), Some(3)));
        // Not a key: inside another word, or not followed by `:`.
        assert_eq!(loc.find_key(0, "key_not_found"), None);
        let json = "{\"m\": \"code\", \"code\": 5}";
        let loc = Locator::new(json, FileFormat::Json);
        assert_eq!(loc.line_col(loc.find_key(0, "code")), (Some(1), Some(15)));
    }

    #[test]
    fn edit_distance_suggests_close_ids() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert!(suggestion("auth.key_not_fund").contains("auth.key_not_found"));
        assert_eq!(suggestion("completely.different"), "");
    }
}
