//! The live template set: an immutable snapshot behind `ArcSwap`, replaced
//! whole by a reload that builds, checks it loads, then swaps.
//!
//! A request takes one snapshot and renders from it start to finish, so no
//! response mixes old and new templates. A reload that fails keeps the last
//! good snapshot serving and records the error for `/status`.
//!
//! Nothing a request reads is behind a lock: the snapshot, the last failure
//! and the validator's findings are `ArcSwap`s, the counters atomics. A
//! build runs on its own thread and is abandoned at the reload deadline, so
//! a template that cannot be read (a FIFO, a hung network mount) or takes
//! too long to parse costs one stuck thread, never the service.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::format::Format;
use crate::render::Renderer;
use crate::validate::Finding;

/// How long a reload may take before it is abandoned, unless configured
/// (`limits.reload_timeout_ms`): loading a real template set takes
/// milliseconds, parsing the largest allowed one about a second.
pub const DEFAULT_RELOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds a fresh renderer from its sources (template folder, overrides,
/// options). Called at start and on every reload (then on a thread of its
/// own, abandoned at the reload deadline).
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

/// The validator's findings for one generation, computed in the background
/// after it loaded (see [`Store::lint_in_background`]).
#[derive(Debug)]
pub struct Findings {
    /// The generation linted.
    pub generation: u64,
    /// What the validator found, sorted.
    pub findings: Vec<Finding>,
}

/// What [`Store::reload_if`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reloaded {
    /// The new generation is live.
    Swapped(u64),
    /// The build succeeded but the check refused it (its files changed
    /// while it ran): nothing changed, nothing was counted.
    Discarded,
}

/// The live snapshot and how to rebuild it.
pub struct Store {
    current: ArcSwap<Snapshot>,
    last_failure: ArcSwapOption<Failure>,
    build: Arc<Build>,
    reload_timeout: Duration,
    /// Serialises reloads (the watcher's thread and SIGHUP) so generations
    /// are numbered in swap order. Request handling never takes it.
    reloading: Mutex<()>,
    /// Whether a build thread is running, one abandoned at its deadline
    /// included: no second build starts beside a stuck one.
    building: Arc<AtomicBool>,
    succeeded: AtomicU64,
    failed: AtomicU64,
    /// Counts reload attempts, for [`subscribe`](Self::subscribe).
    #[cfg(feature = "watch")]
    attempts: tokio::sync::watch::Sender<u64>,
    findings: Arc<ArcSwapOption<Findings>>,
    /// The last generation linted, for [`subscribe_findings`](Self::subscribe_findings).
    #[cfg(feature = "watch")]
    linted: Arc<tokio::sync::watch::Sender<u64>>,
    /// Hands new generations to the lint thread, once started.
    lint: OnceLock<mpsc::Sender<Arc<Snapshot>>>,
    /// The formats the lint renders `.tera` pages in: the service's
    /// `formats`, so a page it never serves is not a finding.
    lint_formats: Vec<Format>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("generation", &self.current.load().generation)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Builds the first generation; fails if it does not load. Reloads are
    /// abandoned after [`DEFAULT_RELOAD_TIMEOUT`].
    pub fn new(
        build: impl Fn() -> Result<Renderer, ReloadError> + Send + Sync + 'static,
    ) -> Result<Self, ReloadError> {
        Self::with_reload_timeout(build, DEFAULT_RELOAD_TIMEOUT)
    }

