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

mod compress;
mod conn;
pub mod error;
mod fast;
pub mod layer;
pub mod metrics;
pub mod negotiate;
pub mod ops;
pub mod preview;
mod response;
pub mod routes;
pub(crate) mod rules;
mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::{Config, ConfigError};
use crate::render::Renderer;
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
    /// The compressed forms of the live generation's cached bodies.
    compressed: compress::Cache,
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
            compressed: compress::Cache::default(),
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
    Renderer::store_from_config(config)
}

/// The service's routes over `state` for the traffic port, ready to serve
/// or nest: rendering, health and, unless `admin_listen` moves them to
/// [`admin_router`], `/status`, `/metrics` and the preview. They need a
/// Tokio runtime with timers enabled (request bodies are read under
/// `limits.request_timeout_ms`), as `#[tokio::main]` and [`serve`] have.
pub fn router(state: AppState) -> Router {
    let ops = state.config.admin_listen.is_none();
    build_router(state, ops, true)
}

/// The routes of the operations listener (`admin_listen`): health,
/// readiness, version, `/status`, `/metrics` and the preview; no rendering.
pub fn admin_router(state: AppState) -> Router {
    build_router(state, true, false)
}

/// Every route's first path segment must be in `fast::ROUTED`: the
/// connection's fast path answers other paths as the fallback would.
fn build_router(state: AppState, ops_routes: bool, rendering: bool) -> Router {
    let op = |r: axum::routing::MethodRouter<AppState>| r.fallback(ops::method_not_allowed);
    let mut router = Router::new()
        .route("/healthz", op(get(ops::healthz)))
        .route("/readyz", op(get(ops::readyz)))
        .route("/version", op(get(ops::version)));
    if ops_routes {
        router = router
            .route("/status", op(get(ops::status)))
            .route("/metrics", op(get(ops::metrics)));
        if state.config.preview.enabled {
            router = router.merge(preview::routes(&state));
        }
    }
    router = if rendering {
        router
            .route("/render", any(routes::render_root))
            .route("/render/upstream", op(post(upstream::render_upstream)))
            .route("/render/{code}", any(routes::render_code))
            .fallback(routes::fallback)
    } else {
        router.fallback(|| async { ApiError::NotFound })
    };
    router
        .layer(CatchPanicLayer::custom(on_panic))
        .with_state(state)
}

/// Reads a request body of at most `max` bytes within the config's
/// `limits.request_timeout`: a body over the size is 413 (at once when its
/// declared `Content-Length` already is), a body trickling in (the head has
/// arrived; hyper bounds that) is 408, a body that breaks the protocol (a
/// malformed chunk) is 400. Only the routes that take a body read one, so
/// GET requests pay for no timer.
pub(crate) async fn read_body(
    state: &AppState,
    body: axum::body::Body,
    max: usize,
) -> Result<axum::body::Bytes, ApiError> {
    use axum::body::HttpBody as _;
    // Waiting for a body that will be refused anyway would hold the
    // connection for the whole request timeout.
    if usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX) > max {
        return Err(ApiError::BodyTooLarge { max });
    }
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
            // The client's fault (a malformed chunk, a connection cut
            // mid-body), never the service's: no ERROR line for it.
            tracing::debug!(error = %inner, "reading a request body failed");
            ApiError::MalformedBody
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
/// SIGHUP for reloads, listens (on `admin_listen` too, when set), and stops
/// gracefully on SIGTERM or SIGINT.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let addr = config.listen;
    let admin_addr = config.admin_listen;
    let state = AppState::from_config(config)?;
    let _watch = start_reloading(&state);
    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })
    };
    let listener = bind(addr).await?;
    let admin = match admin_addr {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    serve_listeners(listener, admin, state, shutdown_signal()).await
}

/// What is worth a warning in how the settings expose the service: the
/// operations routes on a traffic port reachable from other hosts, and a
/// preview without a token off loopback.
pub fn exposure_warnings(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if config.admin_listen.is_none() && !config.listen.ip().is_loopback() {
        out.push(format!(
            "/metrics and /status are on the traffic port {}, which is not a loopback address: \
             anyone who reaches it (a proxy's default backend forwards every unmatched request) \
             sees them; set admin_listen to move them to their own address",
            config.listen
        ));
    }
    let preview_addr = config.admin_listen.unwrap_or(config.listen);
    if config.preview.enabled && config.preview.token.is_none() && !preview_addr.ip().is_loopback()
    {
        out.push(format!(
            "the preview is enabled on {preview_addr}, which is not a loopback address, without a \
             token: set preview.token (ERROR_RENDER_PREVIEW_TOKEN); until then it answers only \
             requests whose Host is a loopback name or in preview.allowed_hosts"
        ));
    }
    out
}

