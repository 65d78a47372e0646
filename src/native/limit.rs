//! Bounds on a native render, as [`RenderLimits`] sets them for the Go
//! templates: output size and time (checked as Tera writes), and the
//! functions that reach beyond the error: `get_env` (Tera 2 has none, but a
//! template written for 1.x may call it: it gets a refusal that says why, not
//! "unknown function") and `range` (its length capped by the set's limit
//! rather than Tera's fixed 100,000, since Tera builds the whole list before
//! the loop writes anything).

use std::time::Instant;

use tera::{Kwargs, State, TeraResult};

use crate::limits::RenderLimits;

/// Registers the refusing `get_env` and the bounded `range` in `tera`.
pub(crate) fn restrict_functions(tera: &mut tera::Tera, limits: &RenderLimits) {
    tera.register_function("get_env", |_: Kwargs, _: &State| -> TeraResult<bool> {
        Err(tera::Error::message(
            "get_env is turned off: error templates do not read the service's environment; \
             pass the value as a request field instead",
        ))
    });
    let max = limits.max_range_iterations;
    tera.register_function(
        "range",
        move |args: Kwargs, _: &State| -> TeraResult<Vec<u64>> {
            let start = args.get::<u64>("start")?.unwrap_or(0);
            let end = args.must_get::<u64>("end")?;
            let step = args.get::<u64>("step_by")?.unwrap_or(1).max(1);
            if start > end {
                return Err(tera::Error::message(
                    "Function `range` was called with a `start` greater than its `end`",
                ));
            }
            let len = (end - start).div_ceil(step);
            if len > max {
                return Err(tera::Error::message(format!(
                    "range() of {len} numbers, at most {max} allowed \
                     (limits.max_range_iterations)"
                )));
            }
            Ok((start..end)
                .step_by(usize::try_from(step).unwrap_or(usize::MAX))
                .collect())
        },
    );
}

/// Where Tera writes a render: refuses to grow past `max_output_bytes` or
/// to go on after `max_render_time`, and remembers which limit stopped it
/// (Tera reports only an I/O error).
pub(crate) struct LimitedOutput {
    buf: Vec<u8>,
    max_bytes: usize,
    deadline: Option<Instant>,
    limits: RenderLimits,
    exceeded: Option<String>,
}

impl LimitedOutput {
    pub(crate) fn new(limits: &RenderLimits) -> Self {
        LimitedOutput {
            buf: Vec::new(),
            max_bytes: limits.max_output_bytes,
            deadline: Instant::now().checked_add(limits.max_render_time),
            limits: *limits,
            exceeded: None,
        }
    }

    /// The limit that stopped the render, in words, if one did.
    pub(crate) fn exceeded(&self) -> Option<String> {
        self.exceeded.clone()
    }

    /// The output. Tera writes only the UTF-8 of strings, so the error is
    /// for the impossible case, reported rather than assumed away.
    pub(crate) fn into_string(self) -> Result<String, String> {
        String::from_utf8(self.buf).map_err(|e| {
            format!(
                "the output is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            )
        })
    }

    fn stop(&mut self, why: String) -> std::io::Error {
        let error = std::io::Error::other(why.clone());
        self.exceeded = Some(why);
        error
    }
}

impl std::io::Write for LimitedOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.buf.len().saturating_add(bytes.len()) > self.max_bytes {
            let why = format!(
                "the output exceeds {} bytes (limits.max_output_bytes): an error body should be \
                 small; look for a runaway loop",
                self.max_bytes
            );
            return Err(self.stop(why));
        }
        if self.deadline.is_some_and(|d| Instant::now() > d) {
            let why = format!(
                "the render took longer than {:?} (limits.max_render_time): look for a runaway \
                 loop",
                self.limits.max_render_time
            );
            return Err(self.stop(why));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
