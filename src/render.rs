//! Rendering an error into the response the gateway would send: status,
//! headers and body, with an outcome that says how it went.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path as FsPath;
use std::sync::Arc;

use gotmpl::Value;
use gotmpl::html::HTML;

use crate::catalogue::{self, Catalogue, Entry};
use crate::error::LoadError;
use crate::escape::{self, Path, Profile};
use crate::overrides::Overrides;
use crate::select::{self, JSON_CONTENT_TYPE};
use crate::set::{TemplateFile, TemplateSet};

/// The gateway's shipped `error.json`, byte for byte.
pub const BUNDLED_ERROR_JSON: &str = include_str!("../templates/error.json");
/// The gateway's shipped `error.xml`, byte for byte.
pub const BUNDLED_ERROR_XML: &str = include_str!("../templates/error.xml");

/// How a render went. The same words appear in the CLI, logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Rendered by the set's template.
    Ok,
    /// The template failed while executing; the body is the bundled default.
    Exec,
    /// The set has no template for the request; the body is the bundled default.
    Missing,
    /// The set does not load; nothing is rendered.
    Load,
}

impl Outcome {
    /// `ok`, `exec`, `missing` or `load`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Exec => "exec",
            Outcome::Missing => "missing",
            Outcome::Load => "load",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings that shape every render of a [`Renderer`].
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Which gateway release's escaping to reproduce.
    pub profile: Profile,
    /// Leave out `X-Generator: tyk.io` (tyk.conf `hide_generator_header`).
    pub hide_generator_header: bool,
    /// Add `Connection: close` (tyk.conf `close_connections`).
    pub close_connections: bool,
    /// Give templates exactly the gateway's data, `{Message}`, and nothing
    /// more (no `StatusCode` or catalogue fields).
    pub strict_tyk: bool,
    /// `override_messages` to apply to the gateway's error IDs.
    pub overrides: Overrides,
    /// Ignore `overrides`, as gateway releases 5.0.9-5.0.15, 5.2.4-5.2.6 and
    /// 5.3.0 onwards do (a start-up ordering bug).
    pub ignore_overrides: bool,
    /// Per-code messages used when a caller gives only a status.
    pub default_messages: BTreeMap<u16, String>,
}

/// What to render: which error, for which request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorRequest {
    /// The status code (ignored when `id` is set).
    pub code: Option<u16>,
    /// The message; without one, the code's default message.
    pub message: Option<String>,
    /// A catalogue entry id or gateway error ID, instead of code and message.
    pub id: Option<String>,
    /// The failing request's `Content-Type` header.
    pub content_type: Option<String>,
    /// A profile for this render only.
    pub profile: Option<Profile>,
    /// Extra string fields for the template (request context), escaped like
    /// the message. Ignored under `strict_tyk`.
    pub fields: Vec<(String, String)>,
}

impl ErrorRequest {
    /// An error with this status code.
    pub fn code(code: u16) -> Self {
        ErrorRequest {
            code: Some(code),
            ..Self::default()
        }
    }

    /// A catalogue entry or gateway error ID (`403-quota-exceeded`,
    /// `auth.key_not_found`).
    pub fn id(id: impl Into<String>) -> Self {
        ErrorRequest {
            id: Some(id.into()),
            ..Self::default()
        }
    }

    /// Sets the message.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the failing request's `Content-Type`.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Sets the profile for this render.
    #[must_use]
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = Some(profile);
        self
    }
}

/// Why a request could not be rendered at all (the caller's mistake).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// Neither a code nor an id was given.
    #[error("no error given: pass a status code or an id")]
    NoError,
    /// The code is not an HTTP status.
    #[error("status code {0} is not an HTTP status: use 100-999 (errors are 400-599)")]
    InvalidCode(u16),
    /// The id is in neither the catalogue nor the gateway's error IDs.
    #[error(
        "unknown error id {id:?}: use a catalogue id (`error-render catalogue` lists them) \
         or a gateway error ID ({})",
        known_ids()
    )]
    UnknownId {
        /// The id given.
        id: String,
    },
}

fn known_ids() -> String {
    Catalogue::builtin()
        .override_ids()
        .iter()
        .map(|o| o.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The error after resolving ids, default messages and overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedError {
    /// The status to answer with.
    pub code: u16,
    /// The message to render.
    pub message: String,
    /// The catalogue entry the error belongs to, if any.
    pub entry: Option<Entry>,
    /// The gateway error ID whose override changed the error, if any.
    pub overridden_by: Option<String>,
}

/// A rendered response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rendered {
    /// The HTTP status.
    pub status: u16,
    /// Response headers, names in lower case, in the order the gateway sets them.
    pub headers: Vec<(String, String)>,
    /// The body, byte for byte.
    pub body: String,
    /// The template file used (`None` when the set had none).
    pub template: Option<String>,
    /// How it went.
    pub outcome: Outcome,
    /// The error, for `exec` and `missing`.
    pub error: Option<String>,
}

impl Rendered {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The bare response content type.
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or(JSON_CONTENT_TYPE)
    }
}

