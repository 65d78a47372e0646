//! Rendering an error into the response the gateway would send: status,
//! headers and body, with an outcome that says how it went.

mod output;
mod plan;
mod request;
pub(crate) mod select;

pub(crate) use output::go_lossy;
pub use output::{HeaderLines, Rendered};
use plan::{Plan, PlanRun};
pub use request::{ErrorRequest, Outcome, RenderError, RenderOptions, ResolvedError};

use std::borrow::Cow;
use std::collections::BTreeMap;

use std::path::Path as FsPath;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};

use bytes::Bytes;

use gotmpl::{SafeKind, Value};

use crate::catalogue::{self, Catalogue, Entry};
use crate::error::LoadError;
use crate::escape::{self, Profile};
use crate::format::Format;
use crate::native::{NativeData, NativeKind, NativeSet};
use crate::set::{TemplateFile, TemplateSet};
use select::{JSON_CONTENT_TYPE, Selector};

/// The gateway's shipped `error.json`, byte for byte.
pub const BUNDLED_ERROR_JSON: &str = include_str!("../../templates/error.json");
/// The gateway's shipped `error.xml`, byte for byte.
pub const BUNDLED_ERROR_XML: &str = include_str!("../../templates/error.xml");

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
///
/// Bodies that depend only on the error are rendered once per renderer (one
/// per loaded generation, so a reload starts afresh) and then served from
/// memory.
#[derive(Debug, Clone)]
pub struct Renderer {
    set: Arc<TemplateSet>,
    options: RenderOptions,
    compiled: Arc<Compiled>,
    /// This generation's Error Overrides rules, loaded with the templates.
    error_overrides: Option<Arc<crate::error_overrides::service::LiveRules>>,
}

/// The bundled templates, parsed once for the whole process (they never
/// change, so a reload need not parse them again).
static BUNDLED: LazyLock<TemplateSet> = LazyLock::new(bundled_set);

/// The data map's keys, shared rather than allocated per render.
struct Keys {
    message: Arc<str>,
    status_code: Arc<str>,
    title: Arc<str>,
    action: Arc<str>,
    id: Arc<str>,
}

static KEYS: LazyLock<Keys> = LazyLock::new(|| Keys {
    message: "Message".into(),
    status_code: "StatusCode".into(),
    title: "Title".into(),
    action: "Action".into(),
    id: "ID".into(),
});

/// `Title`, `Action` and `ID` of every builtin catalogue entry, escaped for
/// each (path, profile) once for the process: they are constants.
static ENTRY_VALUES: LazyLock<Vec<[[Value; 3]; 4]>> = LazyLock::new(|| {
    Catalogue::builtin()
        .entries()
        .iter()
        .map(|e| {
            VARIANTS.map(|(path, profile)| {
                [&e.title, &e.action, &e.id].map(|s| safe(escape::escape_message(s, path, profile)))
            })
        })
        .collect()
});

const VARIANTS: [(Format, Profile); 4] = [
    (Format::Json, Profile::V5_15),
    (Format::Json, Profile::V5_14),
    (Format::Xml, Profile::V5_15),
    (Format::Xml, Profile::V5_14),
];

fn variant(path: Format, profile: Profile) -> usize {
    let p = match path {
        // The others render from native pages, never from Go data; mapped
        // to the gateway's slots only to keep this total.
        Format::Json | Format::Html | Format::Problem => 0,
        Format::Xml | Format::Text => 2,
    };
    p + usize::from(profile == Profile::V5_14)
}

/// Cache variants per key: the gateway's (format, profile) pairs, then one
/// each for html, text and problem, whose pages do not depend on the
/// profile.
const CACHE_VARIANTS: usize = VARIANTS.len() + 3;

fn cache_variant(path: Format, profile: Profile) -> usize {
    match path {
        Format::Html => VARIANTS.len(),
        Format::Text => VARIANTS.len() + 1,
        Format::Problem => VARIANTS.len() + 2,
        _ => variant(path, profile),
    }
}

fn safe(s: impl Into<Arc<str>>) -> Value {
    Value::Safe {
        kind: SafeKind::Html,
        s: s.into(),
    }
}

/// The most bytes of bodies one generation keeps in its cache; past it,
/// bodies are rendered per request (a set of huge per-code pages must not
/// turn the cache into a memory problem).
const CACHE_BYTES: usize = 4 << 20;

