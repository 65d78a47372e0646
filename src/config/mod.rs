//! The service's settings: raw layers (tyk.conf, config file, environment,
//! flags), each all-optional, merged in a fixed order into one validated
//! [`Config`].
//!
//! Precedence, lowest first: defaults < tyk.conf < config file <
//! `ERROR_RENDER_*` environment < flags. The binary only fills the flags
//! layer; everything else is read here, so an embedding program gets the
//! same rules.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use serde::Deserialize;

use crate::escape::Profile;
use crate::format::Format;
use crate::limits::RenderLimits;
use crate::overrides::{Overrides, OverridesError, TykConf};
use crate::render::RenderOptions;

/// The listen address when none is configured.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The template folder when none is configured (as `error-render render`).
pub const DEFAULT_TEMPLATES: &str = "templates";
/// The longest message accepted by default, in bytes.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4096;
/// The largest request body accepted by default (`POST /render`), in bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 65536;
/// The default largest request head accepted.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// hyper's smallest read buffer: a smaller head limit cannot be enforced.
pub const MIN_HEADER_BYTES: usize = 8192;
/// How long writing a response may stall by default (`limits.write_timeout_ms`).
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a graceful stop waits by default (`limits.shutdown_timeout_ms`).
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// The smallest body compressed by default (`compression_min_bytes`).
pub const DEFAULT_COMPRESSION_MIN_BYTES: usize = 1024;
/// The prefix of every environment variable read.
pub const ENV_PREFIX: &str = "ERROR_RENDER_";

/// Headers that may not be configured as extra headers: hop-by-hop headers
/// are never sent, and the body's own headers belong to the renderer (and
/// its coding to the compression).
const FORBIDDEN_HEADERS: [&str; 12] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-type",
    "content-length",
    "content-encoding",
];

/// One setting as documented: its config file key, its environment
/// variable, its default and what it does. [`ConfigLayer::settings`] lists
/// every one, from the same declaration as the file keys, the environment
/// names and the merge; `docs/settings.md`'s table is checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The key in a config file, with its section (`limits.max_body_bytes`).
    pub key: &'static str,
    /// The environment variable (`ERROR_RENDER_MAX_BODY_BYTES`).
    pub env: &'static str,
    /// How the variable's value is written, if not as the plain value
    /// (`JSON object`, `comma-separated`).
    pub env_format: Option<&'static str>,
    /// The default, as the docs state it.
    pub default: &'static str,
    /// What the setting does (Markdown).
    pub meaning: &'static str,
}

impl Setting {
    /// The setting's row in the docs' Markdown table.
    pub fn markdown_row(&self) -> String {
        let env = match self.env_format {
            Some(format) => format!("`{}` ({format})", self.env),
            None => format!("`{}`", self.env),
        };
        format!(
            "| `{}` | {env} | {} | {} |",
            self.key, self.default, self.meaning
        )
    }
}

/// A setting's value type, as read from an environment variable.
trait EnvValue: Sized {
    /// How the value is written in the environment, if not plainly.
    const FORMAT: Option<&'static str> = None;
    /// The value of `text`, or what is wrong with it.
    fn from_env(text: &str) -> Result<Self, String>;
    /// Whether this is a zero count or duration (refused for limits).
    fn is_zero(&self) -> bool {
        false
    }
}

impl EnvValue for String {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
}

impl EnvValue for PathBuf {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(PathBuf::from(text))
    }
}

impl EnvValue for bool {
    fn from_env(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            _ => Err(format!("expected true or false, got {text:?}")),
        }
    }
}

impl EnvValue for u64 {
    fn from_env(text: &str) -> Result<Self, String> {
        text.parse()
            .map_err(|_| format!("expected a whole number, got {text:?}"))
    }
    fn is_zero(&self) -> bool {
        *self == 0
    }
}

impl EnvValue for Profile {
    fn from_env(text: &str) -> Result<Self, String> {
        text.parse()
    }
}

impl EnvValue for LogFormat {
    fn from_env(text: &str) -> Result<Self, String> {
        text.parse()
    }
}

impl EnvValue for Secret {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(Secret(text.to_owned()))
    }
}

