//! Hot reload: watches the template folder and the override and config files
//! and reloads the [`Store`] when they change, and reloads on SIGHUP.
//!
//! Every reload, whatever asked for it (a file event, SIGHUP, a
//! [`ReloadTrigger`]), runs on the one reload thread through the same
//! debounce, rest and recheck below: a signal sent while a file is being
//! written in place must not load it half-written any more than an event.
//!
//! Changes are debounced: the watcher waits until its paths have been quiet
//! for [`DEBOUNCE`] (or at most [`MAX_DELAY`] after the first change) and
//! then reloads once. An editor save (write temp, rename, chmod) or a
//! Kubernetes ConfigMap swap (new `..<timestamp>` folder, new `..data_tmp`
//! link renamed over `..data`, old folder deleted) is a burst of events that
//! must produce one reload of the finished state, not several of half-written
//! ones. A reload that fails keeps the last good set serving (see
//! [`Store::reload`]), so an unlucky early reload is harmless, only noisy.
//!
//! Only names the loader reads count: in the template folder, the files
//! whose names start with `error` (editor temporaries aside) and `..data`;
//! elsewhere, the overrides file and the tyk.conf by name. A log file beside
//! them changes nothing, so writing it (even the watcher's own trace lines
//! about it) triggers nothing.
//!
//! A reload must not swap in a half-written file. Before building, every
//! file the loader reads must have been left alone for [`SETTLE`] (an empty
//! one for [`EMPTY_SETTLE`]); after
//! building, they are checked again (size, modification time, inode) and
//! any change, or any event that arrived meanwhile, discards the build and
//! starts the wait again.
//!
//! Directories are watched themselves (not recursively, not file by file):
//! inotify watches on files follow the inode, which an atomic save or a
//! ConfigMap swap replaces, so a file watch would go deaf after the first
//! save. A single file is watched through its parent directory, filtered by
//! its name (and by `..data`, for files mounted from a ConfigMap). A template
//! folder's parent is watched too, for the folder's own name: when the folder
//! is deleted and made again (a deploy that replaces it whole), its watch is
//! set up again on the new folder before the reload.

use std::cell::Cell;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use crate::store::{Reloaded, Store};

/// How long the watched paths must be quiet before a reload.
///
/// 100 ms covers an editor's write-rename-chmod sequence and a ConfigMap
/// swap (all done within a few milliseconds by one process), yet is well
/// under what a person saving a file notices.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

/// The longest a reload waits after the first change for a quiet
/// [`DEBOUNCE`], so that files rewritten continuously still get reloaded
/// (once they have [`SETTLE`]d).
pub const MAX_DELAY: Duration = Duration::from_secs(1);

/// How long every file the loader reads must have been left unmodified
/// before a build: a writer pausing between the chunks of one write for
/// less than this is never read half-way. Files rewritten more often than
/// this are reloaded once they rest.
///
/// A writer can stall far longer than its own pauses: on a busy host a
/// buffered write waits for the file system's journal, and stalls of a
/// second have been seen right after the truncation. Hence a margin over
/// the debounce, and [`EMPTY_SETTLE`] for the truncated state.
pub const SETTLE: Duration = Duration::from_millis(250);

/// How long an empty template must stay empty before it is loaded: an
/// in-place write starts by truncating, and a writer stalled right after
/// that leaves an empty file that looks finished. A template really meant
/// to be empty (rare: the client gets no body) is loaded this much later.
pub const EMPTY_SETTLE: Duration = Duration::from_secs(5);