/// What a renderer works out once from its set: the template table, the
/// fast plans, and the body cache.
#[derive(Debug)]
struct Compiled {
    /// error-render's own templates (`*.tera`) of the same folder, loaded
    /// with the Go set so that a reload swaps both or neither (kept here,
    /// behind the one `Arc`, so a `Renderer` stays small).
    native: Arc<NativeSet>,
    selector: Selector,
    /// Per template of `selector`, per path (JSON, XML).
    plans: Vec<[Option<Plan>; 2]>,
    /// See [`Renderer::cache_slot`].
    cache: Box<[OnceLock<Arc<Cached>>]>,
    cached_bytes: AtomicUsize,
}

/// A body rendered once and served from memory.
#[derive(Debug)]
struct Cached {
    status: u16,
    /// The answer was `error.json` on the XML path (answered as JSON).
    json: bool,
    body: Bytes,
    template: Option<Arc<str>>,
    outcome: Outcome,
    error: Option<Arc<str>>,
}

/// Cache slots: one per catalogue id, override ID, code 400-599 without a
/// message, and catalogue (code, message) or (code, title) pair, each times
/// four (path, profile) variants.
struct Slots {
    ids: usize,
    overrides: usize,
    codes: usize,
    messages: usize,
    total: usize,
}

const CACHED_CODES: std::ops::RangeInclusive<u16> = 400..=599;

fn slots() -> Slots {
    let c = Catalogue::builtin();
    let ids = 0;
    let overrides = ids + c.entries().len();
    let codes = overrides + c.override_ids().len();
    let messages = codes + CACHED_CODES.len();
    let total = messages + 2 * c.entries().len();
    Slots {
        ids,
        overrides,
        codes,
        messages,
        total: total * CACHE_VARIANTS,
    }
}

