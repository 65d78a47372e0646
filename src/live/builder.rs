//! One way in: [`RendererBuilder`] names a renderer's sources (template
//! folder, tyk.conf, overrides, config file, environment) and builds from
//! them exactly what the service builds, once, as a reloadable [`Store`], or
//! (feature `watch`) as a `LiveRenderer` that follows its files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{Config, ConfigError, ConfigLayer, Loaded, Sources, load_overrides};
use crate::escape::Profile;
use crate::limits::RenderLimits;
use crate::render::Renderer;
use crate::set::TemplateSet;
use crate::store::{ReloadError, Store};

/// Why a renderer could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The settings are unusable (the message names the file, variable or
    /// key, and what to write instead).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The template set or the overrides did not load (the message names
    /// the file and line).
    #[error("templates did not load:\n{0}")]
    Load(#[from] ReloadError),
    /// The file watcher could not start (feature `watch`).
    #[cfg(feature = "watch")]
    #[error(transparent)]
    Watch(#[from] crate::watch::WatchError),
}

/// Builds a [`Renderer`] from its sources, with the service's precedence:
/// defaults < tyk.conf < config file < environment < the builder's own
/// settings. Nothing is read until [`build`](Self::build).
///
/// ```
/// use error_render::{ErrorRequest, Renderer};
///
/// let renderer = Renderer::builder()
///     .templates("templates")
///     .default_message(404, "Nothing here")
///     .build()?;
/// let r = renderer.render(&ErrorRequest::code(404))?;
/// assert_eq!(r.body, "{\n    \"error\": \"Nothing here\"\n}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until built"]
pub struct RendererBuilder {
    sources: Sources,
    limits: Option<RenderLimits>,
    /// Added to the resolved `default_messages` rather than replacing the
    /// whole map, as a caller naming one code expects.
    default_messages: BTreeMap<u16, String>,
}

impl Renderer {
    /// A builder with no sources yet: the bundled defaults, the folder
    /// `templates`, no environment.
    pub fn builder() -> RendererBuilder {
        RendererBuilder::default()
    }

    /// Loads what `config` names, as the service does at start and on every
    /// reload: the template folder under the config's limits, the overrides
    /// file (else the tyk.conf's `override_messages`), and the options.
    /// Problems that do not stop a load (a set without `error.json`,
    /// unknown override IDs) are logged as warnings.
    pub fn from_config(config: &Config) -> Result<Renderer, ReloadError> {
        let (renderer, warnings) = Renderer::from_config_with_warnings(config)?;
        for w in warnings {
            tracing::warn!("{w}");
        }
        Ok(renderer)
    }

    /// A store whose every (re)load reads what `config` names afresh, as
    /// [`from_config`](Self::from_config) does: the one way the service,
    /// the builder and the live renderer make their store.
    pub fn store_from_config(config: Arc<Config>) -> Result<Store, ReloadError> {
        let timeout = config.limits.reload_timeout;
        let formats = config.formats.clone();
        Ok(
            Store::with_reload_timeout(move || Renderer::from_config(&config), timeout)?
                .with_lint_formats(&formats),
        )
    }

    /// [`from_config`](Self::from_config), returning the warnings instead
    /// of logging them (a command prints them on stderr).
    pub fn from_config_with_warnings(
        config: &Config,
    ) -> Result<(Renderer, Vec<String>), ReloadError> {
        // Parse errors name files by base name, as the gateway does; the
        // warnings and /status name the folder beside them.
        let set = TemplateSet::load_limited(&config.templates, config.limits.render)
            .map_err(ReloadError::new)?;
        // error-render's own templates, from the same folder and in the same
        // generation: a broken `.tera` file fails the load like a broken Go
        // template, so a reload keeps the last good pair.
        let native =
            crate::native::NativeSet::load_limited(&config.templates, config.limits.render)
                .map_err(ReloadError::new)?;
        let dir = config.templates.display();
        let mut warnings: Vec<String> = set
            .warnings()
            .iter()
            .map(|w| format!("{dir}: {w}"))
            .collect();
        let (overrides, problems) = load_overrides(config).map_err(ReloadError::new)?;
        warnings.extend(
            problems
                .into_iter()
                .map(|p| format!("override_messages: {p}")),
        );
        let set = Arc::new(set);
        let rules = crate::error_overrides::service::LiveRules::load(
            Arc::clone(&set),
            config.tyk_conf.as_deref(),
            config.apis_dir().as_deref(),
            config.profile,
            config.hide_generator_header,
            config.close_connections,
        )
        .map_err(ReloadError::new)?;
        warnings.extend(rules.warnings().iter().cloned());
        let mut options = config.render_options(overrides);
        // A tyk.conf with rules describes a 5.13+ gateway, which ignores
        // `override_messages`.
        options.ignore_overrides =
            config.ignores_overrides(rules.overrides().gateway_rules().is_some());
        let renderer = Renderer::new(set, options)
            .with_native(Arc::new(native))
            .with_error_overrides(Arc::new(rules));
        Ok((renderer, warnings))
    }
}

impl RendererBuilder {
    /// The template folder (wins over the tyk.conf's `template_path`).
    pub fn templates(mut self, dir: impl Into<PathBuf>) -> Self {
        self.sources.flags.templates = Some(dir.into());
        self
    }

    /// A gateway `tyk.conf` to read `template_path`, `hide_generator_header`,
    /// `close_connections` and `override_messages` from.
    pub fn tyk_conf(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.flags.tyk_conf = Some(path.into());
        self
    }

    /// The API definitions folder whose Error Overrides apply by API id
    /// (default: the tyk.conf's `app_path` when it names a folder).
    pub fn apis(mut self, dir: impl Into<PathBuf>) -> Self {
        self.sources.flags.apis = Some(dir.into());
        self
    }

    /// A standalone YAML/JSON file of `override_messages` (wins over the
    /// tyk.conf's).
    pub fn overrides(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.flags.overrides = Some(path.into());
        self
    }

    /// The service's config file (YAML or JSON), below the environment and
    /// the builder's own settings.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.config_file = Some(path.into());
        self
    }

    /// Honours the process's `ERROR_RENDER_*` variables, as the service does
    /// (`ERROR_RENDER_CONFIG` names a config file unless
    /// [`config_file`](Self::config_file) did).
    pub fn process_env(mut self) -> Self {
        self.sources.env = Sources::from_process_env(ConfigLayer::default(), None).env;
        self
    }

    /// These variables instead of the process's (only `ERROR_RENDER_*` are
    /// read), e.g. for tests.
    pub fn env<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.sources.env = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self
    }

    /// Merges a whole layer of settings (e.g. one read with
    /// [`ConfigLayer::from_file`]) over what the builder has so far.
    pub fn layer(mut self, layer: ConfigLayer) -> Self {
        self.sources.flags = std::mem::take(&mut self.sources.flags).merge(layer);
        self
    }

    /// The gateway release whose escaping to reproduce.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.sources.flags.profile = Some(profile);
        self
    }

    /// Bounds on loading the set and on each render, instead of the
    /// service's (and of any `limits` in the config file or environment).
    pub fn limits(mut self, limits: RenderLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Leave out `X-Generator: tyk.io`.
    pub fn hide_generator_header(mut self, hide: bool) -> Self {
        self.sources.flags.hide_generator_header = Some(hide);
        self
    }

    /// Give templates only `{Message}`, as the gateway does.
    pub fn strict_tyk(mut self, strict: bool) -> Self {
        self.sources.flags.strict_tyk = Some(strict);
        self
    }

    /// Ignore override messages, as recent gateway releases do.
    pub fn ignore_overrides(mut self, ignore: bool) -> Self {
        self.sources.flags.ignore_overrides = Some(ignore);
        self
    }

    /// The message for `code` when rendered without one (the config file's
    /// `default_messages`; the builder's entries are added to the file's).
    pub fn default_message(mut self, code: u16, message: impl Into<String>) -> Self {
        self.default_messages.insert(code, message.into());
        self
    }

    /// The settings the sources resolve to, as the service would run with
    /// them; reads the config file and the tyk.conf, not the templates.
    /// Warnings (unknown `ERROR_RENDER_*` variables) are logged.
    pub fn settings(&self) -> Result<Config, ConfigError> {
        let loaded = self.resolve()?;
        for w in &loaded.warnings {
            tracing::warn!("{w}");
        }
        Ok(loaded.config)
    }

    /// [`settings`](Self::settings) with the warnings and where each
    /// setting came from, for a caller that reports them itself (the CLI
    /// names the source of a missing template folder).
    pub fn resolve(&self) -> Result<Loaded, ConfigError> {
        let mut loaded = Config::load(&self.sources)?;
        let config = &mut loaded.config;
        for (&code, message) in &self.default_messages {
            if !(100..=999).contains(&code) {
                return Err(ConfigError::Invalid {
                    key: format!("default_messages.{code}"),
                    message: "the key must be a status code, 100-999".into(),
                });
            }
            config.default_messages.insert(code, message.clone());
        }
        if let Some(limits) = self.limits {
            config.limits.render = limits;
        }
        Ok(loaded)
    }

    /// Reads the sources and loads the set once.
    pub fn build(self) -> Result<Renderer, BuildError> {
        Ok(Renderer::from_config(&self.settings()?)?)
    }

    /// A [`Store`] that re-reads the same sources on every
    /// [`reload`](Store::reload), keeping the last good set when one fails;
    /// reloading is the caller's (see `build_live`, feature `watch`, for
    /// a watcher).
    pub fn build_store(self) -> Result<Store, BuildError> {
        Ok(Renderer::store_from_config(Arc::new(self.settings()?))?)
    }

    /// A live renderer: the store of [`build_store`](Self::build_store) and
    /// a watcher that reloads it when the files the build read change (the
    /// template folder, the overrides file, the tyk.conf). Watching stops
    /// when it is dropped. SIGHUP is not handled: the process's signals
    /// are the embedder's.
    #[cfg(feature = "watch")]
    pub fn build_live(self) -> Result<crate::live::LiveRenderer, BuildError> {
        crate::live::LiveRenderer::start(Arc::new(self.settings()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorRequest;

    #[test]
    fn builder_settings_win_over_the_environment_and_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(
            &file,
            "templates: nowhere\ndefault_messages:\n  404: from the file\n  500: file 500\n",
        )
        .unwrap();
        let builder = Renderer::builder()
            .config_file(&file)
            .env([("ERROR_RENDER_HIDE_GENERATOR_HEADER", "true")])
            .templates("templates")
            .default_message(404, "from the builder");
        let config = builder.settings().unwrap();
        assert_eq!(config.templates, PathBuf::from("templates"));
        assert!(config.hide_generator_header);
        let r = builder.build().unwrap();
        let body = |code| {
            r.render(&ErrorRequest::code(code))
                .unwrap()
                .body_text()
                .into_owned()
        };
        assert!(body(404).contains("from the builder"));
        assert!(body(500).contains("file 500"));
    }

    /// The tyk.conf supplies the folder, the generator and connection
    /// settings and the overrides, as it does for the service.
    #[test]
    fn tyk_conf_names_folder_headers_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tpl")).unwrap();
        std::fs::write(dir.path().join("tpl/error.json"), "{{.Message}}").unwrap();
        let conf = dir.path().join("tyk.conf");
        std::fs::write(
            &conf,
            r#"{"template_path": "tpl", "hide_generator_header": true,
                "override_messages": {"auth.key_not_found": {"code": 401, "message": "Invalid key"}}}"#,
        )
        .unwrap();
        let builder = Renderer::builder().tyk_conf(&conf);
        assert_eq!(
            builder.settings().unwrap().watch_paths(),
            vec![dir.path().join("tpl"), conf.clone()]
        );
        let r = builder
            .build()
            .unwrap()
            .render(&ErrorRequest::id("auth.key_not_found"))
            .unwrap();
        assert_eq!((r.status, r.body_str()), (401, Some("Invalid key")));
        assert_eq!(r.header("x-generator"), None);
    }

    #[test]
    fn a_bad_config_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(&file, "templats: x\n").unwrap();
        let err = Renderer::builder().config_file(&file).build().unwrap_err();
        assert!(matches!(err, BuildError::Config(_)));
        let text = err.to_string();
        assert!(
            text.contains("config.yaml") && text.contains("templats"),
            "{text}"
        );
    }
}
