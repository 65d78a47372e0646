//! Applying rules, on the gateway's two paths: an error the gateway raises
//! itself (`ErrorHandler.HandleError`), answered through one of its write
//! routes and then net/http; and an upstream 4xx/5xx response passing
//! through `ResponseErrorOverrideMiddleware`.
//!
//! Where the gateway panics in the request path (a named template that is
//! not loaded, a status outside 100-999 given to `WriteHeader`), net/http
//! drops the connection: the outcome is [`Outcome::NoResponse`] with the
//! reason, never a made-up response.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{SafeKind, Value};

use super::body_field;
use super::compile::{CompiledRule, CompiledRules, INLINE_NAME};
use super::wire::Header;
use super::{ApiRules, ErrorOverrides};
use crate::escape;
use crate::format::Format;
use crate::set::TemplateSet;

/// The gateway reads at most this much of an upstream body for matching.
pub const MAX_BODY_FOR_MATCHING: usize = 4096;

/// The message the legacy writer treats as "the body was already written":
/// it then sends neither status nor body.
const CUSTOM_BODY_RESPONSE: &str = "errCustomBodyResponse";

/// The flag the gateway gives upstream 5xx responses.
const URS: &str = "URS";

/// An error raised by the gateway itself, as its error handler sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GatewayError {
    /// The status the middleware returned.
    pub code: i64,
    /// The error text.
    pub message: String,
    /// The classification flag on the request (`AKI`, `RLT` ...), if any.
    pub flag: Option<String>,
    /// The classification's template data (`InvalidParams` from the
    /// request validators); strings are escaped like the message.
    pub template_data: BTreeMap<String, serde_json::Value>,
    /// Headers earlier middleware already set on the response, in order.
    pub preset_headers: Vec<(String, String)>,
    /// The failing request's `Content-Type` header, as sent.
    pub content_type: Option<String>,
}

/// An upstream response reaching the override middleware.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamResponse {
    /// Its status.
    pub status: i64,
    /// Its headers, in order.
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: Vec<u8>,
    /// The client request's `Content-Type` header, as sent.
    pub request_content_type: Option<String>,
}

/// How applying the rules went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A complete response.
    Ok,
    /// A template failed while executing. Gateway: status and headers were
    /// sent, the body is what was written before the failure. Upstream: the
    /// rule's status and headers apply, the original body is kept.
    Exec,
    /// The gateway panics and net/http drops the connection: the client
    /// gets no HTTP response at all. `error` says why.
    NoResponse,
}

impl Outcome {
    /// `ok`, `exec` or `no_response`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Exec => "exec",
            Outcome::NoResponse => "no_response",
        }
    }
}

/// Which of the gateway's branches wrote the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Gateway: no rule applied; the legacy templates answered.
    Legacy,
    /// A literal rule body.
    Direct,
    /// The rule's body as a template.
    InlineTemplate,
    /// The rule's `template`, a loaded template file.
    FileTemplate,
    /// Gateway: a rule with only a message, through the legacy templates.
    MessageOnlyLegacy,
    /// Gateway: a rule with only status/headers; legacy templates with the
    /// original message.
    FallbackLegacy,
    /// Upstream: status below 400, or no rules for this API.
    NotProcessed,
    /// Upstream: no rule matched; the response passes unchanged.
    NoMatch,
    /// Upstream: a rule with only a message, through `error.<ext>`.
    MessageOnlyDefault,
    /// Upstream: a rule with only status/headers; the body is kept.
    StatusHeadersOnly,
}

impl Route {
    /// The route's name, as in the conformance corpus.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Legacy => "legacy",
            Route::Direct => "direct",
            Route::InlineTemplate => "inline_template",
            Route::FileTemplate => "file_template",
            Route::MessageOnlyLegacy => "message_only_legacy",
            Route::FallbackLegacy => "fallback_legacy",
            Route::NotProcessed => "not_processed",
            Route::NoMatch => "no_match",
            Route::MessageOnlyDefault => "message_only_default",
            Route::StatusHeadersOnly => "status_headers_only",
        }
    }
}

/// The rule that applied.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Matched {
    /// `api` or `gateway`.
    pub scope: super::Scope,
    /// Its key, as written.
    pub key: String,
    /// Its position in that key's list.
    pub index: usize,
}

