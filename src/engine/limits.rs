//! Resource limits on loading and executing templates, so that a hostile or
//! mistaken template costs a bounded amount of time and memory and fails with
//! a clear error instead of stalling the service.
//!
//! Go's templates have almost no limits (a call depth of 100,000 and nothing
//! else); the gateway trusts its template folder. error-render also runs
//! templates typed into the preview's playground, so every render is bounded:
//!
//! - **call depth**: `{{template}}` calls and `{{if}}`/`{{range}}`/`{{with}}`
//!   nested deeper than 200 fail. This is gotmpl's fixed limit, stricter than
//!   Go's 100,000; no real error template comes near it.
//! - **parse nesting**: gotmpl refuses, when parsing, a template whose
//!   blocks (`{{if}}`, `{{range}}`, `{{with}}` bodies, the file's own list
//!   counting as the first level) and parenthesised pipelines nest more
//!   than 100 levels deep (its `MAX_PARSE_DEPTH`; Go has no such limit).
//! - **range iterations**, **output size** and **render time**, set here.
//!   Time is checked as the template writes and at every `{{template}}`
//!   call (so work that writes nothing, like templates calling each other
//!   2^40 times, still stops), and no value a template builds (a `printf`
//!   doubling its input at each call) may grow past the output limit.
//! - **file and set size**, checked before parsing (from the files'
//!   metadata, then by reading at most the limit): 1 MiB per file and 16 MiB
//!   per set for the service's folder, less for inline templates.
//! - for inline templates ([`RenderLimits::inline`]) also the number of
//!   files, and a static bound on `{{template}}` calls: a template that
//!   calls itself, or whose calls could multiply past the bound, is refused
//!   before it runs, because work that writes nothing cannot be stopped by
//!   the output or time checks.

use std::cell::Cell;
use std::fmt;
use std::time::{Duration, Instant};

/// Bounds on one render (and, for inline sets, on loading).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    /// `{{range}}` iterations per render, across all ranges (0 is refused
    /// by the config; gotmpl reads 0 as "no limit").
    pub max_range_iterations: u64,
    /// Bytes a render may write.
    pub max_output_bytes: usize,
    /// Time a render may take, checked as it writes.
    pub max_render_time: Duration,
    /// Files a set may hold (`None`: no limit).
    pub max_templates: Option<usize>,
    /// Bytes one template file may hold (`None`: no limit).
    pub max_template_bytes: Option<usize>,
    /// Bytes all the files of a set may hold together (`None`: no limit).
    pub max_set_bytes: Option<usize>,
    /// Worst-case `{{template}}` calls one render may make, counted from
    /// the templates' text before running them; recursion is refused
    /// (`None`: not checked, recursion allowed up to the call depth).
    pub max_template_calls: Option<u64>,
}

impl RenderLimits {
    /// For the service's template folder, written by its operators: generous
    /// bounds that no real error template approaches.
    pub const fn service() -> Self {
        RenderLimits {
            max_range_iterations: 10_000,
            max_output_bytes: 1024 * 1024,
            max_render_time: Duration::from_millis(250),
            max_templates: None,
            max_template_bytes: Some(SERVICE_MAX_TEMPLATE_BYTES),
            max_set_bytes: Some(SERVICE_MAX_SET_BYTES),
            max_template_calls: None,
        }
    }

    /// For templates sent by whoever can reach the preview: strict bounds.
    pub const fn inline() -> Self {
        RenderLimits {
            max_range_iterations: 1_000,
            max_output_bytes: 64 * 1024,
            max_render_time: Duration::from_millis(50),
            max_templates: Some(INLINE_MAX_TEMPLATES),
            max_template_bytes: Some(INLINE_MAX_TEMPLATE_BYTES),
            max_set_bytes: Some(INLINE_MAX_TEMPLATES * INLINE_MAX_TEMPLATE_BYTES),
            max_template_calls: Some(1_000),
        }
    }
}

/// Bytes one template file of the service's folder may hold by default: a
/// real error template is a few hundred bytes, and parsing costs about 50
/// times the file's size in memory.
pub const SERVICE_MAX_TEMPLATE_BYTES: usize = 1024 * 1024;
/// Bytes the service's template files may hold together by default.
pub const SERVICE_MAX_SET_BYTES: usize = 16 * 1024 * 1024;

/// Files an inline set may hold ([`RenderLimits::inline`]).
pub(crate) const INLINE_MAX_TEMPLATES: usize = 32;
/// Bytes one inline template may hold ([`RenderLimits::inline`]).
pub(crate) const INLINE_MAX_TEMPLATE_BYTES: usize = 64 * 1024;

impl Default for RenderLimits {
    fn default() -> Self {
        Self::service()
    }
}

/// A limit a render went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    Output(usize),
    Time(Duration),
    Value(usize),
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exceeded::Output(max) => write!(
                f,
                "the output exceeds {max} bytes (limits.max_output_bytes): \
                 an error body should be small; look for a runaway range or printf"
            ),
            Exceeded::Time(max) => write!(
                f,
                "rendering took longer than {} ms (limits.max_render_time_ms): \
                 look for a runaway range or template call",
                max.as_millis()
            ),
            Exceeded::Value(max) => write!(
                f,
                "a value built by the template exceeds {max} bytes (limits.max_output_bytes): \
                 look for a printf or template call that grows its input at each call"
            ),
        }
    }
}

