//! Compression of rendered bodies in error-render's own formats for clients
//! whose `Accept-Encoding` allows br or gzip: the coding chosen by q-value
//! (br on a tie), bodies from the renderer's per-generation cache
//! compressed once per generation and kept beside the plain one, every
//! other body per response. The gateway's formats are never compressed.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Mutex;

use bytes::Bytes;

use crate::format::Format;

/// Whether an answer in `format` may be compressed at all: HTML, text and
/// problem details may; JSON and XML never, whichever engine rendered them
/// (a Tyk Go template or a `.tera` page), because the product promise is
/// that what a Tyk template set sends in the gateway's formats reaches the
/// client byte for byte as the gateway sends it, and the gateway does not
/// compress its error bodies.
pub(crate) fn applies_to(format: Format) -> bool {
    !format.is_go()
}

/// A content coding the service compresses with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Coding {
    /// Brotli (RFC 7932).
    Br,
    /// gzip (RFC 1952).
    Gzip,
}

impl Coding {
    /// The `Content-Encoding` value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Gzip => "gzip",
        }
    }
}

/// What a request's `Accept-Encoding` allows (RFC 9110, 12.5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepted {
    /// The coding to compress with, if any is acceptable.
    pub(crate) coding: Option<Coding>,
    /// Whether the body may go out as it is (`identity;q=0`, or `*;q=0`
    /// without a word on identity, refuse it).
    pub(crate) identity: bool,
}

/// Reads an `Accept-Encoding` value. A coding not listed is refused unless
/// `*` admits it; identity is admitted unless refused; malformed items are
/// skipped and a malformed q counts as 1. Between br and gzip the higher q
/// wins, br on a tie (it is the smaller).
pub(crate) fn accepted(header: Option<&str>) -> Accepted {
    let Some(header) = header else {
        // No header: any coding is acceptable (RFC 9110), but a client that
        // sends none is safest answered as it always was.
        return Accepted {
            coding: None,
            identity: true,
        };
    };
    let (mut br, mut gzip, mut identity, mut star) = (None, None, None, None);
    for item in header.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        if name.is_empty() {
            continue;
        }
        let mut q = 1.0_f32;
        for param in parts {
            if let Some((k, v)) = param.split_once('=')
                && k.trim().eq_ignore_ascii_case("q")
                && let Ok(v) = v.trim().parse::<f32>()
                && (0.0..=1.0).contains(&v)
            {
                q = v;
            }
        }
        let slot = if name.eq_ignore_ascii_case("br") {
            &mut br
        } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if name.eq_ignore_ascii_case("identity") {
            &mut identity
        } else if name == "*" {
            &mut star
        } else {
            continue;
        };
        // A coding listed twice keeps its first q.
        slot.get_or_insert(q);
    }
    let br = br.or(star).unwrap_or(0.0);
    let gzip = gzip.or(star).unwrap_or(0.0);
    let coding = if br > 0.0 && br >= gzip {
        Some(Coding::Br)
    } else if gzip > 0.0 {
        Some(Coding::Gzip)
    } else {
        None
    };
    Accepted {
        coding,
        identity: identity.or(star).is_none_or(|q| q > 0.0),
    }
}

/// How hard to compress: a cached body is compressed once per generation,
/// so it gets the smallest output; a body compressed per response, a level
/// that keeps the time per request small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effort {
    /// Once per generation: brotli 11, gzip 9.
    Once,
    /// Per response: brotli 5, gzip 6.
    PerResponse,
}

/// `body` in `coding`. Writing into memory does not fail; an error from
/// the compressor is returned rather than trusted away.
pub(crate) fn compress(body: &[u8], coding: Coding, effort: Effort) -> std::io::Result<Bytes> {
    let mut out = Vec::with_capacity(body.len() / 2 + 64);
    match coding {
        Coding::Br => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: if effort == Effort::Once { 11 } else { 5 },
                size_hint: body.len(),
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &body[..], &mut out, &params)?;
        }
        Coding::Gzip => {
            let level = if effort == Effort::Once { 9 } else { 6 };
            let mut encoder =
                flate2::write::GzEncoder::new(&mut out, flate2::Compression::new(level));
            encoder.write_all(body)?;
            encoder.finish()?;
        }
    }
    Ok(Bytes::from(out))
}

/// The compressed forms of the cached bodies of one generation, keyed by
/// the plain body's address and length (a cached body is one shared
/// allocation for the whole generation) and the coding. Each entry keeps a
/// handle on the plain body, so its address cannot be reused by another
/// body while the entry lives; a new generation empties the map.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    inner: Mutex<Generation>,
}

