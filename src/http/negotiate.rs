//! `Accept` negotiation between the two formats a template set can answer
//! in, for the proxy protocols (ingress-nginx's `X-Format`, Traefik's
//! forwarded `Accept`) that carry the client's wishes rather than the
//! gateway's `Content-Type` rule.

pub use crate::format::Format;

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
/// format (JSON) is the answer, as a client that can take nothing we have
/// still gets an error body.
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
            "garbage",
            "application/xml; charset=utf-8; q=0.9",
            " application/xml ;q=1.5",
        ];
        let offers: [&[Format]; 4] = [&BOTH, &[Format::Xml, Format::Json], &[Format::Json], &[]];
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
}
