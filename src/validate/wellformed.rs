//! Judging rendered bodies: is a `.json` template's output valid JSON, is a
//! `.xml` template's output well-formed XML 1.0, and where it first goes wrong.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// Where and why a body is not what its template's extension promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    /// Byte offset in the body where the problem was found.
    pub(crate) offset: usize,
    /// The parser's words.
    pub(crate) message: String,
}

/// Checks that `body` is exactly one JSON value (whitespace around allowed).
pub(crate) fn check_json(body: &str) -> Result<(), Malformed> {
    match serde_json::from_str::<serde::de::IgnoredAny>(body) {
        Ok(_) => Ok(()),
        Err(e) => Err(Malformed {
            offset: offset_of(body, e.line(), e.column()),
            message: strip_position(&e.to_string()),
        }),
    }
}

/// serde_json appends " at line L column C"; the excerpt shows the place, so
/// the words alone read better.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The byte offset of a 1-based line and (serde_json's) column, which counts
/// bytes from the line start and may be 0 at a line's very start.
fn offset_of(body: &str, line: usize, column: usize) -> usize {
    let line_start = body
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    (line_start + column.saturating_sub(1)).min(body.len())
}

/// Whether XML 1.0 can carry this character at all (its `Char` production).
/// A message holding any other character cannot appear in well-formed XML
/// whatever the template does, so such cases are not held against it.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// The entities XML predefines; any other needs a DTD declaring it.
const PREDEFINED_ENTITIES: [&str; 5] = ["lt", "gt", "amp", "apos", "quot"];

/// Checks that `body` is a well-formed XML 1.0 document: legal characters,
/// an optional declaration at the very start, exactly one root element,
/// balanced and matching tags, valid attributes and only valid references.
pub(crate) fn check_xml(body: &str) -> Result<(), Malformed> {
    if let Some((offset, c)) = body.char_indices().find(|&(_, c)| !is_xml_char(c)) {
        return Err(Malformed {
            offset,
            message: format!("character U+{:04X} is not allowed in XML 1.0", c as u32),
        });
    }
    let mut reader = Reader::from_str(body);
    {
        let config = reader.config_mut();
        // Stated although they are the defaults, because well-formedness
        // depends on them: `<a><b></a>` and `&` alone must be errors.
        config.check_end_names = true;
        config.allow_unmatched_ends = false;
        config.allow_dangling_amp = false;
        config.check_comments = true;
        config.trim_text(false);
    }
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut seen_event = false;
    // A DOCTYPE may declare entities this checker cannot know about.
    let mut doctype = false;
    loop {
        let before = to_usize(reader.buffer_position());
        let fail = |message: String| Malformed {
            offset: before.min(body.len()),
            message,
        };
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                return Err(Malformed {
                    offset: to_usize(reader.error_position()).min(body.len()),
                    message: e.to_string(),
                });
            }
        };
        let first = !seen_event;
        seen_event = true;
        match event {
            Event::Decl(decl) => {
                if !first || before != 0 {
                    return Err(fail(
                        "the XML declaration must be the very first thing in the document \
                         (nothing, not even whitespace, before `<?xml`)"
                            .into(),
                    ));
                }
                decl.version()
                    .map_err(|e| fail(format!("bad XML declaration: {e}")))?;
            }
            Event::DocType(_) => {
                if roots > 0 {
                    return Err(fail("DOCTYPE after the root element".into()));
                }
                doctype = true;
            }
            Event::Start(start) => {
                check_element(&start, depth, &mut roots, doctype).map_err(fail)?;
                depth += 1;
            }
            Event::Empty(start) => {
                check_element(&start, depth, &mut roots, doctype).map_err(fail)?;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(text) => {
                if depth == 0 && !text.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')) {
                    return Err(fail(if roots == 0 {
                        "text before the root element".into()
                    } else {
                        "text after the root element".into()
                    }));
                }
            }
            Event::CData(_) => {
                if depth == 0 {
                    return Err(fail("CDATA outside the root element".into()));
                }
            }
            Event::GeneralRef(reference) => {
                if depth == 0 {
                    return Err(fail("a reference outside the root element".into()));
                }
                if reference.is_char_ref() {
                    match reference.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => {}
                        Ok(_) => {
                            return Err(fail(format!(
                                "character reference &{}; is not an XML character",
                                &*reference
                            )));
                        }
                        Err(e) => return Err(fail(format!("bad character reference: {e}"))),
                    }
                } else if !doctype && !PREDEFINED_ENTITIES.contains(&&*reference) {
                    return Err(fail(format!(
                        "undefined entity &{};: XML knows only &lt; &gt; &amp; &apos; &quot; \
                         and character references (a bare `&` must be written &amp;)",
                        &*reference
                    )));
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => {
                if depth > 0 {
                    return Err(Malformed {
                        offset: body.len(),
                        message: format!("{depth} element(s) not closed at the end"),
                    });
                }
                if roots == 0 {
                    return Err(Malformed {
                        offset: body.len(),
                        message: "no root element".into(),
                    });
                }
                return Ok(());
            }
        }
    }
}

