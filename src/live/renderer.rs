//! A renderer that follows its files (feature `watch`): the store built by
//! [`RendererBuilder::build_live`](crate::RendererBuilder::build_live) and
//! the watcher that reloads it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use crate::builder::BuildError;
use crate::config::Config;
use crate::render::{ErrorRequest, RenderError, Rendered, Renderer};
use crate::store::Store;
use crate::watch::{ReloadEvent, WatchHandle};

/// A [`Store`] reloaded when the template folder, the overrides file or the
/// tyk.conf it was built from change; a reload that fails keeps the last
/// good set. Watching stops when this is dropped.
///
/// ```
/// use error_render::{ErrorRequest, Renderer};
///
/// let live = Renderer::builder().templates("templates").build_live()?;
/// let r = live.render(&ErrorRequest::code(429))?;
/// assert_eq!(r.status, 429);
/// // Hand `live.store()` to the tower layer or the service's router.
/// assert_eq!(live.store().snapshot().generation, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LiveRenderer {
    store: Arc<Store>,
    config: Arc<Config>,
    watch: WatchHandle,
}

impl LiveRenderer {
    /// Loads what `config` names and watches the same paths.
    pub(crate) fn start(config: Arc<Config>) -> Result<Self, BuildError> {
        let store = Arc::new(Renderer::store_from_config(Arc::clone(&config))?);
        let watch = crate::watch::spawn(Arc::clone(&store), config.watch_paths())?;
        Ok(LiveRenderer {
            store,
            config,
            watch,
        })
    }

    /// The live store: snapshots, reload counts, the last failure.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The settings it was built with.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The files and folders watched: exactly those the build read.
    pub fn watched_paths(&self) -> Vec<PathBuf> {
        self.config.watch_paths()
    }

    /// A receiver of every later reload attempt, to wait for a reload
    /// instead of sleeping.
    pub fn subscribe(&self) -> Receiver<ReloadEvent> {
        self.watch.subscribe()
    }

    /// Renders with the current generation, through its body cache (see
    /// [`Renderer::render`]).
    pub fn render(&self, req: &ErrorRequest) -> Result<Rendered, RenderError> {
        self.store.current().renderer.render(req)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_live_renderer_follows_an_edited_template() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("error.json");
        std::fs::write(&file, "old {{.Message}}").unwrap();
        let live = Renderer::builder()
            .templates(dir.path())
            .build_live()
            .unwrap();
        let events = live.subscribe();
        let body = |live: &LiveRenderer| live.render(&ErrorRequest::code(404)).unwrap().body;
        assert_eq!(body(&live), "old Not Found");

        // Written whole and renamed into place, as advised for deploys.
        let tmp = dir.path().join("next");
        std::fs::write(&tmp, "new {{.Message}}").unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        let event = events
            .recv_timeout(Duration::from_secs(10))
            .expect("a reload within 10 s");
        assert_eq!(event.generation, Some(2), "{event:?}");
        assert_eq!(body(&live), "new Not Found");
    }

    #[test]
    fn a_live_renderer_watches_the_files_the_build_read() {
        let dir = tempfile::tempdir().unwrap();
        let overrides = dir.path().join("overrides.yaml");
        std::fs::write(&overrides, "{}\n").unwrap();
        let live = Renderer::builder()
            .templates("templates")
            .overrides(&overrides)
            .build_live()
            .unwrap();
        assert_eq!(
            live.watched_paths(),
            vec![PathBuf::from("templates"), overrides]
        );
    }
}
