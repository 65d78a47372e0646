//! The playground's HTML pages, kept in memory for a short while under a
//! random id, so that the page's sandboxed frame can load one from
//! `GET /preview/frame?inline=ID` under the frame's own strict
//! Content-Security-Policy. A frame's source must be a URL of this origin
//! for that: a `srcdoc` document would inherit the page's policy instead.
//!
//! Bounded twice: the last [`KEPT`] pages only, each at most the inline
//! limits' output (64 KiB), and none older than [`KEPT_FOR`].

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// How many playground pages are kept: a visitor's last few renders (a
/// frame loads its page as soon as the answer names it).
pub(crate) const KEPT: usize = 16;

/// How long a playground page is kept.
pub(crate) const KEPT_FOR: Duration = Duration::from_secs(300);

/// The random bytes of an id (hex in the URL).
const ID_BYTES: usize = 16;

/// The pages, oldest first.
#[derive(Debug, Default)]
pub(crate) struct InlineFrames {
    pages: Mutex<VecDeque<Kept>>,
}

#[derive(Debug)]
struct Kept {
    id: String,
    at: Instant,
    body: Bytes,
}

impl InlineFrames {
    /// Keeps `body` and answers its id (dropping the oldest page beyond
    /// [`KEPT`]); fails only when the system has no random bytes to give.
    pub(crate) fn put(&self, body: Bytes) -> Result<String, getrandom::Error> {
        let mut random = [0u8; ID_BYTES];
        getrandom::fill(&mut random)?;
        let id: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut pages = self.lock();
        pages.retain(|p| now.duration_since(p.at) < KEPT_FOR);
        while pages.len() >= KEPT {
            pages.pop_front();
        }
        pages.push_back(Kept {
            id: id.clone(),
            at: now,
            body,
        });
        Ok(id)
    }

    /// The page kept under `id`, unless it is unknown, dropped or expired.
    pub(crate) fn get(&self, id: &str) -> Option<Bytes> {
        let now = Instant::now();
        self.lock()
            .iter()
            .find(|p| p.id == id && now.duration_since(p.at) < KEPT_FOR)
            .map(|p| p.body.clone())
    }

    /// A panic while holding the lock leaves only whole entries behind
    /// (every change is one push or pop), so the list stays usable.
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Kept>> {
        self.pages.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_found_by_their_random_id_and_only_the_last_are_kept() {
        let frames = InlineFrames::default();
        let first = frames.put(Bytes::from_static(b"first")).unwrap();
        assert_eq!(first.len(), 2 * ID_BYTES);
        assert_eq!(frames.get(&first).as_deref(), Some(&b"first"[..]));
        assert_eq!(frames.get("0"), None);
        let mut last = String::new();
        for _ in 0..KEPT {
            last = frames.put(Bytes::from_static(b"later")).unwrap();
            assert_ne!(last, first);
        }
        assert_eq!(frames.get(&first), None, "the oldest page is dropped");
        assert_eq!(frames.get(&last).as_deref(), Some(&b"later"[..]));
    }
}
