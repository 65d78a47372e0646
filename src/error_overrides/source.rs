//! Reading rules: `error_overrides` from a `tyk.conf`, and each API
//! definition's rules from a folder of classic (JSON) or OAS (JSON or YAML)
//! definitions, known by API id. Syntax errors keep the parser's line and
//! column, and every rule key keeps its place in the file (found with the
//! position-keeping reader `override_messages` uses), for the validator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::rules::RuleMap;
use crate::error::SourceError;
use crate::overrides::{FileFormat, Locator, OverridesError, parse_tree};

/// Why rules could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// The file or folder could not be read.
    #[error("{}: cannot read: {message}; check the path and its permissions", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// Not valid JSON/YAML, or rules of the wrong shape (the gateway would
    /// refuse the file); with file, line and column.
    #[error("{0}")]
    Invalid(SourceError),
}

/// Rules read from one file, with where each key is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSource {
    /// The file.
    pub file: PathBuf,
    /// The rules.
    pub rules: RuleMap,
    /// Line and column (1-based) of each key, as written.
    pub positions: BTreeMap<String, (usize, usize)>,
}

/// What error-render takes from a `tyk.conf` for Error Overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayRules {
    /// `error_overrides`.
    pub source: RuleSource,
    /// `hide_generator_header`.
    pub hide_generator_header: bool,
    /// `close_connections`.
    pub close_connections: bool,
    /// `app_path`: the API definitions folder, as written.
    pub app_path: Option<String>,
}

/// One API definition's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiSource {
    /// The API id (classic `api_id`, OAS `x-tyk-api-gateway.info.id`).
    pub id: String,
    /// Whether the API switches its rules off (classic
    /// `error_overrides_disabled`; OAS `enabled: false` or no block).
    pub disabled: bool,
    /// The rules and where they are.
    pub source: RuleSource,
}

/// Reads the Error Overrides settings of a `tyk.conf` (JSON).
pub fn read_tyk_conf(path: impl AsRef<Path>) -> Result<GatewayRules, RulesError> {
    let path = path.as_ref();
    let text = read(path)?;
    let root = parse(&text, FileFormat::Json, path)?;
    let loc = Locator::new(&text, FileFormat::Json);
    let bool_at = |key: &str| -> Result<bool, RulesError> {
        match root.get(key) {
            None | Some(Json::Null) => Ok(false),
            Some(Json::Bool(b)) => Ok(*b),
            Some(other) => Err(invalid(
                path,
                &loc,
                loc.find_key(0, key),
                format!("{key} must be true or false, found {other}"),
            )),
        }
    };
    let (rules, positions) = rules_at(&root, "error_overrides", path, &loc, 0, false)?;
    Ok(GatewayRules {
        source: RuleSource {
            file: path.to_owned(),
            rules,
            positions,
        },
        hide_generator_header: bool_at("hide_generator_header")?,
        close_connections: bool_at("close_connections")?,
        app_path: root
            .get("app_path")
            .and_then(Json::as_str)
            .map(str::to_owned),
    })
}

/// Reads every API definition in `dir` (`*.json`, `*.yaml`, `*.yml`),
/// sorted by file name. Files that are not API definitions (no `api_id`
/// and no `x-tyk-api-gateway`) are skipped; a file that fails is an error,
/// and every failing file is returned.
pub fn read_api_dir(dir: impl AsRef<Path>) -> Result<Vec<ApiSource>, Vec<RulesError>> {
    let dir = dir.as_ref();
    let io = |path: &Path, e: std::io::Error| RulesError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| vec![io(dir, e)])?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "json" | "yaml" | "yml"))
        })
        .collect();
    paths.sort();
    let mut apis = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match read_api(&path) {
            Ok(Some(api)) => apis.push(api),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(apis)
    } else {
        Err(errors)
    }
}

/// Reads one API definition; `None` when the file is not one.
pub fn read_api(path: &Path) -> Result<Option<ApiSource>, RulesError> {
    let text = read(path)?;
    let format = FileFormat::from_path(path);
    let root = parse(&text, format, path)?;
    let loc = Locator::new(&text, format);
    if let Some(tyk) = root.get("x-tyk-api-gateway") {
        let scope = loc.find_key(0, "x-tyk-api-gateway").unwrap_or(0);
        let id = tyk
            .pointer("/info/id")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned();
        let block = tyk.get("errorOverrides");
        let enabled = block
            .and_then(|b| b.get("enabled"))
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let scope = loc.find_key(scope, "errorOverrides").unwrap_or(scope);
        let (rules, positions) = match block {
            Some(b) => rules_at(b, "value", path, &loc, scope, true)?,
            None => Default::default(),
        };
        return Ok(Some(ApiSource {
            id,
            disabled: !enabled,
            source: RuleSource {
                file: path.to_owned(),
                rules,
                positions,
            },
        }));
    }
    let Some(id) = root.get("api_id").and_then(Json::as_str) else {
        return Ok(None);
    };
    let disabled = matches!(root.get("error_overrides_disabled"), Some(Json::Bool(true)));
    let (rules, positions) = rules_at(&root, "error_overrides", path, &loc, 0, false)?;
    Ok(Some(ApiSource {
        id: id.to_owned(),
        disabled,
        source: RuleSource {
            file: path.to_owned(),
            rules,
            positions,
        },
    }))
}