/// Serves every route of `state` on a bound listener until `shutdown`
/// completes, then finishes the requests in flight (for at most
/// `limits.shutdown_timeout`). [`serve_listeners`] puts the operations
/// routes on a listener of their own.
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_listeners(listener, None, state, shutdown).await
}

/// Serves the traffic routes ([`router`]) on `listener` and, when given,
/// the operations routes ([`admin_router`]) on `admin`, until `shutdown`
/// completes.
///
/// HTTP/1.1 only, with the request limits of the config: a client that
/// does not send its request head within `header_read_timeout` is
/// disconnected (slowloris), a head larger than `max_header_bytes` is
/// answered 431 by the HTTP server itself, and a response the client does
/// not read within `write_timeout` closes the connection. On shutdown, new
/// connections are refused, idle ones closed, and the ones still busy after
/// `shutdown_timeout` are closed too.
pub async fn serve_listeners(
    listener: TcpListener,
    admin: Option<TcpListener>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    log_start(&listener, admin.as_ref(), &state);
    let limits = state.config.limits;
    let preview = state.preview.clone();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes)
        // An error body is small: copying it behind the head and sending
        // one buffer with write() costs fewer instructions than queueing it
        // for writev() (callgrind: 13,325 against 13,748 per cached render).
        .writev(false);
    // The operations routes leave the traffic port only for a listener that
    // serves them, whatever the config says.
    let traffic_router = build_router(state.clone(), admin.is_none(), true);
    let admin_router = admin.as_ref().map(|_| admin_router(state.clone()));
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let admin_accept = async {
            match &admin {
                Some(l) => accept(l).await,
                None => std::future::pending().await,
            }
        };
        let (stream, peer, router) = tokio::select! {
            (stream, peer) = accept(&listener) => (stream, peer, &traffic_router),
            (stream, peer) = admin_accept => match &admin_router {
                Some(r) => (stream, peer, r),
                None => continue,
            },
            // Finished connections are reaped as they end, so the set
            // holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            () = &mut shutdown => break,
        };
        let traffic = std::ptr::eq(router, &traffic_router);
        let service = fast::Dispatch::new(state.clone(), router.clone(), peer, traffic);
        let io = TokioIo::new(conn::WriteDeadline::new(stream, limits.write_timeout));
        let conn = http.serve_connection(io, service);
        let conn = graceful.watch(conn);
        connections.spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(admin);
    // Open preview event streams would otherwise hold the drain forever.
    preview.close();
    let drained = tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown()).await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            timeout_ms = limits.shutdown_timeout.as_millis(),
            "closing the connections still open after limits.shutdown_timeout_ms"
        );
    }
    // Aborting a connection's task drops its socket: the client sees the
    // connection close.
    connections.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// The next connection; an error (running out of file descriptors) must
/// not stop the service, so it waits for some to be released and retries.
async fn accept(listener: &TcpListener) -> (tokio::net::TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(conn) => return conn,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// The one start line: where it listens, the template folder, the preview.
fn log_start(listener: &TcpListener, admin: Option<&TcpListener>, state: &AppState) {
    let Ok(addr) = listener.local_addr() else {
        return;
    };
    let admin_addr = admin.and_then(|a| a.local_addr().ok());
    let preview = state
        .config
        .preview
        .enabled
        .then(|| format!("http://{}/preview", admin_addr.unwrap_or(addr)));
    tracing::info!(
        listen = %addr,
        admin = admin_addr.map(|a| a.to_string()),
        templates = %state.config.templates.display(),
        preview,
        generation = state.store.snapshot().generation,
        "serving"
    );
}

/// Starts reloading on file changes and on SIGHUP, both through the
/// watcher's one reload thread (so a signal waits for the files to rest as
/// an event does). The watcher stops when the returned handle is dropped;
/// when file watching cannot start, the thread runs without it, reloading
/// on SIGHUP only; `None` when not even the thread can start.
pub fn start_reloading(state: &AppState) -> Option<crate::watch::WatchHandle> {
    let store = Arc::clone(&state.store);
    let handle = match crate::watch::spawn(Arc::clone(&store), state.config.watch_paths()) {
        Ok(handle) => Ok(handle),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the template files; reload with SIGHUP");
            crate::watch::spawn_unwatched(store, state.config.watch_paths())
        }
    };
    match handle {
        Ok(handle) => {
            tokio::spawn(crate::watch::sighup_reloads(handle.trigger()));
            Some(handle)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot start reloading; restart to pick up changes");
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
