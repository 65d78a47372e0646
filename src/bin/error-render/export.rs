//! `error-render export`: pre-rendered bodies with nginx or HAProxy
//! snippets, so a proxy can serve error bodies without a sidecar. The
//! nginx export writes every format the setting `formats` enables.

use std::path::PathBuf;
use std::process::ExitCode;

use error_render::Renderer;
use error_render::config::ConfigLayer;

/// Arguments of `export`. Every setting of `serve` applies (a config file,
/// `ERROR_RENDER_*`), so the bodies are the ones the service would send.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(true).args(["out", "haproxy"])))]
pub struct Args {
    /// The template folder. Else ERROR_RENDER_TEMPLATES, the config file's
    /// `templates`, the tyk.conf's `template_path`, then `templates`.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Where to write the bodies and the nginx snippets.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Where to write HAProxy's errorfiles, bodies and configuration snippets.
    #[arg(long, value_name = "DIR")]
    haproxy: Option<PathBuf>,
    /// A YAML or JSON file of override_messages.
    #[arg(long, value_name = "FILE", conflicts_with = "tyk_conf")]
    overrides: Option<PathBuf>,
    /// A tyk.conf to read override_messages and template_path from.
    #[arg(long, value_name = "FILE")]
    tyk_conf: Option<PathBuf>,
    /// A config file (YAML or JSON, as for `serve`). Else ERROR_RENDER_CONFIG.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let flags = ConfigLayer {
        templates: args.templates,
        overrides: args.overrides,
        tyk_conf: args.tyk_conf,
        ..ConfigLayer::default()
    };
    let loaded = crate::settings::resolve(&crate::settings::builder(args.config, flags))?;
    if let Some(message) = crate::settings::missing_folder(&loaded, "--templates DIR") {
        anyhow::bail!(message);
    }
    let renderer = crate::settings::load_renderer(&loaded).map_err(anyhow::Error::msg)?;
    let mut fallbacks = 0;
    let formats = loaded.config.formats.clone();
    let nginx = move |r: &Renderer, out: &std::path::Path| {
        error_render::export::export_formats(r, out, &formats)
    };
    let exports: [(Option<PathBuf>, &ExportFn); 2] = [
        (args.out, &nginx),
        (args.haproxy, &error_render::export::export_haproxy),
    ];
    for (out, export) in exports {
        let Some(out) = out else { continue };
        let summary = export(&renderer, &out)?;
        eprintln!(
            "wrote {} bodies ({} entries, {} codes) and {} to {}",
            summary.files,
            summary.entries,
            summary.codes,
            summary.snippets.join(", "),
            out.display()
        );
        fallbacks += summary.fallbacks;
    }
    if fallbacks > 0 {
        eprintln!(
            "warning: {fallbacks} renders fell back to the bundled default (run `error-render validate`)"
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

type ExportFn =
    dyn Fn(
        &Renderer,
        &std::path::Path,
    ) -> Result<error_render::export::ExportSummary, error_render::export::ExportError>;
