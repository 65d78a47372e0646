//! The gateway's published catalogue of error responses, compiled into the
//! binary, plus the gateway's 11 overridable error IDs.
//!
//! STUB: interface fixed, data to be filled in (see data/catalogue.json).

/// One published error: a status code and message with guidance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// The catalogue: published entries and override IDs.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    entries: Vec<Entry>,
    override_ids: Vec<OverrideId>,
}

impl Catalogue {
    /// The catalogue compiled into this build.
    pub fn builtin() -> &'static Catalogue {
        static BUILTIN: std::sync::LazyLock<Catalogue> =
            std::sync::LazyLock::new(Catalogue::default);
        &BUILTIN
    }
    /// Every published entry, in catalogue order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    /// The gateway's override IDs.
    pub fn override_ids(&self) -> &[OverrideId] {
        &self.override_ids
    }
    /// The entry with that id.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }
    /// The override ID record with that id.
    pub fn override_id(&self, id: &str) -> Option<&OverrideId> {
        self.override_ids.iter().find(|o| o.id == id)
    }
    /// The entry for a code whose gateway message or published title is `message`.
    pub fn find(&self, code: u16, message: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.code == code && (e.message == message || e.title == message))
    }
    /// The entry marked as `code`'s default message.
    pub fn default_for(&self, code: u16) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.code == code && e.default_for_code)
    }
}

/// The standard reason phrase of an HTTP status (502 → `Bad Gateway`).
pub fn reason_phrase(code: u16) -> Option<&'static str> {
    http_reason(code)
}

fn http_reason(code: u16) -> Option<&'static str> {
    axum::http::StatusCode::from_u16(code)
        .ok()?
        .canonical_reason()
}
