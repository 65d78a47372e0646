//! How a byte that is not part of valid UTF-8 travels through the engine and
//! comes out as itself: Go's strings are bytes, gotmpl's are UTF-8.
//!
//! Such bytes come from a template file that is not valid UTF-8 (Go loads it
//! and writes its bytes) and from `slice` or `index` cutting a character
//! (Go cuts bytes). Inside the engine, byte `b` (always 0x80 or more: every
//! ASCII byte is valid UTF-8) is the character U+10FE00 + `b` (U+10FE80 to
//! U+10FEFF, in the Supplementary Private Use Area-B, clear of its last code
//! points, which tests of "the highest character" use). The body
//! becomes bytes in one place, [`into_body`], which turns each such
//! character back into its byte.
//!
//! For that to be undone without doubt, a real character of the range never
//! enters the engine as itself: template text and data carry it as the
//! mapped bytes of its UTF-8 (four of them, [`protect`]), which decode to
//! the same four bytes. Go's byte-level functions (`len`, `slice`, `index`,
//! `urlquery`, `%q`, `%x`, `js`) read engine text through [`go_bytes`] and
//! [`for_each_rune`], which decode runes as Go does, so they see that
//! character, and a cut byte, exactly as Go does.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;

/// Byte `b` is `char::from_u32(BASE + b)`; only bytes from 0x80 are mapped.
const BASE: u32 = 0x10_FE00;

/// The engine's character for byte `b` (0x80 or more).
pub(crate) fn mapped(b: u8) -> char {
    char::from_u32(BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The byte a character of the engine's text stands for, if it stands for one.
pub(crate) fn byte_of(c: char) -> Option<u8> {
    let n = u32::from(c);
    (BASE + 0x80..=BASE + 0xFF)
        .contains(&n)
        .then(|| u8::try_from(n - BASE).unwrap_or(0))
}

/// Whether `s` holds a character of the mapped range. Every such character
/// is encoded as F4 8F BA/BB xx, so the common case is one byte search.
pub(crate) fn has_mapped(s: &str) -> bool {
    s.as_bytes().contains(&0xF4) && s.chars().any(|c| byte_of(c).is_some())
}

/// The engine text for Go's bytes: valid UTF-8 as it is (a character of the
/// mapped range as the mapped bytes of its UTF-8), every other byte mapped.
pub(crate) fn from_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes)
        && !has_mapped(s)
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if byte_of(c).is_some() {
                let mut utf8 = [0; 4];
                out.extend(c.encode_utf8(&mut utf8).bytes().map(mapped));
            } else {
                out.push(c);
            }
        }
        out.extend(chunk.invalid().iter().copied().map(mapped));
    }
    Cow::Owned(out)
}

/// `s` as it may enter the engine: a character of the mapped range becomes
/// the mapped bytes of its UTF-8, so that it leaves as itself.
pub(crate) fn protect(s: &str) -> Cow<'_, str> {
    if has_mapped(s) {
        from_bytes(s.as_bytes())
    } else {
        Cow::Borrowed(s)
    }
}

/// The data as it may enter the engine ([`protect`] on every string), or
/// `None` when no string needs it (the common case, which allocates nothing).
pub(crate) fn protect_value(v: &Value) -> Option<Value> {
    let text = |s: &Arc<str>| match protect(s) {
        Cow::Borrowed(_) => None,
        Cow::Owned(p) => Some(Arc::<str>::from(p)),
    };
    match v {
        Value::String(s) => text(s).map(Value::String),
        Value::Safe { kind, s } => text(s).map(|s| Value::Safe { kind: *kind, s }),
        Value::Map(m) => {
            let changed: Vec<(&Arc<str>, Value)> = m
                .iter()
                .filter_map(|(k, v)| protect_value(v).map(|p| (k, p)))
                .collect();
            if changed.is_empty() {
                return None;
            }
            let mut map: BTreeMap<Arc<str>, Value> = (**m).clone();
            for (k, p) in changed {
                map.insert(Arc::clone(k), p);
            }
            Some(Value::Map(Arc::new(map)))
        }
        Value::List(items) => {
            if items.iter().all(|i| protect_value(i).is_none()) {
                return None;
            }
            Some(Value::List(
                items
                    .iter()
                    .map(|i| protect_value(i).unwrap_or_else(|| i.clone()))
                    .collect(),
            ))
        }
        _ => None,
    }
}