/// The response a gateway with these rules gives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Response {
    /// How it went.
    pub outcome: Outcome,
    /// The status (0 for [`Outcome::NoResponse`]).
    pub status: i64,
    /// Every header line in order, duplicates kept. Gateway errors: as
    /// net/http writes them (names sorted, then the framing header; no
    /// `Date`). Upstream: the middleware's header map, names sorted.
    pub header_lines: Vec<(String, String)>,
    /// The body, byte for byte (serialised as text, each invalid UTF-8 byte
    /// replaced by U+FFFD as Go's `encoding/json` does).
    #[serde(serialize_with = "body_as_text")]
    pub body: Vec<u8>,
    /// The branch that wrote it.
    pub route: Route,
    /// The rule that applied, if one did.
    pub matched: Option<Matched>,
    /// Gateway: the legacy template the legacy writer picked, if it ran.
    pub legacy_template: Option<String>,
    /// The template error (`exec`) or why there is no response.
    pub error: Option<String>,
}

fn body_as_text<S: serde::Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::render::go_lossy(body))
}

impl Response {
    /// This response as the one output type, or `None` where the gateway
    /// sends none (the outcome `no_response`, or a status HTTP cannot carry
    /// as a final one: 1xx is informational). Header lines keep their order
    /// and repeats (a rule's second `X-Generator`), names in lower case.
    pub fn to_rendered(&self) -> Option<crate::render::Rendered> {
        let outcome = match self.outcome {
            Outcome::Ok => crate::render::Outcome::Ok,
            Outcome::Exec => crate::render::Outcome::Exec,
            Outcome::NoResponse => return None,
        };
        let status = u16::try_from(self.status)
            .ok()
            .filter(|s| (200..=999).contains(s))?;
        Some(crate::render::Rendered {
            status,
            headers: self
                .header_lines
                .iter()
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
            body: bytes::Bytes::copy_from_slice(&self.body),
            template: self.legacy_template.as_deref().map(Arc::from),
            outcome,
            error: self.error.as_deref().map(Arc::from),
            cached: false,
        })
    }

