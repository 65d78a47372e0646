//! Turning the CLI's file arguments into a template folder and render options.

use std::path::PathBuf;

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use error_render::RenderOptions;
use error_render::config::{ConfigLayer, DEFAULT_TEMPLATES};
use error_render::overrides::{Overrides, TykConf};

/// The variable `serve` reads the template folder from; the CLI reads it too.
const TEMPLATES_ENV: &str = "ERROR_RENDER_TEMPLATES";
/// The variable naming a config file, as for `serve`.
const CONFIG_ENV: &str = "ERROR_RENDER_CONFIG";

/// Where settings come from on the command line.
#[derive(Debug, Default)]
pub struct Sources {
    pub templates: Option<PathBuf>,
    /// `--config`; else `ERROR_RENDER_CONFIG`.
    pub config: Option<PathBuf>,
    pub overrides: Option<PathBuf>,
    pub tyk_conf: Option<PathBuf>,
}

/// Which setting named the template folder, so a missing folder can be
/// traced back to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatesFrom {
    Flag,
    Env,
    ConfigFile(PathBuf),
    TykConf(PathBuf),
    Default,
}

impl fmt::Display for TemplatesFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplatesFrom::Flag => f.write_str("given on the command line"),
            TemplatesFrom::Env => write!(f, "from {TEMPLATES_ENV}"),
            TemplatesFrom::ConfigFile(p) => write!(f, "`templates` in {}", p.display()),
            TemplatesFrom::TykConf(p) => write!(f, "`template_path` in {}", p.display()),
            TemplatesFrom::Default => f.write_str("the default, as nothing named a folder"),
        }
    }
}

/// The template folder, with serve's precedence: the flag, then
/// `ERROR_RENDER_TEMPLATES`, then the config file's `templates`, then the
/// tyk.conf's `template_path`, then `templates`.
pub fn template_dir(
    flag: Option<&Path>,
    config: Option<&Path>,
    tyk_conf_dir: Option<(&Path, PathBuf)>,
) -> anyhow::Result<(PathBuf, TemplatesFrom)> {
    if let Some(dir) = flag {
        return Ok((dir.to_owned(), TemplatesFrom::Flag));
    }
    if let Some(dir) = std::env::var_os(TEMPLATES_ENV).filter(|v| !v.is_empty()) {
        return Ok((PathBuf::from(dir), TemplatesFrom::Env));
    }
    let config = config.map(Path::to_owned).or_else(|| {
        std::env::var_os(CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(file) = config {
        let layer = ConfigLayer::from_file(&file)?;
        if let Some(dir) = layer.templates {
            return Ok((dir, TemplatesFrom::ConfigFile(file)));
        }
    }
    if let Some((conf, dir)) = tyk_conf_dir {
        return Ok((dir, TemplatesFrom::TykConf(conf.to_owned())));
    }
    Ok((PathBuf::from(DEFAULT_TEMPLATES), TemplatesFrom::Default))
}

/// The message for a template folder that is not there, naming it, where
/// its name came from and the ways to give one; `None` when it is a folder.
pub fn missing_folder(dir: &Path, from: &TemplatesFrom, flag: &str) -> Option<String> {
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
    Some(format!(
        "the template folder {}{whole} {what} ({from}).\n\
         Give the folder holding error.json (the gateway's template_path) with {flag}, \
         the {TEMPLATES_ENV} variable, or `templates:` in a config file \
         (--config FILE or {CONFIG_ENV}).",
        dir.display()
    ))
}

/// The template folder and options: see [`template_dir`] for where the
/// folder comes from. Override problems (unknown IDs, empty entries) are
/// printed as warnings: the gateway ignores them too.
pub fn render_options(
    sources: &Sources,
) -> anyhow::Result<(PathBuf, TemplatesFrom, RenderOptions)> {
    let mut options = RenderOptions::default();
    let mut tyk_dir = None;
    if let Some(path) = &sources.tyk_conf {
        let conf = TykConf::load(path).with_context(|| format!("cannot use {}", path.display()))?;
        tyk_dir = Some((path.as_path(), conf.template_dir()));
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
    let (dir, from) = template_dir(
        sources.templates.as_deref(),
        sources.config.as_deref(),
        tyk_dir,
    )?;
    Ok((dir, from, options))
}
