//! The `error-render` command: parses arguments, calls the library, maps
//! results to exit codes (0 ok, 1 a finding or fallback, 2 could not run).

mod catalogue;
mod error_overrides;
mod export;
mod render;
mod serve;
mod settings;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Render, serve and validate Tyk Gateway error templates.
#[derive(Debug, Parser)]
#[command(name = "error-render", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render one error with a template folder and print the body.
    Render(render::Args),
    /// List the error catalogue.
    Catalogue(catalogue::Args),
    /// Write the rendered bodies of every catalogue entry and error status, with nginx or HAProxy snippets.
    Export(export::Args),
    /// Check a template folder for problems before it reaches a gateway.
    Validate(validate::Args),
    /// Run the rendering service (sidecar, preview, metrics).
    Serve(serve::Args),
    /// Ask a running service's /healthz (for container health checks).
    Healthcheck(serve::HealthcheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(a) => render::run(a),
        Command::Catalogue(a) => catalogue::run(a),
        Command::Export(a) => export::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Healthcheck(a) => serve::healthcheck(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed stdout (`| head`) is not a failure.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error-render: {e:#}");
            ExitCode::from(2)
        }
    }
}
