//! Checking `override_messages` (a standalone file or a `tyk.conf`): what
//! the gateway would refuse (wrong types) and what it would silently ignore
//! (unknown IDs, odd codes, empty entries), each with file and line.

use super::{Collector, Finding, Rule, ValidateError, ValidateOptions};
use crate::config::read_overrides;
use crate::overrides::{OverrideProblemKind, Overrides, OverridesError};

/// The rules recorded as checked on an overrides file.
const RULES: [Rule; 5] = [
    Rule::OverrideUnknownId,
    Rule::OverrideCodeRange,
    Rule::OverrideEmpty,
    Rule::OverrideType,
    Rule::OverrideUnknownField,
];

/// Loads the overrides named in `opts` (none: empty overrides), reporting
/// their problems; an overrides file wins over the tyk.conf's, as in the
/// service. Fails only when the file cannot be read or parsed at all.
pub(crate) fn load(
    opts: &ValidateOptions,
    out: &mut Collector,
) -> Result<Overrides, ValidateError> {
    let Some(read) = read_overrides(opts.overrides.as_deref(), opts.tyk_conf.as_deref()) else {
        return Ok(Overrides::default());
    };
    let (path, loaded) = (read.path, read.result);
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