    /// The first value of header `name` (canonical form).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_lines
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the gateway's handler did to its `http.ResponseWriter`.
#[derive(Default)]
struct Handler {
    header: Header,
    status: Option<i64>,
    body: Vec<u8>,
    panic: Option<String>,
    exec: Option<String>,
    legacy_template: Option<String>,
}

impl Handler {
    /// `WriteHeader`: net/http panics outside 100-999; later calls are
    /// ignored.
    fn write_header(&mut self, code: i64) -> bool {
        if !(100..=999).contains(&code) {
            self.panic = Some(format!(
                "invalid WriteHeader code {code}: net/http panics and the connection is \
                 dropped; use a status_code of 100-999"
            ));
            return false;
        }
        self.status.get_or_insert(code);
        true
    }
}

/// The request's content type as the gateway reads it: the header value
/// (net/http already trimmed it) up to the first `;`.
fn media_type(content_type: Option<&str>) -> &str {
    let ct = content_type.unwrap_or("").trim_matches([' ', '\t']);
    ct.split(';').next().unwrap_or("")
}

/// `DetectErrorResponseContext`: only `application/xml` and `text/xml` are
/// XML (the legacy writer also counts `application/soap+xml`).
fn detect(content_type: Option<&str>) -> (&'static str, Format) {
    match media_type(content_type) {
        "application/xml" => ("application/xml", Format::Xml),
        "text/xml" => ("text/xml", Format::Xml),
        _ => ("application/json", Format::Json),
    }
}

/// `escapeTemplateString`: `html.EscapeString` for XML, `JSEscapeString`
/// for JSON, trusted as HTML afterwards.
fn escape_for_template(s: &str, path: Format) -> Value {
    let s = match path {
        Format::Xml | Format::Text => escape::html_escape_string(s),
        Format::Json | Format::Html | Format::Problem => escape::js_escape_string(s),
    };
    Value::Safe {
        kind: SafeKind::Html,
        s: s.into(),
    }
}

fn missing_template(name: &str) -> String {
    format!(
        "template {name:?} is not loaded: the gateway calls Execute on a nil template, \
         panics, and drops the connection; add the file to the templates folder (its \
         name must start with \"error\") or fix the rule's template"
    )
}

impl ErrorOverrides {
    /// The rule `matched` names, in `api`'s list or the gateway's: for a
    /// caller that renders a rule leaving the body to the templates in a
    /// format of its own (error-render's HTML, text and problem details).
    pub fn rule<'a>(
        &'a self,
        api: Option<&'a ApiRules>,
        matched: &Matched,
    ) -> Option<&'a super::Rule> {
        [
            api.and_then(|a| a.compiled.as_ref()),
            self.gateway.compiled.as_ref(),
        ]
        .into_iter()
        .flatten()
        .flat_map(|list| list.rules())
        .find(|r| r.scope == matched.scope && r.key == matched.key && r.index == matched.index)
        .map(|r| &r.rule)
    }

    /// The map-data twin of the set (see [`TemplateSet::for_map_data`]).
    fn map_set(&self) -> &TemplateSet {
        self.map_set.as_deref().unwrap_or(&self.set)
    }

    /// What the gateway answers for an error it raises itself, for `api`
    /// (`None`: an API without rules).
    pub fn gateway_error(&self, api: Option<&ApiRules>, err: &GatewayError) -> Response {
        let mut h = Handler::default();
        for (name, value) in &err.preset_headers {
            h.header.add(name, value);
        }
        let api_configured = api.is_some_and(|a| a.configured && !a.disabled);
        let mut route = Route::Legacy;
        let mut matched = None;
        if self.gateway.configured || api_configured {
            let message = err.message.as_bytes();
            let hit = self.find(api, err.code, |rule| gateway_criteria(rule, err, message));
            if let Some(rule) = hit {
                matched = Some(matched_of(rule));
                route = self.write_override(&mut h, err, rule);
            }
        }
        if route == Route::Legacy {
            self.write_legacy(&mut h, err.content_type.as_deref(), &err.message, err.code);
        }
        self.finish_gateway(h, route, matched)
    }

    fn find<'a>(
        &'a self,
        api: Option<&'a ApiRules>,
        status: i64,
        mut matches: impl FnMut(&CompiledRule) -> bool,
    ) -> Option<&'a Arc<CompiledRule>> {
        let lists: [Option<&CompiledRules>; 2] = [
            api.and_then(|a| a.compiled.as_ref()),
            self.gateway.compiled.as_ref(),
        ];
        lists
            .into_iter()
            .flatten()
            .find_map(|list| list.find(status, &mut matches))
    }

    /// `writeOverrideResponse`.
    fn write_override(&self, h: &mut Handler, err: &GatewayError, rule: &CompiledRule) -> Route {
        let (ct, path) = detect(err.content_type.as_deref());
        self.set_error_headers(&mut h.header, ct);
        let response = &rule.rule.response;
        for (name, value) in &response.headers {
            h.header.set(name, value);
        }
        let status = if response.status_code == 0 {
            err.code
        } else {
            response.status_code
        };
        if !response.body.is_empty() && rule.inline.is_none() {
            if h.write_header(status) {
                h.body = response.body.clone().into_bytes();
            }
            return Route::Direct;
        }
        let (set, name, route) = if let Some(inline) = &rule.inline {
            (&inline.map, INLINE_NAME.to_owned(), Route::InlineTemplate)
        } else if !response.template.is_empty() {
            let set = self.map_set();
            (
                set,
                file_template(set, &response.template, path),
                Route::FileTemplate,
            )
        } else if !response.message.is_empty() {
            self.write_legacy(h, err.content_type.as_deref(), &response.message, status);
            return Route::MessageOnlyLegacy;
        } else {
            self.write_legacy(h, err.content_type.as_deref(), &err.message, status);
            return Route::FallbackLegacy;
        };
        if !h.write_header(status) {
            return route;
        }
        if !set.contains(&name) {
            h.panic = Some(missing_template(&name));
            return route;
        }
        let mut data: BTreeMap<Arc<str>, Value> = BTreeMap::new();
        data.insert(
            "Message".into(),
            escape_for_template(&response.message, path),
        );
        data.insert("StatusCode".into(), Value::Int(status));
        for (k, v) in &err.template_data {
            let value = match v {
                serde_json::Value::String(s) => escape_for_template(s, path),
                other => json_value(other),
            };
            data.insert(k.as_str().into(), value);
        }
        let mut out = String::new();
        if let Err(e) = set.execute(&name, path, &Value::Map(Arc::new(data)), &mut out) {
            h.exec = Some(e.to_string());
        }
        h.body = crate::rawbytes::into_body(out);
        route
    }

    /// `SetErrorResponseHeaders`.
    fn set_error_headers(&self, header: &mut Header, ct: &str) {
        header.set("Content-Type", ct);
        if !self.options.hide_generator_header {
            header.add("X-Generator", "tyk.io");
        }
        if self.options.close_connections {
            header.add("Connection", "close");
        }
    }

    /// `writeTemplateErrorResponse`: the legacy templates.
    fn write_legacy(&self, h: &mut Handler, content_type: Option<&str>, message: &str, code: i64) {
        let (ct, path) = match media_type(content_type) {
            "application/soap+xml" => ("application/soap+xml", Format::Xml),
            "application/xml" => ("application/xml", Format::Xml),
            "text/xml" => ("text/xml", Format::Xml),
            _ => ("application/json", Format::Json),
        };
        h.header.set("Content-Type", ct);
        let set = &self.set;
        let mut name = format!("error_{code}.{}", path.ext());
        if !set.contains(&name) {
            name = format!("error.{}", path.ext());
        }
        if !set.contains(&name) {
            name = "error.json".to_owned();
            h.header.set("Content-Type", "application/json");
        }
        if !self.options.hide_generator_header {
            h.header.add("X-Generator", "tyk.io");
        }
        if self.options.close_connections {
            h.header.add("Connection", "close");
        }
        h.legacy_template = Some(name.clone());
        if message == CUSTOM_BODY_RESPONSE {
            return;
        }
        if !h.write_header(code) {
            return;
        }
        if !set.contains(&name) {
            h.panic = Some(missing_template(&name));
            return;
        }
        let escaped = escape::escape_message(message, path, self.options.profile);
        let data = Value::Map(Arc::new(BTreeMap::from([(
            Arc::from("Message"),
            Value::Safe {
                kind: SafeKind::Html,
                s: escaped.into(),
            },
        )])));
        let mut out = String::new();
        if let Err(e) = set.execute(&name, path, &data, &mut out) {
            h.exec = Some(e.to_string());
        }
        h.body = crate::rawbytes::into_body(out);
    }

    fn finish_gateway(&self, h: Handler, route: Route, matched: Option<Matched>) -> Response {
        if let Some(reason) = h.panic {
            return Response {
                outcome: Outcome::NoResponse,
                status: 0,
                header_lines: Vec::new(),
                body: Vec::new(),
                route,
                matched,
                legacy_template: h.legacy_template,
                error: Some(reason),
            };
        }
        // A handler that never called WriteHeader answers 200.
        let status = h.status.unwrap_or(200);
        let (header_lines, body) = h.header.wire(status, h.body);
        Response {
            outcome: if h.exec.is_some() {
                Outcome::Exec
            } else {
                Outcome::Ok
            },
            status,
            header_lines,
            body,
            route,
            matched,
            legacy_template: h.legacy_template,
            error: h.exec,
        }
    }

    /// What leaves the override middleware for an upstream response, for
    /// `api` (`None`: an API without rules).
    pub fn upstream(&self, api: Option<&ApiRules>, res: &UpstreamResponse) -> Response {
        let mut header = Header::default();
        for (name, value) in &res.headers {
            header.add(name, value);
        }
        let api_configured = api.is_some_and(|a| a.configured);
        let api_active = api.is_some_and(|a| a.configured && !a.disabled);
        let mut out = Response {
            outcome: Outcome::Ok,
            status: res.status,
            header_lines: Vec::new(),
            body: res.body.clone(),
            route: Route::NotProcessed,
            matched: None,
            legacy_template: None,
            error: None,
        };
        let enabled = self.gateway.configured || api_configured;
        if !enabled || res.status < 400 || !(self.gateway.configured || api_active) {
            out.header_lines = header.sorted_lines();
            return out;
        }
        let prefix = &res.body[..res.body.len().min(MAX_BODY_FOR_MATCHING)];
        let Some(rule) = self.find(api, res.status, |rule| {
            upstream_criteria(rule, prefix, res.status)
        }) else {
            out.route = Route::NoMatch;
            out.header_lines = header.sorted_lines();
            return out;
        };
        out.matched = Some(matched_of(rule));
        let response = &rule.rule.response;
        if response.status_code > 0 {
            out.status = response.status_code;
        }
        let has_body = !response.body.is_empty()
            || !response.template.is_empty()
            || !response.message.is_empty();
        if has_body {
            let (ct, path) = detect(res.request_content_type.as_deref());
            let mut run = |set: &TemplateSet, name: &str, route: Route| {
                out.route = route;
                if !set.contains(name) {
                    return Err(missing_template(name));
                }
                let data = Value::Map(Arc::new(BTreeMap::from([
                    (
                        Arc::from("Message"),
                        escape_for_template(&response.message, path),
                    ),
                    (Arc::from("StatusCode"), Value::Int(out.status)),
                ])));
                let mut body = String::new();
                match set.execute(name, path, &data, &mut body) {
                    Ok(()) => Ok(Some(crate::rawbytes::into_body(body))),
                    Err(e) => {
                        out.outcome = Outcome::Exec;
                        out.error = Some(e.to_string());
                        Ok(None)
                    }
                }
            };
            let generated = if let Some(inline) = &rule.inline {
                run(&inline.strukt, INLINE_NAME, Route::InlineTemplate)
            } else if !response.body.is_empty() {
                out.route = Route::Direct;
                Ok(Some(response.body.clone().into_bytes()))
            } else if !response.template.is_empty() {
                let name = file_template(&self.set, &response.template, path);
                run(&self.set, &name, Route::FileTemplate)
            } else {
                let name = format!("error.{}", path.ext());
                run(&self.set, &name, Route::MessageOnlyDefault)
            };
            match generated {
                Err(reason) => {
                    out.outcome = Outcome::NoResponse;
                    out.status = 0;
                    out.body.clear();
                    out.error = Some(reason);
                    return out;
                }
                Ok(Some(body)) => {
                    header.set("Content-Length", &body.len().to_string());
                    header.set("Content-Type", ct);
                    out.body = body;
                }
                Ok(None) => {}
            }
        } else {
            out.route = Route::StatusHeadersOnly;
        }
        for (name, value) in &response.headers {
            header.set(name, value);
        }
        if !(100..=999).contains(&out.status) {
            // The middleware passes it on; the proxy's WriteHeader then
            // panics, as on the gateway path.
            return Response {
                outcome: Outcome::NoResponse,
                status: 0,
                header_lines: Vec::new(),
                body: Vec::new(),
                error: Some(format!(
                    "status_code {} reaches the proxy's WriteHeader, which panics: the \
                     connection is dropped; use a status_code of 100-999",
                    out.status
                )),
                ..out
            };
        }
        out.header_lines = header.sorted_lines();
        out
    }
}

