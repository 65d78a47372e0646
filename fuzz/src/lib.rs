//! Shared input decoding for the fuzz targets: an input is a list of fields
//! separated by NUL bytes, so seeds can be written from the conformance sets
//! (`fuzz/seed.py`) and libFuzzer's mutations still add, drop and split
//! fields.

use std::sync::Arc;

use error_render::render::{BUNDLED_ERROR_JSON, BUNDLED_ERROR_XML};
use error_render::{Profile, TemplateFile, TemplateSet};

/// The fields of one input, in order.
pub struct Fields<'a> {
    parts: std::slice::Split<'a, u8, fn(&u8) -> bool>,
}

impl<'a> Fields<'a> {
    /// Splits `data` at NUL bytes.
    pub fn new(data: &'a [u8]) -> Self {
        let is_nul: fn(&u8) -> bool = |b| *b == 0;
        Fields {
            parts: data.split(is_nul),
        }
    }

    /// The next field's bytes (empty once the input is used up).
    pub fn bytes(&mut self) -> &'a [u8] {
        self.parts.next().unwrap_or(&[])
    }

    /// The next field as text; invalid UTF-8 is replaced, as every API
    /// under test takes `&str`.
    pub fn text(&mut self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }

    /// The next field as text, `None` when it is empty or missing.
    pub fn opt_text(&mut self) -> Option<String> {
        let t = self.text();
        (!t.is_empty()).then_some(t)
    }

    /// The fields left.
    pub fn rest(self) -> impl Iterator<Item = &'a [u8]> {
        self.parts
    }
}

/// The control field: a flag byte and a status code (big-endian), with
/// defaults for a short field.
pub struct Control {
    /// Flag bits; each target says what they mean.
    pub flags: u8,
    /// The status code.
    pub code: u16,
}

impl Control {
    /// Reads the control field.
    pub fn read(field: &[u8]) -> Self {
        let flags = field.first().copied().unwrap_or(0);
        let code = match field {
            [_, hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
            _ => 500,
        };
        Control { flags, code }
    }

    /// Whether bit `n` is set.
    pub fn bit(&self, n: u8) -> bool {
        self.flags & (1 << n) != 0
    }

    /// The profile bit 0 selects.
    pub fn profile(&self) -> Profile {
        if self.bit(0) {
            Profile::V5_14
        } else {
            Profile::V5_15
        }
    }
}

/// The other profile.
pub fn other(profile: Profile) -> Profile {
    match profile {
        Profile::V5_15 => Profile::V5_14,
        Profile::V5_14 => Profile::V5_15,
    }
}

/// The gateway's shipped `error.json` and `error.xml`.
pub fn bundled_set() -> Arc<TemplateSet> {
    let files = [
        ("error.json", BUNDLED_ERROR_JSON),
        ("error.xml", BUNDLED_ERROR_XML),
    ];
    Arc::new(
        TemplateSet::from_files(files.map(|(name, text)| TemplateFile {
            name: name.to_owned(),
            text: text.into(),
        }))
        .expect("the bundled templates load"),
    )
}
