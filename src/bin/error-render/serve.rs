//! `error-render serve` and `error-render healthcheck`.

use std::process::ExitCode;

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Arguments of `healthcheck`.
#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("serve is not built yet")
}

pub fn healthcheck(_args: HealthcheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("healthcheck is not built yet")
}
