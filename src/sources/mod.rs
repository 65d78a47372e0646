//! What the renderer reads besides templates: tyk.conf's
//! `override_messages` (with the position-keeping YAML/JSON reader) and the
//! error catalogue.

pub mod catalogue;
pub mod overrides;
