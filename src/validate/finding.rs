//! What validation finds: a rule with a stable id, a severity, and a place
//! (file, line, column) in the template folder or the overrides file.

use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Breaks on the gateway (it refuses to start, or clients get a broken
    /// or missing body). Exit code 1.
    Error,
    /// Works, but not as the author probably expects, or only on some
    /// gateways. Exit code 1 only under `--strict`.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as written in every report format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Every check validation makes. The kebab-case id ([`Rule::as_str`]) is
/// stable: CI configurations and scripts may match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// A template does not parse, cannot be read, or is a directory: the
    /// gateway refuses to start.
    ParseError,
    /// The folder holds no `error*` file: the gateway refuses to start.
    NoTemplates,
    /// No `error.json`: the gateway crashes requests that find no template.
    MissingErrorJson,
    /// A template fails while rendering.
    ExecError,
    /// A `.json` template's output is not valid JSON.
    InvalidJson,
    /// A `.xml` template's output is not well-formed XML.
    InvalidXml,
    /// A `.tera` template (a layout or include too) does not load: the
    /// service refuses the set (a reload keeps the last good one).
    TeraError,
    /// An HTML page's output has HTML5 parse errors.
    InvalidHtml,
    /// A template that is not valid UTF-8: loaded and sent byte for byte,
    /// so clients get a body that is not UTF-8.
    NotUtf8,
    /// A template uses a field the gateway's classic handler does not give.
    NonTykField,
    /// An `error_<code>` file the gateway never looks up.
    UnknownCodeTemplate,
    /// Per-code XML templates without `error.xml`.
    MissingErrorXml,
    /// html/template changes the template's text on the JSON path.
    HtmlRewrite,
    /// `{{template "name"}}` without data calls a template that reads
    /// fields, which Go runs on nil data.
    TemplateWithoutData,
    /// JSON that Tyk 4.0-5.14's escaping breaks (an apostrophe becomes `\'`).
    Profile514InvalidJson,
    /// A file that looks like a template but does not start with `error`.
    NotLoadedByGateway,
    /// An editor backup, swap or lock file in the template folder.
    EditorLeftover,
    /// An `override_messages` ID the gateway does not have.
    OverrideUnknownId,
    /// An `override_messages` code outside 100-599.
    OverrideCodeRange,
    /// An `override_messages` entry with neither code nor message.
    OverrideEmpty,
    /// An `override_messages` value of the wrong type.
    OverrideType,
    /// An `override_messages` entry with a field other than `code` and
    /// `message` (a typo such as `mesage`).
    OverrideUnknownField,
    /// An Error Overrides key the gateway skips (not `403` or `4xx`), two
    /// keys for one status, or a rules file that does not load.
    ErrorOverrideKey,
    /// A `message_pattern` Go's RE2 rejects: the gateway skips the rule.
    ErrorOverridePattern,
    /// An inline body template that does not parse: the gateway skips the rule.
    ErrorOverrideTemplate,
    /// A rule whose template is not loaded: the gateway drops the request.
    ErrorOverrideMissingTemplate,
    /// A body that looks like a template but lacks `{{.`: sent literally.
    ErrorOverrideLiteralBody,
    /// A rule after one without criteria in the same list: never used.
    ErrorOverrideShadowed,
    /// A flag the gateway never sets.
    ErrorOverrideUnknownFlag,
    /// A `status_code` outside 100-999: the gateway drops the connection.
    ErrorOverrideStatus,
    /// `override_messages` beside `error_overrides`: a 5.13+ gateway does
    /// not apply them.
    ErrorOverrideIgnoredMessages,
}

