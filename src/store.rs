//! The live template set: an immutable snapshot behind `ArcSwap`, replaced
//! whole by a reload that builds, checks it loads, then swaps.
//!
//! A request takes one snapshot and renders from it start to finish, so no
//! response mixes old and new templates. A reload that fails keeps the last
//! good snapshot serving and records the error for `/status`.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::render::Renderer;

/// Builds a fresh renderer from its sources (template folder, overrides,
/// options). Called at start and on every reload.
pub type Build = dyn Fn() -> Result<Renderer, ReloadError> + Send + Sync;

/// Why a (re)load failed: a message naming the file and line, as logged and
/// shown at `/status`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReloadError {
    /// The whole error, possibly several lines (one per problem).
    pub message: String,
}

impl ReloadError {
    /// A reload error from anything displayable.
    pub fn new(e: impl std::fmt::Display) -> Self {
        ReloadError {
            message: e.to_string(),
        }
    }
}

/// One loaded generation of the template set.
#[derive(Debug)]
pub struct Snapshot {
    /// Renders with this generation's set and options.
    pub renderer: Renderer,
    /// 1 for the first load, +1 per successful reload.
    pub generation: u64,
    /// When this generation was loaded.
    pub loaded_at: SystemTime,
    /// How long building it took.
    pub load_duration: Duration,
}

/// The last reload that failed, kept until a later one succeeds.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong.
    pub error: ReloadError,
    /// When.
    pub at: SystemTime,
}

/// Counters of reloads, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReloadCounts {
    /// Reloads that swapped in a new generation.
    pub succeeded: u64,
    /// Reloads refused because the new set did not load.
    pub failed: u64,
}

/// The live snapshot and how to rebuild it.
pub struct Store {
    current: ArcSwap<Snapshot>,
    last_failure: ArcSwapOption<Failure>,
    build: Box<Build>,
    /// Serialises reloads so generations are numbered in swap order; held
    /// only while building, never by request handling.
    reloading: Mutex<ReloadCounts>,
    /// Counts reload attempts, for [`subscribe`](Self::subscribe).
    #[cfg(feature = "watch")]
    attempts: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("generation", &self.current.load().generation)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Builds the first generation; fails if it does not load.
    pub fn new(
        build: impl Fn() -> Result<Renderer, ReloadError> + Send + Sync + 'static,
    ) -> Result<Self, ReloadError> {
        let started = Instant::now();
        let renderer = build()?;
        Ok(Store {
            current: ArcSwap::from_pointee(Snapshot {
                renderer,
                generation: 1,
                loaded_at: SystemTime::now(),
                load_duration: started.elapsed(),
            }),
            last_failure: ArcSwapOption::empty(),
            build: Box::new(build),
            reloading: Mutex::new(ReloadCounts::default()),
            #[cfg(feature = "watch")]
            attempts: tokio::sync::watch::Sender::new(0),
        })
    }

    /// A store that always serves `renderer`; a reload swaps in the same
    /// renderer again (there are no sources to re-read).
    pub fn fixed(renderer: Renderer) -> Self {
        match Self::new(move || Ok(renderer.clone())) {
            Ok(store) => store,
            Err(_) => unreachable!("building a fixed renderer cannot fail"),
        }
    }

    /// A receiver that sees every later reload attempt, successful or not
    /// (its value counts them): await `changed()` instead of polling.
    #[cfg(feature = "watch")]
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.attempts.subscribe()
    }

    /// The snapshot to render a request with.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The snapshot, borrowed for a short while (one request) without
    /// touching its reference count, which every request on every core
    /// would otherwise contend for. Hold it briefly: a reload's old
    /// snapshot lives as long as some guard still holds it.
    pub fn current(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// The last failed reload, if no reload has succeeded since.
    pub fn last_failure(&self) -> Option<Arc<Failure>> {
        self.last_failure.load_full()
    }

    /// Reload counters.
    pub fn counts(&self) -> ReloadCounts {
        self.reloading.lock().map(|c| *c).unwrap_or_default()
    }

    /// Rebuilds from the sources. On success swaps the new generation in and
    /// returns its number; on failure keeps the current one and records the
    /// error.
    pub fn reload(&self) -> Result<u64, ReloadError> {
        let mut counts = match self.reloading.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let started = Instant::now();
        let result = self.build_and_swap(started, &mut counts);
        #[cfg(feature = "watch")]
        self.attempts.send_modify(|n| *n += 1);
        result
    }

    fn build_and_swap(
        &self,
        started: Instant,
        counts: &mut ReloadCounts,
    ) -> Result<u64, ReloadError> {
        match (self.build)() {
            Ok(renderer) => {
                let generation = self.current.load().generation + 1;
                self.current.store(Arc::new(Snapshot {
                    renderer,
                    generation,
                    loaded_at: SystemTime::now(),
                    load_duration: started.elapsed(),
                }));
                self.last_failure.store(None);
                counts.succeeded += 1;
                Ok(generation)
            }
            Err(error) => {
                self.last_failure.store(Some(Arc::new(Failure {
                    error: error.clone(),
                    at: SystemTime::now(),
                })));
                counts.failed += 1;
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set::{TemplateFile, TemplateSet};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn renderer(text: &str) -> Result<Renderer, ReloadError> {
        let set = TemplateSet::from_files([TemplateFile {
            name: "error.json".into(),
            text: text.into(),
        }])
        .map_err(ReloadError::new)?;
        Ok(Renderer::new(Arc::new(set), Default::default()))
    }

    #[test]
    fn failed_reload_keeps_last_good_generation() {
        let texts = ["good {{.Message}}", "{{.Message", "better {{.Message}}"];
        let next = Arc::new(AtomicUsize::new(0));
        let n = next.clone();
        let store = Store::new(move || renderer(texts[n.fetch_add(1, Ordering::SeqCst)])).unwrap();
        assert_eq!(store.snapshot().generation, 1);

        let err = store.reload().unwrap_err();
        assert!(err.message.contains("error.json:1"), "{err}");
        assert_eq!(store.snapshot().generation, 1);
        assert!(store.last_failure().is_some());

        assert_eq!(store.reload().unwrap(), 2);
        assert!(store.last_failure().is_none());
        assert_eq!(
            store.counts(),
            ReloadCounts {
                succeeded: 1,
                failed: 1
            }
        );
        let body = store
            .snapshot()
            .renderer
            .render(&crate::ErrorRequest::code(500).message("m"))
            .unwrap()
            .body;
        assert_eq!(body, "better m");
    }

    /// The body cache lives in the renderer, so a reload serves the new
    /// templates at once, never a body cached from the old ones.
    #[test]
    fn reload_invalidates_cached_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("error.json");
        std::fs::write(&file, "old {{.Message}}").unwrap();
        let templates = dir.path().to_owned();
        let store =
            Store::new(move || Renderer::from_dir(&templates).map_err(ReloadError::new)).unwrap();
        let req = crate::ErrorRequest::code(503);
        let reply = |store: &Store| store.snapshot().renderer.reply(&req).unwrap();
        assert!(!reply(&store).cached);
        let cached = reply(&store);
        assert!(cached.cached);
        assert_eq!(
            cached.body,
            "old Service temporarily unavailable.".as_bytes()
        );

        std::fs::write(&file, "new {{.Message}}").unwrap();
        store.reload().unwrap();
        let fresh = reply(&store);
        assert!(!fresh.cached);
        assert_eq!(
            fresh.body,
            "new Service temporarily unavailable.".as_bytes()
        );
        assert!(reply(&store).cached);
    }
}