#[derive(Debug, Default)]
struct Generation {
    generation: u64,
    bodies: HashMap<(usize, usize, Coding), (Bytes, Bytes)>,
}

impl Cache {
    /// The compressed form of `plain`, a cached body of `generation`, made
    /// on its first request; `made` is called when it is compressed here.
    pub(crate) fn get_or_compress(
        &self,
        generation: u64,
        plain: &Bytes,
        coding: Coding,
        made: impl FnOnce(),
    ) -> std::io::Result<Bytes> {
        let key = (plain.as_ptr() as usize, plain.len(), coding);
        {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            if inner.generation != generation {
                inner.generation = generation;
                inner.bodies.clear();
            }
            if let Some((_, compressed)) = inner.bodies.get(&key) {
                return Ok(compressed.clone());
            }
        }
        // Compressed outside the lock: two first requests at once may both
        // compress, and the first stored wins; neither waits on the other.
        let compressed = compress(plain, coding, Effort::Once)?;
        made();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.generation != generation {
            // A reload came in between: this body is the old generation's.
            return Ok(compressed);
        }
        let (_, stored) = inner
            .bodies
            .entry(key)
            .or_insert_with(|| (plain.clone(), compressed));
        Ok(stored.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn coding(header: &str) -> Option<Coding> {
        accepted(Some(header)).coding
    }

    #[test]
    fn q_values_choose_and_br_wins_ties() {
        assert_eq!(coding("gzip, deflate, br, zstd"), Some(Coding::Br));
        assert_eq!(coding("gzip"), Some(Coding::Gzip));
        assert_eq!(coding("br;q=0.5, gzip;q=0.8"), Some(Coding::Gzip));
        assert_eq!(coding("br;q=0, gzip"), Some(Coding::Gzip));
        assert_eq!(coding("*"), Some(Coding::Br));
        assert_eq!(coding("*;q=0.5, br;q=0"), Some(Coding::Gzip));
        assert_eq!(coding("deflate, identity"), None);
        assert_eq!(coding("X-GZIP"), Some(Coding::Gzip));
        assert_eq!(coding(""), None);
        assert_eq!(accepted(None).coding, None);
    }

    #[test]
    fn only_error_renders_own_formats_are_compressed() {
        let compressed: Vec<_> = Format::ALL.into_iter().filter(|&f| applies_to(f)).collect();
        assert_eq!(compressed, [Format::Html, Format::Text, Format::Problem]);
    }

    #[test]
    fn identity_is_refused_only_explicitly() {
        assert!(accepted(Some("gzip")).identity);
        assert!(!accepted(Some("gzip, identity;q=0")).identity);
        assert!(!accepted(Some("*;q=0")).identity);
        assert!(accepted(Some("*;q=0, identity")).identity);
        assert!(accepted(None).identity);
    }

    #[test]
    fn both_codings_round_trip() {
        let body = "{\"error\": \"Not Found\"}\n".repeat(100);
        for effort in [Effort::Once, Effort::PerResponse] {
            let gz = compress(body.as_bytes(), Coding::Gzip, effort).unwrap();
            let mut plain = String::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_string(&mut plain)
                .unwrap();
            assert_eq!(plain, body);
            let br = compress(body.as_bytes(), Coding::Br, effort).unwrap();
            let mut plain = String::new();
            brotli::Decompressor::new(&br[..], 4096)
                .read_to_string(&mut plain)
                .unwrap();
            assert_eq!(plain, body);
            assert!(br.len() < body.len() / 4, "{}", br.len());
        }
    }

    #[test]
    fn a_cached_body_is_compressed_once_per_generation() {
        let cache = Cache::default();
        let plain = Bytes::from("x".repeat(4096));
        let mut made = 0;
        let first = cache
            .get_or_compress(1, &plain, Coding::Gzip, || made += 1)
            .unwrap();
        let again = cache
            .get_or_compress(1, &plain.clone(), Coding::Gzip, || made += 1)
            .unwrap();
        assert_eq!(made, 1);
        assert_eq!(first.as_ptr(), again.as_ptr());
        cache
            .get_or_compress(1, &plain, Coding::Br, || made += 1)
            .unwrap();
        cache
            .get_or_compress(2, &plain, Coding::Gzip, || made += 1)
            .unwrap();
        assert_eq!(made, 3);
    }
}
