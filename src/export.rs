//! Exporting pre-rendered bodies of every catalogue error and every
//! registered HTTP error status, with nginx and HAProxy snippets that serve
//! them, for proxies that cannot call a sidecar.
//!
//! Layout under the nginx output folder ([`export`], [`export_formats`]):
//! - `entries/<id>.<ext>`: every catalogue entry and gateway error ID
//!   (after overrides), in every format exported (`json`, `xml`, `html`,
//!   `txt`, `problem.json`: [`Format::ext`]);
//! - `codes/<code>.<ext>`: every status in [`export_statuses`] with its
//!   default message (what `error_page` can map, as nginx knows only codes);
//! - `nginx/error-render-http.conf` (the `map`s choosing the file, for the
//!   `http` block: the gateway's `Content-Type` rule for JSON and XML, then
//!   HTML where `Accept` names `text/html` first, plain text where it names
//!   `text/plain` first, problem details where it names
//!   `application/problem+json` first) and `nginx/error-render-server.conf`
//!   (`error_page` lines and an internal `location`, for a `server` block,
//!   with a nested one labelling `.problem.json` files
//!   `application/problem+json`).
//!
//! Layout under the HAProxy output folder ([`export_haproxy`]):
//! - `errors/<code>.http`: complete HTTP responses (JSON) for HAProxy's own
//!   errors, one per status `errorfile` accepts ([`HAPROXY_ERRORFILE_STATUSES`]);
//! - `codes/<code>.json`, `codes/<code>.xml`: bodies for `http-response
//!   return ... file` rules (the gateway's formats only), every status in [`export_statuses`];
//! - `http-errors.cfg`: an `http-errors error-render` section of
//!   `errorfile` lines (a configuration file of its own: pass it with `-f`);
//! - `rules.cfg`: the lines for a `frontend` or `backend`: `errorfiles`,
//!   the format choice, and `http-response return` for the upstream
//!   statuses in [`HAPROXY_INTERCEPTED`].

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::catalogue::{self, Catalogue};
use crate::format::Format;
use crate::render::{ErrorRequest, Outcome, RenderError, Renderer};

/// The URI prefix the nginx snippet serves bodies under.
pub const NGINX_PREFIX: &str = "/_error-render/";

/// Every 4xx and 5xx status in the IANA HTTP status code registry: what a
/// proxy can produce or intercept. 418 is reserved there ("unused"), and is
/// kept because clients and proxies still send it.
pub const REGISTERED_ERROR_STATUSES: [u16; 40] = [
    400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418,
    421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508,
    510, 511,
];

/// The 4xx and 5xx statuses HAProxy 2.6's `errorfile` accepts (any other is
/// a configuration error, "status code 'N' not handled").
pub const HAPROXY_ERRORFILE_STATUSES: [u16; 18] = [
    400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504,
];

/// The upstream statuses the HAProxy rules replace by default: those an API
/// rarely explains itself. 400, 409 and 422 are left out so an API's own
/// detailed errors reach the client.
pub const HAPROXY_INTERCEPTED: [u16; 7] = [403, 404, 429, 500, 502, 503, 504];

/// The name of the `http-errors` section the HAProxy export writes.
pub const HAPROXY_SECTION: &str = "error-render";

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A file or folder could not be written.
    #[error("cannot write {path}: {source} (check that the output folder is writable)")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A body could not be rendered at all (not a template failure, which
    /// falls back to the bundled default and is counted instead).
    #[error("cannot render {what}: {source} (run `error-render validate` on the template folder)")]
    Render {
        /// The entry or status.
        what: String,
        /// The renderer's error.
        #[source]
        source: RenderError,
    },
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Body files written.
    pub files: usize,
    /// Catalogue entries and error IDs rendered.
    pub entries: usize,
    /// Distinct status codes with a `codes/` body.
    pub codes: usize,
    /// Renders that fell back to the bundled default (`exec` or `missing`).
    pub fallbacks: usize,
    /// The snippet files written, relative to the output folder.
    pub snippets: Vec<String>,
}

/// The gateway's formats: HAProxy's export writes these only.
const GATEWAY_FORMATS: [Format; 2] = [Format::Json, Format::Xml];

