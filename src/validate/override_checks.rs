//! Checking `override_messages` (a standalone file or a `tyk.conf`): what
//! the gateway would refuse (wrong types) and what it would silently ignore
//! (unknown IDs, odd codes, empty entries), each with file and line.

use super::{Collector, Finding, Rule, ValidateError, ValidateOptions};
use crate::overrides::{OverrideProblemKind, Overrides, OverridesError, TykConf};

/// The rules recorded as checked on an overrides file.
const RULES: [Rule; 5] = [
    Rule::OverrideUnknownId,
    Rule::OverrideCodeRange,
    Rule::OverrideEmpty,
    Rule::OverrideType,
    Rule::OverrideUnknownField,
];

/// Loads the overrides named in `opts` (none: empty overrides), reporting
/// their problems. Fails only when the file cannot be read or parsed at all.
pub(crate) fn load(
    opts: &ValidateOptions,
    out: &mut Collector,
) -> Result<Overrides, ValidateError> {
    let (path, loaded) = match (&opts.overrides, &opts.tyk_conf) {
        (None, None) => return Ok(Overrides::default()),
        (Some(_), Some(_)) => return Err(ValidateError::ConflictingOverrides),
        (Some(path), None) => (path, Overrides::load(path)),
        (None, Some(path)) => (path, TykConf::load(path).map(|c| c.override_messages)),
    };
    let file = path.display().to_string();
    for rule in RULES {
        out.checked(rule, Some(&file));
    }
    match loaded {
        Ok(overrides) => {
            for p in overrides.problems() {
                let rule = match p.kind {
                    OverrideProblemKind::UnknownId => Rule::OverrideUnknownId,
                    OverrideProblemKind::CodeOutOfRange => Rule::OverrideCodeRange,
                    OverrideProblemKind::EmptyEntry => Rule::OverrideEmpty,
                    OverrideProblemKind::UnknownField => Rule::OverrideUnknownField,
                };
                out.push(
                    Finding::new(rule, Some(p.file.clone()), p.message.clone())
                        .at(p.line, p.column),
                );
            }
            Ok(overrides)
        }
        // Wrong types: the gateway would refuse to start. Report each and
        // go on validating the templates without overrides.
        Err(OverridesError::Invalid(errors)) => {
            for e in errors {
                out.push(
                    Finding::new(Rule::OverrideType, Some(e.file), e.message).at(e.line, e.column),
                );
            }
            Ok(Overrides::default())
        }
        Err(e) => Err(ValidateError::Overrides(e)),
    }
}