thread_local! {
    /// The render running on this thread, with what it has used of its
    /// limits: gotmpl calls template functions with their arguments only, no
    /// context, and a render runs start to finish on one thread. Set for the
    /// length of one execution by [`RenderScope`]; the writer and the
    /// functions both check against it, so there is one clock and one
    /// record of the limit that was exceeded.
    static RUNNING: Cell<Option<Running>> = const { Cell::new(None) };
}

#[derive(Debug, Clone, Copy)]
struct Running {
    started: Instant,
    max_time: Duration,
    max_value_bytes: usize,
    steps_until_clock: u32,
    exceeded: Option<Exceeded>,
}

/// The limits of the render running on this thread while it lives.
pub(crate) struct RenderScope {
    previous: Option<Running>,
}

impl RenderScope {
    /// Starts the render's clock.
    pub(crate) fn enter(limits: &RenderLimits) -> Self {
        let running = Running {
            started: Instant::now(),
            max_time: limits.max_render_time,
            max_value_bytes: limits.max_output_bytes,
            steps_until_clock: STEPS_PER_CLOCK_CHECK,
            exceeded: None,
        };
        RenderScope {
            previous: RUNNING.replace(Some(running)),
        }
    }

    /// The first limit the render went over, if any.
    pub(crate) fn exceeded(&self) -> Option<Exceeded> {
        RUNNING.get().and_then(|r| r.exceeded)
    }
}

impl Drop for RenderScope {
    fn drop(&mut self) {
        RUNNING.set(self.previous);
    }
}

/// Records that the running render went over `limit` and refuses.
fn exceed(limit: Exceeded) -> Result<(), Exceeded> {
    if let Some(mut run) = RUNNING.get() {
        let first = *run.exceeded.get_or_insert(limit);
        RUNNING.set(Some(run));
        return Err(first);
    }
    Err(limit)
}

/// Counts a step of the running render (a write, a `{{template}}` call),
/// looking at the clock every so many steps. `Err` once it is out of time.
pub(crate) fn step() -> Result<(), Exceeded> {
    let Some(mut run) = RUNNING.get() else {
        return Ok(());
    };
    if let Some(limit) = run.exceeded {
        return Err(limit);
    }
    run.steps_until_clock -= 1;
    if run.steps_until_clock == 0 {
        run.steps_until_clock = STEPS_PER_CLOCK_CHECK;
        if run.started.elapsed() > run.max_time {
            return exceed(Exceeded::Time(run.max_time));
        }
    }
    RUNNING.set(Some(run));
    Ok(())
}

/// Refuses a value larger than the running render may write at all.
pub(crate) fn value_size(len: usize) -> Result<(), Exceeded> {
    match RUNNING.get() {
        Some(run) if len > run.max_value_bytes => exceed(Exceeded::Value(run.max_value_bytes)),
        _ => Ok(()),
    }
}

/// How many steps pass between two looks at the clock: reading it costs
/// about as much as a short write, and a render of a real error template
/// takes fewer steps than this, so it never pays for the clock at all.
const STEPS_PER_CLOCK_CHECK: u32 = 32;

/// A writer that refuses to grow past the output limit, and counts each
/// write as a step of the running render (see [`step`]). When it refuses,
/// the engine stops with a write error and [`RenderScope::exceeded`] says
/// why.
pub(crate) struct LimitedWriter<'a> {
    out: &'a mut String,
    max_len: usize,
    max_bytes: usize,
}

impl<'a> LimitedWriter<'a> {
    pub(crate) fn new(out: &'a mut String, limits: &RenderLimits) -> Self {
        LimitedWriter {
            max_len: out.len().saturating_add(limits.max_output_bytes),
            out,
            max_bytes: limits.max_output_bytes,
        }
    }
}

impl fmt::Write for LimitedWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.out.len() + s.len() > self.max_len {
            return exceed(Exceeded::Output(self.max_bytes)).map_err(|_| fmt::Error);
        }
        step().map_err(|_| fmt::Error)?;
        self.out.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    #[test]
    fn refuses_output_past_the_limit_and_keeps_what_fit() {
        let limits = RenderLimits {
            max_output_bytes: 5,
            ..RenderLimits::service()
        };
        let scope = RenderScope::enter(&limits);
        let mut out = String::new();
        let mut w = LimitedWriter::new(&mut out, &limits);
        assert!(w.write_str("abc").is_ok());
        assert!(w.write_str("def").is_err());
        assert_eq!(scope.exceeded(), Some(Exceeded::Output(5)));
        assert_eq!(out, "abc");
    }

    #[test]
    fn refuses_writes_after_the_deadline() {
        let limits = RenderLimits {
            max_render_time: Duration::ZERO,
            ..RenderLimits::service()
        };
        let scope = RenderScope::enter(&limits);
        let mut out = String::new();
        let mut w = LimitedWriter::new(&mut out, &limits);
        let refused = (0..STEPS_PER_CLOCK_CHECK).any(|_| w.write_str("x").is_err());
        assert!(refused);
        assert!(matches!(scope.exceeded(), Some(Exceeded::Time(_))));
    }
}