/// Renders errors from one loaded template set, as the gateway would.
///
/// ```
/// use error_render::{ErrorRequest, Renderer};
///
/// let renderer = Renderer::from_dir("templates").unwrap();
/// let r = renderer
///     .render(&ErrorRequest::code(403).message("Key not authorised"))
///     .unwrap();
/// assert_eq!(r.status, 403);
/// assert_eq!(r.body, "{\n    \"error\": \"Key not authorised\"\n}");
/// assert_eq!(r.header("x-generator"), Some("tyk.io"));
/// ```
#[derive(Debug, Clone)]
pub struct Renderer {
    set: Arc<TemplateSet>,
    bundled: Arc<TemplateSet>,
    options: RenderOptions,
}

impl Renderer {
    /// A renderer over a loaded set.
    pub fn new(set: Arc<TemplateSet>, options: RenderOptions) -> Self {
        Renderer {
            set,
            bundled: Arc::new(bundled_set()),
            options,
        }
    }

    /// Loads the set in `dir` and renders with default options.
    pub fn from_dir(dir: impl AsRef<FsPath>) -> Result<Self, LoadError> {
        Ok(Self::new(
            Arc::new(TemplateSet::load(dir)?),
            RenderOptions::default(),
        ))
    }

    /// The template set.
    pub fn set(&self) -> &Arc<TemplateSet> {
        &self.set
    }

    /// The options.
    pub fn options(&self) -> &RenderOptions {
        &self.options
    }

    /// Resolves an id or a code (with or without message) into the code and
    /// message to render, applying overrides.
    pub fn resolve(&self, req: &ErrorRequest) -> Result<ResolvedError, RenderError> {
        let catalogue = Catalogue::builtin();
        let (code, message, entry) = if let Some(id) = &req.id {
            if let Some(e) = catalogue.entry(id) {
                (e.code, e.message.clone(), Some(e.clone()))
            } else if let Some(o) = catalogue.override_id(id) {
                let entry = o.entry.as_deref().and_then(|e| catalogue.entry(e)).cloned();
                (o.code, o.message.clone(), entry)
            } else {
                return Err(RenderError::UnknownId { id: id.clone() });
            }
        } else {
            let code = req.code.ok_or(RenderError::NoError)?;
            let message = match &req.message {
                Some(m) => m.clone(),
                None => self.default_message(code),
            };
            let entry = catalogue.find(code, &message).cloned();
            (code, message, entry)
        };
        if !(100..=999).contains(&code) {
            return Err(RenderError::InvalidCode(code));
        }
        let mut resolved = ResolvedError {
            code,
            message,
            entry,
            overridden_by: None,
        };
        if !self.options.ignore_overrides {
            self.apply_override(req.id.as_deref(), &mut resolved);
        }
        Ok(resolved)
    }