impl EnvValue for Vec<String> {
    const FORMAT: Option<&'static str> = Some("comma-separated");
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(text
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

impl<V: serde::de::DeserializeOwned> EnvValue for BTreeMap<Scalar, V> {
    const FORMAT: Option<&'static str> = Some("JSON object");
    fn from_env(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| {
            format!("expected a JSON object keyed by status code, as the config file's: {e}")
        })
    }
}

/// A layer whose settings can be merged, read from the environment and
/// listed, so that a section (`limits`, `preview`) nests in [`ConfigLayer`].
trait Section: Default {
    /// Replaces every value present in `upper`.
    fn merge_from(&mut self, upper: Self);
    /// Sets the field whose variable is `key` (the name without
    /// [`ENV_PREFIX`]); `Ok(false)` when no field has that name.
    fn set_env(&mut self, key: &str, name: &str, value: &str) -> Result<bool, ConfigError>;
    /// Every setting of the section, in declaration order.
    fn settings(out: &mut Vec<Setting>);
    /// The keys of the values present.
    fn present(&self, out: &mut Vec<&'static str>);
}

/// Declares a layer of settings from one list: the struct (whose field
/// names are the file's keys), its environment variables, its merge, the
/// keys present, and its rows of the docs table. Plain `values` come
/// first, nested `sections` after.
macro_rules! layer {
    (
        $(#[$meta:meta])*
        pub struct $name:ident (prefix $prefix:literal) {
            $(
                $(#[$doc:meta])*
                $field:ident: $ty:ty = env $env:literal, default $default:literal, $meaning:literal;
            )*
        }
        $(sections {
            $( $(#[$sdoc:meta])* $sfield:ident: $sty:ty; )*
        })?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$doc])* pub $field: Option<$ty>, )*
            $($( $(#[$sdoc])* pub $sfield: Option<$sty>, )*)?
        }

        impl Section for $name {
            fn merge_from(&mut self, upper: Self) {
                $( if upper.$field.is_some() { self.$field = upper.$field; } )*
                $($(
                    if let Some(up) = upper.$sfield {
                        self.$sfield.get_or_insert_with(Default::default).merge_from(up);
                    }
                )*)?
            }

            fn set_env(&mut self, key: &str, name: &str, value: &str) -> Result<bool, ConfigError> {
                let invalid = |message: String| ConfigError::Env { name: name.to_owned(), message };
                match key {
                    $( $env => {
                        self.$field = Some(<$ty as EnvValue>::from_env(value).map_err(invalid)?);
                        Ok(true)
                    } )*
                    _ => {
                        $($(
                            let mut section = self.$sfield.take().unwrap_or_default();
                            let hit = section.set_env(key, name, value)?;
                            if hit || section != <$sty>::default() {
                                self.$sfield = Some(section);
                            }
                            if hit {
                                return Ok(true);
                            }
                        )*)?
                        Ok(false)
                    }
                }
            }

            fn settings(out: &mut Vec<Setting>) {
                $(out.push(Setting {
                    key: concat!($prefix, stringify!($field)),
                    env: concat!("ERROR_RENDER_", $env),
                    env_format: <$ty as EnvValue>::FORMAT,
                    default: $default,
                    meaning: $meaning,
                });)*
                $($( <$sty>::settings(out); )*)?
            }

            fn present(&self, out: &mut Vec<&'static str>) {
                $( if self.$field.is_some() { out.push(concat!($prefix, stringify!($field))); } )*
                $($( if let Some(s) = &self.$sfield { s.present(out); } )*)?
            }
        }

        impl $name {
            /// The key of the first value that is a zero count or duration.
            #[allow(dead_code, reason = "only the limits refuse zeros")]
            fn first_zero(&self) -> Option<&'static str> {
                $( if self.$field.as_ref().is_some_and(EnvValue::is_zero) {
                    return Some(concat!($prefix, stringify!($field)));
                } )*
                None
            }
        }
    };
}

layer! {
    /// One source of settings, every field optional: a value present here
    /// replaces the one from a lower layer.
    ///
    /// The config file deserialises straight into this type, so its field
    /// names are the file's keys, and an unknown key is an error naming it.
    pub struct ConfigLayer (prefix "") {
        /// Address to listen on (`127.0.0.1:8080`, `0.0.0.0:8080`, `:8080`).
        listen: String = env "LISTEN", default "`127.0.0.1:8080`",
            "Address to listen on; `:8080` means every interface.";
        /// A second address for `/metrics`, `/status` and the preview, which
        /// then leave the traffic port (`/healthz` and `/readyz` answer on both).
        admin_listen: String = env "ADMIN_LISTEN", default "none",
            "A second address for `/metrics`, `/status` and the preview, which then leave `listen` (`/healthz`, `/readyz` and `/version` answer on both). See [Operations](service.md#operations).";
        /// The template folder (the gateway's `template_path`).
        templates: PathBuf = env "TEMPLATES", default "tyk.conf `template_path`, else `templates`",
            "The template folder (`error.json`, `error.xml`, `error_<code>.json|xml`).";
        /// A standalone YAML/JSON file of `override_messages`.
        overrides: PathBuf = env "OVERRIDES", default "none",
            "A YAML/JSON file of `override_messages`. Wins over the tyk.conf's.";
        /// A `tyk.conf` to read `template_path`, `hide_generator_header`,
        /// `close_connections` and `override_messages` from.
        tyk_conf: PathBuf = env "TYK_CONF", default "none",
            "A tyk.conf: `template_path` (relative to the tyk.conf's folder), `hide_generator_header`, `close_connections`, `override_messages`.";
        /// The API definitions folder (Error Overrides per API).
        apis: PathBuf = env "APIS", default "tyk.conf `app_path` when it names a folder, else none",
            "A folder of API definitions (classic JSON, OAS JSON or YAML) whose Error Overrides the service applies by API id (`api` parameter). See [Error Overrides](error-overrides.md#service).";
        /// The gateway release whose escaping to reproduce.
        profile: Profile = env "PROFILE", default "`5.15`",
            "The gateway release whose escaping to reproduce: `5.15` or `5.14`.";
        /// Leave out `X-Generator: tyk.io`.
        hide_generator_header: bool = env "HIDE_GENERATOR_HEADER", default "`false`",
            "Leave out `X-Generator: tyk.io`.";
        /// The gateway's `close_connections` (its `Connection: close` is never
        /// sent over HTTP; kept for the renderer's parity).
        close_connections: bool = env "CLOSE_CONNECTIONS", default "`false`",
            "The gateway's `Connection: close`. Hop-by-hop, so never sent over HTTP; accepted for parity with the CLI.";
        /// Give templates only `{Message}`, as the gateway does.
        strict_tyk: bool = env "STRICT_TYK", default "`false`",
            "Templates get only `{{.Message}}` (no `StatusCode`, catalogue fields or request context).";
        /// Ignore override messages, as recent gateway releases do.
        ignore_overrides: bool = env "IGNORE_OVERRIDES", default "false; true when the tyk.conf has `error_overrides`",
            "Ignore `override_messages`, as gateway 5.0.9-5.0.15, 5.2.4-5.2.6 and 5.3.0+ do. A tyk.conf with `error_overrides` (gateway 5.13+) ignores them unless this is set to `false` explicitly.";
        /// Messages for codes rendered without one: code → message.
        default_messages: BTreeMap<Scalar, String> = env "DEFAULT_MESSAGES",
            default "catalogue, then reason phrase",
            "code → message for errors rendered without a message.";
        /// Status rewrites: code or class (`401`, `5xx`) → status to answer with.
        status_rewrites: BTreeMap<Scalar, Scalar> = env "STATUS_REWRITES", default "none",
            "code or class → status to answer with, e.g. `401: 404`, `\"5xx\": 503`. An exact code wins over its class. The body is still the original error's.";
        /// Extra response headers: code, class or `*` → header → value.
        headers: BTreeMap<Scalar, BTreeMap<String, Scalar>> = env "HEADERS", default "none",
            "`\"*\"`, class or code → header → value, added to rendered errors by their final status (e.g. `WWW-Authenticate`, `Retry-After`, CORS). A more specific rule replaces the same header. Hop-by-hop headers, `Content-Type`, `Content-Length` and `Content-Encoding` are refused.";
        /// Expose request context (request ID, original URI, ...) to templates.
        request_context: bool = env "REQUEST_CONTEXT", default "`false`",
            "Give templates `RequestID`, `OriginalURI`, `Namespace`, `IngressName`, `ServiceName`, `ServicePort` (from the proxy's headers; empty when absent; escaped like the message).";
        /// The formats offered, in order of preference (the first is the
        /// answer to a client indifferent to the format).
        formats: Vec<String> = env "FORMATS", default "`json,xml,html,text,problem`",
            "The formats the proxy routes negotiate over and `export` writes, in order of preference: `json`, `xml` (Tyk's templates), `html`, `text`, `problem` (RFC 9457). A tie in `Accept`, and a client that accepts none of them, gets the first listed; `[json, xml]` is the gateway's behaviour exactly. See [Choosing the format](service.md#choosing-the-format).";
        /// The base of problem details' `type` (base + catalogue id).
        problem_type_base: String = env "PROBLEM_TYPE_BASE", default "none (`about:blank`)",
            "An absolute URL: a `problem` answer's `type` is this and the error's catalogue id, joined by `/` unless the URL ends in `/`, `#` or `=`; without it, or for an error with no catalogue entry, `about:blank`.";
        /// Compress large HTML, text and problem bodies (never JSON or XML)
        /// for clients that accept gzip or br.
        compression: bool = env "COMPRESSION", default "`true`",
            "Compress rendered `html`, `text` and `problem` bodies of at least `compression_min_bytes` with br or gzip when the request's `Accept-Encoding` allows; `json` and `xml` are never compressed, so they stay the gateway's bytes. See [Compression](service.md#compression).";
        /// The smallest body compressed, in bytes.
        compression_min_bytes: u64 = env "COMPRESSION_MIN_BYTES", default "`1024`",
            "The smallest rendered body that is compressed, in bytes; below it a body is sent as it is.";
        /// `text` or `json`.
        log_format: LogFormat = env "LOG_FORMAT", default "`text`",
            "`text` or `json` (to stderr). Colour only when stderr is a terminal and `NO_COLOR` is unset. One line at start names the listen address(es), the template folder and the preview's URL.";
        /// A tracing filter (`info`, `error_render=debug,warn`).
        log_level: String = env "LOG_LEVEL", default "`info`",
            "A tracing filter (`debug`, `error_render=debug,warn`).";
    }
    sections {
        /// Size limits.
        limits: LimitsLayer;
        /// The browser preview under `/preview`.
        preview: PreviewLayer;
    }
}

layer! {
    /// The `limits` section of a layer.
    pub struct LimitsLayer (prefix "limits.") {
        /// The longest message accepted, in bytes.
        max_message_bytes: u64 = env "MAX_MESSAGE_BYTES", default "`4096`",
            "The longest message accepted.";
        /// The largest request body accepted, in bytes.
        max_body_bytes: u64 = env "MAX_BODY_BYTES", default "`65536`",
            "The largest `POST /render` body accepted (larger: 413).";
        /// The largest request head (request line and headers), in bytes.
        max_header_bytes: u64 = env "MAX_HEADER_BYTES", default "`16384`",
            "The largest request head (request line and headers); larger: 431. At least 8192.";
        /// How long a client may take to send its request head, in milliseconds.
        header_read_timeout_ms: u64 = env "HEADER_READ_TIMEOUT_MS", default "`5000`",
            "A client that has not sent its whole request head by then is disconnected (slowloris); so is a keep-alive connection idle that long (give a proxy's upstream keep-alive a shorter timeout, as the nginx recipe does).";
        /// How long a whole request (head, body and answer) may take, in milliseconds.
        request_timeout_ms: u64 = env "REQUEST_TIMEOUT_MS", default "`10000`",
            "A request body (`POST /render`, the preview) not received by then gets 408.";
        /// How long writing one response may stall on a client that does not
        /// read, in milliseconds.
        write_timeout_ms: u64 = env "WRITE_TIMEOUT_MS", default "`10000`",
            "Once writing a response blocks (the client is not reading fast enough), the rest of it must be written within this time, else the connection is closed. A response that never blocks, and an idle event stream, are never cut off.";
        /// How long a graceful stop waits for open connections, in milliseconds.
        shutdown_timeout_ms: u64 = env "SHUTDOWN_TIMEOUT_MS", default "`10000`",
            "After `SIGTERM`/`SIGINT`, how long requests in flight may take; connections still open then are closed and the process exits.";
        /// Bytes one render may write.
        max_output_bytes: u64 = env "MAX_OUTPUT_BYTES", default "`1048576`",
            "Bytes one render may write. See [Limits](#limits).";
        /// How long one render may take, in milliseconds.
        max_render_time_ms: u64 = env "MAX_RENDER_TIME_MS", default "`250`",
            "Time one render may take.";
        /// `{{range}}` iterations one render may make.
        max_range_iterations: u64 = env "MAX_RANGE_ITERATIONS", default "`10000`",
            "`{{range}}` iterations one render may make.";
        /// Bytes one template file may hold.
        max_template_bytes: u64 = env "MAX_TEMPLATE_BYTES", default "`1048576`",
            "Bytes one template file may hold; a larger one is a load error naming it, found before parsing.";
        /// Bytes all the template files together may hold.
        max_set_bytes: u64 = env "MAX_SET_BYTES", default "`16777216`",
            "Bytes all the template files may hold together.";
        /// How long a reload may take before it is abandoned, in milliseconds.
        reload_timeout_ms: u64 = env "RELOAD_TIMEOUT_MS", default "`10000`",
            "A reload not finished by then is abandoned with an error naming this setting; the last good set keeps serving.";
    }
}

layer! {
    /// The `preview` section of a layer.
    pub struct PreviewLayer (prefix "preview.") {
        /// Serve `/preview` (default: only when listening on a loopback address).
        enabled: bool = env "PREVIEW_ENABLED",
            default "on when its address (`admin_listen`, else `listen`) is loopback, else off",
            "Serve the [preview and playground](preview.md#preview-and-playground) under `/preview`.";
        /// A token the preview asks for (bearer header or sign-in cookie).
        token: Secret = env "PREVIEW_TOKEN", default "none",
            "A token the preview asks for: `Authorization: Bearer` for its API, a sign-in form (cookie) for its page. See [SECURITY.md](../SECURITY.md).";
        /// Host names (with or without a port) the preview answers to without a
        /// token, besides the loopback names.
        allowed_hosts: Vec<String> = env "PREVIEW_ALLOWED_HOSTS", default "none",
            "Without a token, the preview answers only requests whose `Host` is `localhost`, `127.0.0.1` or `[::1]` (any port) or one of these (`name` for any port, `name:port` for one).";
    }
}

/// A value never written by `Debug` (a token), so a logged config cannot
/// leak it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A YAML/JSON scalar read as text, so that `401: 404` and `"401": "404"`
/// mean the same in either format.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scalar(pub String);

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format {other:?}: use text or json")),
        }
    }
}

/// Which statuses a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CodeMatch {
    /// Exactly this status.
    Code(u16),
    /// Every status of this class (`4` for `4xx`).
    Class(u16),
    /// Every status (`*`).
    Any,
}