    /// [`new`](Self::new), abandoning a reload that takes longer than
    /// `reload_timeout` (the last good generation keeps serving).
    pub fn with_reload_timeout(
        build: impl Fn() -> Result<Renderer, ReloadError> + Send + Sync + 'static,
        reload_timeout: Duration,
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
            build: Arc::new(build),
            reload_timeout,
            reloading: Mutex::new(()),
            building: Arc::new(AtomicBool::new(false)),
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            #[cfg(feature = "watch")]
            attempts: tokio::sync::watch::Sender::new(0),
            findings: Arc::new(ArcSwapOption::empty()),
            #[cfg(feature = "watch")]
            linted: Arc::new(tokio::sync::watch::Sender::new(0)),
            lint: OnceLock::new(),
            lint_formats: Format::ALL.to_vec(),
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

    /// Lints only `formats` (every format unless set); takes effect for
    /// a lint started after it.
    pub(crate) fn with_lint_formats(mut self, formats: &[Format]) -> Self {
        self.lint_formats = formats.to_vec();
        self
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
        ReloadCounts {
            succeeded: self.succeeded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    /// How long a reload may take before it is abandoned.
    pub fn reload_timeout(&self) -> Duration {
        self.reload_timeout
    }

    /// Starts linting every generation (the current one now, each later
    /// one as it is swapped in) with the validator, on a thread of its own;
    /// [`findings`](Self::findings) then has them. The thread lints only
    /// the newest generation waiting and ends with the store. Calling it
    /// again does nothing.
    pub fn lint_in_background(&self) -> Result<(), std::io::Error> {
        if self.lint.get().is_some() {
            return Ok(());
        }
        let (tx, rx) = mpsc::channel::<Arc<Snapshot>>();
        let findings = Arc::clone(&self.findings);
        let formats = self.lint_formats.clone();
        #[cfg(feature = "watch")]
        let linted = Arc::clone(&self.linted);
        std::thread::Builder::new()
            .name("error-render-lint".into())
            .spawn(move || {
                while let Ok(mut snap) = rx.recv() {
                    // Only the newest generation is worth the work.
                    while let Ok(newer) = rx.try_recv() {
                        snap = newer;
                    }
                    let found = crate::validate::lint_renderer_in(&snap.renderer, &formats);
                    findings.store(Some(Arc::new(Findings {
                        generation: snap.generation,
                        findings: found,
                    })));
                    #[cfg(feature = "watch")]
                    linted.send_replace(snap.generation);
                }
            })?;
        let _ = tx.send(self.snapshot());
        let _ = self.lint.set(tx);
        Ok(())
    }

    /// The validator's findings for the live generation, once linted;
    /// `None` while pending (or when linting was never started).
    pub fn findings(&self) -> Option<Arc<Findings>> {
        let generation = self.current.load().generation;
        self.findings
            .load_full()
            .filter(|f| f.generation == generation)
    }

    /// A receiver of the generation last linted: await `changed()` for
    /// the findings of a new generation.
    #[cfg(feature = "watch")]
    pub fn subscribe_findings(&self) -> tokio::sync::watch::Receiver<u64> {
        self.linted.subscribe()
    }

    /// Rebuilds from the sources. On success swaps the new generation in and
    /// returns its number; on failure (or past the reload deadline) keeps
    /// the current one and records the error.
    pub fn reload(&self) -> Result<u64, ReloadError> {
        match self.reload_if(|| true)? {
            Reloaded::Swapped(generation) => Ok(generation),
            Reloaded::Discarded => Ok(self.current.load().generation),
        }
    }

    /// [`reload`](Self::reload), swapping the new generation in only if
    /// `keep` still says yes once it is built (the watcher checks that no
    /// file it read changed meanwhile).
    ///
    /// The build runs on a thread of its own; past the reload deadline it
    /// is abandoned (and, while it stays stuck, later reloads fail at once
    /// rather than pile up threads).
    pub fn reload_if(&self, keep: impl FnOnce() -> bool) -> Result<Reloaded, ReloadError> {
        let _serial = match self.reloading.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let started = Instant::now();
        let built = self.build_on_thread();
        if built.is_ok() && !keep() {
            return Ok(Reloaded::Discarded);
        }
        let result = match built {
            Ok(renderer) => Ok(self.swap(renderer, started)),
            Err(error) => {
                self.last_failure.store(Some(Arc::new(Failure {
                    error: error.clone(),
                    at: SystemTime::now(),
                })));
                self.failed.fetch_add(1, Ordering::Relaxed);
                Err(error)
            }
        };
        #[cfg(feature = "watch")]
        self.attempts.send_modify(|n| *n += 1);
        result.map(Reloaded::Swapped)
    }

    fn build_on_thread(&self) -> Result<Renderer, ReloadError> {
        let serving = self.current.load().generation;
        if self.building.swap(true, Ordering::AcqRel) {
            return Err(ReloadError::new(format!(
                "the previous reload is still running past its {} ms deadline \
                 (limits.reload_timeout_ms), so no new one starts; still serving generation \
                 {serving}: look for a template file that cannot be read (a FIFO, a hung network \
                 mount)",
                self.reload_timeout.as_millis()
            )));
        }
        let (tx, rx) = mpsc::channel();
        let build = Arc::clone(&self.build);
        let building = Arc::clone(&self.building);
        let spawned = std::thread::Builder::new()
            .name("error-render-build".into())
            .spawn(move || {
                let result = build();
                building.store(false, Ordering::Release);
                // The reload may have been abandoned: nobody to tell then.
                let _ = tx.send(result);
            });
        if let Err(e) = spawned {
            self.building.store(false, Ordering::Release);
            return Err(ReloadError::new(format!(
                "cannot start the reload thread: {e}; still serving generation {serving}"
            )));
        }
        match rx.recv_timeout(self.reload_timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(ReloadError::new(format!(
                "the reload took longer than {} ms (limits.reload_timeout_ms) and was \
                 abandoned; still serving generation {serving}: look for a template file that \
                 cannot be read (a FIFO, a hung network mount) or is too large to parse",
                self.reload_timeout.as_millis()
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(ReloadError::new(format!(
                "building the template set panicked; still serving generation {serving}"
            ))),
        }
    }

    fn swap(&self, renderer: Renderer, started: Instant) -> u64 {
        let generation = self.current.load().generation + 1;
        let snapshot = Arc::new(Snapshot {
            renderer,
            generation,
            loaded_at: SystemTime::now(),
            load_duration: started.elapsed(),
        });
        self.current.store(Arc::clone(&snapshot));
        self.last_failure.store(None);
        self.succeeded.fetch_add(1, Ordering::Relaxed);
        if let Some(lint) = self.lint.get() {
            let _ = lint.send(snapshot);
        }
        generation
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

    #[test]
    fn a_build_the_check_refuses_is_discarded_uncounted() {
        let store = Store::new(|| renderer("{{.Message}}")).unwrap();
        assert_eq!(store.reload_if(|| false).unwrap(), Reloaded::Discarded);
        assert_eq!(store.snapshot().generation, 1);
        assert_eq!(store.counts(), ReloadCounts::default());
        assert_eq!(store.reload_if(|| true).unwrap(), Reloaded::Swapped(2));
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
        let reply = |store: &Store| store.snapshot().renderer.render(&req).unwrap();
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