/// The bytes Go holds for engine text `s`.
pub(crate) fn go_bytes(s: &str) -> Cow<'_, [u8]> {
    if !has_mapped(s) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match byte_of(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Cow::Owned(out)
}

/// Go's `len` of engine text `s`: its bytes in Go.
pub(crate) fn go_len(s: &str) -> usize {
    if !has_mapped(s) {
        return s.len();
    }
    // Each mapped character is four bytes here and one in Go.
    s.len() - 3 * s.chars().filter(|c| byte_of(*c).is_some()).count()
}

/// A rune as Go's `range` over a string gives it: a character, or a byte
/// that does not start a valid UTF-8 sequence (Go's `RuneError`, width 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rune {
    Char(char),
    Byte(u8),
}

/// Calls `f` with each of Go's runes of engine text `s`, in order.
pub(crate) fn for_each_rune(s: &str, mut f: impl FnMut(Rune)) {
    if !has_mapped(s) {
        s.chars().for_each(|c| f(Rune::Char(c)));
        return;
    }
    for chunk in go_bytes(s).utf8_chunks() {
        chunk.valid().chars().for_each(|c| f(Rune::Char(c)));
        chunk.invalid().iter().for_each(|b| f(Rune::Byte(*b)));
    }
}

/// How many runes Go counts in engine text `s` (`fmt`'s width).
pub(crate) fn rune_count(s: &str) -> usize {
    if !has_mapped(s) {
        return s.chars().count();
    }
    let mut n = 0;
    for_each_rune(s, |_| n += 1);
    n
}

/// The first `n` of Go's runes of engine text `s` (`fmt`'s precision).
pub(crate) fn first_runes(s: &str, n: usize) -> Cow<'_, str> {
    if !has_mapped(s) {
        return Cow::Borrowed(s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i]));
    }
    let bytes = go_bytes(s);
    let mut end = 0;
    let mut left = n;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if left == 0 {
                return Cow::Owned(from_bytes(&bytes[..end]).into_owned());
            }
            left -= 1;
            end += c.len_utf8();
        }
        for _ in chunk.invalid() {
            if left == 0 {
                return Cow::Owned(from_bytes(&bytes[..end]).into_owned());
            }
            left -= 1;
            end += 1;
        }
    }
    Cow::Borrowed(s)
}

/// The body's bytes for the engine's output: each mapped character back to
/// the byte it stands for. No copy when there is none.
pub(crate) fn into_body(text: String) -> Vec<u8> {
    if has_mapped(&text) {
        go_bytes(&text).into_owned()
    } else {
        text.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_bytes_travel_and_come_back() {
        let go = b"\xc3\xa9\xe6 ok \xff";
        let text = from_bytes(go);
        assert_eq!(go_len(&text), go.len());
        assert_eq!(&*go_bytes(&text), go);
        assert_eq!(into_body(text.into_owned()), go);
    }

    /// A real character of the mapped range is carried as its bytes, so it
    /// leaves as itself and is not taken for a byte.
    #[test]
    fn a_real_character_of_the_mapped_range_leaves_as_itself() {
        let real = "a\u{10FEE6}b\u{10FE80}";
        let text = protect(real);
        assert_ne!(text, real);
        assert_eq!(go_len(&text), real.len());
        assert_eq!(into_body(text.clone().into_owned()), real.as_bytes());
        let mut runes = Vec::new();
        for_each_rune(&text, |r| runes.push(r));
        assert_eq!(
            runes,
            [
                Rune::Char('a'),
                Rune::Char('\u{10FEE6}'),
                Rune::Char('b'),
                Rune::Char('\u{10FE80}')
            ]
        );
        // Text with no such character is left alone.
        assert!(matches!(protect("é日本 😀"), Cow::Borrowed(_)));
    }
}
