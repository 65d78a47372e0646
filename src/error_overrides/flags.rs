//! Error classification flags: the ones the gateway knows, and the flag it
//! sets for each catalogue entry where one is certain, with the Tyk source
//! line that sets it (`data/catalogue-flags.json`, beside the catalogue).

use std::sync::LazyLock;

use crate::catalogue::Catalogue;

/// Every classification flag of the gateway (`internal/errors/classification.go`).
pub const KNOWN_FLAGS: &[&str] = &[
    "TLE", "TLI", "TLM", "TLN", "TLH", "TLP", "TLA", "TLC", "UCF", "UCT", "URR", "URT", "EPI",
    "CAB", "NRS", "DNS", "NRH", "NHU", "CBO", "CDC", "URS", "UPE", "RLT", "QEX", "AMF", "AKI",
    "TKE", "TKI", "TCV", "EAD", "BTL", "CLM", "BIV", "IHD", "CRQ", "CMM",
];

/// The flag data compiled into this build.
pub const FLAGS_JSON: &str = include_str!("../../data/catalogue-flags.json");

/// The flag the gateway sets for one catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryFlag {
    /// The catalogue entry id.
    pub entry: String,
    /// The flag (`AKI`, `RLT` ...).
    pub flag: String,
    /// The Tyk source line that sets it (`internal/errors/classifier.go:333`).
    pub source: String,
    /// Which function and case set it.
    pub why: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagsFile {
    #[allow(dead_code)]
    source: String,
    flags: Vec<EntryFlag>,
}

static FLAGS: LazyLock<Vec<EntryFlag>> = LazyLock::new(|| {
    // The data is compiled in and checked by a test: a failure here is a
    // build of broken data, which the test suite refuses.
    serde_json::from_str::<FlagsFile>(FLAGS_JSON)
        .map(|f| f.flags)
        .unwrap_or_default()
});

/// Every entry with a flag, sorted by entry id.
pub fn entry_flags() -> &'static [EntryFlag] {
    &FLAGS
}

/// The flag the gateway sets for catalogue entry `id`, if one is certain.
pub fn flag_for(id: &str) -> Option<&'static EntryFlag> {
    FLAGS.iter().find(|f| f.entry == id)
}

/// A gateway error for catalogue entry `id` (its code, the gateway's
/// message and its flag), to apply rules to as the gateway would.
pub fn gateway_error_for(id: &str) -> Option<super::GatewayError> {
    let entry = Catalogue::builtin().entry(id)?;
    Some(super::GatewayError {
        code: i64::from(entry.code),
        message: entry.message.clone(),
        flag: flag_for(id).map(|f| f.flag.clone()),
        ..super::GatewayError::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_data_parses_names_real_entries_and_known_flags() {
        let parsed: FlagsFile = serde_json::from_str(FLAGS_JSON).unwrap();
        assert_eq!(parsed.flags.len(), entry_flags().len());
        for f in entry_flags() {
            assert!(
                Catalogue::builtin().entry(&f.entry).is_some(),
                "{}",
                f.entry
            );
            assert!(KNOWN_FLAGS.contains(&f.flag.as_str()), "{}", f.flag);
            assert!(
                f.source.starts_with("internal/errors/classifier.go:"),
                "{}",
                f.source
            );
        }
    }
}
