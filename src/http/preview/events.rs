//! `GET /preview/events`: server-sent events telling an open page that the
//! live set changed (a reload worked or failed), so it refreshes itself.
//!
//! Each event is `event: reload` with data `{"generation": N,
//! "failed_at": "..."|null}`: one when the stream opens, then one per
//! change, woken by the store's reload notifications. A stream ends when the server shuts down, and after
//! [`MAX_STREAM`] in any case (the browser reconnects by itself), so an open
//! page never holds up a graceful shutdown.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;
use tokio::time::Instant;

use super::auth::Authorized;
use crate::http::AppState;
use crate::http::ops::rfc3339;
use crate::store::Store;

/// The longest a stream stays open before the browser is asked to
/// reconnect.
pub const MAX_STREAM: Duration = Duration::from_secs(60);
/// How soon the browser reconnects after a stream ends.
const RETRY: Duration = Duration::from_millis(500);

/// What the page is told: the generation and when the last failed reload
/// happened.
type Seen = (u64, Option<SystemTime>);

struct Follow {
    store: Arc<Store>,
    closing: watch::Receiver<bool>,
    reloads: watch::Receiver<u64>,
    last: Option<Seen>,
    until: Instant,
}

fn seen(store: &Store) -> Seen {
    (
        store.snapshot().generation,
        store.last_failure().map(|f| f.at),
    )
}

/// `GET /preview/events`.
pub(crate) async fn events(_: Authorized, State(state): State<AppState>) -> Response {
    let follow = Follow {
        store: Arc::clone(&state.store),
        closing: state.preview.closing.subscribe(),
        reloads: state.store.subscribe(),
        last: None,
        until: Instant::now() + MAX_STREAM,
    };
    let stream = futures_util::stream::unfold(follow, |mut f| async move {
        loop {
            if *f.closing.borrow() || Instant::now() >= f.until {
                return None;
            }
            let now = seen(&f.store);
            if f.last != Some(now) {
                f.last = Some(now);
                let data = serde_json::json!({
                    "generation": now.0,
                    "failed_at": now.1.map(rfc3339),
                });
                let event = Event::default()
                    .event("reload")
                    .retry(RETRY)
                    .data(data.to_string());
                return Some((Ok::<_, Infallible>(event), f));
            }
            tokio::select! {
                () = tokio::time::sleep_until(f.until) => {}
                changed = f.reloads.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                changed = f.closing.changed() => {
                    // The sender is gone with the server: end too.
                    if changed.is_err() {
                        return None;
                    }
                }
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