/// The statuses with a `codes/` body: every registered 4xx and 5xx, and
/// every code of the catalogue.
pub fn export_statuses() -> BTreeSet<u16> {
    REGISTERED_ERROR_STATUSES
        .into_iter()
        .chain(Catalogue::builtin().entries().iter().map(|e| e.code))
        .collect()
}

fn create_dir(path: &Path) -> Result<(), ExportError> {
    std::fs::create_dir_all(path).map_err(|source| ExportError::Write {
        path: path.to_owned(),
        source,
    })
}

fn write_file(path: &Path, contents: &[u8]) -> Result<(), ExportError> {
    std::fs::write(path, contents).map_err(|source| ExportError::Write {
        path: path.to_owned(),
        source,
    })
}

fn absolute(path: &Path) -> Result<PathBuf, ExportError> {
    std::fs::canonicalize(path).map_err(|source| ExportError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Renders every catalogue entry and every status of [`export_statuses`]
/// into `out` in every format, with nginx snippets.
pub fn export(renderer: &Renderer, out: &Path) -> Result<ExportSummary, ExportError> {
    export_formats(renderer, out, &Format::ALL)
}

/// [`export`] in `formats` only (the settings' `formats`). JSON is written
/// whatever the list says: the nginx snippet's last resort is its file.
pub fn export_formats(
    renderer: &Renderer,
    out: &Path,
    formats: &[Format],
) -> Result<ExportSummary, ExportError> {
    let mut list = vec![Format::Json];
    for &f in formats {
        if !list.contains(&f) {
            list.push(f);
        }
    }
    let formats = list.as_slice();
    let catalogue = Catalogue::builtin();
    let mut summary = ExportSummary::default();
    for sub in ["entries", "codes", "nginx"] {
        create_dir(&out.join(sub))?;
    }

    let ids = catalogue
        .entries()
        .iter()
        .map(|e| e.id.as_str())
        .chain(catalogue.override_ids().iter().map(|o| o.id.as_str()));
    for id in ids {
        summary.entries += 1;
        for &format in formats {
            let ext = format.ext();
            let req = ErrorRequest::id(id).format(format);
            let body = render(renderer, &req, id, &mut summary)?.body;
            write_file(&out.join("entries").join(format!("{id}.{ext}")), &body)?;
            summary.files += 1;
        }
    }
    let codes = export_statuses();
    write_code_bodies(renderer, &codes, &out.join("codes"), formats, &mut summary)?;

    let root = absolute(out)?;
    write_file(
        &out.join("nginx/error-render-http.conf"),
        nginx_http_snippet(formats).as_bytes(),
    )?;
    write_file(
        &out.join("nginx/error-render-server.conf"),
        nginx_server_snippet(&root, &codes, renderer, formats).as_bytes(),
    )?;
    summary.snippets = vec![
        "nginx/error-render-http.conf".into(),
        "nginx/error-render-server.conf".into(),
    ];
    Ok(summary)
}

/// Writes `codes/<code>.<ext>` for each of `codes` in each of `formats`.
fn write_code_bodies(
    renderer: &Renderer,
    codes: &BTreeSet<u16>,
    dir: &Path,
    formats: &[Format],
    summary: &mut ExportSummary,
) -> Result<(), ExportError> {
    create_dir(dir)?;
    for &code in codes {
        for &format in formats {
            let ext = format.ext();
            let rendered = render_code(renderer, code, Some(format), summary)?;
            write_file(&dir.join(format!("{code}.{ext}")), &rendered.body)?;
            summary.files += 1;
        }
    }
    summary.codes = codes.len();
    Ok(())
}

fn render_code(
    renderer: &Renderer,
    code: u16,
    format: Option<Format>,
    summary: &mut ExportSummary,
) -> Result<crate::render::Rendered, ExportError> {
    let req = ErrorRequest {
        format,
        ..ErrorRequest::code(code)
    };
    render(renderer, &req, &format!("status {code}"), summary)
}

fn render(
    renderer: &Renderer,
    req: &ErrorRequest,
    what: &str,
    summary: &mut ExportSummary,
) -> Result<crate::render::Rendered, ExportError> {
    let rendered = renderer.render(req).map_err(|source| ExportError::Render {
        what: what.to_owned(),
        source,
    })?;
    if rendered.outcome != Outcome::Ok {
        summary.fallbacks += 1;
    }
    Ok(rendered)
}

/// The `map`s choosing the body file: the gateway's rule on the request's
/// Content-Type (exact type before `;`) for JSON and XML, then, when
/// exported, HTML for an `Accept` whose first range is `text/html` or
/// `application/xhtml+xml` (what browsers send), plain text for one
/// whose first range is `text/plain` and problem details for one whose
/// first range is `application/problem+json`.
fn nginx_http_snippet(formats: &[Format]) -> String {
    let xml = formats.contains(&Format::Xml);
    let mut s = String::from("# error-render export: include in the http block.\n");
    if xml {
        s.push_str(
            "# XML only for application/xml, text/xml and application/soap+xml (before any ';'),\n\
             # as Tyk Gateway decides; everything else gets JSON. The pattern is quoted:\n\
             # unquoted, nginx would end the line at its ';'.\n",
        );
    } else {
        s.push_str("# JSON for every Content-Type (XML is not exported).\n");
    }
    let by_accept: Vec<(&str, &str)> = [
        (Format::Html, "text/html|application/xhtml\\+xml"),
        (Format::Text, "text/plain"),
        (Format::Problem, "application/problem\\+json"),
    ]
    .into_iter()
    .filter(|(f, _)| formats.contains(f))
    .map(|(f, pattern)| (f.ext(), pattern))
    .collect();
    let gateway_var = if by_accept.is_empty() {
        "$error_render_ext"
    } else {
        "$error_render_gateway_ext"
    };
    let _ = writeln!(s, "map $content_type {gateway_var} {{\n    default json;");
    if xml {
        s.push_str("    \"~^(application/xml|text/xml|application/soap\\+xml)(;|$)\" xml;\n");
    }
    s.push_str("}\n");
    if !by_accept.is_empty() {
        s.push_str(
            "# A client whose Accept lists an exported page format first (a browser:\n\
             # text/html,...) gets that page; every other keeps the rule above.\n\
             map $http_accept $error_render_ext {\n    \
             default $error_render_gateway_ext;\n",
        );
        for (ext, pattern) in by_accept {
            let _ = writeln!(s, "    \"~*^\\s*({pattern})\\s*(;|,|$)\" {ext};");
        }
        s.push_str("}\n");
    }
    s
}

/// Whether nginx's `error_page` takes `code` (300-599 except 499, nginx's
/// own "client closed" code, which it never sends): anything else fails
/// the configuration. Only error statuses are exported.
fn nginx_error_page_accepts(code: u16) -> bool {
    (400..=599).contains(&code) && code != 499
}

fn nginx_server_snippet(
    root: &Path,
    codes: &BTreeSet<u16>,
    renderer: &Renderer,
    formats: &[Format],
) -> String {
    let mut s = String::from(
        "# error-render export: include in a server block (after the http snippet).\n\
         # Every registered 4xx and 5xx status (and the catalogue's) is listed, but\n\
         # 499, which nginx never sends and error_page refuses. Delete the lines of the\n\
         # statuses whose upstream bodies should reach clients unchanged (400, 409,\n\
         # 422...) when `proxy_intercept_errors` is on.\n",
    );
    for code in codes.iter().filter(|&&c| nginx_error_page_accepts(c)) {
        let _ = writeln!(
            s,
            "error_page {code} {NGINX_PREFIX}{code}.$error_render_ext;"
        );
    }
    let _ = write!(
        s,
        "\nlocation ^~ {NGINX_PREFIX} {{\n    internal;\n    alias {}/codes/;\n    \
         types {{ application/json json; application/xml xml; text/html html; text/plain txt; }}\n",
        root.display()
    );
    if formats.contains(&Format::Html) || formats.contains(&Format::Text) {
        // The service's content types for its pages; JSON and XML keep
        // theirs, which no charset is added to.
        s.push_str("    charset utf-8;\n    charset_types text/html text/plain;\n");
        // The page depends on Accept: caches must key on it.
        s.push_str("    add_header Vary Accept always;\n");
    }
    if !renderer.options().hide_generator_header {
        s.push_str("    add_header X-Generator tyk.io always;\n");
    }
    if formats.contains(&Format::Problem) {
        // `types` goes by the last extension only, which would label
        // `.problem.json` as `application/json`: these files get a location
        // of their own, whose empty `types` leaves `default_type` to
        // decide. The regex location needs its alias spelled with the
        // capture; `add_header` is inherited, as it adds none.
        let _ = write!(
            s,
            "    location ~ ^{NGINX_PREFIX}(.+\\.problem\\.json)$ {{\n        internal;\n        \
             alias {}/codes/$1;\n        types {{ }}\n        \
             default_type application/problem+json;\n    }}\n",
            root.display()
        );
    }
    s.push_str("}\n");
    s
}

/// Writes HAProxy's static files and snippets into `out` (see the module
/// documentation for the layout).
pub fn export_haproxy(renderer: &Renderer, out: &Path) -> Result<ExportSummary, ExportError> {
    let mut summary = ExportSummary::default();
    create_dir(&out.join("errors"))?;
    let codes = export_statuses();
    write_code_bodies(
        renderer,
        &codes,
        &out.join("codes"),
        &GATEWAY_FORMATS,
        &mut summary,
    )?;
    let root = absolute(out)?;

    let mut section = format!(
        "# error-render export: HAProxy's own errors (no server, timeouts, bad\n\
         # responses...) with Tyk-compatible JSON bodies. A section of its own:\n\
         # pass this file with -f, and write `errorfiles {HAPROXY_SECTION}` in a\n\
         # frontend, backend or defaults section (rules.cfg has it).\n\
         http-errors {HAPROXY_SECTION}\n"
    );
    for code in HAPROXY_ERRORFILE_STATUSES {
        let rendered = render_code(renderer, code, None, &mut summary)?;
        let file = out.join("errors").join(format!("{code}.http"));
        write_file(&file, &http_response(code, &rendered))?;
        summary.files += 1;
        let _ = writeln!(
            section,
            "    errorfile {code} {}/errors/{code}.http",
            root.display()
        );
    }
    write_file(&out.join("http-errors.cfg"), section.as_bytes())?;

    // Indented as the lines of a section they are pasted into.
    let mut rules = format!(
        "    # error-render export: paste into a frontend or backend section.\n    \
         # HAProxy's own errors, from the http-errors section in http-errors.cfg:\n    \
         errorfiles {HAPROXY_SECTION}\n    \
         # XML only for application/xml, text/xml and application/soap+xml (before any\n    \
         # ';'), as Tyk Gateway decides; everything else gets JSON.\n    \
         http-request set-var(txn.error_render_xml) bool(true) if {{ req.fhdr(content-type),field(1,;) -m str application/xml text/xml application/soap+xml }}\n    \
         # Upstream error statuses replaced with error-render's body. Only these: an\n    \
         # API's own detailed errors (400, 409, 422...) reach the client unchanged.\n    \
         # To replace another status, copy a pair of lines: codes/ has a body for\n    \
         # every registered 4xx and 5xx.\n"
    );
    for code in HAPROXY_INTERCEPTED {
        for format in GATEWAY_FORMATS {
            let ext = format.ext();
            let rendered = render_code(renderer, code, Some(format), &mut summary)?;
            let mut line = format!(
                "    http-response return status {code} content-type \"{}\" file {}/codes/{code}.{ext}",
                rendered.content_type(),
                root.display()
            );
            for (name, value) in rendered
                .headers
                .iter()
                .filter(|(n, _)| *n != "content-type" && *n != "connection")
            {
                let _ = write!(line, " hdr {} \"{value}\"", header_name(name));
            }
            let xml = if ext == "xml" { "" } else { "!" };
            let _ = writeln!(
                line,
                " if {{ status {code} }} {xml}{{ var(txn.error_render_xml) -m bool }}"
            );
            rules.push_str(&line);
        }
    }
    write_file(&out.join("rules.cfg"), rules.as_bytes())?;
    summary.snippets = vec!["http-errors.cfg".into(), "rules.cfg".into()];
    Ok(summary)
}

/// A complete HTTP/1.1 response, as `errorfile` wants: status line, the
/// rendered headers, `Content-Length`, and the body.
fn http_response(code: u16, rendered: &crate::render::Rendered) -> Vec<u8> {
    let reason = catalogue::reason_phrase(code).unwrap_or("Error");
    let mut s = format!("HTTP/1.1 {code} {reason}\r\n");
    for (name, value) in rendered.headers.iter() {
        let _ = write!(s, "{}: {value}\r\n", header_name(name));
    }
    let _ = write!(s, "Content-Length: {}\r\n\r\n", rendered.body.len());
    let mut out = s.into_bytes();
    out.extend_from_slice(&rendered.body);
    out
}

/// A lower-case header name as the gateway writes it (`X-Generator`).
fn header_name(lower: &str) -> String {
    lower
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer() -> Renderer {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        match Renderer::from_dir(&dir) {
            Ok(r) => r,
            Err(e) => panic!("bundled templates: {e}"),
        }
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// 502, the error nginx itself produces most, was missing: only the
    /// catalogue's codes were exported.
    #[test]
    fn export_covers_every_registered_error_status_with_its_default_message() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let renderer = renderer();
        let summary = export(&renderer, tmp.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary.fallbacks, 0);
        let server = read(&tmp.path().join("nginx/error-render-server.conf"));
        for code in REGISTERED_ERROR_STATUSES {
            let message = renderer.default_message(code);
            let expected = match Catalogue::builtin().default_for(code) {
                Some(entry) => entry.message.clone(),
                None => catalogue::reason_phrase(code)
                    .unwrap_or_else(|| panic!("{code} has no reason phrase"))
                    .to_owned(),
            };
            assert_eq!(message, expected, "default message of {code}");
            // By the gateway's Content-Type rule, not the format the export
            // chose: the two must give the same bytes.
            for (ext, content_type) in [("json", None), ("xml", Some("application/xml"))] {
                let mut req = ErrorRequest::code(code);
                req.content_type = content_type.map(str::to_owned);
                let body = renderer.render(&req).unwrap_or_else(|e| panic!("{e}")).body;
                assert_eq!(read(&tmp.path().join(format!("codes/{code}.{ext}"))), body);
            }
            assert!(
                server.contains(&format!(
                    "error_page {code} {NGINX_PREFIX}{code}.$error_render_ext;\n"
                )),
                "no error_page line for {code}:\n{server}"
            );
        }
        assert_eq!(
            read(&tmp.path().join("codes/502.json")),
            "{\n    \"error\": \"Bad Gateway\"\n}"
        );
        assert!(summary.codes >= REGISTERED_ERROR_STATUSES.len());
        // nginx refuses `error_page 499` (the catalogue has 499).
        assert!(tmp.path().join("codes/499.json").is_file());
        assert!(!server.contains("error_page 499 "), "{server}");
    }

    #[test]
    fn haproxy_errorfiles_are_complete_responses() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let renderer = renderer();
        let summary = export_haproxy(&renderer, tmp.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary.fallbacks, 0);
        let section = read(&tmp.path().join("http-errors.cfg"));
        for code in HAPROXY_ERRORFILE_STATUSES {
            let text = read(&tmp.path().join(format!("errors/{code}.http")));
            let (head, body) = text
                .split_once("\r\n\r\n")
                .unwrap_or_else(|| panic!("{text}"));
            assert!(head.starts_with(&format!("HTTP/1.1 {code} ")), "{head}");
            assert!(
                head.contains("\r\nContent-Type: application/json"),
                "{head}"
            );
            assert!(head.contains("\r\nX-Generator: tyk.io"), "{head}");
            assert!(
                head.contains(&format!("\r\nContent-Length: {}", body.len())),
                "{head}"
            );
            assert_eq!(body, read(&tmp.path().join(format!("codes/{code}.json"))));
            assert!(
                section.contains(&format!("    errorfile {code} /")),
                "{section}"
            );
        }
        let rules = read(&tmp.path().join("rules.cfg"));
        for code in HAPROXY_INTERCEPTED {
            assert!(
                rules.contains(&format!("http-response return status {code} ")),
                "{rules}"
            );
        }
        assert!(!rules.contains("return status 400 "), "{rules}");
    }

    #[test]
    fn header_names_are_written_as_the_gateway_does() {
        assert_eq!(header_name("x-generator"), "X-Generator");
        assert_eq!(header_name("content-type"), "Content-Type");
    }
}