impl CodeMatch {
    fn parse(key: &str) -> Option<CodeMatch> {
        if key == "*" {
            return Some(CodeMatch::Any);
        }
        let lower = key.to_ascii_lowercase();
        if let Some(digit) = lower.strip_suffix("xx")
            && digit.len() == 1
            && let Ok(d @ 1..=9) = digit.parse::<u16>()
        {
            return Some(CodeMatch::Class(d));
        }
        match key.parse::<u16>() {
            Ok(code @ 100..=999) => Some(CodeMatch::Code(code)),
            _ => None,
        }
    }

    fn matches(self, status: u16) -> bool {
        match self {
            CodeMatch::Code(c) => c == status,
            CodeMatch::Class(d) => status / 100 == d,
            CodeMatch::Any => true,
        }
    }
}

/// Status rewrite rules: an exact code's rule wins over its class's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusRewrites {
    rules: BTreeMap<CodeMatch, u16>,
}

impl StatusRewrites {
    /// The status to answer with instead of `status`.
    pub fn apply(&self, status: u16) -> u16 {
        self.rules
            .get(&CodeMatch::Code(status))
            .or_else(|| self.rules.get(&CodeMatch::Class(status / 100)))
            .copied()
            .unwrap_or(status)
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Extra response headers by status: `*`, then class, then code, a more
/// specific rule replacing the same header from a less specific one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraHeaders {
    rules: Vec<(CodeMatch, Vec<(HeaderName, HeaderValue)>)>,
}

impl ExtraHeaders {
    /// The headers for a response with `status`, each name once.
    pub fn for_status(&self, status: u16) -> Vec<(HeaderName, HeaderValue)> {
        let mut out: Vec<(HeaderName, HeaderValue)> = Vec::new();
        // `rules` is sorted Code < Class < Any; walk it backwards so the more
        // specific rule is applied last and wins.
        for (m, headers) in self.rules.iter().rev() {
            if !m.matches(status) {
                continue;
            }
            for (name, value) in headers {
                match out.iter_mut().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = value.clone(),
                    None => out.push((name.clone(), value.clone())),
                }
            }
        }
        out
    }
}

/// Limits on what the service accepts and on each render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest message accepted, in bytes.
    pub max_message_bytes: usize,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// How long a client may take to send its request head (slowloris).
    pub header_read_timeout: Duration,
    /// How long a whole request may take before it is answered 408.
    pub request_timeout: Duration,
    /// How long writing a response may stay blocked on a client that does
    /// not read before the connection is closed.
    pub write_timeout: Duration,
    /// How long a graceful stop waits for open connections before closing
    /// them.
    pub shutdown_timeout: Duration,
    /// How long a reload may take before it is abandoned (the last good
    /// set keeps serving).
    pub reload_timeout: Duration,
    /// Bounds on loading the template folder and on each render of it.
    pub render: RenderLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            header_read_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            reload_timeout: crate::store::DEFAULT_RELOAD_TIMEOUT,
            render: RenderLimits::service(),
        }
    }
}

