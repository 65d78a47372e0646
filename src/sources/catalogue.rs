//! The gateway's published catalogue of error responses, compiled into the
//! binary, plus the gateway's 11 overridable error IDs.
//!
//! The data lives in `data/catalogue.json` (the source of truth, edited by
//! hand) and is parsed once, on first use, by [`Catalogue::builtin`].
//!
//! # Entries
//!
//! Every row of Tyk's "Error Response Status Codes" page (108 rows) is an
//! [`Entry`]. `title` and `action` are the published text, unchanged
//! (typographic apostrophes included). `message` is what the gateway really
//! sends, which differs from the published text for a few rows: `Quota
//! exceeded`, `Service temporarily unavailable.`, `Upstream service reached
//! hard timeout.`, `Authorization field missing`, `depth limit exceeded`,
//! `Key not authorized: Unexpected signing method` (American spelling), `Key
//! not authorised. OAuth client access was revoked`, `Upstream host lookup
//! failed`, `Can't detect loop target` (ASCII apostrophe) and `Key is
//! inactive, please renew`. `Request with empty authorization header` is the
//! name of a JWT test case, not a message: the client gets `Authorization
//! field missing`.
//!
//! # Default message per code
//!
//! When a caller gives only a status, the renderer uses the entry marked
//! `default_for_code`: the message the gateway most often sends with that
//! code on the proxy path (the only path that renders error templates).
//!
//! | Code | Default message | Why |
//! |---|---|---|
//! | 400 | `Authorization field missing` | JWT and Tyk OAuth answer a missing `Authorization` header with 400; request-size and validation 400s only fire when configured |
//! | 401 | `Authorization field missing` | auth-token and basic auth, no credentials (`auth.auth_field_missing`) |
//! | 403 | `Access to this API has been disallowed` | unknown key (`auth.key_not_found`) and access-rights checks |
//! | 405 | `Method not supported` | both published 405s come from the Gateway API; this is the generic one (the other is about a malformed body) |
//! | 411 | `Content length is required for this request` | the only 411 |
//! | 429 | `API Rate Limit Exceeded` | API-level rate limit |
//! | 499 | `Client closed request` | the only 499 |
//! | 500 | `There was a problem proxying the request` | any proxy failure |
//! | 503 | `Service temporarily unavailable.` | circuit breaker open (`All hosts are down` is plain text from a stub upstream, never templated) |
//! | 504 | `Upstream service reached hard timeout.` | the only 504 |
//!
//! 404 and 507 have no default, so the HTTP reason phrase is used. Every
//! published 404 and 507 comes from the Gateway API, which does not use the
//! templates, and the proxy's own 404 for an unknown listen path is the body
//! `Not Found`, which is exactly the reason phrase.
//!
//! # Override IDs
//!
//! The 11 IDs of `override_messages` are [`OverrideId`] records in the
//! gateway's order, with its default code and message. `entry` links each to
//! the published entry with the same code and message; four have none:
//! `auth.cert_expired` (`Certificate has expired`), `auth.cert_required`
//! (`Client certificate required`, 401, not the published 403 `Client TLS
//! certificate is required`), `auth.cert_mismatch` (401 `Access to this API
//! has been disallowed`, only published for 400 and 403) and
//! `oauth.key_not_found` (403 `Key not authorised`, only published as 400
//! `Key not authorized`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The catalogue data compiled into this build (`data/catalogue.json`).
pub const BUILTIN_JSON: &str = include_str!("../../data/catalogue.json");

/// One published error: a status code and message with guidance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Stable id, `<code>-<slug of the published message>`.
    pub id: String,
    /// The HTTP status.
    pub code: u16,
    /// The message the gateway actually sends (its exact wording).
    pub message: String,
    /// The message as published in the catalogue.
    pub title: String,
    /// The catalogue's recommended action.
    pub action: String,
    /// Whether this is the message used for `code` when a caller gives none.
    #[serde(default)]
    pub default_for_code: bool,
}