impl Rule {
    /// Every rule, in the order of the documentation's table.
    pub const ALL: [Rule; 31] = [
        Rule::ParseError,
        Rule::NoTemplates,
        Rule::MissingErrorJson,
        Rule::ExecError,
        Rule::InvalidJson,
        Rule::InvalidXml,
        Rule::TeraError,
        Rule::InvalidHtml,
        Rule::NotUtf8,
        Rule::NonTykField,
        Rule::UnknownCodeTemplate,
        Rule::MissingErrorXml,
        Rule::HtmlRewrite,
        Rule::TemplateWithoutData,
        Rule::Profile514InvalidJson,
        Rule::NotLoadedByGateway,
        Rule::EditorLeftover,
        Rule::OverrideUnknownId,
        Rule::OverrideCodeRange,
        Rule::OverrideEmpty,
        Rule::OverrideType,
        Rule::OverrideUnknownField,
        Rule::ErrorOverrideKey,
        Rule::ErrorOverridePattern,
        Rule::ErrorOverrideTemplate,
        Rule::ErrorOverrideMissingTemplate,
        Rule::ErrorOverrideLiteralBody,
        Rule::ErrorOverrideShadowed,
        Rule::ErrorOverrideUnknownFlag,
        Rule::ErrorOverrideStatus,
        Rule::ErrorOverrideIgnoredMessages,
    ];

    /// The stable kebab-case id (`invalid-json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::ParseError => "parse-error",
            Rule::NoTemplates => "no-templates",
            Rule::MissingErrorJson => "missing-error-json",
            Rule::ExecError => "exec-error",
            Rule::InvalidJson => "invalid-json",
            Rule::InvalidXml => "invalid-xml",
            Rule::TeraError => "tera-error",
            Rule::InvalidHtml => "invalid-html",
            Rule::NotUtf8 => "not-utf8",
            Rule::NonTykField => "non-tyk-field",
            Rule::UnknownCodeTemplate => "unknown-code-template",
            Rule::MissingErrorXml => "missing-error-xml",
            Rule::HtmlRewrite => "html-rewrite",
            Rule::TemplateWithoutData => "template-without-data",
            Rule::Profile514InvalidJson => "profile-5-14-invalid-json",
            Rule::NotLoadedByGateway => "not-loaded-by-gateway",
            Rule::EditorLeftover => "editor-leftover",
            Rule::OverrideUnknownId => "override-unknown-id",
            Rule::OverrideCodeRange => "override-code-range",
            Rule::OverrideEmpty => "override-empty",
            Rule::OverrideType => "override-type",
            Rule::OverrideUnknownField => "override-unknown-field",
            Rule::ErrorOverrideKey => "error-override-key",
            Rule::ErrorOverridePattern => "error-override-pattern",
            Rule::ErrorOverrideTemplate => "error-override-template",
            Rule::ErrorOverrideMissingTemplate => "error-override-missing-template",
            Rule::ErrorOverrideLiteralBody => "error-override-literal-body",
            Rule::ErrorOverrideShadowed => "error-override-shadowed",
            Rule::ErrorOverrideUnknownFlag => "error-override-unknown-flag",
            Rule::ErrorOverrideStatus => "error-override-status",
            Rule::ErrorOverrideIgnoredMessages => "error-override-ignored-messages",
        }
    }

    /// The severity of the rule's findings before `--strict` (which makes
    /// every warning an error).
    pub fn severity(self) -> Severity {
        match self {
            Rule::ParseError
            | Rule::NoTemplates
            | Rule::MissingErrorJson
            | Rule::ExecError
            | Rule::InvalidJson
            | Rule::InvalidXml
            | Rule::TeraError
            | Rule::InvalidHtml
            | Rule::OverrideUnknownId
            | Rule::OverrideCodeRange
            | Rule::OverrideType
            | Rule::ErrorOverrideKey
            | Rule::ErrorOverridePattern
            | Rule::ErrorOverrideTemplate
            | Rule::ErrorOverrideMissingTemplate
            | Rule::ErrorOverrideStatus => Severity::Error,
            Rule::NotUtf8
            | Rule::NonTykField
            | Rule::UnknownCodeTemplate
            | Rule::MissingErrorXml
            | Rule::HtmlRewrite
            | Rule::TemplateWithoutData
            | Rule::Profile514InvalidJson
            | Rule::NotLoadedByGateway
            | Rule::EditorLeftover
            | Rule::OverrideEmpty
            | Rule::OverrideUnknownField
            | Rule::ErrorOverrideLiteralBody
            | Rule::ErrorOverrideShadowed
            | Rule::ErrorOverrideUnknownFlag
            | Rule::ErrorOverrideIgnoredMessages => Severity::Warning,
        }
    }

    /// Whether the rule is about the overrides file (`--overrides` or
    /// `--tyk-conf`) or an API definition, rather than the template folder.
    pub fn is_about_overrides(self) -> bool {
        matches!(
            self,
            Rule::OverrideUnknownId
                | Rule::OverrideCodeRange
                | Rule::OverrideEmpty
                | Rule::OverrideType
                | Rule::OverrideUnknownField
                | Rule::ErrorOverrideKey
                | Rule::ErrorOverridePattern
                | Rule::ErrorOverrideTemplate
                | Rule::ErrorOverrideMissingTemplate
                | Rule::ErrorOverrideLiteralBody
                | Rule::ErrorOverrideShadowed
                | Rule::ErrorOverrideUnknownFlag
                | Rule::ErrorOverrideStatus
                | Rule::ErrorOverrideIgnoredMessages
        )
    }

    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == id)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// `error` or `warning`.
    pub severity: Severity,
    /// Which check found it.
    pub rule: Rule,
    /// The file: a template's name (relative to the folder), or the
    /// overrides file as given. `None` for the folder as a whole.
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (in bytes, as Go counts), when known.
    pub column: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The message without the template, body or override text it quotes,
    /// for places that must not show that text (the service's `/status`);
    /// `None` when the message quotes nothing. Not part of any report.
    #[serde(skip)]
    pub unquoted: Option<String>,
}

