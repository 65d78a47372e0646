//! error-render's own Tera templates (`*.tera`, `error_render::native`):
//! loading from real folders, lookup, inheritance and includes, escaping of
//! a hostile message in every kind, errors with their place, the built-in
//! pages and the example themes.

use std::path::{Path, PathBuf};

use error_render::native::{ABOUT_BLANK, NativeData, NativeKind, NativeSet};
use error_render::store::{ReloadError, Store};
use error_render::{
    Catalogue, ErrorRequest, Format, Outcome, RenderLimits, RenderOptions, Renderer, TemplateFile,
    TemplateSet,
};

/// Closes a script element, breaks out of a JSON string and a JavaScript
/// string literal (U+2028), and carries markup and both quotes.
const HOSTILE: &str = "</script><b a='1'>\"x\" & \\ \u{2028}\u{2029} é";

fn file(name: &str, text: &str) -> TemplateFile {
    TemplateFile {
        name: name.into(),
        text: text.into(),
    }
}

fn set(files: &[(&str, &str)]) -> NativeSet {
    NativeSet::from_files(files.iter().map(|(n, t)| file(n, t))).expect("set loads")
}

fn write(path: impl AsRef<Path>, text: &str) {
    std::fs::write(path, text).expect("write file");
}

fn render(set: &NativeSet, code: u16, kind: NativeKind, data: &NativeData) -> String {
    let name = set.lookup(code, kind).expect("a page");
    set.render(name, kind, data).expect("render")
}

/// Tera 2's `escape_html`: the five characters XML names (`/` stays as is,
/// unlike 1.x).
fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn a_page_extends_a_layout_and_overrides_its_blocks() {
    let set = set(&[
        (
            "layout.tera",
            "<main>{% block title %}Error{% endblock %}: {% block body %}{% endblock %}</main>",
        ),
        (
            "404.html.tera",
            "{% extends \"layout.tera\" %}{% block body %}{{ Message }}{% endblock %}",
        ),
        (
            "4xx.html.tera",
            "{% extends \"layout.tera\" %}{% block title %}{{ super() }} {{ StatusCode }}{% endblock %}",
        ),
    ]);
    let data = NativeData::new(404, "gone");
    assert_eq!(
        render(&set, 404, NativeKind::Html, &data),
        "<main>Error: gone</main>"
    );
    let data = NativeData::new(403, "no");
    assert_eq!(
        render(&set, 403, NativeKind::Html, &data),
        "<main>Error 403: </main>"
    );
}

#[test]
fn a_page_includes_a_partial_which_sees_the_same_data() {
    let set = set(&[
        ("footer.tera", "[{{ RequestID }}]"),
        (
            "default.txt.tera",
            "{{ Message }} {% include \"footer.tera\" %}",
        ),
    ]);
    let data = NativeData::new(500, "down").field("RequestID", "r-1");
    assert_eq!(render(&set, 500, NativeKind::Text, &data), "down [r-1]");
}

#[test]
fn per_code_beats_class_beats_default_per_kind() {
    let set = set(&[
        ("404.html.tera", "code"),
        ("4xx.html.tera", "class"),
        ("default.html.tera", "default"),
        ("5xx.txt.tera", "text class"),
    ]);
    let page = |code| set.lookup(code, NativeKind::Html);
    assert_eq!(page(404), Some("404.html.tera"));
    assert_eq!(page(403), Some("4xx.html.tera"));
    assert_eq!(page(500), Some("default.html.tera"));
    assert_eq!(page(200), Some("default.html.tera"));
    assert_eq!(set.lookup(503, NativeKind::Text), Some("5xx.txt.tera"));
    assert_eq!(set.lookup(404, NativeKind::Text), None);
    assert_eq!(set.lookup(404, NativeKind::Problem), None);
    let data = NativeData::new(403, "m");
    assert_eq!(render(&set, 403, NativeKind::Html, &data), "class");
}

