//! Error Overrides in the live set: the rules of the tyk.conf and the API
//! folder, compiled with each generation of templates so that a reload swaps
//! templates and rules together, and a rule file that does not load keeps the
//! last good generation serving.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::source::{read_api_dir, read_tyk_conf};
use super::{ApiRules, ErrorOverrides, Matched, Options};
use crate::escape::Profile;
use crate::set::TemplateSet;

/// Why the rules of a generation did not load (the reload is refused and the
/// last good generation keeps serving).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LiveRulesError {
    /// The tyk.conf's `error_overrides` cannot be read.
    #[error("error_overrides: {0}; fix the file, the last good rules keep serving")]
    TykConf(String),
    /// API definitions in the folder do not load.
    #[error(
        "API definitions in {} do not load (fix them; the last good rules keep serving):\n{errors}",
        dir.display()
    )]
    Apis {
        /// The folder (setting `apis`).
        dir: PathBuf,
        /// One line per failing file, naming it with line and column.
        errors: String,
    },
}

/// One generation's rules: the gateway's, and every API's by id.
#[derive(Debug)]
pub struct LiveRules {
    eo: ErrorOverrides,
    apis: BTreeMap<String, ApiRules>,
    /// Whether the tyk.conf has `error_overrides` or an API folder is read:
    /// the service then answers as a 5.13+ gateway.
    active: bool,
    warnings: Vec<String>,
    /// Rules already logged for dropping the connection in this generation,
    /// so a hot rule logs once rather than per request.
    warned: Mutex<HashSet<Matched>>,
}

impl LiveRules {
    /// Reads and compiles the rules of the tyk.conf (if any) and of the API
    /// folder `apis` (if any) against this generation's templates.
    pub fn load(
        set: Arc<TemplateSet>,
        tyk_conf: Option<&Path>,
        apis: Option<&Path>,
        profile: Profile,
        hide_generator_header: bool,
        close_connections: bool,
    ) -> Result<LiveRules, LiveRulesError> {
        let gateway = tyk_conf
            .map(read_tyk_conf)
            .transpose()
            .map_err(|e| LiveRulesError::TykConf(e.to_string()))?;
        let rules = gateway.map(|g| g.source.rules).unwrap_or_default();
        let active = !rules.is_empty() || apis.is_some();
        let options = Options {
            profile,
            hide_generator_header,
            close_connections,
        };
        // Without rules, skip compiling anything (a service that does not
        // use Error Overrides pays nothing per reload).
        let eo = if active {
            ErrorOverrides::new(set, &rules, options)
        } else {
            ErrorOverrides::without_rules(set, options)
        };
        let mut warnings: Vec<String> = eo
            .warnings()
            .iter()
            .map(|w| format!("error_overrides: {w}"))
            .collect();
        let mut by_id = BTreeMap::new();
        if let Some(dir) = apis {
            let sources = read_api_dir(dir).map_err(|errors| LiveRulesError::Apis {
                dir: dir.to_owned(),
                errors: errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            })?;
            for api in sources {
                let rules = ApiRules::new(api.id.clone(), &api.source.rules, api.disabled);
                warnings.extend(
                    rules
                        .warnings()
                        .iter()
                        .map(|w| format!("{}: API {}: {w}", api.source.file.display(), api.id)),
                );
                by_id.insert(api.id, rules);
            }
        }
        Ok(LiveRules {
            eo,
            apis: by_id,
            active,
            warnings,
            warned: Mutex::default(),
        })
    }

    /// Whether any rules are configured: without them the service renders
    /// the legacy way.
    pub fn active(&self) -> bool {
        self.active
    }

    /// The gateway's rules and templates.
    pub fn overrides(&self) -> &ErrorOverrides {
        &self.eo
    }

    /// One API's rules, by id.
    pub fn api(&self, id: &str) -> Option<&ApiRules> {
        self.apis.get(id)
    }

    /// The API ids known, sorted.
    pub fn api_ids(&self) -> impl Iterator<Item = &str> {
        self.apis.keys().map(String::as_str)
    }

    /// What the gateway logs while compiling these rules, as load warnings.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether this is the first time `matched` dropped the connection in
    /// this generation (to log it once).
    pub fn first_no_response(&self, matched: &Matched) -> bool {
        let mut seen = match self.warned.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        seen.insert(matched.clone())
    }
}

/// The API definitions folder: the setting when given, else the tyk.conf's
/// `app_path` (relative to the tyk.conf's folder) when it names a folder.
pub fn apis_dir(apis: Option<&Path>, tyk_conf: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = apis {
        return Some(dir.to_owned());
    }
    let conf = tyk_conf?;
    let text = std::fs::read_to_string(conf).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let app_path = Path::new(value.get("app_path")?.as_str()?);
    let dir = match (app_path.is_relative(), conf.parent()) {
        (true, Some(parent)) => parent.join(app_path),
        _ => app_path.to_owned(),
    };
    dir.is_dir().then_some(dir)
}