/// A filter directive (for `tracing_subscriber::EnvFilter`) that keeps the
/// file-watching library's own event tracing out of the logs: written to a
/// file in a watched folder, each of its lines would be an event to trace.
/// Added by `serve` unless the configured filter names `notify` itself.
pub const QUIET_WATCHER_LOGS: &str = "notify=info";

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The platform's file watcher could not be created.
    #[error("cannot start the file watcher: {0}")]
    Init(#[source] notify::Error),
    /// A path (or the folder holding it) could not be watched.
    #[error("cannot watch {}: {source}", path.display())]
    Watch {
        /// The folder that could not be watched.
        path: PathBuf,
        /// Why.
        #[source]
        source: notify::Error,
    },
    /// A file to watch has no parent folder (`/`).
    #[error("cannot watch {}: it has no parent folder", path.display())]
    NoParent {
        /// The path given.
        path: PathBuf,
    },
    /// The reload thread could not be started.
    #[error("cannot start the reload thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// The result of one reload attempt, as sent to subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadEvent {
    /// The new generation, when the reload succeeded.
    pub generation: Option<u64>,
    /// The error (naming file and line), when it failed.
    pub error: Option<String>,
}

/// Reload subscribers; a closed receiver is dropped on the next send.
type Subscribers = Arc<Mutex<Vec<Sender<ReloadEvent>>>>;

/// What the notify callback and the triggers hand the reload thread.
#[derive(Debug)]
enum Message {
    /// A change to a watched path.
    Changed,
    /// A reload asked for (SIGHUP), with what asked, for the log line.
    Requested(&'static str),
    /// The handle was dropped.
    Stop,
}

/// Asks a watcher's reload thread for a reload, as SIGHUP does: the reload
/// waits for the files to rest and checks them again after the build, like
/// one caused by a file event. Cheap to clone; see
/// [`WatchHandle::trigger`].
#[derive(Debug, Clone)]
pub struct ReloadTrigger(Sender<Message>);

impl ReloadTrigger {
    /// Asks for a reload; `cause` names what asked in the log line (e.g.
    /// `"SIGHUP"`). Returns at once; the outcome reaches the watcher's
    /// subscribers. `false` when the watcher has stopped.
    pub fn request(&self, cause: &'static str) -> bool {
        self.0.send(Message::Requested(cause)).is_ok()
    }
}

/// The watcher, shared by the handle (which drops it to stop watching) and
/// the reload thread (which re-arms the watch of a re-created folder).
type SharedWatcher = Arc<Mutex<Option<RecommendedWatcher>>>;

/// A running watcher; dropping it stops watching and ends its thread.
pub struct WatchHandle {
    /// Kept alive for its watches; emptied first in `Drop`.
    watcher: SharedWatcher,
    stop: Sender<Message>,
    thread: Option<JoinHandle<()>>,
    subscribers: Subscribers,
}

impl std::fmt::Debug for WatchHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchHandle").finish_non_exhaustive()
    }
}

impl WatchHandle {
    /// A receiver of every later reload attempt made by this watcher, for
    /// tests and callers that want to wait for a reload instead of sleeping.
    pub fn subscribe(&self) -> Receiver<ReloadEvent> {
        let (tx, rx) = mpsc::channel();
        lock(&self.subscribers).push(tx);
        rx
    }

    /// A way to ask this watcher's thread for a reload (SIGHUP uses it), so
    /// that the reload goes through the same rest and recheck as one caused
    /// by a file event.
    pub fn trigger(&self) -> ReloadTrigger {
        ReloadTrigger(self.stop.clone())
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        // Unwatch first so no further events arrive, then stop the thread
        // (it may be mid-reload; a reload is short, so joining is fine).
        lock(&self.watcher).take();
        let _ = self.stop.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One watched folder and which names in it matter.
#[derive(Debug)]
struct Rule {
    dir: PathBuf,
    /// `None`: every entry of the folder (a template folder). `Some`: only
    /// this file (and `..data`, which a ConfigMap swap renames).
    name: Option<std::ffi::OsString>,
}

impl Rule {
    fn matches(&self, path: &Path) -> bool {
        if path == self.dir {
            // The folder itself was deleted, moved or changed.
            return self.name.is_none();
        }
        if path.parent() != Some(self.dir.as_path()) {
            return false;
        }
        let Some(file) = path.file_name() else {
            return false;
        };
        if is_editor_temporary(file) {
            return false;
        }
        match &self.name {
            None => is_loaded_name(file),
            Some(name) => file == name.as_os_str() || file == OsStr::new("..data"),
        }
    }
}

/// Whether the loader reads an entry of a watched folder by this name: a
/// template (Tyk's `error*`, or error-render's own `*.tera`), an API
/// definition (`*.json`, `*.yaml`, `*.yml`, for the API folder; in the
/// template folder such a file costs one needless reload at most) or
/// Kubernetes' `..data` link.
fn is_loaded_name(name: &OsStr) -> bool {
    name == OsStr::new("..data")
        || name.to_str().is_some_and(|n| {
            crate::set::is_template_name(n)
                || crate::native::is_native_name(n)
                || is_api_definition_name(n)
        })
}

/// Whether the API folder's loader reads a file by this name.
fn is_api_definition_name(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(OsStr::to_str)
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "json" | "yaml" | "yml"))
}

