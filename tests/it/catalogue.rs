//! The built-in catalogue against the published table it was generated from
//! (`tests/data/tyk-error-status-codes.txt`) and the gateway's override IDs.

use std::collections::{BTreeMap, BTreeSet};

use error_render::catalogue::{Catalogue, reason_phrase};
use error_render::overrides::GATEWAY_ERROR_IDS;

const SEED: &str = include_str!("../data/tyk-error-status-codes.txt");

/// The seed's table rows: `code | message | action |`.
fn seed_rows() -> Vec<(u16, String, String)> {
    SEED.lines()
        .filter_map(|line| {
            let mut cells = line.split('|');
            let code = cells.next()?.trim().parse::<u16>().ok()?;
            let title = cells.next()?.trim().to_owned();
            let action = cells.next()?.trim().to_owned();
            assert_eq!(cells.next().map(str::trim), Some(""), "row {line:?}");
            Some((code, title, action))
        })
        .collect()
}

/// The id rule: code, then the published message lower-cased, typographic
/// apostrophes dropped, other non-alphanumerics collapsed to `-`.
fn slug_id(code: u16, title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().filter(|&c| c != '\u{2019}') {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    format!("{code}-{}", slug.trim_end_matches('-'))
}

#[test]
fn every_seed_row_is_an_entry_exactly_once() {
    let rows = seed_rows();
    assert_eq!(rows.len(), 108);
    let entries = Catalogue::builtin().entries();
    assert_eq!(entries.len(), 108);
    for (code, title, action) in &rows {
        let matching: Vec<_> = entries
            .iter()
            .filter(|e| e.code == *code && e.title == *title && e.action == *action)
            .collect();
        assert_eq!(matching.len(), 1, "{code} {title:?}");
        assert_eq!(matching[0].id, slug_id(*code, title));
    }
    // Same order as published.
    let order: Vec<_> = entries.iter().map(|e| (e.code, e.title.clone())).collect();
    let seed_order: Vec<_> = rows.iter().map(|(c, t, _)| (*c, t.clone())).collect();
    assert_eq!(order, seed_order);
}

#[test]
fn ids_are_unique_and_shaped() {
    let entries = Catalogue::builtin().entries();
    let ids: BTreeSet<_> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), entries.len());
    for id in ids {
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{id}"
        );
        assert!(!id.ends_with('-') && !id.contains("--"), "{id}");
    }
    let c = Catalogue::builtin();
    assert!(c.entry("403-quota-exceeded").is_some());
    assert!(c.entry("400-couldnt-decode-instruction").is_some());
}

#[test]
fn messages_use_the_gateways_wording() {
    let c = Catalogue::builtin();
    let cases = [
        ("403-quota-exceeded", "Quota exceeded"),
        (
            "503-service-temporarily-unavailable",
            "Service temporarily unavailable.",
        ),
        (
            "504-upstream-service-reached-hard-timeout",
            "Upstream service reached hard timeout.",
        ),
        (
            "400-authorization-field-missing",
            "Authorization field missing",
        ),
        (
            "401-authorization-field-missing",
            "Authorization field missing",
        ),
        ("403-depth-limit-exceeded", "depth limit exceeded"),
        (
            "403-key-not-authorised-unexpected-signing-method",
            "Key not authorized: Unexpected signing method",
        ),
        (
            "403-key-not-authorised-oauth-client-access-was-revoked",
            "Key not authorised. OAuth client access was revoked",
        ),
        (
            "400-request-with-empty-authorization-header",
            "Authorization field missing",
        ),
        (
            "500-upstreaming-host-lookup-failed",
            "Upstream host lookup failed",
        ),
        ("500-cant-detect-loop-target", "Can't detect loop target"),
        (
            "403-key-is-not-active-please-renew",
            "Key is inactive, please renew",
        ),
        // Unchanged where the gateway says what is published.
        (
            "500-there-was-a-problem-proxying-the-request",
            "There was a problem proxying the request",
        ),
    ];
    for (id, message) in cases {
        let e = c.entry(id).unwrap_or_else(|| panic!("no entry {id}"));
        assert_eq!(e.message, message, "{id}");
    }
    // The published text stays as published.
    let e = c.entry("500-cant-detect-loop-target").unwrap();
    assert_eq!(e.title, "Can\u{2019}t detect loop target");
}

