//! Prometheus metrics of the service: renders by code and outcome, render
//! latency, reloads and the live template generation.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::store::Store;

/// The content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Borrowed and numeric labels: looking the counter up on every render
/// allocates nothing.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RenderLabels {
    code: u16,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    result: String,
}

/// The service's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    renders: Family<RenderLabels, Counter>,
    duration: Histogram,
    reloads: Family<ReloadLabels, Counter>,
    generation: Gauge,
    /// Serialises scrapes: reload counters are brought up to the store's
    /// counts by adding the difference, which two scrapes at once would
    /// double.
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh metrics, registered under `error_render_*`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("error_render");
        let renders = Family::<RenderLabels, Counter>::default();
        // 10 µs .. ~160 ms: a render is usually tens of microseconds.
        let duration = Histogram::new(exponential_buckets(0.000_01, 2.0, 15));
        let reloads = Family::<ReloadLabels, Counter>::default();
        let generation = Gauge::default();
        registry.register(
            "renders",
            "Errors rendered, by status code and outcome",
            renders.clone(),
        );
        registry.register(
            "render_duration_seconds",
            "Time to render one error",
            duration.clone(),
        );
        registry.register("reloads", "Template reloads, by result", reloads.clone());
        registry.register(
            "template_generation",
            "The generation of the live template set",
            generation.clone(),
        );
        Metrics {
            registry,
            renders,
            duration,
            reloads,
            generation,
            scrape: Mutex::new(()),
        }
    }

    /// Records one render.
    pub fn record_render(&self, code: u16, outcome: &'static str, took: Duration) {
        self.renders
            .get_or_create(&RenderLabels { code, outcome })
            .inc();
        self.duration.observe(took.as_secs_f64());
    }

    /// The metrics in the OpenMetrics text format, reload figures read from
    /// `store` now.
    pub fn encode(&self, store: &Store) -> Result<String, std::fmt::Error> {
        let _guard = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        let counts = store.counts();
        for (result, total) in [("ok", counts.succeeded), ("failed", counts.failed)] {
            let counter = self.reloads.get_or_create(&ReloadLabels {
                result: result.to_owned(),
            });
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        self.generation
            .set(i64::try_from(store.snapshot().generation).unwrap_or(i64::MAX));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
