//! `error-render catalogue`: the published errors and the gateway's error IDs.

use std::io::Write as _;
use std::process::ExitCode;

use error_render::Catalogue;

/// Arguments of `catalogue`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON (`{"entries": [...], "override_ids": [...]}`).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let catalogue = Catalogue::builtin();
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({
            "entries": catalogue.entries(),
            "override_ids": catalogue.override_ids(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{:<4}  {:<56}  MESSAGE", "CODE", "ID")?;
    for e in catalogue.entries() {
        writeln!(out, "{:<4}  {:<56}  {}", e.code, e.id, e.message)?;
    }
    writeln!(
        out,
        "\n{:<4}  {:<56}  DEFAULT MESSAGE (override_messages ID)",
        "CODE", "ID"
    )?;
    for o in catalogue.override_ids() {
        writeln!(out, "{:<4}  {:<56}  {}", o.code, o.id, o.message)?;
    }
    Ok(ExitCode::SUCCESS)
}
