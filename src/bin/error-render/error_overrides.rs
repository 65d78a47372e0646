//! `error-render render` with Error Overrides: a gateway error or an
//! upstream response through the rules of a tyk.conf and an API definition.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use error_render::error_overrides::source::{read_api_dir, read_tyk_conf};
use error_render::error_overrides::{
    ApiRules, ErrorOverrides, GatewayError, Options, Outcome, RuleMap, UpstreamResponse, flags,
};
use error_render::{RenderOptions, Renderer, TemplateSet};

/// The Error Overrides arguments of `render`.
#[derive(Debug, clap::Args)]
#[group(id = "error_overrides")]
pub struct Args {
    /// The error's classification flag (AKI, RLT, QEX ...); any text, as the
    /// gateway compares strings.
    #[arg(long, value_name = "FLAG", conflicts_with = "upstream_status")]
    flag: Option<String>,
    /// The classification's template data as a JSON object
    /// (`{"InvalidParams": "..."}`).
    #[arg(long, value_name = "JSON", conflicts_with = "upstream_status")]
    template_data: Option<String>,
    /// A header earlier middleware set ("Name: value"); repeatable.
    #[arg(long, value_name = "HEADER", conflicts_with = "upstream_status")]
    preset_header: Vec<String>,
    /// Render an upstream response with this status instead of a gateway error.
    #[arg(long, value_name = "N")]
    upstream_status: Option<i64>,
    /// The upstream response's body, from a file.
    #[arg(long, value_name = "FILE", requires = "upstream_status")]
    upstream_body: Option<PathBuf>,
    /// An upstream response header ("Name: value"); repeatable.
    #[arg(long, value_name = "HEADER", requires = "upstream_status")]
    upstream_header: Vec<String>,
    /// The API definitions folder (default: the tyk.conf's app_path).
    #[arg(long, value_name = "DIR")]
    apis: Option<PathBuf>,
    /// The API whose rules apply (its api_id or OAS x-tyk-api-gateway.info.id).
    #[arg(long, value_name = "ID")]
    api: Option<String>,
}

/// The error to render, from `render`'s own arguments.
pub struct Request {
    pub code: Option<u16>,
    pub message: Option<String>,
    pub id: Option<String>,
    pub content_type: Option<String>,
    pub json: bool,
}

/// What to apply: the gateway's rules, one API's, and the response to make.
pub struct Plan {
    gateway: RuleMap,
    api: Option<ApiRules>,
    args: ArgsOwned,
}

struct ArgsOwned {
    flag: Option<String>,
    template_data: serde_json::Map<String, serde_json::Value>,
    preset_headers: Vec<(String, String)>,
    upstream: Option<UpstreamResponse>,
}

fn header(text: &str, flag: &str) -> anyhow::Result<(String, String)> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.trim_start().to_owned()))
        }
        _ => bail!("{flag} {text:?}: write a header as \"Name: value\""),
    }
}