impl Limits {
    fn from_layer(layer: LimitsLayer) -> Result<Limits, String> {
        let d = Limits::default();
        if let Some(key) = layer.first_zero() {
            return Err(format!("{key} must be above 0"));
        }
        let bytes = |v: Option<u64>, default: usize| {
            v.map_or(default, |n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        let millis = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_millis);
        let max_header_bytes = bytes(layer.max_header_bytes, d.max_header_bytes);
        if max_header_bytes < MIN_HEADER_BYTES {
            return Err(format!(
                "limits.max_header_bytes must be at least {MIN_HEADER_BYTES} (the HTTP server's \
                 smallest buffer)"
            ));
        }
        Ok(Limits {
            max_message_bytes: bytes(layer.max_message_bytes, d.max_message_bytes),
            max_body_bytes: bytes(layer.max_body_bytes, d.max_body_bytes),
            max_header_bytes,
            header_read_timeout: millis(layer.header_read_timeout_ms, d.header_read_timeout),
            request_timeout: millis(layer.request_timeout_ms, d.request_timeout),
            write_timeout: millis(layer.write_timeout_ms, d.write_timeout),
            shutdown_timeout: millis(layer.shutdown_timeout_ms, d.shutdown_timeout),
            reload_timeout: millis(layer.reload_timeout_ms, d.reload_timeout),
            render: RenderLimits {
                max_template_bytes: Some(bytes(
                    layer.max_template_bytes,
                    d.render.max_template_bytes.unwrap_or(usize::MAX),
                )),
                max_set_bytes: Some(bytes(
                    layer.max_set_bytes,
                    d.render.max_set_bytes.unwrap_or(usize::MAX),
                )),
                max_output_bytes: bytes(layer.max_output_bytes, d.render.max_output_bytes),
                max_render_time: millis(layer.max_render_time_ms, d.render.max_render_time),
                max_range_iterations: layer
                    .max_range_iterations
                    .unwrap_or(d.render.max_range_iterations),
                ..d.render
            },
        })
    }
}

/// The browser preview's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewConfig {
    /// Whether `/preview` is served.
    pub enabled: bool,
    /// The token it asks for, if any.
    pub token: Option<Secret>,
    /// Host names it answers to without a token, besides loopback ones
    /// (lower case, as given: `preview.example` or `preview.example:8081`).
    pub allowed_hosts: Vec<String>,
}

/// The validated settings of the service.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The operations address (`/metrics`, `/status`, the preview), if
    /// apart from `listen`.
    pub admin_listen: Option<SocketAddr>,
    /// The template folder.
    pub templates: PathBuf,
    /// The standalone overrides file, if any (wins over tyk.conf's
    /// `override_messages`).
    pub overrides: Option<PathBuf>,
    /// The tyk.conf, if any.
    pub tyk_conf: Option<PathBuf>,
    /// The API definitions folder given (`apis`), if any; see
    /// [`Config::apis_dir`] for the tyk.conf's `app_path` default.
    pub apis: Option<PathBuf>,
    /// Escaping profile.
    pub profile: Profile,
    /// Leave out `X-Generator`.
    pub hide_generator_header: bool,
    /// The gateway's `close_connections`.
    pub close_connections: bool,
    /// Only `{Message}` for templates.
    pub strict_tyk: bool,
    /// Ignore override messages.
    pub ignore_overrides: bool,
    /// Whether `ignore_overrides` was set explicitly (by a config file, the
    /// environment or a flag) rather than left to its default: a tyk.conf
    /// with `error_overrides` turns the default to `true`.
    pub ignore_overrides_explicit: bool,
    /// Messages for codes rendered without one.
    pub default_messages: BTreeMap<u16, String>,
    /// Status rewrite rules.
    pub status_rewrites: StatusRewrites,
    /// Extra response headers.
    pub headers: ExtraHeaders,
    /// Expose request context to templates.
    pub request_context: bool,
    /// The formats offered, in order of preference; never empty.
    pub formats: Vec<Format>,
    /// The base of problem details' `type`, if any.
    pub problem_type_base: Option<String>,
    /// Whether large HTML, text and problem bodies are compressed (JSON and
    /// XML never are).
    pub compression: bool,
    /// The smallest body compressed, in bytes.
    pub compression_min_bytes: usize,
    /// Size limits.
    pub limits: Limits,
    /// The browser preview.
    pub preview: PreviewConfig,
    /// Log format.
    pub log_format: LogFormat,
    /// Tracing filter.
    pub log_level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            admin_listen: None,
            templates: PathBuf::from(DEFAULT_TEMPLATES),
            overrides: None,
            tyk_conf: None,
            apis: None,
            profile: Profile::default(),
            hide_generator_header: false,
            close_connections: false,
            strict_tyk: false,
            ignore_overrides: false,
            ignore_overrides_explicit: false,
            default_messages: BTreeMap::new(),
            status_rewrites: StatusRewrites::default(),
            headers: ExtraHeaders::default(),
            request_context: false,
            formats: Format::ALL.to_vec(),
            problem_type_base: None,
            compression: true,
            compression_min_bytes: DEFAULT_COMPRESSION_MIN_BYTES,
            limits: Limits::default(),
            preview: PreviewConfig {
                enabled: true,
                token: None,
                allowed_hosts: Vec::new(),
            },
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
        }
    }
}

/// Why the settings are unusable. Each names where the bad value came from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("{}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// The config file does not parse, or has an unknown key (the message
    /// names the key, line and column).
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's words, with line and column.
        message: String,
    },
    /// The config file's extension says neither YAML nor JSON.
    #[error("{}: unknown config format: use a .yaml, .yml or .json file", path.display())]
    Format {
        /// The file.
        path: PathBuf,
    },
    /// An environment variable holds a bad value.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The tyk.conf could not be used.
    #[error("{}: {message}", path.display())]
    TykConf {
        /// The tyk.conf.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A merged setting is invalid.
    #[error("setting {key}: {message}")]
    Invalid {
        /// The key, as in the config file (`status_rewrites.4xx`).
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// Where settings come from, besides the defaults.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The flags layer (highest precedence).
    pub flags: ConfigLayer,
    /// The config file named by `--config` (wins over `ERROR_RENDER_CONFIG`).
    pub config_file: Option<PathBuf>,
    /// Environment variables (name, value); only `ERROR_RENDER_*` are read.
    pub env: Vec<(String, String)>,
}

impl Sources {
    /// Sources with the process's environment.
    pub fn from_process_env(flags: ConfigLayer, config_file: Option<PathBuf>) -> Self {
        Sources {
            flags,
            config_file,
            env: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }
}

/// A loaded config and what was worth a warning on the way (logged by the
/// caller once logging is set up, since the log settings come from here).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The settings.
    pub config: Config,
    /// Unknown `ERROR_RENDER_*` variables and the like.
    pub warnings: Vec<String>,
    /// Which source gave each key that is not at its default.
    pub origins: BTreeMap<&'static str, Origin>,
}

impl Loaded {
    /// Which source gave `key` (`templates`, `limits.max_body_bytes`), so a
    /// bad or missing path can be traced back to where it was named.
    pub fn origin(&self, key: &str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }
}

/// The source a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// Nothing set it.
    Default,
    /// The tyk.conf (its `template_path`, `hide_generator_header`, ...).
    TykConf(PathBuf),
    /// The config file.
    ConfigFile(PathBuf),
    /// An `ERROR_RENDER_*` variable.
    Env(&'static str),
    /// The caller's own layer: a command-line flag or a builder setting.
    Flag,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the default, as nothing named it"),
            Origin::TykConf(p) => write!(f, "from {}", p.display()),
            Origin::ConfigFile(p) => write!(f, "from the config file {}", p.display()),
            Origin::Env(name) => write!(f, "from {name}"),
            Origin::Flag => f.write_str("given on the command line"),
        }
    }
}

