//! Turning the CLI's file arguments into a template folder and render options.

use std::path::PathBuf;

use anyhow::Context as _;
use error_render::RenderOptions;
use error_render::overrides::{Overrides, TykConf};

/// Where settings come from on the command line.
#[derive(Debug, Default)]
pub struct Sources {
    pub templates: Option<PathBuf>,
    pub overrides: Option<PathBuf>,
    pub tyk_conf: Option<PathBuf>,
}

/// The template folder and options: --templates wins over the tyk.conf's
/// `template_path`, which wins over `templates`. Override problems (unknown
/// IDs, empty entries) are printed as warnings: the gateway ignores them too.
pub fn render_options(sources: &Sources) -> anyhow::Result<(PathBuf, RenderOptions)> {
    let mut options = RenderOptions::default();
    let mut dir = PathBuf::from("templates");
    if let Some(path) = &sources.tyk_conf {
        let conf = TykConf::load(path).with_context(|| format!("cannot use {}", path.display()))?;
        dir = conf.template_dir();
        options.hide_generator_header = conf.hide_generator_header.unwrap_or(false);
        options.close_connections = conf.close_connections.unwrap_or(false);
        options.overrides = conf.override_messages;
    }
    if let Some(path) = &sources.overrides {
        options.overrides =
            Overrides::load(path).with_context(|| format!("cannot use {}", path.display()))?;
    }
    for problem in options.overrides.problems() {
        eprintln!("warning: {problem}");
    }
    if let Some(templates) = &sources.templates {
        dir = templates.clone();
    }
    Ok((dir, options))
}