impl Compiled {
    fn new(set: &TemplateSet, native: Arc<NativeSet>) -> Self {
        let selector = Selector::new(set);
        let plans = selector
            .names()
            .iter()
            .map(|name| match set.tree(name) {
                Some(tree) => [Plan::new(tree, Format::Json), Plan::new(tree, Format::Xml)],
                None => [None, None],
            })
            .collect();
        Compiled {
            native,
            selector,
            plans,
            cache: (0..slots().total).map(|_| OnceLock::new()).collect(),
            cached_bytes: AtomicUsize::new(0),
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Resolutions made on this thread, so that a test can count how often
    /// one request is resolved.
    pub(crate) static RESOLUTIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The error after resolving, borrowing from the request, the options and
/// the catalogue. The service's Error Overrides path resolves once for the
/// rules and hands this to the legacy render ([`Renderer::render_with`]).
pub(crate) struct Resolved<'a> {
    pub(crate) code: u16,
    pub(crate) message: Cow<'a, str>,
    pub(crate) entry: Option<&'a Entry>,
    /// `entry`'s position in the builtin catalogue, when it is one of its.
    entry_index: Option<usize>,
    overridden_by: Option<&'static str>,
}

/// A render before it is packaged as a [`Rendered`].
struct Out {
    status: u16,
    content_type: &'static str,
    /// The engine's text: [`crate::rawbytes::into_body`] makes it the body.
    body: String,
    template: Option<Arc<str>>,
    outcome: Outcome,
    error: Option<String>,
}

impl Renderer {
    /// A renderer over a loaded set.
    pub fn new(set: Arc<TemplateSet>, options: RenderOptions) -> Self {
        let compiled = Arc::new(Compiled::new(&set, Arc::new(NativeSet::empty())));
        Renderer {
            set,
            options,
            compiled,
            error_overrides: None,
        }
    }

    /// This renderer with error-render's own templates (`*.tera`) beside
    /// the Go ones. The body cache starts afresh: cached bodies may come
    /// from either set.
    #[must_use]
    pub fn with_native(mut self, native: Arc<NativeSet>) -> Self {
        self.compiled = Arc::new(Compiled::new(&self.set, native));
        self
    }

    /// error-render's own templates (empty when the folder has none).
    pub fn native(&self) -> &Arc<NativeSet> {
        &self.compiled.native
    }

    /// This renderer with the Error Overrides rules loaded beside its
    /// templates (so a reload swaps both together).
    #[must_use]
    pub fn with_error_overrides(
        mut self,
        rules: Arc<crate::error_overrides::service::LiveRules>,
    ) -> Self {
        self.error_overrides = Some(rules);
        self
    }

    /// The Error Overrides rules of this generation, if loaded.
    pub fn error_overrides(&self) -> Option<&Arc<crate::error_overrides::service::LiveRules>> {
        self.error_overrides.as_ref()
    }

    /// Loads the set in `dir` (Tyk's `error*` files and error-render's
    /// `*.tera` files) and renders with default options.
    pub fn from_dir(dir: impl AsRef<FsPath>) -> Result<Self, LoadError> {
        let dir = dir.as_ref();
        let set = Arc::new(TemplateSet::load(dir)?);
        let native = Arc::new(NativeSet::load(dir)?);
        Ok(Self::new(set, RenderOptions::default()).with_native(native))
    }

    /// The template set.
    pub fn set(&self) -> &Arc<TemplateSet> {
        &self.set
    }

    /// The options.
    pub fn options(&self) -> &RenderOptions {
        &self.options
    }

    /// Whether the set has an XML template for `code` (`error_<code>.xml` or
    /// `error.xml`).
    pub fn has_xml(&self, code: u16) -> bool {
        self.compiled.selector.has_xml(code)
            || self.compiled.native.lookup(code, NativeKind::Xml).is_some()
    }

    /// Resolves an id or a code (with or without message) into the code and
    /// message to render, applying overrides.
    pub fn resolve(&self, req: &ErrorRequest) -> Result<ResolvedError, RenderError> {
        let r = self.resolve_ref(req)?;
        Ok(ResolvedError {
            code: r.code,
            message: r.message.into_owned(),
            entry: r.entry.cloned(),
            overridden_by: r.overridden_by.map(str::to_owned),
        })
    }

    pub(crate) fn resolve_ref<'a>(
        &'a self,
        req: &'a ErrorRequest,
    ) -> Result<Resolved<'a>, RenderError> {
        #[cfg(test)]
        RESOLUTIONS.with(|n| n.set(n.get() + 1));
        let catalogue = Catalogue::builtin();
        let (code, message, entry_index) = if let Some(id) = &req.id {
            if let Some(i) = catalogue.entry_index(id) {
                let e = &catalogue.entries()[i];
                (e.code, Cow::Borrowed(e.message.as_str()), Some(i))
            } else if let Some(o) = catalogue.override_id(id) {
                let entry = o.entry.as_deref().and_then(|e| catalogue.entry_index(e));
                (o.code, Cow::Borrowed(o.message.as_str()), entry)
            } else {
                return Err(RenderError::UnknownId { id: id.clone() });
            }
        } else {
            let code = req.code.ok_or(RenderError::NoError)?;
            let message = match &req.message {
                Some(m) => Cow::Borrowed(m.as_str()),
                None => self.default_message_ref(code),
            };
            let entry = catalogue.find_index(code, &message);
            (code, message, entry)
        };
        if !(100..=999).contains(&code) {
            return Err(RenderError::InvalidCode(code));
        }
        let mut resolved = Resolved {
            code,
            message,
            entry: entry_index.map(|i| &catalogue.entries()[i]),
            entry_index,
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
        self.default_message_ref(code).into_owned()
    }

    fn default_message_ref(&self, code: u16) -> Cow<'_, str> {
        if let Some(m) = self.options.default_messages.get(&code) {
            return Cow::Borrowed(m);
        }
        if let Some(e) = Catalogue::builtin().default_for(code) {
            return Cow::Borrowed(&e.message);
        }
        match catalogue::reason_phrase(code) {
            Some(phrase) => Cow::Borrowed(phrase),
            None => Cow::Owned(format!("Error {code}")),
        }
    }