impl ConfigLayer {
    /// Reads a config file, YAML or JSON by extension.
    pub fn from_file(path: &Path) -> Result<ConfigLayer, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        ConfigLayer::parse(&text, path)
    }

    /// Parses config file text, YAML or JSON by `path`'s extension; `path`
    /// is only named in errors.
    pub fn parse(text: &str, path: &Path) -> Result<ConfigLayer, ConfigError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let parse = |message: String| ConfigError::Parse {
            path: path.to_owned(),
            message,
        };
        match ext.as_deref() {
            Some("yaml" | "yml") => {
                // An empty YAML file is an empty layer, not an error.
                if text.trim().is_empty() {
                    return Ok(ConfigLayer::default());
                }
                serde_yaml_ng::from_str(text).map_err(|e| parse(e.to_string()))
            }
            Some("json") => serde_json::from_str(text).map_err(|e| parse(e.to_string())),
            _ => Err(ConfigError::Format {
                path: path.to_owned(),
            }),
        }
    }

    /// The `ERROR_RENDER_*` variables of `env` as a layer, and warnings for
    /// the unknown ones (Kubernetes injects `ERROR_RENDER_PORT` and friends
    /// for a Service named error-render, so they cannot be errors).
    /// `ERROR_RENDER_CONFIG` is returned separately.
    pub fn from_env(
        env: &[(String, String)],
    ) -> Result<(ConfigLayer, Option<PathBuf>, Vec<String>), ConfigError> {
        let mut layer = ConfigLayer::default();
        let mut config = None;
        let mut warnings = Vec::new();
        let mut vars: Vec<&(String, String)> = env
            .iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        vars.sort();
        for (name, value) in vars {
            let key = &name[ENV_PREFIX.len()..];
            if key == "CONFIG" {
                config = Some(PathBuf::from(value));
            } else if !layer.set_env(key, name, value)? {
                warnings.push(format!(
                    "ignoring unknown environment variable {name} (not an error-render setting)"
                ));
            }
        }
        Ok((layer, config, warnings))
    }

    /// The settings a tyk.conf contributes: its template folder (resolved
    /// against the tyk.conf's folder), `hide_generator_header` and
    /// `close_connections`. Its `override_messages` are read at each
    /// (re)load instead, see [`load_overrides`].
    pub fn from_tyk_conf(path: &Path) -> Result<ConfigLayer, ConfigError> {
        let conf = TykConf::load(path).map_err(|e| ConfigError::TykConf {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok(ConfigLayer {
            templates: Some(conf.template_dir()),
            hide_generator_header: conf.hide_generator_header,
            close_connections: conf.close_connections,
            ..ConfigLayer::default()
        })
    }

    /// This layer with every value present in `upper` replaced by it.
    #[must_use]
    pub fn merge(mut self, upper: ConfigLayer) -> ConfigLayer {
        self.merge_from(upper);
        self
    }

    /// Every setting, in the order of the docs' table.
    pub fn settings() -> Vec<Setting> {
        let mut out = Vec::new();
        <ConfigLayer as Section>::settings(&mut out);
        out
    }

    /// The keys (`limits.max_body_bytes`) of the values this layer sets.
    pub fn present_keys(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        self.present(&mut out);
        out
    }
}

impl Config {
    /// Reads every source and merges them: defaults < tyk.conf < config file
    /// < environment < flags.
    pub fn load(sources: &Sources) -> Result<Loaded, ConfigError> {
        let (env, env_config, warnings) = ConfigLayer::from_env(&sources.env)?;
        let config_file = sources.config_file.as_ref().or(env_config.as_ref());
        let file = match config_file {
            Some(path) => ConfigLayer::from_file(path)?,
            None => ConfigLayer::default(),
        };
        let mut origins = BTreeMap::new();
        let mut note = |layer: &ConfigLayer, origin: &dyn Fn(&'static str) -> Origin| {
            for key in layer.present_keys() {
                origins.insert(key, origin(key));
            }
        };
        if let Some(path) = config_file {
            note(&file, &|_| Origin::ConfigFile(path.clone()));
        }
        let settings = ConfigLayer::settings();
        note(&env, &|key| {
            let env = settings.iter().find(|s| s.key == key).map_or("", |s| s.env);
            Origin::Env(env)
        });
        note(&sources.flags, &|_| Origin::Flag);
        let upper = file.merge(env).merge(sources.flags.clone());
        // The tyk.conf is named by an upper layer but sits below all of them.
        let merged = match &upper.tyk_conf {
            Some(path) => {
                let tyk = ConfigLayer::from_tyk_conf(path)?;
                for key in tyk.present_keys() {
                    origins
                        .entry(key)
                        .or_insert_with(|| Origin::TykConf(path.clone()));
                }
                tyk.merge(upper)
            }
            None => upper,
        };
        Ok(Loaded {
            config: Config::from_layer(merged)?,
            warnings,
            origins,
        })
    }

    /// Validates a merged layer, filling in defaults.
    pub fn from_layer(layer: ConfigLayer) -> Result<Config, ConfigError> {
        let d = Config::default();
        let invalid = |key: String, message: String| ConfigError::Invalid { key, message };
        let listen = match layer.listen {
            Some(l) => parse_listen(&l).ok_or_else(|| {
                invalid(
                    "listen".into(),
                    format!("{l:?} is not an address: use HOST:PORT, e.g. 0.0.0.0:8080 or :8080"),
                )
            })?,
            None => d.listen,
        };
        let admin_listen = match layer.admin_listen {
            Some(l) => Some(parse_listen(&l).ok_or_else(|| {
                invalid(
                    "admin_listen".into(),
                    format!("{l:?} is not an address: use HOST:PORT, e.g. 127.0.0.1:9090"),
                )
            })?),
            None => None,
        };
        if admin_listen == Some(listen) {
            return Err(invalid(
                "admin_listen".into(),
                format!("{listen} is also `listen`: give the operations listener its own port"),
            ));
        }

        let mut default_messages = BTreeMap::new();
        for (key, message) in layer.default_messages.unwrap_or_default() {
            let code = parse_code(&key.0).ok_or_else(|| {
                invalid(
                    format!("default_messages.{key}"),
                    "the key must be a status code, 100-999".into(),
                )
            })?;
            default_messages.insert(code, message);
        }

        let mut rewrites = StatusRewrites::default();
        for (key, to) in layer.status_rewrites.unwrap_or_default() {
            let k = format!("status_rewrites.{key}");
            let m = CodeMatch::parse(&key.0)
                .filter(|m| *m != CodeMatch::Any)
                .ok_or_else(|| {
                    invalid(
                        k.clone(),
                        "the key must be a status code (401) or a class (5xx)".into(),
                    )
                })?;
            let to = parse_code(&to.0)
                .ok_or_else(|| invalid(k, format!("{to:?} is not a status code, 100-999")))?;
            rewrites.rules.insert(m, to);
        }

        let mut headers: BTreeMap<CodeMatch, Vec<(HeaderName, HeaderValue)>> = BTreeMap::new();
        for (key, set) in layer.headers.unwrap_or_default() {
            let m = CodeMatch::parse(&key.0).ok_or_else(|| {
                invalid(
                    format!("headers.{key}"),
                    "the key must be a status code (401), a class (4xx) or *".into(),
                )
            })?;
            let slot = headers.entry(m).or_default();
            for (name, value) in set {
                let k = format!("headers.{key}.{name}");
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| invalid(k.clone(), "not a valid header name".into()))?;
                if FORBIDDEN_HEADERS.contains(&name.as_str()) {
                    return Err(invalid(
                        k,
                        "hop-by-hop and body headers cannot be added".into(),
                    ));
                }
                let value = HeaderValue::from_str(&value.0)
                    .map_err(|_| invalid(k, "not a valid header value".into()))?;
                slot.push((name, value));
            }
        }

        let formats = match layer.formats {
            Some(names) => parse_formats(&names).map_err(|m| invalid("formats".into(), m))?,
            None => d.formats,
        };
        let problem_type_base = match layer.problem_type_base {
            Some(base) if !is_absolute_url(&base) => {
                return Err(invalid(
                    "problem_type_base".into(),
                    format!(
                        "{base:?} is not an absolute URL: give one such as \
                         https://errors.example.com/ (the catalogue id is appended)"
                    ),
                ));
            }
            base => base,
        };

        let limits = Limits::from_layer(layer.limits.unwrap_or_default())
            .map_err(|message| invalid("limits".into(), message))?;

        let preview_layer = layer.preview.unwrap_or_default();
        if preview_layer
            .token
            .as_ref()
            .is_some_and(|t| t.0.trim().is_empty())
        {
            return Err(invalid(
                "preview.token".into(),
                "the token is empty: give one, or leave the key out for no token".into(),
            ));
        }
        let preview = PreviewConfig {
            // Off by default when reachable from other hosts: the preview
            // shows the templates and renders what a visitor types. It is
            // served on the operations address when there is one.
            enabled: preview_layer
                .enabled
                .unwrap_or_else(|| admin_listen.unwrap_or(listen).ip().is_loopback()),
            token: preview_layer.token,
            allowed_hosts: preview_layer
                .allowed_hosts
                .unwrap_or_default()
                .into_iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        };

        Ok(Config {
            listen,
            admin_listen,
            templates: layer.templates.unwrap_or(d.templates),
            overrides: layer.overrides,
            tyk_conf: layer.tyk_conf,
            apis: layer.apis,
            profile: layer.profile.unwrap_or(d.profile),
            hide_generator_header: layer.hide_generator_header.unwrap_or(false),
            close_connections: layer.close_connections.unwrap_or(false),
            strict_tyk: layer.strict_tyk.unwrap_or(false),
            ignore_overrides: layer.ignore_overrides.unwrap_or(false),
            ignore_overrides_explicit: layer.ignore_overrides.is_some(),
            default_messages,
            status_rewrites: rewrites,
            headers: ExtraHeaders {
                rules: headers.into_iter().collect(),
            },
            request_context: layer.request_context.unwrap_or(false),
            formats,
            problem_type_base,
            compression: layer.compression.unwrap_or(d.compression),
            compression_min_bytes: layer
                .compression_min_bytes
                .map_or(d.compression_min_bytes, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                }),
            limits,
            preview,
            log_format: layer.log_format.unwrap_or_default(),
            log_level: layer.log_level.unwrap_or(d.log_level),
        })
    }

    /// The renderer's options under these settings, with `overrides`.
    pub fn render_options(&self, overrides: Overrides) -> RenderOptions {
        RenderOptions {
            profile: self.profile,
            hide_generator_header: self.hide_generator_header,
            close_connections: self.close_connections,
            strict_tyk: self.strict_tyk,
            overrides,
            ignore_overrides: self.ignore_overrides,
            default_messages: self.default_messages.clone(),
            problem_type_base: self.problem_type_base.clone(),
        }
    }

    /// Whether `formats` offers more than the gateway's JSON and XML: the
    /// proxy routes' answers then say `Vary: Accept`. With `[json, xml]`
    /// they are the gateway's exactly, header for header.
    pub fn offers_beyond_gateway(&self) -> bool {
        self.formats.iter().any(|f| !f.is_go())
    }

    /// The files and folders whose changes call for a reload: the template
    /// folder, the overrides file, the tyk.conf and the API definitions
    /// folder.
    pub fn watch_paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![self.templates.clone()];
        paths.extend(self.overrides.clone());
        paths.extend(self.tyk_conf.clone());
        paths.extend(self.apis_dir());
        paths
    }

    /// The API definitions folder: `apis`, else the tyk.conf's `app_path`
    /// (relative to the tyk.conf's folder) when it names a folder.
    pub fn apis_dir(&self) -> Option<PathBuf> {
        crate::error_overrides::service::apis_dir(self.apis.as_deref(), self.tyk_conf.as_deref())
    }

    /// Whether `override_messages` are ignored for a load whose tyk.conf
    /// has (`true`) or lacks Error Overrides rules: a 5.13+ gateway ignores
    /// them, so a tyk.conf with rules does too unless `ignore_overrides`
    /// was set explicitly.
    pub fn ignores_overrides(&self, tyk_conf_has_rules: bool) -> bool {
        if self.ignore_overrides_explicit {
            self.ignore_overrides
        } else {
            self.ignore_overrides || tyk_conf_has_rules
        }
    }
}