#[test]
fn a_hostile_message_is_escaped_for_every_kind() {
    let set = set(&[
        (
            "default.html.tera",
            "<p title=\"{{ Message }}\">{{ Message }}</p>",
        ),
        ("default.txt.tera", "{{ Message }}"),
        (
            "default.json.tera",
            "{\"error\": \"{{ Message }}\", \"status\": {{ StatusCode }}}",
        ),
        (
            "default.xml.tera",
            "<error a=\"{{ Message }}\">{{ Message }}</error>",
        ),
        (
            "default.problem.json.tera",
            "{\"detail\": \"{{ Message }}\"}",
        ),
    ]);
    let data = NativeData::new(400, HOSTILE);

    let html = render(&set, 400, NativeKind::Html, &data);
    assert_eq!(
        html,
        format!("<p title=\"{0}\">{0}</p>", html_escaped(HOSTILE))
    );

    assert_eq!(render(&set, 400, NativeKind::Text, &data), HOSTILE);

    let json = render(&set, 400, NativeKind::Json, &data);
    assert!(!json.contains('<') && !json.contains('\u{2028}'), "{json}");
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(value["error"], HOSTILE);
    assert_eq!(value["status"], 400);

    let problem = render(&set, 400, NativeKind::Problem, &data);
    let value: serde_json::Value = serde_json::from_str(&problem).expect("valid JSON");
    assert_eq!(value["detail"], HOSTILE);

    let xml = render(&set, 400, NativeKind::Xml, &data);
    let escaped = HOSTILE
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;");
    assert_eq!(xml, format!("<error a=\"{escaped}\">{escaped}</error>"));
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut elements = 0;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(_) => elements += 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(elements, 1, "{xml}");
    assert_eq!(
        quick_xml::escape::unescape(&escaped).expect("unescapes"),
        HOSTILE
    );
}

#[test]
fn safe_filter_is_the_one_way_to_print_raw() {
    let set = set(&[("default.html.tera", "{{ Message | safe }}")]);
    let data = NativeData::new(400, "<b>");
    assert_eq!(render(&set, 400, NativeKind::Html, &data), "<b>");
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let err = NativeSet::from_files([
        file("layout.tera", "ok"),
        file("404.html.tera", "<h1>\n  <p>{{ Message }</p>\n"),
    ])
    .expect_err("does not parse");
    let problems = err.problems();
    assert_eq!(problems.len(), 1, "{err}");
    let p = &problems[0];
    assert_eq!(p.file, "404.html.tera");
    // `{{ Message }`: Tera's lexer stops at the lone `}` (line 2, column 17,
    // counted from 1; Tera's span counts columns from 0).
    assert_eq!((p.line, p.column), (Some(2), Some(17)), "{p}");
    assert!(
        p.to_string().starts_with("404.html.tera:2:17: Tera syntax"),
        "{p}"
    );
}

#[test]
fn extending_a_missing_layout_names_the_extends_line() {
    let err = NativeSet::from_files([file("500.html.tera", "\n\n{% extends \"nowhere.tera\" %}")])
        .expect_err("no parent");
    let p = &err.problems()[0];
    assert_eq!(
        (p.file.as_str(), p.line, p.column),
        ("500.html.tera", Some(3), Some(4)),
        "{p}"
    );
    assert!(p.message.contains("nowhere.tera"), "{p}");
}

/// The page that renders `page` of `set` for 500 and fails.
fn render_err(set: &NativeSet, page: &str) -> error_render::ExecError {
    set.render(page, NativeKind::Html, &NativeData::new(500, "m"))
        .expect_err("the render fails")
}

#[test]
fn an_unknown_variable_in_a_layout_names_the_layout_line_and_column_of_its_use() {
    // `Missing` is named first in a comment on line 2: the place is its use
    // on line 3, where Tera's span puts it, not where the name first appears.
    let set = set(&[
        (
            "layout.tera",
            "<main>\n{# Missing is left out on purpose #}{% block b %}{% endblock %}\n  <p>{{ Missing }}</p></main>",
        ),
        (
            "500.html.tera",
            "{% extends \"layout.tera\" %}{% block b %}x{% endblock %}",
        ),
    ]);
    let err = render_err(&set, "500.html.tera");
    assert_eq!(err.template, "layout.tera", "{err}");
    assert_eq!((err.line, err.column), (Some(3), Some(9)), "{err}");
    assert!(err.message.starts_with("Tera: "), "{err}");
    assert!(err.message.contains("`Missing`"), "{err}");
    assert!(
        err.message.contains("rendering page 500.html.tera"),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("layout.tera:3:9: Tera: "),
        "{err}"
    );
}

