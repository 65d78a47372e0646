//! Properties of applying Error Overrides on rule sets from a small
//! grammar: it never panics, a response is always whole (a status net/http
//! can send, or `no_response` with a reason and nothing else), and the same
//! input gives the same answer.

use std::sync::Arc;

use error_render::TemplateSet;
use error_render::error_overrides::{
    ApiRules, ErrorOverrides, GatewayError, Options, Outcome, Rule, RuleMap, UpstreamResponse,
};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("403".to_owned()),
        Just("4xx".to_owned()),
        Just("5xx".to_owned()),
        Just("500".to_owned()),
        Just("+403".to_owned()),
        Just("4XX".to_owned()),
        Just("".to_owned()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("plain".to_owned()),
        Just("{{.Message}}".to_owned()),
        Just("{{.Nope}}".to_owned()),
        Just("{{ .Message }}".to_owned()),
        Just("<a href=\"{{.Message}}\">".to_owned()),
        Just("{{.Message".to_owned()),
        Just("{{.}}".to_owned()),
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        prop_oneof![Just(""), Just("AKI"), Just("URS"), Just("QEX")],
        prop_oneof![Just(""), Just("^Key"), Just("("), Just(r"\d")],
        prop_oneof![Just(""), Just("error.code")],
        prop::sample::select(vec![-2i64, 0, 200, 204, 304, 401, 599, 1000]),
        text(),
        prop_oneof![Just(""), Just("error"), Just("error_missing"), Just("my_error")],
        prop_oneof![Just(""), Just("custom")],
        prop_oneof![Just(None), Just(Some(("X-A", "1"))), Just(Some(("content-type", "text/plain")))],
    )
        .prop_map(|(flag, pattern, field, status, body, template, message, header)| {
            serde_json::from_value(serde_json::json!({
                "match": {"flag": flag, "message_pattern": pattern, "body_field": field, "body_value": "E1"},
                "response": {
                    "status_code": status,
                    "body": body,
                    "template": template,
                    "message": message,
                    "headers": header.map(|(k, v)| serde_json::json!({k: v})).unwrap_or(serde_json::json!({})),
                }
            }))
            .unwrap()
        })
}

fn rules() -> impl Strategy<Value = RuleMap> {
    proptest::collection::btree_map(key(), proptest::collection::vec(rule(), 0..3), 0..3)
}

fn set() -> Arc<TemplateSet> {
    Arc::new(TemplateSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/templates")).unwrap())
}

fn whole(r: &error_render::error_overrides::Response) -> Result<(), TestCaseError> {
    match r.outcome {
        Outcome::NoResponse => {
            prop_assert_eq!(r.status, 0);
            prop_assert!(r.header_lines.is_empty() && r.body.is_empty());
            prop_assert!(r.error.is_some());
        }
        _ => prop_assert!((100..=999).contains(&r.status), "status {}", r.status),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn gateway_errors_always_get_a_whole_answer(
        gw in rules(), api in rules(), disabled in any::<bool>(),
        code in prop_oneof![Just(401i64), Just(403), Just(500)],
        flag in prop_oneof![Just(None), Just(Some("AKI".to_owned()))],
        ct in prop_oneof![Just(None), Just(Some("application/xml".to_owned()))],
    ) {
        let eo = ErrorOverrides::new(set(), &gw, Options::default());
        let api = ApiRules::new("a", &api, disabled);
        let err = GatewayError { code, message: "Key not authorised".into(), flag, content_type: ct, ..GatewayError::default() };
        let first = eo.gateway_error(Some(&api), &err);
        whole(&first)?;
        prop_assert_eq!(first, eo.gateway_error(Some(&api), &err));
    }

    #[test]
    fn upstream_responses_always_get_a_whole_answer(
        gw in rules(), api in rules(),
        status in prop_oneof![Just(200i64), Just(404), Just(500), Just(503)],
        body in prop_oneof![Just(String::new()), Just(r#"{"error": {"code": "E1"}}"#.to_owned()), Just("x".repeat(5000))],
    ) {
        let eo = ErrorOverrides::new(set(), &gw, Options::default());
        let api = ApiRules::new("a", &api, false);
        let res = UpstreamResponse { status, headers: vec![("X-Up".into(), "1".into())], body: body.into_bytes(), request_content_type: None };
        let first = eo.upstream(Some(&api), &res);
        whole(&first)?;
        prop_assert_eq!(first, eo.upstream(Some(&api), &res));
    }
}
