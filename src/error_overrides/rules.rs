//! The rule model as the gateway decodes it: `error_overrides` maps a status
//! key (`"403"`, `"4xx"`) to a list of rules, each an optional matcher and a
//! response. Field names are the classic (snake_case) ones; OAS definitions
//! are converted to these by the reader.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `error_overrides`: status key, as written, to its rules in order.
///
/// Key order carries no meaning for the gateway (it is a Go map); two keys
/// for the same slot (`"403"` and `"0403"`) are resolved in random order
/// there, and are reported as a warning here.
pub type RuleMap = BTreeMap<String, Vec<Rule>>;

/// One rule: when it applies, and what it answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// What the error must look like; absent means every error of the key.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matcher: Option<Matcher>,
    /// The answer.
    #[serde(default, deserialize_with = "null_as_default")]
    pub response: RuleResponse,
}

/// A rule's criteria. Empty strings mean "not set", as in Go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Matcher {
    /// The error classification flag (`AKI`, `RLT`, `URS` ...), compared as text.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub flag: String,
    /// A Go RE2 pattern, matched (unanchored) against the message or body.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub message_pattern: String,
    /// A gjson path into the upstream body (upstream responses only).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub body_field: String,
    /// The value `body_field` must have, as gjson's `String()` prints it.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub body_value: String,
}

/// A rule's answer. Empty strings and a zero status mean "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleResponse {
    /// The status to answer with; 0 keeps the original.
    #[serde(deserialize_with = "null_as_default")]
    pub status_code: i64,
    /// A literal body, or an inline template when it contains `{{.`.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub body: String,
    /// The message given to templates (and to the legacy template).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub message: String,
    /// The name of a loaded template (`error_upstream`), without extension.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub template: String,
    /// Headers set on the response (replacing earlier values of the name).
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub headers: BTreeMap<String, String>,
}

impl Matcher {
    /// Whether any criterion is set (a matcher without one matches all).
    pub fn has_criteria(&self) -> bool {
        !self.flag.is_empty()
            || !self.message_pattern.is_empty()
            || (!self.body_field.is_empty() && !self.body_value.is_empty())
    }
}

/// Go's `encoding/json` leaves a field at its zero value for `null`.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