#[test]
fn a_render_error_in_an_included_file_names_that_file_line_and_column() {
    // The page names `Missing` too, on its first line, inside a string: only
    // the include's use on its line 2 fails.
    let set = set(&[
        ("footer.tera", "<footer>\n{{ Missing }}</footer>"),
        (
            "500.html.tera",
            "<p>\"Missing\"</p>\n{% include \"footer.tera\" %}",
        ),
    ]);
    let err = render_err(&set, "500.html.tera");
    assert_eq!(
        (err.template.as_str(), err.line, err.column),
        ("footer.tera", Some(2), Some(4)),
        "{err}"
    );
    assert!(
        err.message.contains("rendering page 500.html.tera"),
        "{err}"
    );
}

#[test]
fn a_render_error_in_a_page_names_the_page_line_and_column() {
    let set = set(&[(
        "500.html.tera",
        "<p>{{ Message }}</p>\n<p>{{ StatusCode }} {{ Message + 1 }}</p>",
    )]);
    let err = render_err(&set, "500.html.tera");
    assert_eq!(
        (err.template.as_str(), err.line),
        ("500.html.tera", Some(2)),
        "{err}"
    );
    assert!(err.column.is_some(), "{err}");
    assert!(!err.message.contains("rendering page"), "{err}");
}

#[test]
fn an_unknown_filter_fails_the_load_at_its_place() {
    let err = NativeSet::from_files([
        file("layout.tera", "<main>\n  {{ Message | shout }}</main>"),
        file("404.html.tera", "{{ Message | whisper }}"),
    ])
    .expect_err("unknown filters");
    let problems = err.problems();
    let places: Vec<_> = problems
        .iter()
        .map(|p| (p.file.as_str(), p.line, p.column))
        .collect();
    assert_eq!(
        places,
        [
            ("404.html.tera", Some(1), Some(14)),
            ("layout.tera", Some(2), Some(16)),
        ],
        "{err}"
    );
    assert!(problems[0].message.contains("`whisper`"), "{err}");
}

#[test]
fn a_tera_1_macro_import_fails_the_load_at_its_place() {
    let err = NativeSet::from_files([
        file("macros.tera", "ok"),
        file(
            "404.html.tera",
            "<p>\n{% import \"macros.tera\" as m %}</p>",
        ),
    ])
    .expect_err("Tera 2 has no macros");
    let problems = err.problems();
    assert_eq!(problems.len(), 1, "{err}");
    let p = &problems[0];
    assert_eq!(
        (p.file.as_str(), p.line),
        ("404.html.tera", Some(2)),
        "{err}"
    );
    assert!(p.column.is_some(), "{err}");
    assert!(p.message.starts_with("Tera syntax"), "{err}");
}

#[test]
fn loads_from_a_real_folder_beside_tyk_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write(dir.join("error.json"), "{\"error\": \"{{.Message}}\"}");
    write(dir.join("layout.tera"), "[{% block b %}{% endblock %}]");
    write(
        dir.join("5xx.html.tera"),
        "{% extends \"layout.tera\" %}{% block b %}{{ Message }}{% endblock %}",
    );
    std::fs::create_dir(dir.join("sub.tera")).expect("a folder named like a template");
    let set = NativeSet::load(dir).expect("loads");
    let names: Vec<&str> = set.files().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["5xx.html.tera", "layout.tera"]);
    assert_eq!(set.dir(), Some(dir));
    let data = NativeData::new(502, "<bad gateway>");
    assert_eq!(
        render(&set, 502, NativeKind::Html, &data),
        "[&lt;bad gateway&gt;]"
    );
}

#[test]
fn a_folder_without_tera_files_loads_empty() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path().join("error.json"), "{{.Message}}");
    let set = NativeSet::load(tmp.path()).expect("loads");
    assert!(set.is_empty());
    assert_eq!(set.lookup(404, NativeKind::Html), None);
}