#[test]
fn override_ids_have_the_gateways_defaults() {
    let c = Catalogue::builtin();
    let expected: [(&str, u16, &str, Option<&str>); 11] = [
        (
            "auth.auth_field_missing",
            401,
            "Authorization field missing",
            Some("401-authorization-field-missing"),
        ),
        (
            "auth.key_not_found",
            403,
            "Access to this API has been disallowed",
            Some("403-access-to-this-api-has-been-disallowed"),
        ),
        (
            "auth.cert_not_found",
            403,
            "Access to this API has been disallowed",
            Some("403-access-to-this-api-has-been-disallowed"),
        ),
        (
            "auth.key_is_invalid",
            403,
            "Access to this API has been disallowed",
            Some("403-access-to-this-api-has-been-disallowed"),
        ),
        ("auth.cert_expired", 403, "Certificate has expired", None),
        (
            "auth.cert_required",
            401,
            "Client certificate required",
            None,
        ),
        (
            "auth.cert_mismatch",
            401,
            "Access to this API has been disallowed",
            None,
        ),
        (
            "oauth.auth_field_missing",
            400,
            "Authorization field missing",
            Some("400-authorization-field-missing"),
        ),
        (
            "oauth.auth_field_malformed",
            400,
            "Bearer token malformed",
            Some("400-bearer-token-malformed"),
        ),
        ("oauth.key_not_found", 403, "Key not authorised", None),
        (
            "oauth.client_deleted",
            403,
            "Key not authorised. OAuth client access was revoked",
            Some("403-key-not-authorised-oauth-client-access-was-revoked"),
        ),
    ];
    let got: Vec<_> = c
        .override_ids()
        .iter()
        .map(|o| {
            (
                o.id.as_str(),
                o.code,
                o.message.as_str(),
                o.entry.as_deref(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(
        c.override_ids()
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        GATEWAY_ERROR_IDS
    );
}

#[test]
fn every_entry_reference_resolves_to_the_same_error() {
    let c = Catalogue::builtin();
    for o in c.override_ids() {
        if let Some(id) = &o.entry {
            let e = c
                .entry(id)
                .unwrap_or_else(|| panic!("{} links to missing {id}", o.id));
            assert_eq!((e.code, e.message.as_str()), (o.code, o.message.as_str()));
        }
        assert_eq!(c.override_id(&o.id), Some(o));
    }
}

#[test]
fn at_most_one_default_per_code() {
    let c = Catalogue::builtin();
    let mut defaults: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for e in c.entries().iter().filter(|e| e.default_for_code) {
        defaults.entry(e.code).or_default().push(&e.message);
    }
    for (code, messages) in &defaults {
        assert_eq!(messages.len(), 1, "{code}: {messages:?}");
    }
    let chosen: BTreeMap<u16, &str> = defaults.iter().map(|(c, m)| (*c, m[0])).collect();
    assert_eq!(
        chosen,
        BTreeMap::from([
            (400, "Authorization field missing"),
            (401, "Authorization field missing"),
            (403, "Access to this API has been disallowed"),
            (405, "Method not supported"),
            (411, "Content length is required for this request"),
            (429, "API Rate Limit Exceeded"),
            (499, "Client closed request"),
            (500, "There was a problem proxying the request"),
            (503, "Service temporarily unavailable."),
            (504, "Upstream service reached hard timeout."),
        ])
    );
    assert_eq!(c.default_for(404), None);
    assert_eq!(c.default_for(507), None);
}

#[test]
fn find_matches_gateway_message_or_title() {
    let c = Catalogue::builtin();
    let by_message = c.find(403, "Quota exceeded").map(|e| e.id.as_str());
    let by_title = c.find(403, "Quota Exceeded").map(|e| e.id.as_str());
    assert_eq!(by_message, Some("403-quota-exceeded"));
    assert_eq!(by_title, Some("403-quota-exceeded"));
    assert_eq!(c.find(401, "Quota exceeded"), None);
    // Two 400 entries send `Authorization field missing`; the first, the
    // code's default, wins.
    assert_eq!(
        c.find(400, "Authorization field missing")
            .map(|e| e.id.as_str()),
        Some("400-authorization-field-missing")
    );
}

#[test]
fn reason_phrase_is_the_http_one() {
    assert_eq!(reason_phrase(404), Some("Not Found"));
    assert_eq!(reason_phrase(507), Some("Insufficient Storage"));
    assert_eq!(reason_phrase(499), None);
}