/// Whether a file name is an editor's or tool's temporary, whose changes
/// never need a reload: `*~`, `*.swp`, `*.swx`, `*.tmp`, `.#*`, `4913` (vim's
/// probe file).
pub fn is_editor_temporary(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.starts_with(".#")
        || name == "4913"
}

/// Starts watching `paths` (the template folder, and the overrides or
/// config files) and reloads `store` on a dedicated thread, debounced,
/// whenever one changes. A path that is a directory is watched whole; any
/// other path is watched through its parent directory, so it may also not
/// exist yet.
pub fn spawn(store: Arc<Store>, paths: Vec<PathBuf>) -> Result<WatchHandle, WatchError> {
    let (sources, rules) = plan(paths)?;
    let (tx, rx) = mpsc::channel::<Message>();
    let rules = Arc::new(rules);
    let filter = Arc::clone(&rules);
    let events = tx.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let relevant = match res {
            Ok(event) => {
                // Opening and reading (our own reloads do that) is not a
                // change; writes also show up as Modify.
                !matches!(event.kind, EventKind::Access(_))
                    && (event.need_rescan()
                        || event
                            .paths
                            .iter()
                            .any(|p| filter.iter().any(|r| r.matches(p))))
            }
            Err(e) => {
                tracing::warn!(error = %e, "file watcher error; reloading to be safe");
                true
            }
        };
        if relevant {
            let _ = events.send(Message::Changed);
        }
    })
    .map_err(WatchError::Init)?;

    let mut watched: Vec<&Path> = Vec::new();
    for rule in rules.iter() {
        if watched.contains(&rule.dir.as_path()) {
            continue;
        }
        watcher
            .watch(&rule.dir, RecursiveMode::NonRecursive)
            .map_err(|source| WatchError::Watch {
                path: rule.dir.clone(),
                source,
            })?;
        watched.push(&rule.dir);
    }
    // At debug: the start line already names the folder, once.
    tracing::debug!(
        paths = ?rules.iter().map(|r| match &r.name {
            Some(n) => r.dir.join(n),
            None => r.dir.clone(),
        }).collect::<Vec<_>>(),
        "watching for template changes"
    );
    start(store, sources, &rules, Some(watcher), tx, rx)
}

/// The reload thread of [`spawn`] without the file watcher: reloads happen
/// only through [`WatchHandle::trigger`] (SIGHUP), each waiting for the
/// files in `paths` to rest and checking them again after the build. For
/// where file events cannot be had (the watcher failed to start, or a
/// network file system that sends none).
pub fn spawn_unwatched(store: Arc<Store>, paths: Vec<PathBuf>) -> Result<WatchHandle, WatchError> {
    let (sources, rules) = plan(paths)?;
    let (tx, rx) = mpsc::channel::<Message>();
    start(store, sources, &rules, None, tx, rx)
}

