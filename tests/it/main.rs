//! The integration tests, one binary so that a change to the library links
//! once: a module per concern, each behind the features the code it drives
//! needs (`cli` for the `error-render` binary and the service over sockets,
//! `server` for the tower layer). `tests/conformance.rs`,
//! `tests/preview_browser.rs`, `tests/alloc.rs` (a counting global
//! allocator) and `tests/exposure.rs` (it counts `/healthz` answers while
//! the service parses hostile templates for seconds, CPU work kept out of
//! this process) stay binaries of their own.

mod common;

#[cfg(feature = "cli")]
mod caddy;
mod catalogue;
#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "cli")]
mod cli_error_overrides;
#[cfg(feature = "cli")]
mod cli_templates;
#[cfg(feature = "server")]
mod compression;
mod docs;
mod error_overrides;
mod error_overrides_properties;
mod features;
mod fuzz_regressions;
#[cfg(feature = "cli")]
mod haproxy;
#[cfg(feature = "cli")]
mod http;
#[cfg(feature = "cli")]
mod http_error_overrides;
#[cfg(feature = "server")]
mod http_error_overrides_properties;
mod kubernetes;
#[cfg(feature = "server")]
mod layer;
#[cfg(feature = "cli")]
mod limits;
#[cfg(feature = "cli")]
mod loading;
mod native;
#[cfg(feature = "server")]
mod negotiation;
#[cfg(feature = "cli")]
mod nginx;
mod overrides;
mod overrides_reader;
#[cfg(feature = "cli")]
mod preview;
#[cfg(feature = "cli")]
mod preview_formats;
#[cfg(feature = "cli")]
mod preview_rules;
mod properties;
#[cfg(feature = "cli")]
mod readme;
mod recipes;
#[cfg(feature = "cli")]
mod reload;
#[cfg(feature = "cli")]
mod sarif;
#[cfg(feature = "cli")]
mod validate;
mod validate_error_overrides;
#[cfg(feature = "cli")]
mod validate_formats;
mod validate_ignored_messages;
