//! The settings of every command (`serve`, `healthcheck`, `render`,
//! `export`, `validate`): its flags as the top layer over the same sources
//! (defaults < tyk.conf < config file < `ERROR_RENDER_*` < flags), resolved
//! by the library's `Renderer::builder()`, so each command sees what the
//! service runs with.

use std::path::{Path, PathBuf};

use error_render::config::{ConfigLayer, Loaded};
use error_render::{Renderer, RendererBuilder};

/// The variable naming the template folder, as for `serve`.
const TEMPLATES_ENV: &str = "ERROR_RENDER_TEMPLATES";
/// The variable naming a config file, as for `serve`.
const CONFIG_ENV: &str = "ERROR_RENDER_CONFIG";

/// The builder for a command's flags (`flags`) and `--config` (else
/// `ERROR_RENDER_CONFIG`), with the process's environment.
pub fn builder(config: Option<PathBuf>, flags: ConfigLayer) -> RendererBuilder {
    let builder = Renderer::builder().process_env().layer(flags);
    match config {
        Some(file) => builder.config_file(file),
        None => builder,
    }
}

/// Resolves the settings, printing their warnings (unknown `ERROR_RENDER_*`
/// variables) on stderr.
pub fn resolve(builder: &RendererBuilder) -> anyhow::Result<Loaded> {
    let loaded = builder.resolve()?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    Ok(loaded)
}

/// Loads the renderer the settings describe, printing the set's and the
/// overrides' warnings (the gateway ignores those problems too); the error
/// is the load failure's text, naming the file and line.
pub fn load_renderer(loaded: &Loaded) -> Result<Renderer, String> {
    let dir = &loaded.config.templates;
    let (renderer, warnings) = Renderer::from_config_with_warnings(&loaded.config)
        .map_err(|e| format!("template set {} does not load:\n{e}", dir.display()))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(renderer)
}

/// The message for a template folder that is not there, naming it, which
/// setting named it and the ways to give one; `None` when it is a folder.
pub fn missing_folder(loaded: &Loaded, flag: &str) -> Option<String> {
    let dir: &Path = &loaded.config.templates;
    if dir.is_dir() {
        return None;
    }
    let what = if dir.exists() {
        "is not a folder"
    } else {
        "does not exist"
    };
    let whole = if dir.is_relative() {
        std::env::current_dir()
            .map(|cwd| format!(" ({})", cwd.join(dir).display()))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let from = loaded.origin("templates");
    Some(format!(
        "the template folder {}{whole} {what} ({from}).\n\
         Give the folder holding error.json (the gateway's template_path) with {flag}, \
         the {TEMPLATES_ENV} variable, or `templates:` in a config file \
         (--config FILE or {CONFIG_ENV}).",
        dir.display()
    ))
}
