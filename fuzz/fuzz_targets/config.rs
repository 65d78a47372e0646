//! Config parsing: config file text (YAML or JSON) through
//! `ConfigLayer::parse`, `KEY=VALUE` environment fields through
//! `ConfigLayer::from_env`, the merge, `Config::from_layer`, and the
//! validated rules applied to a few statuses.
//!
//! Input fields: control (bit 1 JSON), text, then `KEY=VALUE` fields.
#![no_main]

use std::path::Path;

use error_render::Overrides;
use error_render::config::{Config, ConfigLayer};
use error_render_fuzz::{Control, Fields};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fields = Fields::new(data);
    let control = Control::read(fields.bytes());
    let text = fields.text();
    let path = if control.bit(1) {
        Path::new("config.json")
    } else {
        Path::new("config.yaml")
    };
    let file = match ConfigLayer::parse(&text, path) {
        Ok(layer) => layer,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let env: Vec<(String, String)> = fields
        .rest()
        .map(|f| {
            let f = String::from_utf8_lossy(f);
            match f.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (f.into_owned(), String::new()),
            }
        })
        .collect();
    let layer = match ConfigLayer::from_env(&env) {
        Ok((env_layer, _, _)) => file.merge(env_layer),
        Err(e) => {
            let _ = e.to_string();
            file
        }
    };
    match Config::from_layer(layer) {
        Ok(config) => {
            for status in [0, 100, 401, 404, 429, 500, 599, 999, u16::MAX] {
                let _ = config.status_rewrites.apply(status);
                let _ = config.headers.for_status(status);
            }
            let _ = config.render_options(Overrides::default());
            let _ = config.watch_paths();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
