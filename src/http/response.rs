//! The one response policy for a rendered error, shared by the service's
//! routes and the tower layer: which of the renderer's header lines reach
//! the wire, and the settings' extra headers after them.

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::render::HeaderLines;

/// Puts a rendered answer's header `lines` (the gateway's, in its order)
/// on `headers`, then the `extra` headers the settings give for its status
/// (which win over a rendered line of the same name).
///
/// A name the lines set replaces whatever `headers` held under it (a
/// handler's own `Content-Type`, for the layer), and the lines are
/// appended, so a name they repeat (an Error Overrides rule's second
/// `X-Generator`) is sent as often as they give it. A line HTTP cannot
/// carry is left out.
pub(crate) fn put_headers(
    headers: &mut HeaderMap,
    lines: &HeaderLines,
    extra: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
) {
    for (name, _) in lines.iter() {
        headers.remove(name);
    }
    for (name, line) in lines.http_lines() {
        // Hop-by-hop and framing headers (the gateway's `Connection:
        // close`, a rule's `Content-Length` as net/http wrote it) belong to
        // one connection, which hyper frames itself; never to a response a
        // proxy or another service relays.
        if ["connection", "content-length", "transfer-encoding"].contains(&name) {
            continue;
        }
        match line {
            Some((name, value)) => {
                headers.append(name, value);
            }
            None => tracing::debug!(name, "a header line cannot be sent over HTTP; left out"),
        }
    }
    for (name, value) in extra {
        headers.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::header::CONTENT_TYPE;

    use super::*;
    use crate::config::ConfigLayer;
    use crate::config::ExtraHeaders;
    use crate::render::{ErrorRequest, RenderOptions, Rendered, Renderer};
    use crate::set::TemplateSet;

    fn render(options: RenderOptions, req: &ErrorRequest) -> Rendered {
        let set = TemplateSet::load("templates").expect("the bundled templates load");
        Renderer::new(Arc::new(set), options)
            .render(req)
            .expect("renders")
    }

    fn extra(yaml: &str) -> ExtraHeaders {
        let layer: ConfigLayer = serde_yaml_ng::from_str(yaml).expect("settings parse");
        crate::config::Config::from_layer(layer)
            .expect("settings resolve")
            .headers
    }

    #[test]
    fn a_handlers_content_type_is_replaced_not_repeated() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let r = render(RenderOptions::default(), &ErrorRequest::code(404));
        put_headers(
            &mut headers,
            &r.headers,
            ExtraHeaders::default().for_status(404),
        );
        let types: Vec<_> = headers.get_all(CONTENT_TYPE).iter().collect();
        assert_eq!(types, ["application/json"]);
        assert_eq!(headers["x-generator"], "tyk.io");
    }

    #[test]
    fn connection_close_stays_off_and_extra_headers_win() {
        let options = RenderOptions {
            close_connections: true,
            ..RenderOptions::default()
        };
        let r = render(options, &ErrorRequest::code(503));
        let mut headers = HeaderMap::new();
        let extra =
            extra("headers:\n  \"5xx\":\n    x-generator: sidecar\n    retry-after: \"30\"\n");
        put_headers(&mut headers, &r.headers, extra.for_status(503));
        assert!(headers.get("connection").is_none());
        let generators: Vec<_> = headers.get_all("x-generator").iter().collect();
        assert_eq!(generators, ["sidecar"]);
        assert_eq!(headers["retry-after"], "30");
    }
}
