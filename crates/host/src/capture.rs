//! [`Capture`]: a guest's stdout or stderr, kept in memory and taken after each invocation, so
//! a reused instance logs each request's output with that request.

use bytes::{Bytes, BytesMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// An in-memory output stream of bounded size (per invocation). Clones share the buffer.
#[derive(Clone)]
pub(crate) struct Capture {
    capacity: usize,
    buffer: Arc<Mutex<BytesMut>>,
}

impl Capture {
    /// An empty capture that holds at most `capacity` bytes between two [`Capture::take`]s.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            buffer: Arc::default(),
        }
    }

    /// What was written since the last take; the buffer is empty afterwards.
    pub fn take(&self) -> Bytes {
        self.lock().split().freeze()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BytesMut> {
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        let mut buf = self.lock();
        if bytes.len() > self.capacity.saturating_sub(buf.len()) {
            return Err(StreamError::Trap(wasmtime::format_err!(
                "guest output beyond {} bytes per request",
                self.capacity
            )));
        }
        buf.extend_from_slice(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        match self.capacity.saturating_sub(self.lock().len()) {
            0 => Err(StreamError::Closed),
            room => Ok(room),
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl AsyncWrite for Capture {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut buffer = self.lock();
        let n = buf.len().min(self.capacity.saturating_sub(buffer.len()));
        buffer.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_empties_and_capacity_is_per_take() {
        let c = Capture::new(4);
        let mut s = c.p2_stream();
        s.write(Bytes::from_static(b"abc")).unwrap();
        assert!(s.write(Bytes::from_static(b"de")).is_err());
        assert_eq!(s.check_write().unwrap(), 1);
        assert_eq!(&c.take()[..], b"abc");
        assert_eq!(c.take().len(), 0);
        s.write(Bytes::from_static(b"defg")).unwrap();
        assert!(matches!(s.check_write(), Err(StreamError::Closed)));
        assert_eq!(&c.take()[..], b"defg");
    }
}