/// Checks an element's tag: a second root, or a bad attribute.
fn check_element(
    start: &BytesStart<'_>,
    depth: usize,
    roots: &mut usize,
    doctype: bool,
) -> Result<(), String> {
    if depth == 0 {
        if *roots > 0 {
            return Err("a second root element: an XML document has exactly one".into());
        }
        *roots += 1;
    }
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
        if attr.value.contains('<') {
            return Err("`<` inside an attribute value".into());
        }
        if !doctype {
            attr.normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| format!("bad attribute value: {e}"))?;
        }
    }
    Ok(())
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A short, single-line excerpt of `body` around byte `offset`, with control
/// characters and newlines shown escaped, and the spot marked `⟨here⟩`.
pub(crate) fn excerpt(body: &str, offset: usize) -> String {
    const BEFORE: usize = 40;
    const AFTER: usize = 30;
    let offset = floor_char_boundary(body, offset.min(body.len()));
    let start = floor_char_boundary(body, offset.saturating_sub(BEFORE));
    let end = floor_char_boundary(body, (offset + AFTER).min(body.len()));
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&escape_for_display(&body[start..offset]));
    out.push_str("⟨here⟩");
    out.push_str(&escape_for_display(&body[offset..end]));
    if end < body.len() {
        out.push('…');
    }
    out
}

/// Shows newlines, tabs and other control characters as escapes, so an
/// excerpt stays on one line of a report.
pub(crate) fn escape_for_display(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_error_xml_with_spaced_declaration_is_well_formed() {
        let body = "<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<error>API Rate Limit Exceeded</error>\n";
        assert_eq!(check_xml(body), Ok(()));
    }

    #[test]
    fn rejects_broken_xml() {
        for bad in [
            "<a>&</a>",
            "<a><b></a>",
            "<a></a><b></b>",
            "<a>",
            "",
            "text",
            "<a>&bogus;</a>",
            "<a>&#0;</a>",
            "<a x=\"1\" x=\"2\"/>",
            "<a x=\"&\"/>",
            "<a x=\"<\"/>",
            "\n<?xml version=\"1.0\"?><a/>",
            "<a>\u{1}</a>",
            "<a/>tail",
            "<a><!-- a -- b --></a>",
        ] {
            assert!(check_xml(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn accepts_good_xml() {
        for good in [
            "<a/>",
            "<a>&amp; &lt; &#39; &#x1F680; <![CDATA[<&>]]></a>\n",
            "<?xml version='1.0'?>\n<!-- c -->\n<r a='x &amp; y'><b/><c></c></r>\n",
            "<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>",
        ] {
            assert_eq!(check_xml(good), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn json_needs_exactly_one_value() {
        assert!(check_json("{\n    \"error\": \"it's\"\n}").is_ok());
        let err = check_json("{\n    \"error\": \"it\\'s\"\n}").unwrap_err();
        assert_eq!(
            &"{\n    \"error\": \"it\\'s\"\n}"[err.offset..err.offset + 1],
            "'"
        );
        assert!(check_json("").is_err());
        assert!(check_json("{} {}").is_err());
    }

    #[test]
    fn excerpt_marks_the_place_on_one_line() {
        assert_eq!(excerpt("ab\ncd", 3), "ab\\n⟨here⟩cd");
        let long = "x".repeat(100);
        assert!(excerpt(&long, 50).starts_with('…'));
        assert_eq!(excerpt("é", 1), "⟨here⟩é");
    }
}