/// The absolute paths the loader reads, and the folder rules that say which
/// events count.
fn plan(paths: Vec<PathBuf>) -> Result<(Vec<PathBuf>, Vec<Rule>), WatchError> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut sources = Vec::new();
    for path in paths {
        // Absolute (not canonical: a symlinked folder keeps its name) so the
        // paths notify reports compare equal to ours.
        let path = std::path::absolute(&path).unwrap_or(path);
        sources.push(path.clone());
        if path.is_dir() {
            if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
                rules.push(Rule {
                    dir: parent.to_owned(),
                    name: Some(name.to_owned()),
                });
            }
            rules.push(Rule {
                dir: path,
                name: None,
            });
        } else {
            let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
                return Err(WatchError::NoParent { path });
            };
            rules.push(Rule {
                dir: dir.to_owned(),
                name: Some(name.to_owned()),
            });
        }
    }
    Ok((sources, rules))
}

/// Starts the reload thread over `rx`.
fn start(
    store: Arc<Store>,
    sources: Vec<PathBuf>,
    rules: &[Rule],
    watcher: Option<RecommendedWatcher>,
    tx: Sender<Message>,
    rx: Receiver<Message>,
) -> Result<WatchHandle, WatchError> {
    let subscribers: Subscribers = Arc::default();
    let notify_to = Arc::clone(&subscribers);
    let watcher: SharedWatcher = Arc::new(Mutex::new(watcher));
    let rearm = Rearm {
        watcher: Arc::clone(&watcher),
        folders: rules
            .iter()
            .filter(|r| r.name.is_none())
            .map(|r| r.dir.clone())
            .collect(),
    };
    let thread = std::thread::Builder::new()
        .name("error-render-watch".into())
        .spawn(move || debounce_loop(&store, &rx, &notify_to, &rearm, &sources))
        .map_err(WatchError::Thread)?;

    Ok(WatchHandle {
        watcher,
        stop: tx,
        thread: Some(thread),
        subscribers,
    })
}

/// Watches folders again after a change, in case they were deleted and made
/// anew: a watch belongs to the old folder's inode and dies with it.
struct Rearm {
    watcher: SharedWatcher,
    folders: Vec<PathBuf>,
}

impl Rearm {
    fn run(&self) {
        let mut guard = lock(&self.watcher);
        let Some(watcher) = guard.as_mut() else {
            return;
        };
        for folder in self.folders.iter().filter(|f| f.is_dir()) {
            // Watching a folder already watched just renews the watch.
            if let Err(e) = watcher.watch(folder, RecursiveMode::NonRecursive) {
                tracing::warn!(folder = %folder.display(), error = %e, "cannot watch the folder again");
            }
        }
    }
}

