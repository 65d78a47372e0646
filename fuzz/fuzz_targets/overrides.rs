//! `override_messages` parsing: a standalone YAML or JSON overrides file
//! (`Overrides::parse`) or a `tyk.conf` (`TykConf::parse`), then a render of
//! each parsed override on both paths.
//!
//! Input fields: control (bit 0 profile 5.14, bit 1 JSON, bit 2 tyk.conf),
//! text.
#![no_main]

use error_render::overrides::{FileFormat, TykConf};
use error_render::{ErrorRequest, Overrides, RenderOptions, Renderer};
use error_render_fuzz::{Control, Fields, bundled_set};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fields = Fields::new(data);
    let control = Control::read(fields.bytes());
    let text = fields.text();
    let format = if control.bit(1) {
        FileFormat::Json
    } else {
        FileFormat::Yaml
    };
    let parsed = if control.bit(2) {
        TykConf::parse(&text, "tyk.conf").map(|c| {
            let _ = c.template_dir();
            c.override_messages
        })
    } else {
        Overrides::parse(&text, format, "overrides.yaml")
    };
    let overrides = match parsed {
        Ok(o) => o,
        Err(e) => {
            // Errors carry lines and columns computed from the text.
            let _ = e.to_string();
            for err in e.errors() {
                let _ = err.to_string();
            }
            return;
        }
    };
    for problem in overrides.problems() {
        let _ = problem.to_string();
    }
    let ids: Vec<String> = overrides
        .iter()
        .take(4)
        .map(|(id, _)| id.to_owned())
        .collect();
    let renderer = Renderer::new(
        bundled_set(),
        RenderOptions {
            profile: control.profile(),
            overrides,
            ..RenderOptions::default()
        },
    );
    for id in ids {
        for content_type in ["application/json", "application/xml"] {
            let _ = renderer.render(&ErrorRequest::id(id.clone()).content_type(content_type));
        }
    }
});
