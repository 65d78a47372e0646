//! The escaper each native kind's Tera instance applies to every `{{ value }}`
//! (unless the template marks it `| safe`), so that a message never changes
//! the structure of the document it is written into.

use super::NativeKind;

/// The escaper for `kind`, or `None` for plain text (written as is). Tera
/// keeps one escape function per [`tera::Tera`] instance, which is why the
/// set keeps one instance per kind.
pub(crate) fn for_kind(kind: NativeKind) -> Option<tera::EscapeFn> {
    match kind {
        NativeKind::Html => Some(tera::escape_html),
        NativeKind::Xml => Some(write_xml),
        NativeKind::Json | NativeKind::Problem => Some(write_json_string_content),
        NativeKind::Text => None,
    }
}

fn write_xml(s: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(xml(s).as_bytes())
}

fn write_json_string_content(s: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(json_string_content(s).as_bytes())
}

/// XML's five predefined entities (`&`, `<`, `>`, `"`, `'`), safe in text
/// and in either kind of quoted attribute.
pub(crate) fn xml(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// The content of a JSON string, without its quotes: templates write
/// `"{{ Message }}"`. Beyond what JSON requires (`"`, `\`, control
/// characters, by serde_json), `<`, `>`, `&` and U+2028/U+2029 are written
/// as `\uXXXX`, so that the body stays inert when a page embeds it in a
/// `<script>` or a JavaScript engine older than ES2019 reads it.
pub(crate) fn json_string_content(s: &str) -> String {
    // Serialising a `str` cannot fail; the fallback keeps this total.
    let quoted = serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""));
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_default();
    let mut out = String::with_capacity(inner.len());
    for c in inner.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_reads_back_as_the_same_string() {
        let hostile = "</script>\"\\\u{2028}\u{2029}&'\n\t\u{1}é";
        let body = format!("\"{}\"", json_string_content(hostile));
        assert!(!body.contains('<') && !body.contains('\u{2028}'), "{body}");
        let back: String = serde_json::from_str(&body).expect("valid JSON string");
        assert_eq!(back, hostile);
    }

    #[test]
    fn xml_escapes_markup_and_quotes() {
        assert_eq!(
            xml("<a b=\"c\">'&'"),
            "&lt;a b=&quot;c&quot;&gt;&apos;&amp;&apos;"
        );
    }
}
