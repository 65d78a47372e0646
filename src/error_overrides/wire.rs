//! Go's `http.Header` and what net/http does with it on the way out: names
//! canonicalised by `Set`/`Add`, the handler's headers written sorted by
//! name, invalid names dropped, values trimmed, the framing header added,
//! and bodies refused for 204 and 304.

/// Go's `http.Header`: canonical name to values, in insertion order of
/// values within a name. Go keeps it in a map; the wire sorts the names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Header {
    entries: Vec<(String, Vec<String>)>,
}

/// Go's output buffer: a body that fits is sent with `Content-Length`, a
/// larger one chunked.
const CHUNKING_THRESHOLD: usize = 2048;

impl Header {
    /// `Header.Add`.
    pub(crate) fn add(&mut self, name: &str, value: &str) {
        let name = canonical_key(name);
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value.to_owned()),
            None => self.entries.push((name, vec![value.to_owned()])),
        }
    }

    /// `Header.Set`: replaces every value of the name.
    pub(crate) fn set(&mut self, name: &str, value: &str) {
        let name = canonical_key(name);
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => *values = vec![value.to_owned()],
            None => self.entries.push((name, vec![value.to_owned()])),
        }
    }

    /// `Header.Del`.
    pub(crate) fn del(&mut self, name: &str) {
        let name = canonical_key(name);
        self.entries.retain(|(n, _)| *n != name);
    }

    /// Every (name, value), names sorted as Go's `sort.Strings` sorts them,
    /// values in order: the upstream middleware's view of the header map.
    pub(crate) fn sorted_lines(&self) -> Vec<(String, String)> {
        let mut entries: Vec<&(String, Vec<String>)> = self.entries.iter().collect();
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        entries
            .into_iter()
            .flat_map(|(n, vs)| vs.iter().map(move |v| (n.clone(), v.clone())))
            .collect()
    }

    /// The header lines net/http's server writes for a handler that set
    /// these headers, answered `status` and wrote `body` (which it returns,
    /// emptied when the status allows none).
    pub(crate) fn wire(&self, status: i64, body: Vec<u8>) -> (Vec<(String, String)>, Vec<u8>) {
        let mut header = self.clone();
        let body_allowed = !(100..200).contains(&status) && status != 204 && status != 304;
        if status == 304 {
            for name in ["Content-Type", "Content-Length", "Transfer-Encoding"] {
                header.del(name);
            }
        }
        let mut lines: Vec<(String, String)> = header
            .sorted_lines()
            .into_iter()
            .filter(|(n, _)| valid_field_name(n))
            .map(|(n, v)| (n, trim_value(&v)))
            .collect();
        if !body_allowed {
            return (lines, Vec::new());
        }
        let has_length = lines.iter().any(|(n, _)| n == "Content-Length");
        if body.len() <= CHUNKING_THRESHOLD {
            if !has_length {
                lines.push(("Content-Length".into(), body.len().to_string()));
            }
        } else if !has_length {
            lines.push(("Transfer-Encoding".into(), "chunked".into()));
        }
        (lines, body)
    }
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: a name with a byte that is not
/// a token character is left as is; otherwise each dash-separated word is
/// capitalised.
pub(crate) fn canonical_key(name: &str) -> String {
    if !name.bytes().all(is_token_byte) {
        return name.to_owned();
    }
    let mut upper = true;
    name.bytes()
        .map(|b| {
            let c = if upper {
                b.to_ascii_uppercase()
            } else {
                b.to_ascii_lowercase()
            };
            upper = b == b'-';
            char::from(c)
        })
        .collect()
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `httpguts.ValidHeaderFieldName`: net/http drops any other name.
fn valid_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_token_byte)
}

/// What the server writes for a value: CR and LF become spaces, then
/// surrounding ASCII whitespace goes (`textproto.TrimString`).
fn trim_value(v: &str) -> String {
    let v = v.replace(['\r', '\n'], " ");
    v.trim_matches([' ', '\t', '\n', '\r']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_keys_as_go() {
        assert_eq!(canonical_key("x-custom-HEADER"), "X-Custom-Header");
        assert_eq!(canonical_key("content-type"), "Content-Type");
        assert_eq!(canonical_key("bad name"), "bad name");
    }

    #[test]
    fn wire_drops_invalid_names_trims_and_frames() {
        let mut h = Header::default();
        h.add("X-B", "  two ");
        h.add("bad name", "x");
        h.add("X-A", "one");
        let (lines, body) = h.wire(403, b"abc".to_vec());
        assert_eq!(
            lines,
            [("X-A", "one"), ("X-B", "two"), ("Content-Length", "3")]
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert_eq!(body, b"abc");
        let (lines, body) = h.wire(204, b"abc".to_vec());
        assert!(body.is_empty() && !lines.iter().any(|(n, _)| n == "Content-Length"));
        let (lines, _) = h.wire(200, vec![b'x'; 3000]);
        assert!(lines.contains(&("Transfer-Encoding".into(), "chunked".into())));
    }
}
