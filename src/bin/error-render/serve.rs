//! `error-render serve` (flags into the config's flags layer, logging, the
//! runtime) and `error-render healthcheck` (a dependency-free HTTP probe for
//! container health checks).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use error_render::config::{Config, ConfigLayer, LimitsLayer, LogFormat};
use std::io::IsTerminal as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Arguments of `serve`. Every setting can also come from a config file and
/// `ERROR_RENDER_*` variables; flags win over both.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// A separate address for /metrics, /status and the preview [default:
    /// none, they answer on --listen].
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<String>,
    /// How long a response may stay unread by its client before the
    /// connection is closed, in milliseconds [default: 10000].
    #[arg(long, value_name = "MS")]
    write_timeout_ms: Option<u64>,
    /// How long a graceful stop waits for open connections before closing
    /// them, in milliseconds [default: 10000].
    #[arg(long, value_name = "MS")]
    shutdown_timeout_ms: Option<u64>,
    /// The template folder [default: tyk.conf's template_path, else templates].
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// A YAML or JSON file of override_messages.
    #[arg(long, value_name = "FILE", conflicts_with = "tyk_conf")]
    overrides: Option<PathBuf>,
    /// A tyk.conf: template_path, hide_generator_header, close_connections
    /// and override_messages are read from it.
    #[arg(long, value_name = "FILE")]
    tyk_conf: Option<PathBuf>,
    /// A folder of API definitions whose Error Overrides apply by API id
    /// [default: the tyk.conf's app_path when it names a folder].
    #[arg(long, value_name = "DIR")]
    apis: Option<PathBuf>,
    /// A config file (.yaml, .yml or .json) [env: ERROR_RENDER_CONFIG].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Arguments of `healthcheck`.
#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// The URL to GET (plain http only). Default: `/healthz` on the address
    /// `serve` would listen on with the same environment and config file
    /// (`ERROR_RENDER_LISTEN`, `ERROR_RENDER_CONFIG`), through loopback when it
    /// listens on every interface.
    #[arg(long)]
    url: Option<String>,
    /// A config file to take the listen address from, as `serve --config`.
    #[arg(long, value_name = "FILE", conflicts_with = "url")]
    config: Option<PathBuf>,
}

/// `/healthz` at the address `serve` would listen on with these settings.
fn healthz_url(config: Option<PathBuf>) -> anyhow::Result<String> {
    let loaded = crate::settings::builder(config, ConfigLayer::default()).resolve()?;
    let addr = loaded.config.listen;
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(format!(
        "http://{}/healthz",
        SocketAddr::new(ip, addr.port())
    ))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let limits =
        (args.write_timeout_ms.is_some() || args.shutdown_timeout_ms.is_some()).then(|| {
            LimitsLayer {
                write_timeout_ms: args.write_timeout_ms,
                shutdown_timeout_ms: args.shutdown_timeout_ms,
                ..LimitsLayer::default()
            }
        });
    let flags = ConfigLayer {
        listen: args.listen,
        admin_listen: args.admin_listen,
        limits,
        templates: args.templates,
        overrides: args.overrides,
        tyk_conf: args.tyk_conf,
        apis: args.apis,
        ..ConfigLayer::default()
    };
    let loaded = crate::settings::builder(args.config, flags).resolve()?;
    init_logging(&loaded.config)?;
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    for w in error_render::http::exposure_warnings(&loaded.config) {
        tracing::warn!("{w}");
    }
    // On one CPU (a pinned or cgroup-limited container) a single-threaded
    // runtime serves the same connections without a scheduler handing
    // tasks between the accept loop's thread and a worker.
    let one_cpu = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let runtime = if one_cpu {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .enable_all()
    .build()
    .context("starting the async runtime")?;
    let served = runtime.block_on(error_render::http::serve(loaded.config));
    // The drain deadline has passed: a render still on a blocking thread
    // (each is bounded by the render limits) must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(500));
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Whether log lines may carry colour: only for a terminal, and never when
/// `NO_COLOR` is set to anything (<https://no-color.org>).
fn use_colour(stderr_is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

fn init_logging(config: &Config) -> anyhow::Result<()> {
    let mut filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .with_context(|| format!("log_level {:?} is not a tracing filter", config.log_level))?;
    let colour = use_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR"),
    );
    if !config.log_level.contains("notify") {
        // At trace, the watcher library logs every event, and a log file in
        // a watched folder would feed it its own lines.
        filter = filter.add_directive(
            error_render::watch::QUIET_WATCHER_LOGS
                .parse()
                .context("the watcher's log directive")?,
        );
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let result = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("setting up logging: {e}"))
}

pub fn healthcheck(args: HealthcheckArgs) -> anyhow::Result<ExitCode> {
    let url = match args.url {
        Some(url) => url,
        None => healthz_url(args.config)?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(3), probe(&url))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within 3 s")))
    });
    match result {
        Ok(200) => Ok(ExitCode::SUCCESS),
        Ok(status) => {
            eprintln!("error-render: {url} answered {status}");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("error-render: {url}: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// GETs `url` with a hand-written HTTP/1.0 request and returns the status.
async fn probe(url: &str) -> anyhow::Result<u16> {
    let rest = url
        .strip_prefix("http://")
        .context("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    // A bare host means port 80; an IPv6 literal keeps its brackets.
    let addr = if authority.rsplit_once(':').is_some_and(|(h, p)| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':')
    }) && !authority.ends_with(']')
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    // The status line is all we need; read a little and stop.
    let mut buf = vec![0u8; 256];
    let mut len = 0;
    while len < 12 {
        let n = stream.read(&mut buf[len..]).await?;
        if n == 0 {
            break;
        }
        len += n;
    }
    let head = String::from_utf8_lossy(&buf[..len]);
    let status = head
        .strip_prefix("HTTP/1.")
        .and_then(|s| s.get(2..5))
        .and_then(|s| s.parse::<u16>().ok())
        .with_context(|| format!("not an HTTP response: {head:?}"))?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(!use_colour(false, None));
        assert!(!use_colour(true, Some("1".into())));
        // An empty NO_COLOR does not count, as no-color.org says.
        assert!(use_colour(true, Some("".into())));
    }
}