type Positions = BTreeMap<String, (usize, usize)>;

/// Decodes the rules under `key` of `parent`; `camel` for OAS names.
fn rules_at(
    parent: &Json,
    key: &str,
    path: &Path,
    loc: &Locator<'_>,
    scope: usize,
    camel: bool,
) -> Result<(RuleMap, Positions), RulesError> {
    let Some(value) = parent.get(key).filter(|v| !v.is_null()) else {
        return Ok(Default::default());
    };
    let at = loc.find_key(scope, key);
    let value = if camel {
        to_snake(value)
    } else {
        value.clone()
    };
    let rules: RuleMap = serde_json::from_value(value).map_err(|e| {
        invalid(
            path,
            loc,
            at,
            format!(
                "{key} must map status keys (\"403\", \"4xx\") to lists of {{match, response}} \
                 rules: {e}"
            ),
        )
    })?;
    let from = at.unwrap_or(scope);
    let positions = rules
        .keys()
        .filter_map(|k| {
            let (line, column) = loc.line_col(loc.find_key(from, k));
            Some((k.clone(), (line?, column?)))
        })
        .collect();
    Ok((rules, positions))
}

/// OAS `errorOverrides.value` in the classic field names.
fn to_snake(value: &Json) -> Json {
    const NAMES: &[(&str, &str)] = &[
        ("messagePattern", "message_pattern"),
        ("bodyField", "body_field"),
        ("bodyValue", "body_value"),
        ("statusCode", "status_code"),
    ];
    let rename = |obj: &serde_json::Map<String, Json>| -> Json {
        Json::Object(
            obj.iter()
                .map(|(k, v)| {
                    let k = NAMES
                        .iter()
                        .find(|(c, _)| c == k)
                        .map_or(k.as_str(), |(_, s)| s);
                    (k.to_owned(), v.clone())
                })
                .collect(),
        )
    };
    let Json::Object(keys) = value else {
        return value.clone();
    };
    Json::Object(
        keys.iter()
            .map(|(key, rules)| {
                let rules = match rules {
                    Json::Array(list) => Json::Array(
                        list.iter()
                            .map(|rule| match rule {
                                Json::Object(r) => Json::Object(
                                    r.iter()
                                        .map(|(k, v)| {
                                            let v = match v {
                                                Json::Object(o) => rename(o),
                                                other => other.clone(),
                                            };
                                            (k.clone(), v)
                                        })
                                        .collect(),
                                ),
                                other => other.clone(),
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                };
                (key.clone(), rules)
            })
            .collect(),
    )
}

fn read(path: &Path) -> Result<String, RulesError> {
    std::fs::read_to_string(path).map_err(|e| RulesError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Parses with the position-keeping reader (for its syntax errors), then
/// into a JSON value.
fn parse(text: &str, format: FileFormat, path: &Path) -> Result<Json, RulesError> {
    let file = path.display().to_string();
    parse_tree(text, format, &file).map_err(|e| match e {
        OverridesError::Syntax(e) => RulesError::Invalid(e),
        other => RulesError::Invalid(SourceError {
            file: file.clone(),
            line: None,
            column: None,
            message: other.to_string(),
        }),
    })?;
    let value = match format {
        FileFormat::Json => serde_json::from_str::<Json>(text).map_err(|e| e.to_string()),
        FileFormat::Yaml => serde_yaml_ng::from_str::<Json>(text).map_err(|e| e.to_string()),
    };
    value.map_err(|message| {
        RulesError::Invalid(SourceError {
            file,
            line: None,
            column: None,
            message: format!("cannot read as {}: {message}", format.name()),
        })
    })
}

fn invalid(path: &Path, loc: &Locator<'_>, at: Option<usize>, message: String) -> RulesError {
    let (line, column) = loc.line_col(at);
    RulesError::Invalid(SourceError {
        file: path.display().to_string(),
        line,
        column,
        message,
    })
}
