//! A connection's socket with a write deadline: a client that stops reading
//! a response cannot hold its connection (and the response's memory) for
//! longer than `limits.write_timeout_ms`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Wraps a socket so that output which stays blocked fails the connection.
///
/// The clock starts when a write first blocks (the client's receive window
/// and the kernel's buffers are full) and stops when everything queued has
/// been written (hyper flushes after each response or event). So a response
/// has `timeout` to drain once the client stops keeping up, and trickling a
/// few bytes at a time does not extend it; a long-lived event stream whose
/// writes never block is not affected, and neither is a fast client.
#[derive(Debug)]
pub(crate) struct WriteDeadline<S> {
    inner: S,
    timeout: Duration,
    /// Armed at the first blocked write since the last completed flush.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<S> WriteDeadline<S> {
    pub(crate) fn new(inner: S, timeout: Duration) -> Self {
        WriteDeadline {
            inner,
            timeout,
            deadline: None,
        }
    }

    /// Called when the socket is not writable: arms the deadline if needed,
    /// and fails once it has passed.
    fn blocked<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let timeout = self.timeout;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(deadline.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client read nothing for {} ms (limits.write_timeout_ms): closing",
                timeout.as_millis()
            ),
        )))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Pending => this.blocked(cx),
            done => done,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => this.blocked(cx),
            done => done,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.blocked(cx),
            Poll::Ready(Ok(())) => {
                // Everything queued went out: the next response gets a
                // fresh allowance.
                this.deadline = None;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.blocked(cx),
            done => done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    #[tokio::test]
    async fn a_write_blocked_past_the_timeout_fails_and_a_flush_rearms() {
        // A pipe of 16 bytes whose reader never reads.
        let (client, _server) = tokio::io::duplex(16);
        let mut w = WriteDeadline::new(client, Duration::from_millis(100));
        w.write_all(&[0; 16]).await.unwrap();
        w.flush().await.unwrap();
        assert!(w.deadline.is_none(), "a flushed write leaves no deadline");
        let err = w.write_all(&[0; 1]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }
}