/// Reads the override messages the settings name: the overrides file if
/// any, else the tyk.conf's `override_messages`, else none. Returns the
/// problems found (unknown IDs and the like) as warnings to log.
pub fn load_overrides(config: &Config) -> Result<(Overrides, Vec<String>), ConfigError> {
    let Some(read) = read_overrides(config.overrides.as_deref(), config.tyk_conf.as_deref()) else {
        return Ok((Overrides::default(), Vec::new()));
    };
    let overrides = read.result.map_err(|e| {
        let (path, message) = (read.path.to_owned(), e.to_string());
        if read.from_tyk_conf {
            ConfigError::TykConf { path, message }
        } else {
            ConfigError::Read { path, message }
        }
    })?;
    let problems = overrides.problems().iter().map(|p| p.to_string()).collect();
    Ok((overrides, problems))
}

/// The override messages read from the file that supplies them.
pub(crate) struct ReadOverrides<'a> {
    /// The overrides file or the tyk.conf.
    pub(crate) path: &'a Path,
    /// Whether `path` is a tyk.conf.
    pub(crate) from_tyk_conf: bool,
    /// The messages, or why the file is unusable.
    pub(crate) result: Result<Overrides, OverridesError>,
}

/// Which file supplies the override messages, and its messages: a
/// standalone overrides file wins over the tyk.conf's `override_messages`,
/// for the service and the validator alike.
pub(crate) fn read_overrides<'a>(
    overrides: Option<&'a Path>,
    tyk_conf: Option<&'a Path>,
) -> Option<ReadOverrides<'a>> {
    if let Some(path) = overrides {
        return Some(ReadOverrides {
            path,
            from_tyk_conf: false,
            result: Overrides::load(path),
        });
    }
    tyk_conf.map(|path| ReadOverrides {
        path,
        from_tyk_conf: true,
        result: TykConf::load(path).map(|conf| conf.override_messages),
    })
}

/// The `formats` list: each a known name, none twice, at least one.
fn parse_formats(names: &[String]) -> Result<Vec<Format>, String> {
    let mut formats = Vec::with_capacity(names.len());
    for name in names {
        let format: Format = name
            .parse()
            .map_err(|e: crate::format::UnknownFormat| e.to_string())?;
        if formats.contains(&format) {
            return Err(format!("{format} is listed twice: list each format once"));
        }
        formats.push(format);
    }
    if formats.is_empty() {
        return Err(
            "the list is empty: give at least one of json, xml, html, text, problem".into(),
        );
    }
    Ok(formats)
}