    /// The message for a code given without one: configured, else the
    /// catalogue's default for the code, else the reason phrase.
    pub fn default_message(&self, code: u16) -> String {
        if let Some(m) = self.options.default_messages.get(&code) {
            return m.clone();
        }
        if let Some(e) = Catalogue::builtin().default_for(code) {
            return e.message.clone();
        }
        catalogue::reason_phrase(code)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("Error {code}"))
    }

    fn apply_override(&self, id: Option<&str>, resolved: &mut ResolvedError) {
        let overrides = &self.options.overrides;
        if overrides.is_empty() {
            return;
        }
        // An error named by a gateway ID takes that ID's override; one named
        // by code and message takes the override of the first gateway ID
        // whose default is exactly that code and message.
        let catalogue = Catalogue::builtin();
        let target = match id {
            Some(id) => catalogue
                .override_id(id)
                .filter(|_| overrides.get(id).is_some()),
            None => catalogue.override_ids().iter().find(|o| {
                o.code == resolved.code
                    && o.message == resolved.message
                    && overrides.get(&o.id).is_some()
            }),
        };
        let Some(target) = target else { return };
        let Some(o) = overrides.get(&target.id) else {
            return;
        };
        if let Some(code) = o.code {
            resolved.code = code;
        }
        if let Some(message) = &o.message {
            resolved.message = message.clone();
        }
        resolved.overridden_by = Some(target.id.clone());
    }

    /// Renders an error for a request.
    pub fn render(&self, req: &ErrorRequest) -> Result<Rendered, RenderError> {
        let resolved = self.resolve(req)?;
        Ok(self.render_resolved(&resolved, req))
    }

    /// Renders an already resolved error.
    pub fn render_resolved(&self, resolved: &ResolvedError, req: &ErrorRequest) -> Rendered {
        let profile = req.profile.unwrap_or(self.options.profile);
        let content_type = req.content_type.as_deref();
        let Some(sel) = select::select(&self.set, resolved.code, content_type) else {
            let (path, ct) = select::request_format(content_type);
            let body = self.bundled_body(path, resolved, req, profile);
            return self.response(
                resolved.code,
                ct,
                body,
                None,
                Outcome::Missing,
                Some(format!(
                    "no template for this request: the set has neither error_{code}.{ext}, \
                     error.{ext} nor error.json",
                    code = resolved.code,
                    ext = path.ext()
                )),
            );
        };
        let data = self.data(sel.path, profile, resolved, req);
        let mut body = String::with_capacity(256);
        match self.set.execute(&sel.template, sel.path, &data, &mut body) {
            Ok(()) => self.response(
                resolved.code,
                sel.content_type,
                body,
                Some(sel.template),
                Outcome::Ok,
                None,
            ),
            Err(e) => {
                let fallback_path = if sel.content_type == JSON_CONTENT_TYPE {
                    Path::Json
                } else {
                    Path::Xml
                };
                let body = self.bundled_body(fallback_path, resolved, req, profile);
                self.response(
                    resolved.code,
                    sel.content_type,
                    body,
                    Some(sel.template),
                    Outcome::Exec,
                    Some(e.to_string()),
                )
            }
        }
    }

    fn response(
        &self,
        status: u16,
        content_type: &str,
        body: String,
        template: Option<String>,
        outcome: Outcome,
        error: Option<String>,
    ) -> Rendered {
        let mut headers = vec![("content-type".to_owned(), content_type.to_owned())];
        if !self.options.hide_generator_header {
            headers.push(("x-generator".to_owned(), "tyk.io".to_owned()));
        }
        if self.options.close_connections {
            headers.push(("connection".to_owned(), "close".to_owned()));
        }
        Rendered {
            status,
            headers,
            body,
            template,
            outcome,
            error,
        }
    }

    fn bundled_body(
        &self,
        path: Path,
        resolved: &ResolvedError,
        req: &ErrorRequest,
        profile: Profile,
    ) -> String {
        let name = match path {
            Path::Json => "error.json",
            Path::Xml => "error.xml",
        };
        let data = self.data(path, profile, resolved, req);
        let mut body = String::new();
        // The bundled templates use only `.Message`, so they cannot fail.
        let _ = self.bundled.execute(name, path, &data, &mut body);
        body
    }

    /// The template's data: `Message` (escaped for the path, trusted as
    /// HTML), plus `StatusCode`, the catalogue fields and request fields
    /// unless `strict_tyk`.
    fn data(
        &self,
        path: Path,
        profile: Profile,
        resolved: &ResolvedError,
        req: &ErrorRequest,
    ) -> Value {
        let esc = |s: &str| Value::from(HTML::from(escape::escape_message(s, path, profile)));
        let mut map: BTreeMap<Arc<str>, Value> = BTreeMap::new();
        map.insert("Message".into(), esc(&resolved.message));
        if !self.options.strict_tyk {
            map.insert("StatusCode".into(), Value::Int(i64::from(resolved.code)));
            let entry = resolved.entry.as_ref();
            map.insert("Title".into(), esc(entry.map_or("", |e| e.title.as_str())));
            map.insert(
                "Action".into(),
                esc(entry.map_or("", |e| e.action.as_str())),
            );
            map.insert("ID".into(), esc(entry.map_or("", |e| e.id.as_str())));
            for (k, v) in &req.fields {
                map.insert(k.as_str().into(), esc(v));
            }
        }
        Value::Map(Arc::new(map))
    }
}

fn bundled_set() -> TemplateSet {
    let file = |name: &str, text: &str| TemplateFile {
        name: name.into(),
        text: text.into(),
    };
    TemplateSet::from_files([
        file("error.json", BUNDLED_ERROR_JSON),
        file("error.xml", BUNDLED_ERROR_XML),
    ])
    .unwrap_or_else(|e| panic!("the bundled templates are the gateway's own and parse: {e}"))
}
