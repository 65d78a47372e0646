//! `Accept` negotiation over the formats on offer (the settings' `formats`,
//! less XML where the set has no XML template for the code), for the proxy
//! protocols (ingress-nginx's `X-Format`, Traefik's forwarded `Accept`) that
//! carry the client's wishes rather than the gateway's `Content-Type` rule.

pub use crate::format::Format;

/// The formats on offer for one answer, in order of preference, kept on the
/// stack: the proxy routes build one per request and must not allocate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Offer {
    formats: [Format; Format::ALL.len()],
    len: usize,
}

impl Offer {
    /// The formats of `enabled` (in its order, each once) that `keep`
    /// accepts.
    pub(crate) fn new(enabled: &[Format], keep: impl Fn(Format) -> bool) -> Offer {
        let mut offer = Offer {
            formats: Format::ALL,
            len: 0,
        };
        for &format in enabled {
            if offer.len < offer.formats.len()
                && keep(format)
                && !offer.as_slice().contains(&format)
            {
                offer.formats[offer.len] = format;
                offer.len += 1;
            }
        }
        offer
    }

    /// The formats, best first.
    pub(crate) fn as_slice(&self) -> &[Format] {
        &self.formats[..self.len]
    }

    /// The answer to a client that states no wish: the first on offer, else
    /// JSON (the gateway's last resort, `error.json`).
    pub(crate) fn default_format(&self) -> Format {
        self.as_slice().first().copied().unwrap_or(Format::Json)
    }
}

/// One media range of an `Accept` header.
#[derive(Debug, Clone, PartialEq)]
struct Range<'a> {
    kind: &'a str,
    sub: &'a str,
    q: f32,
}

/// The ranges of an `Accept` value, parsed as they are walked: negotiation
/// walks them once per format on offer (two at most), which costs less
/// than collecting them (an allocation per request).
fn parse(accept: &str) -> impl Iterator<Item = Range<'_>> + Clone {
    accept.split(',').filter_map(|item| {
        let mut parts = item.split(';');
        let (kind, sub) = parts.next()?.trim().split_once('/')?;
        let (kind, sub) = (kind.trim(), sub.trim());
        if kind.is_empty() || sub.is_empty() || (kind == "*" && sub != "*") {
            return None;
        }
        let mut q = 1.0;
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                // A q that is not a number in 0..=1 is malformed: ignore
                // it and keep the default rather than drop the range.
                if let Ok(v) = value.trim().parse::<f32>()
                    && (0.0..=1.0).contains(&v)
                {
                    q = v;
                }
            }
        }
        Some(Range { kind, sub, q })
    })
}

/// Whether an `Accept` value states no preference at all: empty, only
/// malformed ranges, or only `*/*` (what curl and most libraries send).
/// Traefik's route then falls back to the request's `Content-Type`.
pub fn is_indifferent(accept: &str) -> bool {
    parse(accept).all(|r| r.kind == "*" && r.q > 0.0)
}

/// How specifically `range` names `format` (2 exact, 1 `type/*`, 0 `*/*`),
/// or `None` if it does not.
fn specificity(range: &Range<'_>, format: Format) -> Option<u8> {
    format
        .media_types()
        .iter()
        .filter_map(|(kind, sub)| {
            if range.kind == "*" {
                Some(0)
            } else if !range.kind.eq_ignore_ascii_case(kind) {
                None
            } else if range.sub == "*" {
                Some(1)
            } else if range.sub.eq_ignore_ascii_case(sub) {
                Some(2)
            } else {
                None
            }
        })
        .max()
}

/// Picks the format for an `Accept` value among `available` (in order of
/// preference; the first is the default).
///
/// Each format takes the q of the most specific range naming it (so
/// `*/*;q=1, application/xml;q=0` excludes XML). The highest q wins; on a
/// tie the range listed first in the header wins, then the order of
/// `available`. `q=0` excludes; malformed ranges are skipped and malformed
/// parameters ignored. When nothing acceptable matches, the first available
/// format (JSON by default) is the answer, as a client that can take
/// nothing we have still gets an error body; with nothing available, JSON.
pub fn negotiate(accept: &str, available: &[Format]) -> Format {
    // With one format on offer every Accept ends in it (the default is the
    // first offered), so there is nothing to parse.
    if let [only] = available {
        return *only;
    }
    let default = available.first().copied().unwrap_or(Format::Json);
    if !accept.contains(',') {
        // One range (what ingress-nginx's X-Format usually carries): every
        // format it names gets its q, so the first of those on offer wins.
        return parse(accept)
            .next()
            .filter(|range| range.q > 0.0)
            .and_then(|range| {
                available
                    .iter()
                    .copied()
                    .find(|&f| specificity(&range, f).is_some())
            })
            .unwrap_or(default);
    }
    negotiate_ranges(accept, available)
}