#[test]
fn a_broken_file_in_a_folder_fails_the_load_naming_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path().join("default.txt.tera"), "{% if Message %}x");
    let err = NativeSet::load(tmp.path()).expect_err("unclosed if");
    let p = &err.problems()[0];
    assert_eq!(p.file, "default.txt.tera");
    assert!(p.line.is_some() && p.column.is_some(), "{p}");
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_parsing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path().join("default.txt.tera"), &"x".repeat(100));
    let limits = RenderLimits {
        max_template_bytes: Some(50),
        ..RenderLimits::service()
    };
    let err = NativeSet::load_limited(tmp.path(), limits).expect_err("too large");
    assert!(
        err.to_string().contains("limits.max_template_bytes"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_named_like_a_template_is_refused_not_waited_on() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let ok = std::process::Command::new("mkfifo")
        .arg(dir.join("default.html.tera"))
        .status()
        .expect("run mkfifo")
        .success();
    assert!(ok, "mkfifo");
    // Nobody ever writes to it: a plain read would block for good.
    let err = NativeSet::load(dir)
        .expect_err("a FIFO is refused")
        .to_string();
    assert!(err.contains("default.html.tera"), "{err}");
    assert!(
        err.contains("a FIFO") && err.contains("only regular files"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_link_out_of_the_folder_is_refused() {
    let outside = tempfile::tempdir().expect("tempdir");
    write(outside.path().join("secret"), "s3cret");
    let tmp = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(
        outside.path().join("secret"),
        tmp.path().join("default.txt.tera"),
    )
    .expect("symlink");
    let err = NativeSet::load(tmp.path())
        .expect_err("refused")
        .to_string();
    assert!(err.contains("outside the template folder"), "{err}");
}

#[test]
fn builtin_problem_details_are_valid_json_for_a_hostile_message() {
    let builtin = NativeSet::builtin();
    let data = NativeData::new(429, HOSTILE)
        .entry("Quota exceeded", "Raise the quota", "429-quota-exceeded")
        .problem_type("https://errors.example/429-quota-exceeded")
        .instance("/api/v1/x?q=\"</script>")
        .field("RequestID", "req-\u{2028}1");
    let body = builtin
        .render_or_builtin(429, NativeKind::Problem, &data)
        .expect("a built-in page")
        .expect("renders");
    let v: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
    assert_eq!(v["type"], "https://errors.example/429-quota-exceeded");
    assert_eq!(v["title"], "Quota exceeded");
    assert_eq!(v["status"], 429);
    assert_eq!(v["detail"], HOSTILE);
    assert_eq!(v["instance"], "/api/v1/x?q=\"</script>");
    assert_eq!(v["request_id"], "req-\u{2028}1");
    assert!(!body.contains("</script>"), "{body}");

    // Nothing known beyond the status: about:blank, titled by the status
    // phrase, and no instance or request id members.
    let body = NativeSet::empty()
        .render_or_builtin(404, NativeKind::Problem, &NativeData::new(404, "gone"))
        .expect("a built-in page")
        .expect("renders");
    let v: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
    let mut members: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    members.sort_unstable();
    assert_eq!(members, ["detail", "status", "title", "type"], "{body}");
    assert_eq!(v["type"], ABOUT_BLANK);
    assert_eq!(v["title"], "Not Found");
}

#[test]
fn builtin_html_is_small_has_one_h1_and_the_escaped_message() {
    let data = NativeData::new(503, HOSTILE).field("RequestID", "r-<1>");
    let body = NativeSet::empty()
        .render_or_builtin(503, NativeKind::Html, &data)
        .expect("a built-in page")
        .expect("renders");
    assert!(body.len() < 8 * 1024, "{} bytes", body.len());
    assert_eq!(body.matches("<h1").count(), 1, "{body}");
    assert!(body.contains(&html_escaped(HOSTILE)), "{body}");
    assert!(body.contains("r-&lt;1&gt;"), "{body}");
    assert!(body.contains("<html lang=\"en\">"), "{body}");
    assert!(body.contains("name=\"viewport\""), "{body}");
    assert!(body.contains("prefers-color-scheme:dark"), "{body}");
    assert_self_contained(&body, "built-in");
}

#[test]
fn builtin_text_has_status_title_message_and_request_id() {
    let data = NativeData::new(403, "Key not authorised")
        .entry("Key not authorized", "", "403-x")
        .field("RequestID", "abc");
    let body = NativeSet::empty()
        .render_or_builtin(403, NativeKind::Text, &data)
        .expect("a built-in page")
        .expect("renders");
    assert_eq!(
        body,
        "403 Forbidden\nKey not authorized\n\nKey not authorised\n\nRequest ID: abc\n"
    );
    let body = NativeSet::empty()
        .render_or_builtin(404, NativeKind::Text, &NativeData::new(404, "Not Found"))
        .expect("a built-in page")
        .expect("renders");
    assert_eq!(body, "404 Not Found\n\nNot Found\n");
}

#[test]
fn a_folder_page_beats_the_builtin_and_json_has_no_builtin() {
    let set = set(&[("4xx.html.tera", "mine")]);
    let data = NativeData::new(404, "m");
    let html = set
        .render_or_builtin(404, NativeKind::Html, &data)
        .expect("page");
    assert_eq!(html.expect("renders"), "mine");
    let html = set
        .render_or_builtin(500, NativeKind::Html, &data)
        .expect("built-in");
    assert!(html.expect("renders").starts_with("<!DOCTYPE html>"));
    assert!(
        set.render_or_builtin(404, NativeKind::Json, &data)
            .is_none()
    );
    assert!(set.render_or_builtin(404, NativeKind::Xml, &data).is_none());
}

/// No script, no external request: the page is whole as sent. Its one
/// link is an empty icon, without which browsers ask for `/favicon.ico`.
fn assert_self_contained(body: &str, what: &str) {
    const ICON: &str = "<link rel=\"icon\" href=\"data:,\">";
    assert!(body.contains(ICON), "{what}: no {ICON} in\n{body}");
    let lower = body.replacen(ICON, "", 1).to_ascii_lowercase();
    for banned in [
        "<script", "http://", "https://", "@import", "url(", "<link", "<img", "src=",
    ] {
        assert!(!lower.contains(banned), "{what}: {banned} in\n{body}");
    }
}

fn themes() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/themes");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("examples/themes")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_theme_renders_every_catalogue_entry_with_its_escaped_message() {
    let themes = themes();
    assert!(themes.len() >= 3, "{themes:?}");
    for dir in themes {
        let set = NativeSet::load(&dir).expect("theme loads");
        for page in [
            "layout.tera",
            "4xx.html.tera",
            "5xx.html.tera",
            "default.html.tera",
        ] {
            assert!(
                set.files().iter().any(|f| f.name == page),
                "{}: no {page}",
                dir.display()
            );
        }
        for e in Catalogue::builtin().entries() {
            let data = NativeData::new(e.code, e.message.clone())
                .entry(e.title.clone(), e.action.clone(), e.id.clone())
                .field("RequestID", "req-1");
            let body = render(&set, e.code, NativeKind::Html, &data);
            assert!(
                body.contains(&html_escaped(&e.message)),
                "{} {}: message missing",
                dir.display(),
                e.id
            );
            assert_eq!(
                body.matches("<h1").count(),
                1,
                "{}: {}",
                dir.display(),
                e.id
            );
            assert_self_contained(&body, &dir.display().to_string());
        }
        // And a hostile message stays text.
        let body = render(&set, 500, NativeKind::Html, &NativeData::new(500, HOSTILE));
        assert!(body.contains(&html_escaped(HOSTILE)), "{}", dir.display());
        assert!(
            body.contains("prefers-color-scheme"),
            "{}: no dark mode",
            dir.display()
        );
    }
}

// The renderer: native pages beside Tyk's files, in one generation.

fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        write(tmp.path().join(name), text);
    }
    tmp
}

fn answer(dir: &Path, req: &ErrorRequest) -> (String, String, Option<String>, Outcome) {
    let r = Renderer::from_dir(dir)
        .expect("loads")
        .render(req)
        .expect("renders");
    (
        String::from_utf8(r.body.to_vec()).expect("UTF-8"),
        r.content_type().to_owned(),
        r.template.as_deref().map(str::to_owned),
        r.outcome,
    )
}

/// The order for the gateway's formats: `error_<code>.<ext>`,
/// `<code>.<ext>.tera`, `<N>xx.<ext>.tera`, `error.<ext>` (XML falling back
/// to `error.json`), `default.<ext>.tera`, the bundled default.
#[test]
fn json_and_xml_interleave_tyk_files_and_tera_pages() {
    let tmp = folder(&[
        ("error.json", "go generic {{.Message}}"),
        ("error_404.json", "go 404 {{.Message}}"),
        ("404.json.tera", "tera 404"),
        ("401.json.tera", "tera 401 \"{{ Message }}\""),
        ("4xx.json.tera", "tera 4xx"),
        ("default.json.tera", "tera default"),
        ("4xx.xml.tera", "<e>{{ Message }}</e>"),
        ("default.xml.tera", "<tera-default/>"),
    ]);
    let dir = tmp.path();
    let json = |code| answer(dir, &ErrorRequest::code(code).message("m"));
    assert_eq!(json(404).0, "go 404 m", "Tyk's per-code file wins");
    assert_eq!(
        json(401).0,
        "tera 401 \"m\"",
        "then the .tera page for the code"
    );
    assert_eq!(json(403).0, "tera 4xx", "then the class page");
    assert_eq!(json(500).0, "go generic m", "then Tyk's error.json");
    let (_, ct, template, outcome) = json(401);
    assert_eq!(
        (ct.as_str(), template.as_deref(), outcome),
        ("application/json", Some("401.json.tera"), Outcome::Ok)
    );

    let xml = |code| {
        answer(
            dir,
            &ErrorRequest::code(code)
                .message("m<")
                .content_type("text/xml"),
        )
    };
    let (body, ct, template, _) = xml(403);
    assert_eq!((body.as_str(), ct.as_str()), ("<e>m&lt;</e>", "text/xml"));
    assert_eq!(template.as_deref(), Some("4xx.xml.tera"));
    // No error.xml: Tyk's fallback to error.json (answered as JSON) comes
    // before default.xml.tera.
    let (body, ct, _, _) = xml(500);
    assert_eq!(
        (body.as_str(), ct.as_str()),
        ("go generic m&lt;", "application/json")
    );

    // Without error.json, default.<ext>.tera answers before the bundled one.
    let tmp = folder(&[
        ("error.xml", "<go/>"),
        ("default.json.tera", "tera default"),
    ]);
    let (body, _, template, outcome) = answer(tmp.path(), &ErrorRequest::code(500));
    assert_eq!(
        (body.as_str(), template.as_deref(), outcome),
        ("tera default", Some("default.json.tera"), Outcome::Ok)
    );
}

#[test]
fn a_set_without_tera_files_renders_as_before() {
    let tmp = folder(&[("error.json", "{\"error\": \"{{.Message}}\"}")]);
    let with_native = answer(tmp.path(), &ErrorRequest::code(404).message("<x>"));
    let set = TemplateSet::load(tmp.path()).expect("loads");
    let go_only = Renderer::new(std::sync::Arc::new(set), RenderOptions::default())
        .render(&ErrorRequest::code(404).message("<x>"))
        .expect("renders");
    assert_eq!(with_native.0.as_bytes(), &go_only.body[..]);
    assert_eq!(with_native.1, go_only.content_type());
}

#[test]
fn a_tera_json_page_keeps_a_hostile_message_valid_json_through_the_renderer() {
    let tmp = folder(&[
        ("error.json", "{{.Message}}"),
        (
            "5xx.json.tera",
            "{\"error\": \"{{ Message }}\", \"code\": {{ StatusCode }}}",
        ),
    ]);
    let (body, ..) = answer(tmp.path(), &ErrorRequest::code(502).message(HOSTILE));
    let v: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
    assert_eq!(
        (v["error"].as_str(), v["code"].as_u64()),
        (Some(HOSTILE), Some(502))
    );
}

#[test]
fn a_failing_tera_page_answers_the_bundled_body_with_the_error() {
    let tmp = folder(&[
        ("error.json", "{{.Message}}"),
        ("4xx.json.tera", "{{ Nope }}"),
    ]);
    let (body, _, template, outcome) = answer(tmp.path(), &ErrorRequest::code(404).message("m"));
    assert_eq!(outcome, Outcome::Exec);
    assert_eq!(template.as_deref(), Some("4xx.json.tera"));
    assert_eq!(
        body, "{\n    \"error\": \"m\"\n}",
        "Tyk's bundled error.json"
    );
}

#[test]
fn native_json_bodies_are_cached_per_generation() {
    let tmp = folder(&[
        ("error.json", "{{.Message}}"),
        ("4xx.json.tera", "tera {{ StatusCode }}"),
    ]);
    let renderer = Renderer::from_dir(tmp.path()).expect("loads");
    let first = renderer.render(&ErrorRequest::code(404)).expect("renders");
    let second = renderer.render(&ErrorRequest::code(404)).expect("renders");
    assert_eq!((first.cached, second.cached), (false, true));
    assert_eq!(&second.body[..], b"tera 404");
}

#[test]
fn the_live_store_keeps_the_last_good_set_when_a_tera_file_breaks() {
    let tmp = folder(&[("error.json", "{{.Message}}"), ("4xx.json.tera", "good")]);
    let dir = tmp.path().to_owned();
    let store =
        Store::new(move || Renderer::from_dir(&dir).map_err(ReloadError::new)).expect("first load");
    let body = |store: &Store| {
        let r = store
            .snapshot()
            .renderer
            .render(&ErrorRequest::code(404).message("m"))
            .expect("renders");
        String::from_utf8(r.body.to_vec()).expect("UTF-8")
    };
    assert_eq!(body(&store), "good");

    write(tmp.path().join("4xx.json.tera"), "line one\n{% if %}");
    let err = store
        .reload()
        .expect_err("a broken .tera file fails the reload");
    assert!(err.to_string().contains("4xx.json.tera:2:"), "{err}");
    assert_eq!(body(&store), "good", "the last good set keeps serving");

    write(tmp.path().join("4xx.json.tera"), "better");
    store.reload().expect("fixed");
    assert_eq!(body(&store), "better");
}

#[test]
fn html_text_and_problem_come_from_the_folder_then_the_builtin() {
    let tmp = folder(&[
        ("error.json", "{{.Message}}"),
        ("4xx.html.tera", "<p>{{ Message }}</p>"),
    ]);
    let renderer = Renderer::from_dir(tmp.path()).expect("loads");
    let render = |code, format| {
        renderer
            .render(&ErrorRequest::code(code).message("<m>").format(format))
            .expect("renders")
    };
    let r = render(404, Format::Html);
    assert_eq!(&r.body[..], b"<p>&lt;m&gt;</p>");
    assert_eq!(r.content_type(), "text/html; charset=utf-8");
    assert_eq!(
        (r.template.as_deref(), r.outcome),
        (Some("4xx.html.tera"), Outcome::Ok)
    );

    let r = render(500, Format::Html);
    assert!(r.body.starts_with(b"<!DOCTYPE html>"), "the built-in page");
    assert_eq!((r.template.as_deref(), r.outcome), (None, Outcome::Ok));

    let r = render(503, Format::Text);
    assert_eq!(r.content_type(), "text/plain; charset=utf-8");
    assert!(
        r.body.starts_with(b"503 Service Unavailable\n"),
        "{:?}",
        r.body
    );

    let r = render(404, Format::Problem);
    assert_eq!(r.content_type(), "application/problem+json");
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("valid JSON");
    assert_eq!(
        (v["type"].as_str(), v["detail"].as_str()),
        (Some(ABOUT_BLANK), Some("<m>"))
    );
}

#[test]
fn problem_type_is_the_configured_base_and_the_catalogue_id() {
    let tmp = folder(&[("error.json", "{{.Message}}")]);
    let set = TemplateSet::load(tmp.path()).expect("loads");
    let options = RenderOptions {
        problem_type_base: Some("https://errors.example/tyk".into()),
        ..RenderOptions::default()
    };
    let renderer = Renderer::new(std::sync::Arc::new(set), options);
    let entry = &Catalogue::builtin().entries()[0];
    let r = renderer
        .render(&ErrorRequest::id(entry.id.clone()).format(Format::Problem))
        .expect("renders");
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("valid JSON");
    assert_eq!(
        v["type"].as_str(),
        Some(format!("https://errors.example/tyk/{}", entry.id).as_str())
    );
    assert_eq!(v["status"].as_u64(), Some(u64::from(entry.code)));
}

#[test]
fn html_bodies_are_cached_per_generation_but_not_with_request_fields() {
    let tmp = folder(&[("error.json", "{{.Message}}")]);
    let renderer = Renderer::from_dir(tmp.path()).expect("loads");
    let req = ErrorRequest::code(404).format(Format::Html);
    let first = renderer.render(&req).expect("renders");
    let second = renderer.render(&req).expect("renders");
    assert_eq!((first.cached, second.cached), (false, true));
    assert_eq!(first.body, second.body);
    let mut with_id = req.clone();
    with_id.fields = vec![("RequestID".into(), "r-9".into())];
    let r = renderer.render(&with_id).expect("renders");
    assert!(!r.cached);
    assert!(String::from_utf8_lossy(&r.body).contains("r-9"));
}

#[test]
fn problem_instance_and_request_id_come_from_the_request_context() {
    let tmp = folder(&[("error.json", "{{.Message}}")]);
    let renderer = Renderer::from_dir(tmp.path()).expect("loads");
    let mut req = ErrorRequest::code(404).format(Format::Problem);
    req.fields = vec![
        ("RequestID".into(), "r-1".into()),
        ("OriginalURI".into(), "/shop?q=\"x\"".into()),
    ];
    let r = renderer.render(&req).expect("renders");
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("valid JSON");
    assert_eq!(v["instance"].as_str(), Some("/shop?q=\"x\""));
    assert_eq!(v["request_id"].as_str(), Some("r-1"));
}