/// Whether `s` starts with a URI scheme and a `:` (RFC 3986), as an
/// absolute URL does.
fn is_absolute_url(s: &str) -> bool {
    s.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

fn parse_code(s: &str) -> Option<u16> {
    s.trim()
        .parse::<u16>()
        .ok()
        .filter(|c| (100..=999).contains(c))
}

fn parse_listen(s: &str) -> Option<SocketAddr> {
    // `:8080` (Go style) means every interface.
    if let Some(port) = s.strip_prefix(':') {
        return port
            .parse::<u16>()
            .ok()
            .map(|p| SocketAddr::from((Ipv4Addr::UNSPECIFIED, p)));
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn each_layer_overrides_the_previous() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(
            &file,
            "listen: 127.0.0.1:1001\nprofile: \"5.14\"\nstrict_tyk: true\nlog_level: debug\n\
             limits:\n  max_message_bytes: 10\n",
        )
        .unwrap();
        // Defaults only.
        let c = Config::load(&Sources::default()).unwrap().config;
        assert_eq!(c, Config::default());
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);

        // The file over the defaults.
        let sources = Sources {
            config_file: Some(file.clone()),
            ..Sources::default()
        };
        let c = Config::load(&sources).unwrap().config;
        assert_eq!(c.listen.to_string(), "127.0.0.1:1001");
        assert_eq!(c.profile, Profile::V5_14);
        assert!(c.strict_tyk);
        assert_eq!(c.limits.max_message_bytes, 10);
        assert_eq!(c.limits.max_body_bytes, DEFAULT_MAX_BODY_BYTES);

        // The environment over the file.
        let sources = Sources {
            config_file: Some(file.clone()),
            env: env(&[
                ("ERROR_RENDER_LISTEN", "127.0.0.1:1002"),
                ("ERROR_RENDER_STRICT_TYK", "false"),
                ("ERROR_RENDER_MAX_BODY_BYTES", "99"),
            ]),
            ..Sources::default()
        };
        let c = Config::load(&sources).unwrap().config;
        assert_eq!(c.listen.to_string(), "127.0.0.1:1002");
        assert!(!c.strict_tyk);
        assert_eq!(c.profile, Profile::V5_14);
        assert_eq!(c.limits.max_message_bytes, 10);
        assert_eq!(c.limits.max_body_bytes, 99);

        // The flags over the environment.
        let sources = Sources {
            flags: ConfigLayer {
                listen: Some(":1003".into()),
                ..ConfigLayer::default()
            },
            ..sources
        };
        let c = Config::load(&sources).unwrap().config;
        assert_eq!(c.listen.to_string(), "0.0.0.0:1003");
        assert_eq!(c.log_level, "debug");
    }

    #[test]
    fn tyk_conf_sits_below_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let tyk = dir.path().join("tyk.conf");
        std::fs::write(
            &tyk,
            r#"{"template_path": "tpl", "hide_generator_header": true, "close_connections": true}"#,
        )
        .unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(&file, "hide_generator_header: false\n").unwrap();
        let sources = Sources {
            config_file: Some(file),
            env: env(&[("ERROR_RENDER_TYK_CONF", tyk.to_str().unwrap())]),
            ..Sources::default()
        };
        let c = Config::load(&sources).unwrap().config;
        assert_eq!(c.templates, dir.path().join("tpl"));
        assert!(!c.hide_generator_header);
        assert!(c.close_connections);
        assert_eq!(c.tyk_conf.as_deref(), Some(tyk.as_path()));
        let c = Config::load(&Sources {
            flags: ConfigLayer {
                templates: Some("flag".into()),
                ..ConfigLayer::default()
            },
            ..sources
        })
        .unwrap()
        .config;
        assert_eq!(c.templates, PathBuf::from("flag"));
    }

    #[test]
    fn env_names_the_config_file_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let b = dir.path().join("b.yml");
        std::fs::write(&a, r#"{"templates": "from-a"}"#).unwrap();
        std::fs::write(&b, "templates: from-b\n").unwrap();
        let env = env(&[("ERROR_RENDER_CONFIG", a.to_str().unwrap())]);
        let c = Config::load(&Sources {
            env: env.clone(),
            ..Sources::default()
        })
        .unwrap()
        .config;
        assert_eq!(c.templates, PathBuf::from("from-a"));
        let c = Config::load(&Sources {
            env,
            config_file: Some(b),
            ..Sources::default()
        })
        .unwrap()
        .config;
        assert_eq!(c.templates, PathBuf::from("from-b"));
    }

    #[test]
    fn unknown_config_key_names_key_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(&file, "listen: 127.0.0.1:1\ntemplate_dir: x\n").unwrap();
        let err = ConfigLayer::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("template_dir"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("c.yaml"), "{err}");

        let file = dir.path().join("c.json");
        std::fs::write(&file, "{\n  \"limits\": {\n    \"max_bytes\": 1\n  }\n}\n").unwrap();
        let err = ConfigLayer::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("max_bytes"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn unknown_env_var_only_warns() {
        let loaded = Config::load(&Sources {
            env: env(&[
                ("ERROR_RENDER_PORT", "tcp://10.0.0.1:8080"),
                ("ERROR_RENDER_SERVICE_HOST", "10.0.0.1"),
                ("PATH", "/bin"),
            ]),
            ..Sources::default()
        })
        .unwrap();
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.warnings.len(), 2);
        assert!(loaded.warnings[0].contains("ERROR_RENDER_PORT"));

        let err = Config::load(&Sources {
            env: env(&[("ERROR_RENDER_STRICT_TYK", "maybe")]),
            ..Sources::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("ERROR_RENDER_STRICT_TYK"), "{err}");
    }

    #[test]
    fn rewrites_and_headers_by_code_and_class() {
        let layer: ConfigLayer = serde_yaml_ng::from_str(
            "status_rewrites:\n  401: 404\n  \"5xx\": 503\n\
             headers:\n  \"*\":\n    X-A: all\n    X-B: all\n  4xx:\n    X-B: four\n  \
             401:\n    WWW-Authenticate: Bearer\n    Retry-After: 5\n",
        )
        .unwrap();
        let c = Config::from_layer(layer).unwrap();
        assert_eq!(c.status_rewrites.apply(401), 404);
        assert_eq!(c.status_rewrites.apply(502), 503);
        assert_eq!(c.status_rewrites.apply(403), 403);
        let h = c.headers.for_status(401);
        let get = |n: &str| {
            h.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        assert_eq!(get("x-a").as_deref(), Some("all"));
        assert_eq!(get("x-b").as_deref(), Some("four"));
        assert_eq!(get("retry-after").as_deref(), Some("5"));
        assert_eq!(get("www-authenticate").as_deref(), Some("Bearer"));
        assert_eq!(c.headers.for_status(500).len(), 2);
    }

    #[test]
    fn preview_is_on_for_loopback_only_and_layers() {
        let c = Config::load(&Sources::default()).unwrap().config;
        assert!(c.preview.enabled);
        assert_eq!(c.preview.token, None);
        for (listen, on) in [
            ("[::1]:1", true),
            (":8080", false),
            ("0.0.0.0:1", false),
            ("10.0.0.1:1", false),
        ] {
            let layer = ConfigLayer {
                listen: Some(listen.into()),
                ..ConfigLayer::default()
            };
            assert_eq!(
                Config::from_layer(layer).unwrap().preview.enabled,
                on,
                "{listen}"
            );
        }

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(
            &file,
            "listen: 0.0.0.0:1\npreview:\n  enabled: true\n  token: from-file\n",
        )
        .unwrap();
        let sources = Sources {
            config_file: Some(file.clone()),
            ..Sources::default()
        };
        let c = Config::load(&sources).unwrap().config;
        assert!(c.preview.enabled);
        assert_eq!(c.preview.token, Some(Secret("from-file".into())));
        // The environment replaces one key and keeps the other.
        let c = Config::load(&Sources {
            env: env(&[("ERROR_RENDER_PREVIEW_TOKEN", "from-env")]),
            ..sources.clone()
        })
        .unwrap()
        .config;
        assert!(c.preview.enabled);
        assert_eq!(c.preview.token, Some(Secret("from-env".into())));
        let c = Config::load(&Sources {
            env: env(&[("ERROR_RENDER_PREVIEW_ENABLED", "off")]),
            ..sources
        })
        .unwrap()
        .config;
        assert!(!c.preview.enabled);
        assert_eq!(c.preview.token, Some(Secret("from-file".into())));
        // Never printed.
        assert!(!format!("{c:?}").contains("from-file"));

        std::fs::write(&file, "preview:\n  enabled: true\n  tokn: x\n").unwrap();
        let err = ConfigLayer::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("tokn") && err.contains("line 3"), "{err}");
        std::fs::write(&file, "preview:\n  token: \"\"\n").unwrap();
        let err = ConfigLayer::from_file(&file)
            .and_then(Config::from_layer)
            .unwrap_err()
            .to_string();
        assert!(err.contains("preview.token"), "{err}");
    }

    #[test]
    fn exposure_and_deadline_settings_layer() {
        let c = Config::from_layer(ConfigLayer::default()).unwrap();
        assert_eq!(c.admin_listen, None);
        assert_eq!(c.limits.write_timeout, DEFAULT_WRITE_TIMEOUT);
        assert_eq!(c.limits.shutdown_timeout, DEFAULT_SHUTDOWN_TIMEOUT);
        assert!(c.preview.allowed_hosts.is_empty());

        let (layer, _, warnings) = ConfigLayer::from_env(&env(&[
            ("ERROR_RENDER_ADMIN_LISTEN", "127.0.0.1:9090"),
            ("ERROR_RENDER_WRITE_TIMEOUT_MS", "1500"),
            ("ERROR_RENDER_SHUTDOWN_TIMEOUT_MS", "2500"),
            (
                "ERROR_RENDER_PREVIEW_ALLOWED_HOSTS",
                "Preview.Internal, ops:8081,",
            ),
        ]))
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let flags = ConfigLayer {
            listen: Some(":8080".into()),
            limits: Some(LimitsLayer {
                shutdown_timeout_ms: Some(300),
                ..LimitsLayer::default()
            }),
            ..ConfigLayer::default()
        };
        let c = Config::from_layer(layer.merge(flags)).unwrap();
        assert_eq!(
            c.admin_listen.map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:9090")
        );
        assert_eq!(c.limits.write_timeout, Duration::from_millis(1500));
        assert_eq!(c.limits.shutdown_timeout, Duration::from_millis(300));
        assert_eq!(c.preview.allowed_hosts, ["preview.internal", "ops:8081"]);
        // The preview follows the operations address: on by default there,
        // since it is loopback, though `listen` is every interface.
        assert!(c.preview.enabled);

        for (yaml, key) in [
            ("admin_listen: nowhere\n", "admin_listen"),
            (
                "listen: 127.0.0.1:1\nadmin_listen: 127.0.0.1:1\n",
                "admin_listen",
            ),
            ("limits:\n  write_timeout_ms: 0\n", "write_timeout_ms"),
        ] {
            let layer: ConfigLayer = serde_yaml_ng::from_str(yaml).unwrap();
            let err = Config::from_layer(layer).unwrap_err().to_string();
            assert!(err.contains(key), "{yaml}: {err}");
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        for (yaml, key) in [
            ("status_rewrites:\n  abc: 404\n", "status_rewrites.abc"),
            ("status_rewrites:\n  401: 1000\n", "status_rewrites.401"),
            (
                "headers:\n  401:\n    Connection: close\n",
                "headers.401.Connection",
            ),
            ("default_messages:\n  abc: x\n", "default_messages.abc"),
            ("listen: nowhere\n", "listen"),
            ("formats: [json, yaml]\n", "formats"),
            ("problem_type_base: errors\n", "problem_type_base"),
        ] {
            let layer: ConfigLayer = serde_yaml_ng::from_str(yaml).unwrap();
            let err = Config::from_layer(layer).unwrap_err().to_string();
            assert!(err.contains(key), "{yaml}: {err}");
        }
    }

    /// The defaults the table documents are the ones applied: each plain
    /// default, given through its variable, changes nothing.
    #[test]
    fn documented_defaults_are_the_applied_defaults() {
        let mut checked = 0;
        for setting in ConfigLayer::settings() {
            let Some(value) = setting
                .default
                .strip_prefix('`')
                .and_then(|d| d.strip_suffix('`'))
            else {
                continue;
            };
            let loaded = Config::load(&Sources {
                env: env(&[(setting.env, value)]),
                ..Sources::default()
            })
            .unwrap();
            assert_eq!(loaded.config, Config::default(), "{}", setting.key);
            assert_eq!(loaded.origin(setting.key), Origin::Env(setting.env));
            checked += 1;
        }
        assert!(checked > 15, "{checked}");
    }

    /// Every setting has a distinct variable, and every variable is read
    /// into its own key.
    #[test]
    fn each_setting_is_read_from_its_variable() {
        let settings = ConfigLayer::settings();
        let names: std::collections::BTreeSet<_> = settings.iter().map(|s| s.env).collect();
        assert_eq!(names.len(), settings.len());
        for setting in &settings {
            // One of these parses for every type of setting.
            let layer = ["1", "{}", "5.15", "text"]
                .into_iter()
                .find_map(|value| ConfigLayer::from_env(&env(&[(setting.env, value)])).ok())
                .unwrap_or_else(|| panic!("{} reads none of the samples", setting.env));
            assert!(layer.2.is_empty(), "{}: {:?}", setting.env, layer.2);
            assert_eq!(layer.0.present_keys(), [setting.key]);
        }
    }

    /// Each key remembers the source that gave it, so a missing folder
    /// can be traced to the variable or file that named it.
    #[test]
    fn origins_name_the_layer_that_won() {
        let dir = tempfile::tempdir().unwrap();
        let tyk = dir.path().join("tyk.conf");
        std::fs::write(
            &tyk,
            r#"{"template_path": "tpl", "hide_generator_header": true}"#,
        )
        .unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(
            &file,
            "templates: from-file
strict_tyk: true
",
        )
        .unwrap();
        let loaded = Config::load(&Sources {
            config_file: Some(file.clone()),
            env: env(&[
                ("ERROR_RENDER_TYK_CONF", tyk.to_str().unwrap()),
                ("ERROR_RENDER_STRICT_TYK", "false"),
            ]),
            flags: ConfigLayer {
                profile: Some(Profile::V5_14),
                ..ConfigLayer::default()
            },
        })
        .unwrap();
        assert_eq!(loaded.origin("templates"), Origin::ConfigFile(file));
        assert_eq!(loaded.origin("hide_generator_header"), Origin::TykConf(tyk));
        assert_eq!(
            loaded.origin("strict_tyk"),
            Origin::Env("ERROR_RENDER_STRICT_TYK")
        );
        assert_eq!(loaded.origin("profile"), Origin::Flag);
        assert_eq!(loaded.origin("listen"), Origin::Default);
    }

    #[test]
    fn formats_are_read_in_order_and_bad_lists_refused() {
        let load = |value: &str| {
            Config::load(&Sources {
                env: env(&[("ERROR_RENDER_FORMATS", value)]),
                ..Sources::default()
            })
        };
        let c = load("html, json").unwrap().config;
        assert_eq!(c.formats, [Format::Html, Format::Json]);
        for (value, says) in [
            (
                "json,yaml",
                "unknown format \"yaml\": use one of json, xml, html, text, problem",
            ),
            ("json,xml,json", "json is listed twice"),
            ("", "the list is empty"),
        ] {
            let err = load(value).unwrap_err().to_string();
            assert!(err.contains("setting formats: "), "{value}: {err}");
            assert!(err.contains(says), "{value}: {err}");
        }
        let layer: ConfigLayer = serde_yaml_ng::from_str("formats: [xml]\n").unwrap();
        assert_eq!(Config::from_layer(layer).unwrap().formats, [Format::Xml]);
    }

    #[test]
    fn problem_type_base_must_be_an_absolute_url() {
        let layer: ConfigLayer =
            serde_yaml_ng::from_str("problem_type_base: https://errors.example/\n").unwrap();
        let c = Config::from_layer(layer).unwrap();
        assert_eq!(
            c.problem_type_base.as_deref(),
            Some("https://errors.example/")
        );
        for bad in ["errors.example/", "/errors/", "1x:y", "https:"] {
            assert!(!is_absolute_url(bad), "{bad}");
        }
        assert!(is_absolute_url("urn:example:errors:"));
    }
}
