//! `override_messages`: the gateway's replacements for the code and text of
//! its built-in auth errors, from a `tyk.conf` or a standalone YAML/JSON file.
//!
//! STUB: interface fixed, parsing to be filled in.

use std::collections::BTreeMap;

/// One configured override: either half may be absent (zero/empty in Go),
/// in which case the gateway's default is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverrideMessage {
    /// The replacement status code, when non-zero.
    pub code: Option<u16>,
    /// The replacement message, when non-empty.
    pub message: Option<String>,
}

/// A set of overrides keyed by gateway error ID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    entries: BTreeMap<String, OverrideMessage>,
}

impl Overrides {
    /// Overrides from (id, override) pairs.
    pub fn from_entries(entries: impl IntoIterator<Item = (String, OverrideMessage)>) -> Self {
        Overrides {
            entries: entries.into_iter().collect(),
        }
    }
    /// Whether no override is configured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The override configured for `id`.
    pub fn get(&self, id: &str) -> Option<&OverrideMessage> {
        self.entries.get(id)
    }
    /// Every configured (id, override), sorted by id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &OverrideMessage)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }
}
