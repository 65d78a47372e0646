//! The one list of differences from Go that remain, shared by the tests
//! that compare with Go's output (`tests/conformance.rs` for both corpora,
//! `tests/it/properties.rs` for the generated templates). Each names its cases,
//! the difference itself (patched into Go's expectation, so the rest of the
//! case is still compared), why it remains, and the test that pins our side
//! (in `src/engine/gocompat.rs`). docs/compatibility.md's "Differences from Go"
//! summarises them.

// Each test crate that includes this module reads a part of it.
#![allow(dead_code)]

/// How a listed deviation changes Go's expectation into ours.
pub enum Patch {
    /// Each `(go, ours)`: where Go's body has `go`, ours has `ours`.
    Body(&'static [(&'static str, &'static str)]),
    /// Ours ends with this outcome where Go's is another (the status and,
    /// for `ok`, the content type are still compared).
    Outcome(&'static str),
    /// Ours renders (`ok`) this body where Go's execution fails.
    Renders(&'static str),
}

/// A difference from Go that remains, for the cases it covers.
pub struct Deviation {
    /// Cases as `<corpus folder>/<file>:<line>`.
    pub cases: &'static [&'static str],
    pub patch: Patch,
    /// Why it remains.
    pub reason: &'static str,
    /// The test that pins our side of the difference.
    pub test: &'static str,
}

/// Every difference from Go that remains, in the corpora and the generated cases. A deviation
/// that no longer differs (it was fixed) fails the test, so the list only
/// ever names real differences.
pub const DEVIATIONS: &[Deviation] = &[
    Deviation {
        cases: &["differential/cases.jsonl:675"],
        patch: Patch::Outcome("exec"),
        reason: "comparing the data with itself (`eq . .`): Go compares the pointer (true); \
                 gotmpl's `eq` refuses the map that stands for it. Left: gotmpl's comparison \
                 is private, so ours would be a second `eq` to keep in step with every type, \
                 and a stand-in value for the data would make `eq . .Message` compare where \
                 Go fails; a template only meets it by comparing the data with itself",
        test: "deviation_data_is_not_comparable",
    },
    Deviation {
        cases: &[
            "conformance-rich/cases.jsonl:2987",
            "conformance-rich/cases.jsonl:2988",
            "conformance-rich/cases.jsonl:2989",
            "conformance-rich/cases.jsonl:2990",
            "conformance-rich/cases.jsonl:2991",
            "conformance-rich/cases.jsonl:2992",
            "conformance-rich/cases.jsonl:2993",
            "conformance-rich/cases.jsonl:2994",
        ],
        patch: Patch::Outcome("load"),
        reason: "complex literals (`1i`, `2+3i`): gotmpl's lexer and values have no complex \
                 numbers, so the set does not load; Go prints them as (0+1i). Left: a stand-in \
                 (a string) would print right but not compare, format (`%T`, `%.1f`) or fail \
                 as a complex number does; no error template has a use for one",
        test: "deviation_complex_literals_do_not_load",
    },
    Deviation {
        cases: &[
            "conformance/cases-extra.jsonl:129",
            "conformance/cases-extra.jsonl:130",
        ],
        patch: Patch::Body(&[
            ("?r=%c3%a9%e6", "?r=%c3%a9%f4%8f%bb%a6"),
            ("\"é\\ufffd\"", "\"é\u{FFFD}\""),
        ]),
        reason: "a byte that is not UTF-8 (a `slice` cutting a character) printed by a \
                 template that is called both in a URL and in a script: gotmpl escapes a copy \
                 of the template per context but keeps the copies to itself, and the function \
                 of ours that writes Go's bytes for a URL or a script value goes into the one \
                 tree they are copied from, so it is placed only where every call agrees \
                 (src/engine/contexts.rs); there the URL gets the carrying character's four \
                 bytes percent-encoded where Go encodes the byte, and the script the byte \
                 where Go writes `\\ufffd`",
        test: "deviation_cut_bytes_in_a_template_called_from_two_contexts",
    },
];
