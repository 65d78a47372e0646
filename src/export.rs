//! Exporting pre-rendered bodies of every catalogue error, and an nginx
//! snippet that serves them, for proxies that cannot call a sidecar.
//!
//! Layout under the output folder:
//! - `entries/<id>.json`, `entries/<id>.xml`: every catalogue entry and
//!   gateway error ID (after overrides);
//! - `codes/<code>.json`, `codes/<code>.xml`: each catalogue code with its
//!   default message (what `error_page` can map, as nginx knows only codes);
//! - `nginx/error-render-http.conf` (a `map`, for the `http` block) and
//!   `nginx/error-render-server.conf` (`error_page` lines and an internal
//!   `location`, for a `server` block).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::catalogue::Catalogue;
use crate::render::{ErrorRequest, Outcome, Renderer};

/// The URI prefix the nginx snippet serves bodies under.
pub const NGINX_PREFIX: &str = "/_error-render/";

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
    /// The nginx snippet files written, relative to the output folder.
    pub nginx_snippets: Vec<String>,
}

/// The two request formats exported: file extension and request content type.
const FORMATS: [(&str, Option<&str>); 2] = [("json", None), ("xml", Some("application/xml"))];

/// Renders every catalogue entry and code into `out`, with nginx snippets.
pub fn export(renderer: &Renderer, out: &Path) -> io::Result<ExportSummary> {
    let catalogue = Catalogue::builtin();
    let mut summary = ExportSummary::default();
    std::fs::create_dir_all(out.join("entries"))?;
    std::fs::create_dir_all(out.join("codes"))?;
    std::fs::create_dir_all(out.join("nginx"))?;

    let ids = catalogue
        .entries()
        .iter()
        .map(|e| e.id.as_str())
        .chain(catalogue.override_ids().iter().map(|o| o.id.as_str()));
    for id in ids {
        summary.entries += 1;
        for (ext, content_type) in FORMATS {
            let mut req = ErrorRequest::id(id);
            req.content_type = content_type.map(str::to_owned);
            write_body(
                renderer,
                &req,
                &out.join("entries").join(format!("{id}.{ext}")),
                &mut summary,
            )?;
        }
    }
    let codes: BTreeSet<u16> = catalogue.entries().iter().map(|e| e.code).collect();
    for &code in &codes {
        for (ext, content_type) in FORMATS {
            let mut req = ErrorRequest::code(code);
            req.content_type = content_type.map(str::to_owned);
            write_body(
                renderer,
                &req,
                &out.join("codes").join(format!("{code}.{ext}")),
                &mut summary,
            )?;
        }
    }
    summary.codes = codes.len();

    let root = std::fs::canonicalize(out)?;
    std::fs::write(
        out.join("nginx/error-render-http.conf"),
        nginx_http_snippet(),
    )?;
    std::fs::write(
        out.join("nginx/error-render-server.conf"),
        nginx_server_snippet(&root, &codes, renderer),
    )?;
    summary.nginx_snippets = vec![
        "nginx/error-render-http.conf".into(),
        "nginx/error-render-server.conf".into(),
    ];
    Ok(summary)
}

fn write_body(
    renderer: &Renderer,
    req: &ErrorRequest,
    path: &Path,
    summary: &mut ExportSummary,
) -> io::Result<()> {
    let rendered = renderer
        .render(req)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    if rendered.outcome != Outcome::Ok {
        summary.fallbacks += 1;
    }
    std::fs::write(path, rendered.body.as_bytes())?;
    summary.files += 1;
    Ok(())
}

/// The `map` choosing the body format from the request's Content-Type, with
/// the gateway's rule (exact type before `;`).
fn nginx_http_snippet() -> String {
    "# error-render export: include in the http block.\n\
     # XML only for application/xml, text/xml and application/soap+xml (before any ';'),\n\
     # as Tyk Gateway decides; everything else gets JSON.\n\
     map $content_type $error_render_ext {\n    \
         default json;\n    \
         ~^(application/xml|text/xml|application/soap\\+xml)(;|$) xml;\n\
     }\n"
    .to_owned()
}

fn nginx_server_snippet(root: &Path, codes: &BTreeSet<u16>, renderer: &Renderer) -> String {
    let mut s = String::from(
        "# error-render export: include in a server block (after the http snippet).\n",
    );
    for code in codes.iter().filter(|&&c| c >= 400) {
        let _ = writeln!(
            s,
            "error_page {code} {NGINX_PREFIX}{code}.$error_render_ext;"
        );
    }
    let _ = write!(
        s,
        "\nlocation ^~ {NGINX_PREFIX} {{\n    internal;\n    alias {}/codes/;\n    \
         types {{ application/json json; application/xml xml; }}\n",
        root.display()
    );
    if !renderer.options().hide_generator_header {
        s.push_str("    add_header X-Generator tyk.io always;\n");
    }
    s.push_str("}\n");
    s
}
