//! Prometheus metrics of the service: renders by code and outcome, render
//! latency, reloads and the live template generation.

use std::sync::{Mutex, OnceLock};
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

/// `cached`: the body was the generation's cached one, compressed once
/// for every later request; else one response's.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CompressionLabels {
    encoding: &'static str,
    cached: bool,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    result: String,
}

/// The statuses whose render counters are kept resolved: 400-599.
const RESOLVED_CODES: usize = 200;

/// Every `Outcome::as_str`.
const OUTCOMES: [&str; 4] = ["ok", "exec", "missing", "load"];

fn resolved_slot(code: u16, outcome: &str) -> Option<usize> {
    let status = usize::from(code.checked_sub(400)?);
    let outcome = OUTCOMES.iter().position(|o| *o == outcome)?;
    (status < RESOLVED_CODES).then_some(status * OUTCOMES.len() + outcome)
}

/// The service's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    renders: Family<RenderLabels, Counter>,
    /// The family's counters for statuses 400-599, by status and outcome,
    /// once looked up: a render then bumps one shared atomic instead of
    /// hashing its labels into the family's map under its lock.
    resolved: Box<[OnceLock<Counter>]>,
    duration: Histogram,
    reloads: Family<ReloadLabels, Counter>,
    compressions: Family<CompressionLabels, Counter>,
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
        let compressions = Family::<CompressionLabels, Counter>::default();
        registry.register(
            "compressions",
            "Bodies compressed (work done, not responses sent), by encoding and whether the body was a cached one",
            compressions.clone(),
        );
        registry.register(
            "template_generation",
            "The generation of the live template set",
            generation.clone(),
        );
        Metrics {
            registry,
            renders,
            resolved: (0..RESOLVED_CODES * OUTCOMES.len())
                .map(|_| OnceLock::new())
                .collect(),
            duration,
            reloads,
            compressions,
            generation,
            scrape: Mutex::new(()),
        }
    }

    /// Records one render.
    pub fn record_render(&self, code: u16, outcome: &'static str, took: Duration) {
        let labels = || RenderLabels { code, outcome };
        match resolved_slot(code, outcome) {
            // A clone of a counter shares its value with the family's.
            Some(i) => self.resolved[i]
                .get_or_init(|| self.renders.get_or_create(&labels()).clone())
                .inc(),
            // A status rewritten out of 400-599.
            None => self.renders.get_or_create(&labels()).inc(),
        };
        self.duration.observe(took.as_secs_f64());
    }

    /// Records one body compressed with `encoding`, a cached body's (once
    /// per generation) or one response's.
    pub(crate) fn record_compression(&self, encoding: &'static str, cached: bool) {
        self.compressions
            .get_or_create(&CompressionLabels { encoding, cached })
            .inc();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Outcome, RenderOptions, Renderer};
    use crate::set::{TemplateFile, TemplateSet};

    /// Renders counted through the resolved counters show in the family's
    /// output, as do statuses rewritten outside 400-599.
    #[test]
    fn renders_are_counted_by_code_and_outcome() {
        let set = TemplateSet::from_files([TemplateFile {
            name: "error.json".into(),
            text: "{}".into(),
        }])
        .unwrap();
        let store = Store::fixed(Renderer::new(
            std::sync::Arc::new(set),
            RenderOptions::default(),
        ));
        let metrics = Metrics::new();
        let took = Duration::from_micros(5);
        for _ in 0..3 {
            metrics.record_render(503, Outcome::Ok.as_str(), took);
        }
        metrics.record_render(503, Outcome::Missing.as_str(), took);
        metrics.record_render(599, Outcome::Exec.as_str(), took);
        metrics.record_render(302, Outcome::Ok.as_str(), took);
        metrics.record_render(302, Outcome::Ok.as_str(), took);
        let text = metrics.encode(&store).unwrap();
        for line in [
            r#"error_render_renders_total{code="503",outcome="ok"} 3"#,
            r#"error_render_renders_total{code="503",outcome="missing"} 1"#,
            r#"error_render_renders_total{code="599",outcome="exec"} 1"#,
            r#"error_render_renders_total{code="302",outcome="ok"} 2"#,
            "error_render_render_duration_seconds_count 7",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
        }
        for outcome in [Outcome::Ok, Outcome::Exec, Outcome::Missing, Outcome::Load] {
            assert!(resolved_slot(400, outcome.as_str()).is_some(), "{outcome}");
        }
    }
}
