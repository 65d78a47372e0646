//! `error-render render`: one error through a template folder, body to stdout.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use error_render::config::ConfigLayer;
use error_render::{ErrorRequest, Format, Outcome, Profile};

/// A `--format` value, with the library's error naming the valid ones.
fn parse_format(value: &str) -> Result<Format, String> {
    value
        .parse()
        .map_err(|e: error_render::UnknownFormat| e.to_string())
}

/// Arguments of `render`. Every setting of `serve` applies (a config file,
/// `ERROR_RENDER_*`), so the body is the one the service would send; these
/// flags win over both.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The template folder (the gateway's `template_path`). Else
    /// ERROR_RENDER_TEMPLATES, the config file's `templates`, the tyk.conf's
    /// `template_path`, then `templates`.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// A config file (YAML or JSON, as for `serve`). Else ERROR_RENDER_CONFIG.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The status code of the error.
    #[arg(
        long,
        value_name = "N",
        required_unless_present_any = ["id", "upstream_status"],
        conflicts_with_all = ["id", "upstream_status"]
    )]
    code: Option<u16>,
    /// The error message (default: the code's default message).
    #[arg(long, value_name = "TEXT", conflicts_with = "id")]
    message: Option<String>,
    /// A catalogue entry or gateway error ID to render instead of --code/--message.
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// The failing request's Content-Type (XML only for application/xml,
    /// text/xml, application/soap+xml).
    #[arg(long, value_name = "CT")]
    content_type: Option<String>,
    /// The format to render in, instead of the Content-Type rule: json,
    /// xml (Tyk's templates), html, text or problem (RFC 9457). Any format,
    /// whatever the setting `formats` enables.
    #[arg(long, value_name = "FORMAT", value_parser = parse_format, conflicts_with = "content_type")]
    format: Option<Format>,
    /// Which gateway release's escaping to reproduce [default: 5.15, else
    /// ERROR_RENDER_PROFILE or the config file's `profile`].
    #[arg(long, value_parser = ["5.15", "5.14"])]
    profile: Option<String>,
    /// Give templates only `{{.Message}}`, as the gateway does (else
    /// ERROR_RENDER_STRICT_TYK or the config file's `strict_tyk`).
    #[arg(long)]
    strict_tyk: bool,
    /// A YAML or JSON file of override_messages.
    #[arg(long, value_name = "FILE", conflicts_with = "tyk_conf")]
    overrides: Option<PathBuf>,
    /// A tyk.conf: override_messages, template_path, hide_generator_header
    /// and close_connections are read from it.
    #[arg(long, value_name = "FILE")]
    tyk_conf: Option<PathBuf>,
    /// Print one JSON object (status, headers, body, template, outcome,
    /// error; body_b64 when the body is not UTF-8; with Error Overrides
    /// also header_lines, route and matched).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    eo: Box<crate::error_overrides::Args>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let profile = match &args.profile {
        Some(p) => Some(p.parse::<Profile>().map_err(anyhow::Error::msg)?),
        None => None,
    };
    let flags = ConfigLayer {
        templates: args.templates.clone(),
        overrides: args.overrides.clone(),
        tyk_conf: args.tyk_conf.clone(),
        profile,
        // Only an explicit flag: without it the lower layers decide.
        strict_tyk: args.strict_tyk.then_some(true),
        ..ConfigLayer::default()
    };
    let loaded = crate::settings::resolve(&crate::settings::builder(args.config.clone(), flags))?;
    let eo = crate::error_overrides::Plan::new(&args.eo, loaded.config.tyk_conf.as_deref())?;
    let req = ErrorRequest {
        code: args.code,
        message: args.message.clone(),
        id: args.id.clone(),
        content_type: args.content_type.clone(),
        format: args.format,
        ..ErrorRequest::default()
    };
    let renderer = match crate::settings::missing_folder(&loaded, "--templates DIR") {
        Some(message) => Err(message),
        None => crate::settings::load_renderer(&loaded),
    };
    let renderer = match renderer {
        Ok(renderer) => renderer,
        Err(e) => {
            if args.json {
                let out = serde_json::json!({
                    "status": null,
                    "headers": {},
                    "body": null,
                    "template": null,
                    "outcome": Outcome::Load,
                    "error": e,
                });
                println!("{out}");
            }
            eprintln!("error-render: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(plan) = eo {
        let request = crate::error_overrides::Request {
            code: args.code,
            message: args.message.clone(),
            id: args.id.clone(),
            content_type: args.content_type.clone(),
            json: args.json,
        };
        return plan.run(renderer.set().clone(), renderer.options(), &request);
    }
    let rendered = renderer.render(&req).context("cannot render this error")?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let headers: serde_json::Map<String, serde_json::Value> = rendered
            .headers
            .iter()
            .map(|(k, v)| (k.to_owned(), v.into()))
            .collect();
        let mut out = serde_json::json!({
            "status": rendered.status,
            "headers": headers,
            "body": rendered.body_text(),
            "template": rendered.template,
            "outcome": rendered.outcome,
            "error": rendered.error,
        });
        // The exact bytes, only when the text above had to replace some.
        if let Some(b64) = rendered.body_b64() {
            out["body_b64"] = b64.into();
        }
        writeln!(stdout, "{out}")?;
    } else {
        stdout.write_all(&rendered.body)?;
    }
    stdout.flush()?;
    if let Some(e) = &rendered.error {
        eprintln!(
            "error-render: {} ({}): {e}",
            rendered.outcome,
            rendered.template.as_deref().unwrap_or("no template")
        );
    }
    Ok(match rendered.outcome {
        Outcome::Ok => ExitCode::SUCCESS,
        Outcome::Exec | Outcome::Missing => ExitCode::from(1),
        Outcome::Load => ExitCode::from(2),
    })
}
