//! The HTTP service: rendering routes for proxies (ingress-nginx, Traefik,
//! nginx `error_page`), operations routes, and the entry points to embed or
//! run it.
//!
//! ```no_run
//! # async fn run() -> Result<(), error_render::http::ServeError> {
//! use error_render::config::{Config, Sources};
//!
//! let loaded = Config::load(&Sources::from_process_env(Default::default(), None))?;
//! error_render::http::serve(loaded.config).await
//! # }
//! ```

pub mod error;
pub mod metrics;
pub mod negotiate;
pub mod ops;
pub mod preview;
pub mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{any, get};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::{Config, ConfigError, load_overrides};
use crate::render::Renderer;
use crate::set::TemplateSet;
use crate::store::{ReloadError, Store};

pub use error::{ApiError, ERROR_HEADER};
pub use metrics::Metrics;

/// What every handler shares. axum clones it for every request, so it is
/// one `Arc`: one reference count to bump, not one per part (under load, on
/// two cores, each contended count costs as much as a cached render).
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppStateParts>);

impl std::ops::Deref for AppState {
    type Target = AppStateParts;

    fn deref(&self) -> &AppStateParts {
        &self.0
    }
}

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct AppStateParts {
    /// The live template set.
    pub store: Arc<Store>,
    /// The settings.
    pub config: Arc<Config>,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The browser preview's own state.
    preview: preview::Shared,
}

impl AppState {
    /// State over an existing store, which starts linting each generation
    /// in the background for `/status` and the preview.
    pub fn new(store: Arc<Store>, config: Arc<Config>) -> Self {
        if let Err(e) = store.lint_in_background() {
            tracing::warn!(error = %e, "cannot start the validator thread; /status shows no findings");
        }
        AppState(Arc::new(AppStateParts {
            store,
            config,
            metrics: Arc::new(Metrics::new()),
            preview: preview::Shared::new(),
        }))
    }

    /// Loads the template set (and overrides) the config names; fails if it
    /// does not load.
    pub fn from_config(config: Config) -> Result<Self, ServeError> {
        let config = Arc::new(config);
        let store = build_store(Arc::clone(&config)).map_err(ServeError::Load)?;
        Ok(AppState::new(Arc::new(store), config))
    }
}

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The settings are unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The template set (or overrides) did not load.
    #[error("templates did not load:\n{0}")]
    Load(ReloadError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// A store whose every (re)load reads the config's template folder and
/// overrides afresh. Problems that do not stop a load (a set without
/// `error.json`, unknown override IDs) are logged as warnings.
pub fn build_store(config: Arc<Config>) -> Result<Store, ReloadError> {
    let timeout = config.limits.reload_timeout;
    Store::with_reload_timeout(move || build_renderer(&config), timeout)
}

fn build_renderer(config: &Config) -> Result<Renderer, ReloadError> {
    // Parse errors name files by base name, as the gateway does; /status
    // shows the folder beside them.
    let set = TemplateSet::load_limited(&config.templates, config.limits.render)
        .map_err(ReloadError::new)?;
    for w in set.warnings() {
        tracing::warn!(dir = %config.templates.display(), "{w}");
    }
    let (overrides, problems) = load_overrides(config).map_err(ReloadError::new)?;
    for p in problems {
        tracing::warn!("override_messages: {p}");
    }
    Ok(Renderer::new(
        Arc::new(set),
        config.render_options(overrides),
    ))
}

/// The service's routes over `state`, ready to serve or nest. They need a
/// Tokio runtime with timers enabled (request bodies are read under
/// `limits.request_timeout_ms`), as `#[tokio::main]` and [`serve`] have.
pub fn router(state: AppState) -> Router {
    let op = |r: axum::routing::MethodRouter<AppState>| r.fallback(ops::method_not_allowed);
    let preview = if state.config.preview.enabled {
        preview::routes()
    } else {
        Router::new()
    };
    Router::new()
        .route("/healthz", op(get(ops::healthz)))
        .route("/readyz", op(get(ops::readyz)))
        .route("/version", op(get(ops::version)))
        .route("/status", op(get(ops::status)))
        .route("/metrics", op(get(ops::metrics)))
        .route("/render", any(routes::render_root))
        .route("/render/{code}", any(routes::render_code))
        .merge(preview)
        .fallback(routes::fallback)
        .layer(CatchPanicLayer::custom(on_panic))
        .with_state(state)
}

/// Reads a request body of at most `max` bytes within the config's
/// `limits.request_timeout`: a body over the size is 413, a body trickling in
/// (the head has arrived; hyper bounds that) is 408. Only the routes that
/// take a body read one, so GET requests pay for no timer.
pub(crate) async fn read_body(
    state: &AppState,
    body: axum::body::Body,
    max: usize,
) -> Result<axum::body::Bytes, ApiError> {
    let limit = state.config.limits.request_timeout;
    let read = tokio::time::timeout(limit, axum::body::to_bytes(body, max))
        .await
        .map_err(|_| ApiError::RequestTimeout(limit.as_millis()))?;
    read.map_err(|e| {
        let inner = e.into_inner();
        if inner
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            ApiError::BodyTooLarge { max }
        } else {
            ApiError::Internal(format!("reading the request body: {inner}"))
        }
    })
}

fn on_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    ApiError::Internal(format!("panic: {detail}")).into_response()
}

/// Runs the service as configured: loads the set, watches its files and
/// SIGHUP for reloads, listens, and stops gracefully on SIGTERM or SIGINT.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let addr = config.listen;
    let state = AppState::from_config(config)?;
    let _watch = start_reloading(&state);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    serve_on(listener, state, shutdown_signal()).await
}

/// Serves `state` on a bound listener until `shutdown` completes, then
/// finishes the requests in flight.
///
/// HTTP/1.1 only, with the request limits of the config: a client that
/// does not send its request head within `header_read_timeout` is
/// disconnected (slowloris), and a head larger than `max_header_bytes` is
/// answered 431 by the HTTP server itself.
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(
            %addr,
            templates = %state.config.templates.display(),
            generation = state.store.snapshot().generation,
            "serving"
        );
    }
    let limits = state.config.limits;
    let preview = state.preview.clone();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes);
    let service = TowerToHyperService::new(router(state));
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Running out of file descriptors must not stop the
                    // service: wait for some to be released.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let conn = http.serve_connection(TokioIo::new(stream), service.clone());
        let conn = connections.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Open preview event streams would otherwise hold the drain forever.
    preview.close();
    connections.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Starts reloading on file changes and on SIGHUP. The watcher stops when
/// the returned handle is dropped; without one (it could not start) the
/// service still runs, reloading on SIGHUP only.
pub fn start_reloading(state: &AppState) -> Option<crate::watch::WatchHandle> {
    tokio::spawn(crate::watch::sighup_reloads(Arc::clone(&state.store)));
    match crate::watch::spawn(Arc::clone(&state.store), state.config.watch_paths()) {
        Ok(handle) => Some(handle),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the template files; reload with SIGHUP");
            None
        }
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
}
