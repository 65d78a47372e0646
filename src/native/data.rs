//! The data a native template sees: the same names as the Go templates'
//! (`StatusCode`, `Message`, `Title`, `Action`, `ID`, the request-context
//! fields), plus `Reason` and, for problem details, `Type` and `Instance`.

/// `type` of a problem whose type is not known (RFC 9457, section 4.2.1).
pub const ABOUT_BLANK: &str = "about:blank";

/// One error, as the native templates are given it. Strings are raw: each
/// kind's escaper runs when a template prints them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NativeData {
    /// The HTTP status (`StatusCode`, a number).
    pub status: u16,
    /// The message (`Message`).
    pub message: String,
    /// The catalogue entry's published title (`Title`), empty when none.
    pub title: String,
    /// The catalogue entry's recommended action (`Action`), empty when none.
    pub action: String,
    /// The catalogue entry's id (`ID`), empty when none.
    pub id: String,
    /// Request-context fields (`RequestID` ...), the Go path's
    /// `ErrorRequest::fields`; set after the names above, as in Go, so a
    /// field of the same name wins.
    pub fields: Vec<(String, String)>,
    /// The problem type URI (`Type`); [`ABOUT_BLANK`] when `None`.
    pub problem_type: Option<String>,
    /// The request's original URI (`Instance`); an empty string when `None`.
    pub instance: Option<String>,
}

impl NativeData {
    /// An error with this status and message and nothing else known.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        NativeData {
            status,
            message: message.into(),
            ..Self::default()
        }
    }

    /// With a catalogue entry's title, action and id.
    pub fn entry(
        mut self,
        title: impl Into<String>,
        action: impl Into<String>,
        id: impl Into<String>,
    ) -> Self {
        self.title = title.into();
        self.action = action.into();
        self.id = id.into();
        self
    }

    /// With a request-context field.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    /// With a problem type URI.
    pub fn problem_type(mut self, uri: impl Into<String>) -> Self {
        self.problem_type = Some(uri.into());
        self
    }

    /// With the request's original URI.
    pub fn instance(mut self, uri: impl Into<String>) -> Self {
        self.instance = Some(uri.into());
        self
    }

    /// The Tera context: every name always present (empty when unknown), so
    /// that `{{ Title }}` never fails for want of a catalogue entry; only the
    /// request-context fields come and go.
    pub(crate) fn context(&self) -> tera::Context {
        let mut ctx = tera::Context::new();
        ctx.insert("StatusCode", &self.status);
        ctx.insert(
            "Reason",
            crate::catalogue::reason_phrase(self.status).unwrap_or_default(),
        );
        ctx.insert("Message", &self.message);
        ctx.insert("Title", &self.title);
        ctx.insert("Action", &self.action);
        ctx.insert("ID", &self.id);
        ctx.insert("Type", self.problem_type.as_deref().unwrap_or(ABOUT_BLANK));
        ctx.insert("Instance", self.instance.as_deref().unwrap_or_default());
        for (name, value) in &self.fields {
            ctx.insert(name.clone(), value);
        }
        ctx
    }
}

/// A problem type URI from a configured base and a catalogue id: the id is
/// appended, after a `/` unless the base already ends in `/`, `#` or `=`.
/// Without both, the type is [`ABOUT_BLANK`].
pub fn problem_type(base: Option<&str>, id: Option<&str>) -> String {
    match (base.filter(|b| !b.is_empty()), id.filter(|i| !i.is_empty())) {
        (Some(base), Some(id)) if base.ends_with(['/', '#', '=']) => format!("{base}{id}"),
        (Some(base), Some(id)) => format!("{base}/{id}"),
        _ => ABOUT_BLANK.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_type_needs_both_base_and_id() {
        let id = Some("404-not-found");
        assert_eq!(
            problem_type(Some("https://e.example/errors"), id),
            "https://e.example/errors/404-not-found"
        );
        assert_eq!(
            problem_type(Some("https://e.example/errors/"), id),
            "https://e.example/errors/404-not-found"
        );
        assert_eq!(
            problem_type(Some("https://e.example/e?id="), id),
            "https://e.example/e?id=404-not-found"
        );
        assert_eq!(problem_type(None, id), ABOUT_BLANK);
        assert_eq!(problem_type(Some("https://e.example/"), None), ABOUT_BLANK);
        assert_eq!(
            problem_type(Some("https://e.example/"), Some("")),
            ABOUT_BLANK
        );
    }
}