/// One of the gateway's `override_messages` IDs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideId {
    /// The ID, e.g. `auth.key_not_found`.
    pub id: String,
    /// The gateway's default code.
    pub code: u16,
    /// The gateway's default message.
    pub message: String,
    /// The catalogue entry this error belongs to, when published.
    pub entry: Option<String>,
}

/// Why catalogue data could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// The text is not catalogue JSON.
    #[error("catalogue data does not parse: {0}")]
    Json(#[from] serde_json::Error),
    /// The data parses but breaks a rule (duplicate id, dangling reference...).
    #[error("catalogue data is inconsistent: {0}")]
    Invalid(String),
}

/// The layout of `data/catalogue.json`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    /// Where the data comes from; only for people reading the file.
    #[serde(rename = "source")]
    _source: String,
    entries: Vec<Entry>,
    override_ids: Vec<OverrideId>,
}

/// The catalogue: published entries and override IDs.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    entries: Vec<Entry>,
    override_ids: Vec<OverrideId>,
    index: Index,
}

/// Positions in `entries` and `override_ids`, built once, so the render
/// path looks entries up by hash instead of scanning 108 rows.
#[derive(Debug, Clone, Default)]
struct Index {
    by_id: HashMap<String, usize>,
    override_by_id: HashMap<String, usize>,
    /// Each code's entries, in catalogue order (so "first match" is kept).
    /// A BTreeMap: for a few dozen `u16` keys it beats hashing them.
    by_code: BTreeMap<u16, Vec<usize>>,
    default_for: BTreeMap<u16, usize>,
}

impl Index {
    fn new(entries: &[Entry], override_ids: &[OverrideId]) -> Self {
        let mut index = Index::default();
        for (i, e) in entries.iter().enumerate() {
            index.by_id.entry(e.id.clone()).or_insert(i);
            index.by_code.entry(e.code).or_default().push(i);
            if e.default_for_code {
                index.default_for.entry(e.code).or_insert(i);
            }
        }
        for (i, o) in override_ids.iter().enumerate() {
            index.override_by_id.entry(o.id.clone()).or_insert(i);
        }
        index
    }
}