/// Waits for a change or a request, lets the burst settle, reloads; until
/// stopped.
fn debounce_loop(
    store: &Store,
    rx: &Receiver<Message>,
    subscribers: &Subscribers,
    rearm: &Rearm,
    sources: &[PathBuf],
) {
    loop {
        // What the log line names: a request (SIGHUP) wins over file events
        // in the same burst, since the operator asked for it.
        let cause = Cell::new("file change");
        match rx.recv() {
            Ok(Message::Changed) => {}
            Ok(Message::Requested(c)) => cause.set(c),
            Ok(Message::Stop) | Err(_) => return,
        }
        let mut first = Instant::now();
        let event = loop {
            if !wait_quiet(rx, first, &cause) {
                return;
            }
            rearm.run();
            let before = Fingerprint::take(sources);
            // A writer may be between two chunks of one write: wait until
            // the files have been left alone for a while.
            if let Some(wait) = before.unsettled_for() {
                match rx.recv_timeout(wait) {
                    Ok(Message::Changed) | Err(RecvTimeoutError::Timeout) => continue,
                    Ok(Message::Requested(c)) => {
                        cause.set(c);
                        continue;
                    }
                    Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            let stopped = Cell::new(false);
            let unchanged = || {
                // Events during the build (our own reads are not events); a
                // request then may follow a write the build missed.
                let mut changed = false;
                loop {
                    match rx.try_recv() {
                        Ok(Message::Changed) => changed = true,
                        Ok(Message::Requested(c)) => {
                            cause.set(c);
                            changed = true;
                        }
                        Ok(Message::Stop) | Err(mpsc::TryRecvError::Disconnected) => {
                            stopped.set(true);
                            break;
                        }
                        Err(mpsc::TryRecvError::Empty) => break,
                    }
                }
                !changed && !stopped.get() && Fingerprint::take(sources) == before
            };
            match reload_checked(store, cause.get(), unchanged) {
                Some(event) => break event,
                None if stopped.get() => return,
                None => {
                    tracing::debug!("files changed during the reload; waiting for them to settle");
                    first = Instant::now();
                }
            }
        };
        lock(subscribers).retain(|s| s.send(event.clone()).is_ok());
    }
}

/// Waits until no change has arrived for [`DEBOUNCE`], or [`MAX_DELAY`]
/// has passed since `first`; `false` when told to stop. A request arriving
/// meanwhile becomes the `cause`.
fn wait_quiet(rx: &Receiver<Message>, first: Instant, cause: &Cell<&'static str>) -> bool {
    loop {
        let left = MAX_DELAY.saturating_sub(first.elapsed());
        if left.is_zero() {
            return true;
        }
        match rx.recv_timeout(DEBOUNCE.min(left)) {
            Ok(Message::Changed) => continue,
            Ok(Message::Requested(c)) => cause.set(c),
            Err(RecvTimeoutError::Timeout) => return true,
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

/// What the loader would read, as the file system describes it: (path,
/// size, modification time, inode) of every watched file and of every
/// template and `..data` in the watched folders. Two equal fingerprints
/// around a build mean the build read files nobody was writing.
#[derive(Debug, PartialEq, Eq)]
struct Fingerprint(Vec<(PathBuf, Option<Stamp>)>);

/// A file's size (`u64::MAX` for a directory), modification time and inode.
type Stamp = (u64, Option<SystemTime>, u64);

impl Fingerprint {
    fn take(sources: &[PathBuf]) -> Fingerprint {
        let stamp = |path: &Path| {
            // Follows links: a ConfigMap's files are links into `..data`.
            std::fs::metadata(path).ok().map(|m| {
                #[cfg(unix)]
                let inode = std::os::unix::fs::MetadataExt::ino(&m);
                #[cfg(not(unix))]
                let inode = 0;
                // A directory (`..data`) is never "empty" in the sense
                // below, whatever size its file system gives it.
                let len = if m.is_dir() { u64::MAX } else { m.len() };
                (len, m.modified().ok(), inode)
            })
        };
        let mut entries = Vec::new();
        for source in sources {
            if source.is_dir() {
                let Ok(listing) = std::fs::read_dir(source) else {
                    entries.push((source.clone(), None));
                    continue;
                };
                for entry in listing.flatten() {
                    if is_loaded_name(&entry.file_name()) {
                        let path = entry.path();
                        let s = stamp(&path);
                        entries.push((path, s));
                    }
                }
            } else {
                entries.push((source.clone(), stamp(source)));
            }
        }
        entries.sort();
        Fingerprint(entries)
    }

    /// How much longer to wait until every file has been left alone for
    /// [`SETTLE`] (an empty one for [`EMPTY_SETTLE`]); `None` when settled.
    /// A modification time in the future counts as long ago: a skewed
    /// clock must not stall reloads for good.
    fn unsettled_for(&self) -> Option<Duration> {
        let now = SystemTime::now();
        self.0
            .iter()
            .filter_map(|(_, stamp)| {
                let (len, modified, _) = stamp.as_ref()?;
                let age = now.duration_since((*modified)?).unwrap_or(Duration::MAX);
                let needed = if *len == 0 { EMPTY_SETTLE } else { SETTLE };
                needed.checked_sub(age).filter(|d| !d.is_zero())
            })
            .max()
    }
}

/// Reloads if `unchanged` still holds after the build, logging the outcome
/// like [`reload_logged`]; `None` when the build was discarded.
fn reload_checked(
    store: &Store,
    cause: &str,
    unchanged: impl FnOnce() -> bool,
) -> Option<ReloadEvent> {
    match store.reload_if(unchanged) {
        Ok(Reloaded::Discarded) => None,
        Ok(Reloaded::Swapped(generation)) => {
            tracing::info!(generation, cause, "templates reloaded");
            Some(ReloadEvent {
                generation: Some(generation),
                error: None,
            })
        }
        Err(e) => Some(failed(store, cause, e)),
    }
}

fn failed(store: &Store, cause: &str, e: crate::store::ReloadError) -> ReloadEvent {
    let serving = store.snapshot().generation;
    tracing::warn!(
        error = %e,
        cause,
        serving,
        "template reload failed; still serving the last good set"
    );
    ReloadEvent {
        generation: None,
        error: Some(e.message),
    }
}

/// Reloads `store` now, on the calling thread, and logs the outcome
/// (`info` with the generation, or `warn` with the error). `cause` says what
/// asked for it in the log line.
///
/// Unlike the watcher's reloads (and SIGHUP's, through
/// [`WatchHandle::trigger`]) this neither waits for the files to rest nor
/// checks them again after the build: call it only when the files are known
/// to be complete. Blocks while the set is rebuilt: from async code call it
/// through `tokio::task::spawn_blocking`.
pub fn reload_logged(store: &Store, cause: &str) -> ReloadEvent {
    match store.reload() {
        Ok(generation) => {
            tracing::info!(generation, cause, "templates reloaded");
            ReloadEvent {
                generation: Some(generation),
                error: None,
            }
        }
        Err(e) => failed(store, cause, e),
    }
}

/// Asks `reloads` for a reload on every SIGHUP until the process ends (or
/// the watcher stops), so that the reload waits for the files to rest and
/// checks them after the build, as for a file event. Run it as a task:
/// `tokio::spawn(sighup_reloads(watcher.trigger()))`. Returns at once
/// (after a warning) if the signal handler cannot be installed.
#[cfg(unix)]
pub async fn sighup_reloads(reloads: ReloadTrigger) {
    use tokio::signal::unix::{SignalKind, signal};

    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; reload on signal is off");
            return;
        }
    };
    while hangups.recv().await.is_some() {
        if !reloads.request("SIGHUP") {
            tracing::warn!("SIGHUP: the reload thread has stopped; reload on signal is off");
            return;
        }
    }
}

/// Reloads on SIGHUP; there is no SIGHUP here, so this returns at once.
#[cfg(not(unix))]
pub async fn sighup_reloads(reloads: ReloadTrigger) {
    let _ = reloads;
}

/// Locks, even if a panicking thread poisoned the lock (the subscriber list
/// and the watcher stay usable).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_temporaries() {
        for name in [
            "error.json~",
            ".error.json.swp",
            ".error.json.swx",
            "error.json.tmp",
            ".#error.json",
            "4913",
        ] {
            assert!(is_editor_temporary(OsStr::new(name)), "{name}");
        }
        for name in ["error.json", "error_404.xml", "..data", "..2026_01"] {
            assert!(!is_editor_temporary(OsStr::new(name)), "{name}");
        }
    }

    #[test]
    fn rules_filter_by_folder_and_name() {
        let dir = Rule {
            dir: "/t".into(),
            name: None,
        };
        assert!(dir.matches(Path::new("/t/error.json")));
        assert!(dir.matches(Path::new("/t/..data")));
        assert!(dir.matches(Path::new("/t")));
        assert!(!dir.matches(Path::new("/t/4913")));
        // Not read by the loader: a log file, a README.
        assert!(!dir.matches(Path::new("/t/serve.log")));
        assert!(!dir.matches(Path::new("/t/README.md")));
        assert!(!dir.matches(Path::new("/other/error.json")));
        let file = Rule {
            dir: "/etc".into(),
            name: Some("tyk.conf".into()),
        };
        assert!(file.matches(Path::new("/etc/tyk.conf")));
        assert!(file.matches(Path::new("/etc/..data")));
        assert!(!file.matches(Path::new("/etc/passwd")));
        assert!(!file.matches(Path::new("/etc")));
    }
}
