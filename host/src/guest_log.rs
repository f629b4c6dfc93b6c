//! Guest stdout/stderr: each complete line is logged through `tracing`, and
//! the last few KiB are kept so an error can quote what the guest said.

use bytes::Bytes;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// How many bytes of recent output are kept for error messages.
const TAIL_BYTES: usize = 4096;
/// Longest line forwarded to the log before it is split.
const MAX_LINE: usize = 8192;

#[derive(Default)]
struct Inner {
    tail: VecDeque<u8>,
    line: Vec<u8>,
}

/// One guest output stream (stdout or stderr) of one instance.
#[derive(Clone)]
pub struct GuestLog {
    function: Arc<str>,
    stream: &'static str,
    inner: Arc<Mutex<Inner>>,
}

impl GuestLog {
    /// A stream named `stream` ("stdout"/"stderr") for `function`.
    pub fn new(function: Arc<str>, stream: &'static str) -> Self {
        GuestLog {
            function,
            stream,
            inner: Arc::default(),
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.tail.extend(bytes);
        let excess = inner.tail.len().saturating_sub(TAIL_BYTES);
        inner.tail.drain(..excess);
        for &b in bytes {
            if b == b'\n' || inner.line.len() >= MAX_LINE {
                let line = std::mem::take(&mut inner.line);
                self.emit(&line);
                if b != b'\n' {
                    inner.line.push(b);
                }
            } else {
                inner.line.push(b);
            }
        }
    }

    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        tracing::info!(target: "lamina::guest", function = %self.function, stream = self.stream, "{}", text.trim_end());
    }

    /// Logs any unterminated last line (call when the instance is done).
    pub fn flush_partial(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if !inner.line.is_empty() {
            let line = std::mem::take(&mut inner.line);
            self.emit(&line);
        }
    }

    /// The last non-empty line the guest wrote, if any (e.g. a panic message).
    pub fn last_line(&self) -> Option<String> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes: Vec<u8> = inner.tail.iter().copied().collect();
        let text = String::from_utf8_lossy(&bytes);
        text.lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
            .map(str::to_string)
    }
}

impl IsTerminal for GuestLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestLog {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestLog {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestLog {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

impl AsyncWrite for GuestLog {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_last_line_and_bounded_tail() {
        let log = GuestLog::new("f".into(), "stderr");
        log.push(b"first\nthread panicked: boom\nnote: run with `RUST_BACKTRACE=1`\n");
        assert_eq!(log.last_line().as_deref(), Some("thread panicked: boom"));
        log.push(&vec![b'x'; 10_000]);
        assert!(log.inner.lock().map(|i| i.tail.len()).unwrap_or(0) <= TAIL_BYTES);
    }
}