impl Catalogue {
    /// The catalogue compiled into this build.
    ///
    /// # Panics
    ///
    /// On first use, if the compiled-in `data/catalogue.json` is broken. That
    /// is a bug in the build, not a runtime condition; a unit test proves the
    /// shipped data loads.
    pub fn builtin() -> &'static Catalogue {
        static BUILTIN: std::sync::LazyLock<Catalogue> = std::sync::LazyLock::new(|| {
            Catalogue::from_json(BUILTIN_JSON).unwrap_or_else(|e| {
                panic!("the compiled-in data/catalogue.json is broken (a build bug): {e}")
            })
        });
        &BUILTIN
    }

    /// A catalogue from JSON laid out like `data/catalogue.json`, checked for
    /// unique ids, at most one default per code and resolvable `entry` links.
    pub fn from_json(text: &str) -> Result<Catalogue, CatalogueError> {
        let file: CatalogueFile = serde_json::from_str(text)?;
        let catalogue = Catalogue {
            index: Index::new(&file.entries, &file.override_ids),
            entries: file.entries,
            override_ids: file.override_ids,
        };
        catalogue.check()?;
        Ok(catalogue)
    }

    fn check(&self) -> Result<(), CatalogueError> {
        let invalid = |m: String| Err(CatalogueError::Invalid(m));
        let mut ids = BTreeSet::new();
        let mut defaults: BTreeMap<u16, &str> = BTreeMap::new();
        for e in &self.entries {
            if !ids.insert(e.id.as_str()) {
                return invalid(format!("entry id {:?} appears twice", e.id));
            }
            if e.default_for_code
                && let Some(other) = defaults.insert(e.code, &e.id)
            {
                return invalid(format!(
                    "code {} has two defaults: {other:?} and {:?}",
                    e.code, e.id
                ));
            }
        }
        let mut override_ids = BTreeSet::new();
        for o in &self.override_ids {
            if !override_ids.insert(o.id.as_str()) {
                return invalid(format!("override ID {:?} appears twice", o.id));
            }
            if let Some(entry) = &o.entry
                && !ids.contains(entry.as_str())
            {
                return invalid(format!(
                    "override ID {:?} links to entry {entry:?}, which does not exist",
                    o.id
                ));
            }
        }
        Ok(())
    }

    /// Every published entry, in catalogue order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    /// The gateway's override IDs, in the gateway's order.
    pub fn override_ids(&self) -> &[OverrideId] {
        &self.override_ids
    }
    /// The entry with that id.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entry_index(id).map(|i| &self.entries[i])
    }
    /// The position in [`entries`](Self::entries) of the entry with that id.
    pub fn entry_index(&self, id: &str) -> Option<usize> {
        self.index.by_id.get(id).copied()
    }
    /// The override ID record with that id.
    pub fn override_id(&self, id: &str) -> Option<&OverrideId> {
        self.override_index(id).map(|i| &self.override_ids[i])
    }
    /// The position in [`override_ids`](Self::override_ids) of that id.
    pub fn override_index(&self, id: &str) -> Option<usize> {
        self.index.override_by_id.get(id).copied()
    }
    /// The first entry (in catalogue order) for a code whose gateway message
    /// or published title is `message`.
    pub fn find(&self, code: u16, message: &str) -> Option<&Entry> {
        self.find_index(code, message).map(|i| &self.entries[i])
    }
    /// The position of [`find`](Self::find)'s entry.
    pub fn find_index(&self, code: u16, message: &str) -> Option<usize> {
        self.index.by_code.get(&code)?.iter().copied().find(|&i| {
            let e = &self.entries[i];
            e.message == message || e.title == message
        })
    }
    /// The entry marked as `code`'s default message.
    pub fn default_for(&self, code: u16) -> Option<&Entry> {
        self.index.default_for.get(&code).map(|&i| &self.entries[i])
    }
}

/// The standard reason phrase of an HTTP status (502 → `Bad Gateway`).
pub fn reason_phrase(code: u16) -> Option<&'static str> {
    http_reason(code)
}

fn http_reason(code: u16) -> Option<&'static str> {
    http::StatusCode::from_u16(code).ok()?.canonical_reason()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_data_parses_and_is_consistent() {
        // from_json rather than builtin() so a failure shows the error
        // instead of a poisoned LazyLock.
        let c = match Catalogue::from_json(BUILTIN_JSON) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(c.entries().len(), 108);
        assert_eq!(c.override_ids().len(), 11);
        assert_eq!(Catalogue::builtin().entries().len(), 108);
    }

    #[test]
    fn inconsistent_data_is_rejected() {
        let two = r#"{"source": "", "override_ids": [], "entries": [
            {"id": "a", "code": 400, "message": "m", "title": "t", "action": ""},
            {"id": "a", "code": 401, "message": "m", "title": "t", "action": ""}]}"#;
        assert!(matches!(
            Catalogue::from_json(two),
            Err(CatalogueError::Invalid(_))
        ));
        let dangling = r#"{"source": "", "entries": [], "override_ids": [
            {"id": "x", "code": 400, "message": "m", "entry": "nope"}]}"#;
        assert!(matches!(
            Catalogue::from_json(dangling),
            Err(CatalogueError::Invalid(_))
        ));
        assert!(matches!(
            Catalogue::from_json("{"),
            Err(CatalogueError::Json(_))
        ));
    }

    #[test]
    fn reason_phrases() {
        assert_eq!(reason_phrase(502), Some("Bad Gateway"));
        assert_eq!(reason_phrase(404), Some("Not Found"));
    }
}