    fn apply_override<'a>(&'a self, id: Option<&str>, resolved: &mut Resolved<'a>) {
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
            resolved.message = Cow::Borrowed(message);
        }
        resolved.overridden_by = Some(&target.id);
    }

    /// Renders an error for a request, as the service sends it.
    ///
    /// A body that depends only on the error (no request fields) is
    /// rendered once per renderer and then served from memory, without
    /// allocating: an error named by catalogue id or override ID, by a code
    /// alone (400-599), or by a code and a catalogue message. Other errors,
    /// and renders that failed (`exec`), are rendered every time.
    /// [`Rendered::cached`] says which it was.
    pub fn render(&self, req: &ErrorRequest) -> Result<Rendered, RenderError> {
        self.render_with(req, None)
    }

    /// [`render`](Self::render), with `req` already resolved by
    /// [`resolve_ref`](Self::resolve_ref) when `resolved` is given: the
    /// cache is used the same way, and a miss renders that resolution
    /// rather than resolving again.
    pub(crate) fn render_with(
        &self,
        req: &ErrorRequest,
        resolved: Option<&Resolved<'_>>,
    ) -> Result<Rendered, RenderError> {
        let profile = req.profile.unwrap_or(self.options.profile);
        let (path, ct) = req.answer_format();
        let Some(slot) = self.cache_slot(req, path, profile) else {
            return match resolved {
                Some(resolved) => Ok(self.rendered(self.render_out(resolved, req))),
                None => self.render_uncached(req),
            };
        };
        let cell = &self.compiled.cache[slot];
        if let Some(c) = cell.get() {
            return Ok(self.rendered_from_cache(c, ct));
        }
        let fresh;
        let resolved = match resolved {
            Some(resolved) => resolved,
            None => {
                fresh = self.resolve_ref(req)?;
                &fresh
            }
        };
        let out = self.render_out(resolved, req);
        // An `exec` failure is not kept: with render limits it can depend on
        // timing, and a transient one must not stick for a generation.
        let budget = &self.compiled.cached_bytes;
        if out.outcome != Outcome::Exec
            && budget.fetch_add(out.body.len(), Ordering::Relaxed) + out.body.len() <= CACHE_BYTES
        {
            let cached = Arc::new(Cached {
                status: out.status,
                json: out.content_type == JSON_CONTENT_TYPE,
                body: Bytes::from(crate::rawbytes::into_body(out.body)),
                template: out.template,
                outcome: out.outcome,
                error: out.error.map(Arc::from),
            });
            let c = cell.get_or_init(|| cached);
            // Rendered by this call: only later ones are served from memory.
            return Ok(Rendered {
                cached: false,
                ..self.rendered_from_cache(c, ct)
            });
        }
        Ok(self.rendered(out))
    }

    /// Renders without looking in or filling the cache.
    fn render_uncached(&self, req: &ErrorRequest) -> Result<Rendered, RenderError> {
        let resolved = self.resolve_ref(req)?;
        Ok(self.rendered(self.render_out(&resolved, req)))
    }

    /// Renders an already resolved error (never cached).
    pub fn render_resolved(&self, resolved: &ResolvedError, req: &ErrorRequest) -> Rendered {
        let catalogue = Catalogue::builtin();
        let entry = resolved.entry.as_ref();
        let resolved = Resolved {
            code: resolved.code,
            message: Cow::Borrowed(&resolved.message),
            entry,
            entry_index: entry
                .and_then(|e| catalogue.entry_index(&e.id))
                .filter(|&i| Some(&catalogue.entries()[i]) == entry),
            overridden_by: None,
        };
        self.rendered(self.render_out(&resolved, req))
    }

    /// Where `req`'s body lives in the cache, if it depends only on the
    /// error. Every key names one (code, message, catalogue entry) before
    /// resolving, and resolving is fixed for a renderer, so a slot always
    /// holds the same body.
    fn cache_slot(&self, req: &ErrorRequest, path: Format, profile: Profile) -> Option<usize> {
        if !self.options.strict_tyk && !req.fields.is_empty() {
            return None;
        }
        let catalogue = Catalogue::builtin();
        let slots = slots();
        let base = if let Some(id) = &req.id {
            match catalogue.entry_index(id) {
                Some(i) => slots.ids + i,
                None => slots.overrides + catalogue.override_index(id)?,
            }
        } else {
            let code = req.code?;
            match &req.message {
                None if CACHED_CODES.contains(&code) => {
                    slots.codes + usize::from(code - CACHED_CODES.start())
                }
                None => return None,
                Some(m) => {
                    let i = catalogue.find_index(code, m)?;
                    let by_title = usize::from(catalogue.entries()[i].message != *m);
                    slots.messages + 2 * i + by_title
                }
            }
        };
        Some(base * CACHE_VARIANTS + cache_variant(path, profile))
    }

    fn rendered_from_cache(&self, c: &Cached, content_type: &'static str) -> Rendered {
        let content_type = if c.json {
            JSON_CONTENT_TYPE
        } else {
            content_type
        };
        Rendered {
            status: c.status,
            headers: self.header_lines(content_type),
            body: c.body.clone(),
            template: c.template.clone(),
            outcome: c.outcome,
            error: c.error.clone(),
            cached: true,
        }
    }

    fn rendered(&self, out: Out) -> Rendered {
        Rendered {
            status: out.status,
            headers: self.header_lines(out.content_type),
            body: Bytes::from(crate::rawbytes::into_body(out.body)),
            template: out.template,
            outcome: out.outcome,
            error: out.error.map(Arc::from),
            cached: false,
        }
    }

    /// The gateway's header lines for an answer: the one place they are
    /// made.
    fn header_lines(&self, content_type: &'static str) -> HeaderLines {
        HeaderLines::gateway(
            content_type,
            !self.options.hide_generator_header,
            self.options.close_connections,
        )
    }

    fn render_out(&self, resolved: &Resolved<'_>, req: &ErrorRequest) -> Out {
        let profile = req.profile.unwrap_or(self.options.profile);
        let (path, ct) = req.answer_format();
        let code = resolved.code;
        let kind = NativeKind::from_ext(path.ext());
        if let Some(kind) = kind.filter(|k| !matches!(k, NativeKind::Json | NativeKind::Xml)) {
            // Not the gateway's format: the folder's pages, then the
            // built-in one.
            return self.native_out(
                kind,
                self.compiled.native.lookup(code, kind),
                resolved,
                req,
                ct,
            );
        }
        let choice = self.compiled.selector.select(code, path, ct);
        // Tyk's own `error_<code>.<ext>` first; then the `.tera` page for the
        // code or its class, before Tyk's `error.<ext>` (and its fallback to
        // `error.json`); `default.<ext>.tera` only after those.
        let per_code_go = choice
            .is_some_and(|c| self.compiled.selector.names()[c.template].starts_with("error_"));
        if let Some(kind) = kind
            && !per_code_go
        {
            let page = match choice {
                Some(_) => self.compiled.native.lookup_specific(code, kind),
                None => self.compiled.native.lookup(code, kind),
            };
            if page.is_some() {
                return self.native_out(kind, page, resolved, req, ct);
            }
        }
        let Some(choice) = choice else {
            return Out {
                status: code,
                content_type: ct,
                body: self.bundled_body(path, resolved, req, profile),
                template: None,
                outcome: Outcome::Missing,
                error: Some(format!(
                    "no template for this request: the set has neither error_{code}.{ext}, \
                     error.{ext} nor error.json",
                    ext = path.ext()
                )),
            };
        };
        let template = &self.compiled.selector.names()[choice.template];
        let plan = &self.compiled.plans[choice.template][usize::from(choice.path == Format::Xml)];
        // Room for the usual body, so the engine's writes do not regrow it.
        let mut body = String::with_capacity(
            plan.as_ref().map_or(256, |p| p.text_len + 16) + resolved.message.len(),
        );
        let rendered = |body| Out {
            status: code,
            content_type: choice.content_type,
            body,
            template: Some(Arc::clone(template)),
            outcome: Outcome::Ok,
            error: None,
        };
        let mut planned = None;
        if let Some(plan) = plan {
            match self.run_plan(plan, choice.path, profile, resolved, req, &mut body) {
                PlanRun::Done if !crate::rawbytes::has_mapped(&body) => return rendered(body),
                // Characters the engine keeps for raw bytes: only it tells
                // the template's bytes from the request's characters.
                PlanRun::Done => body.clear(),
                // The engine would write up to the limit and fail the same
                // way; stopping here spares escaping the whole set for it
                // (a large template's html/template costs ~100 times its
                // size), which a request or the validator could trigger.
                PlanRun::TooLong => {
                    planned = Some(crate::error::ExecError {
                        template: template.to_string(),
                        line: None,
                        column: None,
                        message: crate::limits::Exceeded::Output(
                            self.set.limits().max_output_bytes,
                        )
                        .to_string(),
                    });
                }
                // A field the data lacks: the engine reports it exactly.
                PlanRun::NeedsEngine => body.clear(),
            }
        }
        let result = match planned {
            Some(e) => Err(e),
            None => {
                let data = self.data(choice.path, profile, resolved, req);
                self.set.execute(template, choice.path, &data, &mut body)
            }
        };
        match result {
            Ok(()) => rendered(body),
            Err(e) => {
                let fallback_path = if choice.content_type == JSON_CONTENT_TYPE {
                    Format::Json
                } else {
                    Format::Xml
                };
                Out {
                    status: code,
                    content_type: choice.content_type,
                    body: self.bundled_body(fallback_path, resolved, req, profile),
                    template: Some(Arc::clone(template)),
                    outcome: Outcome::Exec,
                    error: Some(e.to_string()),
                }
            }
        }
    }

    /// Renders `page` of the folder's native set, or (when `None`) the
    /// built-in page of `kind`. A page that fails falls back to the
    /// built-in page (for JSON and XML, Tyk's bundled template), with the
    /// error, as a Go template's failure does.
    fn native_out(
        &self,
        kind: NativeKind,
        page: Option<&str>,
        resolved: &Resolved<'_>,
        req: &ErrorRequest,
        content_type: &'static str,
    ) -> Out {
        let data = self.native_data(resolved, req);
        let out = |body, template: Option<&str>, outcome, error| Out {
            status: resolved.code,
            content_type,
            body,
            template: template.map(Arc::from),
            outcome,
            error,
        };
        let result = match page {
            Some(name) => self.compiled.native.render(name, kind, &data),
            None => match NativeSet::builtin().render_or_builtin(resolved.code, kind, &data) {
                Some(result) => result,
                // JSON and XML have no built-in native page: Tyk's bundled
                // template answers, as for a set without one.
                None => {
                    let profile = req.profile.unwrap_or(self.options.profile);
                    let path = req.answer_format().0;
                    return out(
                        self.bundled_body(path, resolved, req, profile),
                        None,
                        Outcome::Missing,
                        Some(format!("no template for this request ({})", kind.ext())),
                    );
                }
            },
        };
        match result {
            Ok(body) => out(body, page, Outcome::Ok, None),
            Err(e) => {
                let body = match kind {
                    NativeKind::Json | NativeKind::Xml => {
                        let profile = req.profile.unwrap_or(self.options.profile);
                        self.bundled_body(req.answer_format().0, resolved, req, profile)
                    }
                    _ => NativeSet::builtin()
                        .render_or_builtin(resolved.code, kind, &data)
                        .and_then(Result::ok)
                        .unwrap_or_default(),
                };
                out(body, page, Outcome::Exec, Some(e.to_string()))
            }
        }
    }

    /// A native template's data: raw strings (each kind escapes its own),
    /// the catalogue entry's fields, and the request fields unless
    /// `strict_tyk` (so that what the cache keys on is all a body uses).
    fn native_data(&self, resolved: &Resolved<'_>, req: &ErrorRequest) -> NativeData {
        let mut data = NativeData::new(resolved.code, resolved.message.as_ref());
        if let Some(e) = resolved.entry {
            data = data.entry(e.title.as_str(), e.action.as_str(), e.id.as_str());
        }
        data.problem_type = Some(crate::native::problem_type(
            self.options.problem_type_base.as_deref(),
            resolved.entry.map(|e| e.id.as_str()),
        ));
        if !self.options.strict_tyk {
            data.fields.clone_from(&req.fields);
            // The request-context field the service fills from
            // `X-Original-URI`: the problem's occurrence.
            data.instance = req
                .fields
                .iter()
                .find(|(name, _)| name == "OriginalURI")
                .map(|(_, uri)| uri.clone());
        }
        data
    }

    fn bundled_body(
        &self,
        path: Format,
        resolved: &Resolved<'_>,
        req: &ErrorRequest,
        profile: Profile,
    ) -> String {
        let name = match path {
            Format::Json | Format::Html | Format::Problem => "error.json",
            Format::Xml | Format::Text => "error.xml",
        };
        let data = self.data(path, profile, resolved, req);
        let mut body = String::new();
        // The bundled templates use only `.Message`, so they cannot fail.
        let _ = BUNDLED.execute(name, path, &data, &mut body);
        body
    }

    /// The template's data: `Message` (escaped for the path, trusted as
    /// HTML), plus `StatusCode`, the catalogue fields and request fields
    /// unless `strict_tyk`.
    fn data(
        &self,
        path: Format,
        profile: Profile,
        resolved: &Resolved<'_>,
        req: &ErrorRequest,
    ) -> Value {
        let esc = |s: &str| safe(escape::escape_message(s, path, profile));
        let keys = &*KEYS;
        let mut map: BTreeMap<Arc<str>, Value> = BTreeMap::new();
        map.insert(Arc::clone(&keys.message), esc(&resolved.message));
        if !self.options.strict_tyk {
            map.insert(
                Arc::clone(&keys.status_code),
                Value::Int(i64::from(resolved.code)),
            );
            let [title, action, id] = match (resolved.entry_index, resolved.entry) {
                (Some(i), _) => ENTRY_VALUES[i][variant(path, profile)].clone(),
                (None, Some(e)) => [&e.title, &e.action, &e.id].map(|s| esc(s)),
                (None, None) => [esc(""), esc(""), esc("")],
            };
            map.insert(Arc::clone(&keys.title), title);
            map.insert(Arc::clone(&keys.action), action);
            map.insert(Arc::clone(&keys.id), id);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overrides::{OverrideMessage, Overrides};

    fn renderer(files: &[(&str, &str)], options: RenderOptions) -> Renderer {
        let set = TemplateSet::from_files(files.iter().map(|(n, t)| TemplateFile {
            name: (*n).into(),
            text: (*t).into(),
        }))
        .unwrap();
        Renderer::new(Arc::new(set), options)
    }

    /// A format chosen by the caller (negotiation) wins over the request's
    /// `Content-Type`, with no content type made up for the renderer to
    /// parse back; the cache keeps the two answers apart.
    #[test]
    fn a_chosen_format_wins_over_the_content_type() {
        let r = renderer(
            &[
                ("error.json", "{\"e\":\"{{.Message}}\"}"),
                ("error.xml", "<e>{{.Message}}</e>"),
            ],
            RenderOptions::default(),
        );
        let xml = ErrorRequest::code(404).format(Format::Xml);
        let json = ErrorRequest::code(404)
            .content_type("text/xml")
            .format(Format::Json);
        for _ in 0..2 {
            let a = r.render(&xml).unwrap();
            assert_eq!(
                (a.content_type(), &a.body[..]),
                ("application/xml", &b"<e>Not Found</e>"[..])
            );
            let b = r.render(&json).unwrap();
            assert_eq!(
                (b.content_type(), &b.body[..]),
                ("application/json", &b"{\"e\":\"Not Found\"}"[..])
            );
        }
        assert_eq!(r.render(&xml).unwrap().content_type(), "application/xml");
    }

    /// What the engine alone makes of a request, bypassing any plan.
    fn engine_body(r: &Renderer, req: &ErrorRequest) -> Result<String, String> {
        let resolved = r.resolve_ref(req).unwrap();
        let profile = req.profile.unwrap_or(r.options.profile);
        let (path, ct) = req.answer_format();
        let choice = r.compiled.selector.select(resolved.code, path, ct).unwrap();
        let name = &r.compiled.selector.names()[choice.template];
        let data = r.data(choice.path, profile, &resolved, req);
        let mut body = String::new();
        r.set
            .execute(name, choice.path, &data, &mut body)
            .map(|()| body)
            .map_err(|e| e.to_string())
    }

    const HOSTILE: [&str; 6] = [
        "API Rate Limit Exceeded",
        "quote \" back \\ nl \n tab \t ctl \x01",
        "<b>tag</b> & 'apos' = \"x\"",
        "nul \0 é 🚀 \u{2028} \u{a0}",
        "",
        "Key not authorised",
    ];

    #[test]
    fn plans_write_what_the_engine_writes() {
        let templates = [
            "{\n    \"error\": \"{{.Message}}\"\n}",
            "{\"s\": {{.StatusCode}}, \"t\": \"{{.Title}}\", \"a\": \"{{.Action}}\", \"id\": \"{{.ID}}\", \"m\": {{ .Message }}}",
            "{{- .Message -}} / {{.RequestID}}",
            "{{.Nope}}",
            "",
        ];
        for text in templates {
            for strict_tyk in [false, true] {
                let options = RenderOptions {
                    strict_tyk,
                    ..RenderOptions::default()
                };
                let r = renderer(&[("error.json", text), ("error.xml", text)], options);
                assert!(r.compiled.plans.iter().all(|p| p[1].is_some()), "{text}");
                for message in HOSTILE {
                    for ct in [None, Some("application/xml")] {
                        for profile in [Profile::V5_15, Profile::V5_14] {
                            let mut req = ErrorRequest::code(429).message(message).profile(profile);
                            req.content_type = ct.map(str::to_owned);
                            req.fields = vec![("RequestID".into(), message.into())];
                            let out = r.render(&req).unwrap();
                            match engine_body(&r, &req) {
                                Ok(body) => {
                                    assert_eq!(out.outcome, Outcome::Ok, "{text:?} {req:?}");
                                    assert_eq!(out.body, body, "{text:?} {req:?}");
                                }
                                Err(e) => {
                                    assert_eq!(out.outcome, Outcome::Exec, "{text:?} {req:?}");
                                    assert_eq!(out.error.as_deref(), Some(e.as_str()));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn only_plain_templates_get_plans() {
        let r = renderer(
            &[
                ("error.json", "<p>{{.Message}}</p>"),
                ("error.xml", "<e>{{.Message}}</e>"),
                ("error_400.json", "{{if .Message}}x{{end}}"),
                ("error_401.json", "{{.Message | printf \"%s\"}}"),
                ("error_402.json", "{{$x := .Message}}"),
            ],
            RenderOptions::default(),
        );
        let plan = |name: &str, path: usize| {
            let i = r
                .compiled
                .selector
                .names()
                .iter()
                .position(|n| &**n == name)
                .unwrap();
            r.compiled.plans[i][path].is_some()
        };
        // `<` would put html/template in another context: engine only.
        assert!(!plan("error.json", 0));
        assert!(plan("error.json", 1));
        assert!(plan("error.xml", 1));
        for name in ["error_400.json", "error_401.json", "error_402.json"] {
            assert!(!plan(name, 0) && !plan(name, 1), "{name}");
        }
    }

    /// Every kind of cached request, with overrides and default messages,
    /// answers as an uncached render would, the first time and from memory.
    #[test]
    fn cached_renders_match_uncached_ones() {
        let catalogue = Catalogue::builtin();
        let overrides = Overrides::from_entries([
            (
                "auth.key_not_found".to_owned(),
                OverrideMessage {
                    code: Some(404),
                    message: Some("No such key".into()),
                },
            ),
            (
                "auth.auth_field_missing".to_owned(),
                OverrideMessage {
                    code: None,
                    message: Some("Say who you are".into()),
                },
            ),
        ]);
        let options = RenderOptions {
            overrides,
            default_messages: [(502, "Bad upstream".to_owned())].into(),
            ..RenderOptions::default()
        };
        let r = renderer(
            &[
                (
                    "error.json",
                    "{\"error\": \"{{.Message}}\", \"t\": \"{{.Title}}\"}",
                ),
                (
                    "error_429.json",
                    "{{if eq .StatusCode 429}}slow{{end}} {{.Message}}",
                ),
                ("error_401.xml", "<e>{{.Message}} {{.ID}}</e>"),
                ("error_500.json", "{{.Nope}}"),
            ],
            options,
        );
        let mut requests: Vec<ErrorRequest> = Vec::new();
        requests.extend(catalogue.entries().iter().map(|e| ErrorRequest::id(&e.id)));
        requests.extend(
            catalogue
                .override_ids()
                .iter()
                .map(|o| ErrorRequest::id(&o.id)),
        );
        requests.extend((400..=599).map(ErrorRequest::code));
        for e in catalogue.entries() {
            requests.push(ErrorRequest::code(e.code).message(&e.message));
            requests.push(ErrorRequest::code(e.code).message(&e.title));
        }
        requests.push(ErrorRequest::code(403).message("not in the catalogue"));
        requests.push(ErrorRequest::code(700));
        let mut seen = std::collections::HashSet::new();
        for base in requests {
            for ct in [
                None,
                Some("application/xml"),
                Some("text/xml; charset=utf-8"),
            ] {
                for profile in [None, Some(Profile::V5_14)] {
                    let mut req = base.clone();
                    req.content_type = ct.map(str::to_owned);
                    req.profile = profile;
                    let want = r.render_uncached(&req).unwrap();
                    for round in 0..2 {
                        let got = r.render(&req).unwrap();
                        let label = format!("{req:?} round {round}");
                        assert_eq!(got.status, want.status, "{label}");
                        assert_eq!(got.body, want.body, "{label}");
                        assert_eq!(got.outcome, want.outcome, "{label}");
                        assert_eq!(got.template, want.template, "{label}");
                        assert_eq!(got.error, want.error, "{label}");
                        assert_eq!(got.headers, want.headers, "{label}");
                        // application/xml and text/xml share a slot (the
                        // XML path); the answered content type is each's own.
                        let (path, _) = req.answer_format();
                        let slot =
                            r.cache_slot(&req, path, req.profile.unwrap_or(r.options.profile));
                        let filled = slot.is_some_and(|s| !seen.insert(s));
                        let expect_cached = filled && want.outcome != Outcome::Exec;
                        assert_eq!(got.cached, expect_cached, "{label}");
                    }
                }
            }
        }
    }

    #[test]
    fn request_fields_are_never_cached() {
        let r = renderer(
            &[("error.json", "{{.Message}} {{.RequestID}}")],
            Default::default(),
        );
        for id in ["a", "b"] {
            let mut req = ErrorRequest::code(502);
            req.fields = vec![("RequestID".into(), id.into())];
            for _ in 0..2 {
                let reply = r.render(&req).unwrap();
                assert!(!reply.cached);
                assert_eq!(reply.body, format!("Bad Gateway {id}").as_bytes());
            }
        }
    }

    #[test]
    fn missing_template_is_reported_when_cached() {
        let r = renderer(&[("error.xml", "<e>{{.Message}}</e>")], Default::default());
        let req = ErrorRequest::code(503);
        let first = r.render(&req).unwrap();
        let again = r.render(&req).unwrap();
        assert!(!first.cached && again.cached);
        assert_eq!(again.outcome, Outcome::Missing);
        assert!(again.error.as_deref().unwrap().contains("error_503.json"));
        assert_eq!(again.body, first.body);
    }
}
