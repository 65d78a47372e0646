//! Template text and a message through load and render: one to three files
//! into `TemplateSet::from_files`, then a render on the requested path and
//! profile and another on the other path and profile; optionally the
//! validator's lints.
//!
//! Input fields: control (flags, code), message, content type, then name and
//! text pairs. Flags: bit 0 profile 5.14, bit 1 strict_tyk, bit 2 lint,
//! bit 3 hide the generator header.
#![no_main]

use std::sync::Arc;

use error_render::{ErrorRequest, RenderOptions, Renderer, TemplateFile, TemplateSet, validate};
use error_render_fuzz::{Control, Fields, other};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fields = Fields::new(data);
    let control = Control::read(fields.bytes());
    let message = fields.opt_text();
    let content_type = fields.text();
    let mut files = Vec::new();
    let mut rest = fields.rest();
    while files.len() < 3 {
        let (Some(name), Some(text)) = (rest.next(), rest.next()) else {
            break;
        };
        files.push(TemplateFile {
            name: String::from_utf8_lossy(name).into_owned(),
            text: String::from_utf8_lossy(text).into(),
        });
    }

    let set = match TemplateSet::from_files(files) {
        Ok(set) => Arc::new(set),
        Err(e) => {
            // Error messages point into the text: build them too.
            let _ = e.to_string();
            return;
        }
    };
    let options = RenderOptions {
        profile: control.profile(),
        strict_tyk: control.bit(1),
        hide_generator_header: control.bit(3),
        ..RenderOptions::default()
    };
    if control.bit(2) {
        for finding in validate::lint_set(&set, &options) {
            let _ = format!("{finding:?}");
        }
    }
    let renderer = Renderer::new(set, options);
    let other_path = if content_type.contains("xml") {
        "application/json"
    } else {
        "application/xml"
    };
    for (content_type, profile) in [
        (content_type.as_str(), control.profile()),
        (other_path, other(control.profile())),
    ] {
        let mut req = ErrorRequest::code(control.code)
            .content_type(content_type)
            .profile(profile);
        req.message = message.clone();
        if let Ok(rendered) = renderer.render(&req) {
            let _ = rendered.content_type();
        }
    }
});