impl Plan {
    /// `None` when nothing asks for Error Overrides (then `render` renders
    /// the legacy way): no rule flag given and no `error_overrides` in the
    /// tyk.conf.
    pub fn new(args: &Args, tyk_conf: Option<&Path>) -> anyhow::Result<Option<Plan>> {
        let conf = tyk_conf
            .map(|p| read_tyk_conf(p).with_context(|| format!("cannot use {}", p.display())))
            .transpose()?;
        let asked = args.flag.is_some()
            || args.template_data.is_some()
            || !args.preset_header.is_empty()
            || args.upstream_status.is_some()
            || args.apis.is_some()
            || args.api.is_some()
            || conf.as_ref().is_some_and(|c| !c.source.rules.is_empty());
        if !asked {
            return Ok(None);
        }
        let apis_dir = args.apis.clone().or_else(|| {
            let conf = conf.as_ref()?;
            let app_path = Path::new(conf.app_path.as_deref()?);
            Some(
                match (app_path.is_relative(), tyk_conf.and_then(Path::parent)) {
                    (true, Some(dir)) => dir.join(app_path),
                    _ => app_path.to_owned(),
                },
            )
        });
        let api = match &args.api {
            None => None,
            Some(id) => {
                let Some(dir) = apis_dir else {
                    bail!(
                        "--api {id}: give the API definitions folder with --apis DIR (or app_path in the tyk.conf)"
                    );
                };
                let apis = read_api_dir(&dir).map_err(|errors| {
                    anyhow::anyhow!(
                        "API definitions in {} do not load:\n{}",
                        dir.display(),
                        errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                })?;
                let Some(found) = apis.iter().find(|a| &a.id == id) else {
                    let known: Vec<&str> = apis.iter().map(|a| a.id.as_str()).collect();
                    bail!(
                        "no API with id {id:?} in {}: the ids there are {}",
                        dir.display(),
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    );
                };
                Some(ApiRules::new(
                    found.id.clone(),
                    &found.source.rules,
                    found.disabled,
                ))
            }
        };
        let template_data = match &args.template_data {
            None => serde_json::Map::new(),
            Some(text) => match serde_json::from_str(text) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => bail!(
                    "--template-data must be a JSON object, such as {{\"InvalidParams\": \"...\"}}"
                ),
            },
        };
        let upstream = match args.upstream_status {
            None => None,
            Some(status) => Some(UpstreamResponse {
                status,
                headers: args
                    .upstream_header
                    .iter()
                    .map(|h| header(h, "--upstream-header"))
                    .collect::<anyhow::Result<_>>()?,
                body: match &args.upstream_body {
                    Some(p) => std::fs::read(p)
                        .with_context(|| format!("cannot read --upstream-body {}", p.display()))?,
                    None => Vec::new(),
                },
                request_content_type: None,
            }),
        };
        Ok(Some(Plan {
            gateway: conf.map(|c| c.source.rules).unwrap_or_default(),
            api,
            args: ArgsOwned {
                flag: args.flag.clone(),
                template_data,
                preset_headers: args
                    .preset_header
                    .iter()
                    .map(|h| header(h, "--preset-header"))
                    .collect::<anyhow::Result<_>>()?,
                upstream,
            },
        }))
    }

    /// Applies the rules and prints the response; exit 1 for `exec` and
    /// `no_response`.
    pub fn run(
        self,
        set: Arc<TemplateSet>,
        options: &RenderOptions,
        req: &Request,
    ) -> anyhow::Result<ExitCode> {
        let eo = ErrorOverrides::new(
            Arc::clone(&set),
            &self.gateway,
            Options {
                profile: options.profile,
                hide_generator_header: options.hide_generator_header,
                close_connections: options.close_connections,
            },
        );
        for w in eo
            .warnings()
            .iter()
            .chain(self.api.iter().flat_map(|a| a.warnings()))
        {
            eprintln!("warning: {w}");
        }
        let response = match self.args.upstream {
            Some(mut upstream) => {
                upstream.request_content_type.clone_from(&req.content_type);
                eo.upstream(self.api.as_ref(), &upstream)
            }
            None => {
                let mut err = match &req.id {
                    Some(id) => flags::gateway_error_for(id).with_context(|| {
                        format!(
                            "--id {id}: not a catalogue entry (`error-render catalogue` lists them)"
                        )
                    })?,
                    None => {
                        let code = req.code.context("give --code N or --upstream-status N")?;
                        let message = match &req.message {
                            Some(m) => m.clone(),
                            None => Renderer::new(Arc::clone(&set), options.clone())
                                .default_message(code),
                        };
                        GatewayError {
                            code: i64::from(code),
                            message,
                            ..GatewayError::default()
                        }
                    }
                };
                if self.args.flag.is_some() {
                    err.flag = self.args.flag;
                }
                err.template_data = self.args.template_data.into_iter().collect();
                err.preset_headers = self.args.preset_headers;
                err.content_type.clone_from(&req.content_type);
                eo.gateway_error(self.api.as_ref(), &err)
            }
        };
        let mut stdout = std::io::stdout().lock();
        if req.json {
            let headers: serde_json::Map<String, serde_json::Value> = response
                .header_lines
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone().into()))
                .collect();
            let out = serde_json::json!({
                "status": response.status,
                "headers": headers,
                "header_lines": response.header_lines,
                "body": String::from_utf8_lossy(&response.body),
                "template": response.legacy_template,
                "route": response.route,
                "matched": response.matched,
                "outcome": response.outcome,
                "error": response.error,
            });
            writeln!(stdout, "{out}")?;
        } else {
            stdout.write_all(&response.body)?;
        }
        stdout.flush()?;
        if let Some(e) = &response.error {
            eprintln!(
                "error-render: {} ({}): {e}",
                response.outcome.as_str(),
                response.route.as_str()
            );
        }
        Ok(match response.outcome {
            Outcome::Ok => ExitCode::SUCCESS,
            Outcome::Exec | Outcome::NoResponse => ExitCode::from(1),
        })
    }
}
