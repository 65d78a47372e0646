//! `error-render validate`: checks a template folder and prints a report
//! (human, JSON, JUnit, GitHub annotations or SARIF); exit 0 clean, 1 problems,
//! 2 could not run.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use error_render::Profile;
use error_render::config::ConfigLayer;
use error_render::validate::{ValidateOptions, validate};

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The template folder (the gateway's `template_path`). Else
    /// ERROR_RENDER_TEMPLATES, the config file's `templates`, the tyk.conf's
    /// `template_path`, then `templates`.
    dir: Option<PathBuf>,
    /// A config file (YAML or JSON, as for `serve`): its `templates`,
    /// `overrides`, `tyk_conf`, `profile` and `formats` apply. Else
    /// ERROR_RENDER_CONFIG.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A YAML or JSON file of override_messages to check and apply.
    #[arg(long, value_name = "FILE", conflicts_with = "tyk_conf")]
    overrides: Option<PathBuf>,
    /// A tyk.conf whose override_messages are checked and applied.
    #[arg(long, value_name = "FILE")]
    tyk_conf: Option<PathBuf>,
    /// Which gateway release's escaping to reproduce [default: 5.15, else
    /// ERROR_RENDER_PROFILE or the config file's `profile`].
    #[arg(long, value_parser = ["5.15", "5.14"])]
    profile: Option<String>,
    /// The report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Treat warnings as errors (exit 1 on any finding).
    #[arg(long)]
    strict: bool,
    /// A folder of API definitions whose Error Overrides rules are checked
    /// (default: the tyk.conf's app_path; the tyk.conf's own rules are
    /// checked with --tyk-conf).
    #[arg(long, value_name = "DIR")]
    apis: Option<PathBuf>,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Grouped by file, coloured on a terminal (NO_COLOR turns colour off).
    Human,
    /// The versioned JSON schema (see the README, "Report formats").
    Json,
    /// JUnit XML, one test case per check.
    Junit,
    /// GitHub Actions annotations.
    Github,
    /// SARIF 2.1.0, for code-scanning views.
    Sarif,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let profile = match &args.profile {
        Some(p) => Some(p.parse::<Profile>().map_err(anyhow::Error::msg)?),
        None => None,
    };
    let named = args.dir.is_some();
    let flags = ConfigLayer {
        templates: args.dir,
        overrides: args.overrides,
        tyk_conf: args.tyk_conf,
        profile,
        ..ConfigLayer::default()
    };
    let loaded = crate::settings::resolve(&crate::settings::builder(args.config, flags))?;
    // A folder named outright gets the validator's own report (exit 2).
    if !named
        && let Some(message) =
            crate::settings::missing_folder(&loaded, "a DIR argument (validate DIR)")
    {
        anyhow::bail!(message);
    }
    let config = loaded.config;
    let opts = ValidateOptions {
        dir: config.templates,
        overrides: config.overrides,
        tyk_conf: config.tyk_conf,
        profile: config.profile,
        strict: args.strict,
        apis: args.apis,
        formats: config.formats,
    };
    // Could not run: main prints the error and exits 2.
    let report = validate(&opts)?;
    let stdout = std::io::stdout();
    let text = match args.format {
        Format::Human => {
            let colour =
                stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            report.to_human(colour)
        }
        Format::Json => report.to_json(),
        Format::Junit => report.to_junit(),
        Format::Github => report.to_github(),
        Format::Sarif => report.to_sarif(),
    };
    let mut stdout = stdout.lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(ExitCode::from(report.exit_code(args.strict)))
}