/// [`negotiate`] over any number of ranges.
fn negotiate_ranges(accept: &str, available: &[Format]) -> Format {
    let ranges = parse(accept);
    let default = available.first().copied().unwrap_or(Format::Json);
    let mut best: Option<(f32, usize, usize, Format)> = None;
    for (pref, &format) in available.iter().enumerate() {
        // The most specific range decides; among equally specific ones, the
        // first listed.
        let mut chosen: Option<(u8, usize, f32)> = None;
        for (index, range) in ranges.clone().enumerate() {
            if let Some(s) = specificity(&range, format)
                && chosen.is_none_or(|(cs, _, _)| s > cs)
            {
                chosen = Some((s, index, range.q));
            }
        }
        let Some((_, index, q)) = chosen else {
            continue;
        };
        if q <= 0.0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((bq, bi, bp, _)) => q > bq || (q == bq && (index, pref) < (bi, bp)),
        };
        if better {
            best = Some((q, index, pref, format));
        }
    }
    best.map_or(default, |(_, _, _, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: [Format; 2] = [Format::Json, Format::Xml];

    /// The one-range and one-format short cuts answer as the general
    /// algorithm does.
    #[test]
    fn short_cuts_agree_with_the_general_rule() {
        let accepts = [
            "",
            "application/json",
            "application/xml",
            "APPLICATION/XML",
            "text/xml;q=0.5",
            "application/xml;q=0",
            "application/*",
            "text/*",
            "*/*",
            "*/*;q=0",
            "*/xml",
            "text/html",
            "text/plain;q=0.3",
            "application/problem+json",
            "application/xhtml+xml;q=0",
            "garbage",
            "application/xml; charset=utf-8; q=0.9",
            " application/xml ;q=1.5",
        ];
        let all_reversed = [
            Format::Problem,
            Format::Text,
            Format::Html,
            Format::Xml,
            Format::Json,
        ];
        let offers: [&[Format]; 6] = [
            &BOTH,
            &[Format::Xml, Format::Json],
            &[Format::Json],
            &[],
            &Format::ALL,
            &all_reversed,
        ];
        for accept in accepts {
            for available in offers {
                let general = if available.is_empty() {
                    Format::Json
                } else {
                    negotiate_ranges(accept, available)
                };
                assert_eq!(
                    negotiate(accept, available),
                    general,
                    "{accept:?} {available:?}"
                );
            }
        }
    }

    #[test]
    fn exact_types_and_order_breaks_ties() {
        assert_eq!(negotiate("application/xml", &BOTH), Format::Xml);
        assert_eq!(negotiate("text/xml; charset=utf-8", &BOTH), Format::Xml);
        assert_eq!(negotiate("application/json", &BOTH), Format::Json);
        assert_eq!(
            negotiate("application/xml, application/json", &BOTH),
            Format::Xml
        );
        assert_eq!(
            negotiate("application/json, application/xml", &BOTH),
            Format::Json
        );
    }

    #[test]
    fn q_values_are_honoured_and_zero_excludes() {
        assert_eq!(
            negotiate("application/xml;q=0.5, application/json;q=0.9", &BOTH),
            Format::Json
        );
        assert_eq!(
            negotiate("application/json;q=0.1, application/xml", &BOTH),
            Format::Xml
        );
        assert_eq!(negotiate("*/*, application/json;q=0", &BOTH), Format::Xml);
        // Nothing acceptable: the default.
        assert_eq!(
            negotiate("application/xml;q=0, application/json;q=0", &BOTH),
            Format::Json
        );
    }

    #[test]
    fn wildcards_and_no_match_give_json() {
        assert_eq!(negotiate("*/*", &BOTH), Format::Json);
        assert_eq!(negotiate("application/*", &BOTH), Format::Json);
        assert_eq!(
            negotiate("application/*;q=0.5, text/xml;q=0.4", &BOTH),
            Format::Json
        );
        assert_eq!(negotiate("text/html", &BOTH), Format::Json);
        assert_eq!(negotiate("", &BOTH), Format::Json);
        // Only JSON available: XML is never chosen.
        assert_eq!(negotiate("application/xml", &[Format::Json]), Format::Json);
        // A browser: XML at 0.9 beats */* at 0.8.
        assert_eq!(
            negotiate(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                &BOTH
            ),
            Format::Xml
        );
    }

    #[test]
    fn indifference() {
        assert!(is_indifferent(""));
        assert!(is_indifferent("*/*"));
        assert!(is_indifferent("*/*;q=0.8, nonsense"));
        assert!(!is_indifferent("*/*;q=0"));
        assert!(!is_indifferent("application/json, */*"));
        assert!(!is_indifferent("text/html"));
    }

    #[test]
    fn malformed_parts_are_ignored() {
        assert_eq!(negotiate("application/xml;q=abc", &BOTH), Format::Xml);
        assert_eq!(negotiate("application/xml;q=7", &BOTH), Format::Xml);
        assert_eq!(negotiate("application/xml;;foo", &BOTH), Format::Xml);
        assert_eq!(negotiate("garbage, application/xml", &BOTH), Format::Xml);
        assert_eq!(negotiate("*/xml", &BOTH), Format::Json);
        assert_eq!(negotiate(",,;q=1", &BOTH), Format::Json);
    }

    const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    #[test]
    fn every_format_has_its_media_type() {
        let all = Format::ALL;
        assert_eq!(negotiate(BROWSER, &all), Format::Html);
        assert_eq!(negotiate("*/*", &all), Format::Json);
        assert_eq!(negotiate("application/problem+json", &all), Format::Problem);
        assert_eq!(
            negotiate("application/problem+json, application/json;q=0.9", &all),
            Format::Problem
        );
        assert_eq!(negotiate("text/plain", &all), Format::Text);
        assert_eq!(negotiate("application/xhtml+xml", &all), Format::Html);
        // Without HTML on offer, a browser still gets what it would today.
        assert_eq!(negotiate(BROWSER, &BOTH), Format::Xml);
    }

    #[test]
    fn offers_keep_the_settings_order_once_each() {
        let offer = Offer::new(
            &[Format::Html, Format::Xml, Format::Html, Format::Json],
            |f| f != Format::Xml,
        );
        assert_eq!(offer.as_slice(), [Format::Html, Format::Json]);
        assert_eq!(offer.default_format(), Format::Html);
        let none = Offer::new(&[Format::Xml], |f| f != Format::Xml);
        assert_eq!(none.as_slice(), []);
        assert_eq!(none.default_format(), Format::Json);
    }
}