/// `getFileTemplate`: `<name>.<ext>`, else the bare name. The bare name is
/// returned even when it is missing (the gateway then panics).
fn file_template(set: &TemplateSet, template: &str, path: Format) -> String {
    let with_ext = format!("{template}.{}", path.ext());
    if set.contains(&with_ext) {
        with_ext
    } else {
        template.to_owned()
    }
}

/// A JSON value as Go's `encoding/json` gives it to a template: numbers
/// are float64, objects maps, arrays slices.
fn json_value(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        J::String(s) => Value::String(s.as_str().into()),
        J::Array(items) => Value::List(items.iter().map(json_value).collect()),
        J::Object(map) => Value::Map(Arc::new(
            map.iter()
                .map(|(k, v)| (Arc::from(k.as_str()), json_value(v)))
                .collect(),
        )),
    }
}

fn matched_of(rule: &CompiledRule) -> Matched {
    Matched {
        scope: rule.scope,
        key: rule.key.clone(),
        index: rule.index,
    }
}

/// `matchesAdditionalCriteria`: the flag, else the pattern on the full
/// message; `body_field` is not looked at for gateway errors.
fn gateway_criteria(rule: &CompiledRule, err: &GatewayError, message: &[u8]) -> bool {
    let Some(m) = &rule.rule.matcher else {
        return true;
    };
    if !m.flag.is_empty() && err.flag.as_deref() == Some(m.flag.as_str()) {
        return true;
    }
    if !m.message_pattern.is_empty() {
        return rule.pattern.as_ref().is_some_and(|p| p.is_match(message));
    }
    m.flag.is_empty()
}

/// `matchesUpstreamCriteria`: `URS` matches any 5xx and nothing else does
/// with a flag; then the body field, then the pattern on the body prefix.
fn upstream_criteria(rule: &CompiledRule, body: &[u8], status: i64) -> bool {
    let Some(m) = &rule.rule.matcher else {
        return true;
    };
    if m.flag == URS {
        return (500..=599).contains(&status);
    }
    if !m.flag.is_empty() {
        return false;
    }
    let field_set = !m.body_field.is_empty() && !m.body_value.is_empty();
    if field_set && body_field::matches(body, &m.body_field, &m.body_value) {
        return true;
    }
    if !m.message_pattern.is_empty() {
        return rule.pattern.as_ref().is_some_and(|p| p.is_match(body));
    }
    !field_set
}
