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
            "conformance/cases-extra.jsonl:101",
            "conformance/cases-extra.jsonl:102",
        ],
        patch: Patch::Body(&[("{\"Message\":\"plain\"}", "\"{plain}\"")]),
        reason: "the data itself (`{{.}}`) in a script on the JSON path: Go writes the struct \
                 as JSON; we print it as Go's text (`{x}`) before the escaper, which is right \
                 in text, attributes and URLs, and a JSON string in a script (gotmpl decides \
                 the context inside its escaper, after our layer, and its values have no \
                 struct that could print as `{x}` and marshal as `{\"Message\":\"x\"}`)",
        test: "deviation_data_in_a_script_is_a_string",
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
            "conformance/cases-extra.jsonl:113",
            "conformance/cases-extra.jsonl:114",
        ],
        patch: Patch::Body(&[
            ("%c3%a9%e6", "%c3%a9%f4%8f%bb%a6"),
            ("\"é\\ufffd\"", "\"é\u{FFFD}\""),
        ]),
        reason: "a byte that is not UTF-8 (a `slice` cutting a character) in a URL or as a \
                 script value on the JSON path: gotmpl's escapers see the character that \
                 carries the byte through its UTF-8 strings (U+10FE00 + the byte), so a URL \
                 gets that character's four bytes percent-encoded where Go encodes the one \
                 byte, and a script value the byte itself where Go's JSON encoder writes \
                 `\\ufffd`; text, attributes, script strings and CSS match",
        test: "deviation_cut_bytes_in_a_url_or_script_value",
    },
    Deviation {
        cases: &[
            "conformance/cases-extra.jsonl:117",
            "conformance/cases-extra.jsonl:118",
        ],
        patch: Patch::Body(&[("a+b", "a&#43;b")]),
        reason: "`html` inside {{range}} in a quoted attribute or RCDATA on the JSON path \
                 writes `+` as `&#43;` (the same text once parsed): gotmpl cannot take \
                 `html` there, so ours returns trusted HTML, which those contexts' escapers \
                 normalise, and Go's `html` leaves `+` alone",
        test: "deviation_html_in_range_writes_plus_as_a_reference_in_attributes",
    },
    Deviation {
        cases: &[
            "conformance/cases-extra.jsonl:121",
            "conformance/cases-extra.jsonl:122",
        ],
        patch: Patch::Renders("<a title=a&#43;b>x</a>"),
        reason: "`html` inside {{range}} in an unquoted attribute on the JSON path renders \
                 where Go refuses it (\"predefined escaper disallowed\"): inside a loop ours \
                 is our own function (gotmpl refuses `html` there in every context), whose \
                 context our layer cannot see",
        test: "deviation_html_in_range_writes_plus_as_a_reference_in_attributes",
    },
];