impl Finding {
    /// A finding of `rule` at its default severity.
    pub fn new(rule: Rule, file: Option<String>, message: impl Into<String>) -> Self {
        Finding {
            severity: rule.severity(),
            rule,
            file,
            line: None,
            column: None,
            message: message.into(),
            unquoted: None,
        }
    }

    /// Records the message as it reads without its quotes.
    #[must_use]
    pub fn quoting(mut self, unquoted: impl Into<String>) -> Self {
        self.unquoted = Some(unquoted.into());
        self
    }

    /// The finding as it may be shown to someone not allowed to read the
    /// templates or overrides: the message without its quotes.
    #[must_use]
    pub fn without_quotes(&self) -> Finding {
        Finding {
            message: self
                .unquoted
                .clone()
                .unwrap_or_else(|| self.message.clone()),
            unquoted: None,
            ..self.clone()
        }
    }

    /// Appends to the message, and to its unquoted form.
    pub(crate) fn push_message(&mut self, text: &str) {
        self.message.push_str(text);
        if let Some(u) = &mut self.unquoted {
            u.push_str(text);
        }
    }

    /// Sets the line and column.
    #[must_use]
    pub fn at(mut self, line: Option<usize>, column: Option<usize>) -> Self {
        self.line = line;
        self.column = column.filter(|_| line.is_some());
        self
    }

    /// The sort key of every report: file, line, column, rule.
    pub(crate) fn sort_key(&self) -> (Option<&str>, Option<usize>, Option<usize>, &'static str) {
        (
            self.file.as_deref(),
            self.line,
            self.column,
            self.rule.as_str(),
        )
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file.as_deref().unwrap_or("."))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {} [{}]: {}", self.severity, self.rule, self.message)
    }
}

/// One check that ran on one file (or on the folder), whether or not it
/// found anything: the JUnit report has one test case per check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Check {
    /// The rule checked.
    pub rule: Rule,
    /// The file it was checked on, as in [`Finding::file`].
    pub file: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_quotes_keeps_the_place_and_drops_the_quote() {
        let mut f = Finding::new(
            Rule::HtmlRewrite,
            Some("error.json".into()),
            "changes `<!-- secret -->`",
        )
        .quoting("changes a comment")
        .at(Some(1), Some(1));
        f.push_message(" (2 more cases)");
        assert_eq!(f.message, "changes `<!-- secret -->` (2 more cases)");
        let shown = f.without_quotes();
        assert_eq!(shown.message, "changes a comment (2 more cases)");
        assert_eq!(
            (shown.rule, shown.line, shown.column),
            (f.rule, f.line, f.column)
        );
        assert_eq!(shown.file, f.file);
        // A message that quotes nothing is shown as it is.
        let plain = Finding::new(Rule::MissingErrorJson, None, "no error.json");
        assert_eq!(plain.without_quotes().message, "no error.json");
    }
}
