//! Guest stdout/stderr: each complete line is logged through `tracing`, and
//! the last few KiB are kept so an error can quote what the guest said.
//!
//! What one invocation may put in the host log is bounded (stdout and stderr
//! together, by [`LogBudget`]): past `max_log_bytes` or `max_log_lines` the
//! rest is dropped and one line at the end says how much.
//!
//! Each line carries the request id of the invocation running in the
//! instance (field `request_id`); while several run at once in one managed
//! instance, the line cannot be told apart and carries all their ids,
//! comma-separated.

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

#[derive(Debug, Default)]
struct Used {
    bytes: u64,
    lines: u64,
    dropped_bytes: u64,
    dropped_lines: u64,
}

/// How much guest output one invocation may log (stdout and stderr
/// together), and how much it has used and dropped so far.
#[derive(Debug)]
pub struct LogBudget {
    max_bytes: u64,
    max_lines: u64,
    used: Mutex<Used>,
    /// Request ids of the invocations running in the instance.
    requests: Mutex<Vec<Arc<str>>>,
}

impl LogBudget {
    /// A budget of `max_bytes` bytes and `max_lines` lines.
    pub fn new(max_bytes: u64, max_lines: u64) -> Arc<Self> {
        Arc::new(LogBudget {
            max_bytes,
            max_lines,
            used: Mutex::default(),
            requests: Mutex::default(),
        })
    }

    /// Marks the invocation `request_id` as running in the instance: the
    /// guest's output lines carry its id until [`LogBudget::end_request`].
    pub fn begin_request(&self, request_id: &str) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request_id.into());
    }

    /// Marks the invocation `request_id` as finished.
    pub fn end_request(&self, request_id: &str) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = requests.iter().position(|r| &**r == request_id) {
            requests.remove(i);
        }
    }

    /// The running invocations' request ids, comma-separated ("" for none).
    fn request_ids(&self) -> String {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .join(",")
    }

    fn used(&self) -> std::sync::MutexGuard<'_, Used> {
        self.used.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes room for one line of `len` bytes (plus its newline); false
    /// (and the line counted as dropped) when it does not fit.
    fn take_line(&self, len: usize) -> bool {
        let mut u = self.used();
        let len = len as u64 + 1;
        if u.dropped_bytes == 0 && u.bytes + len <= self.max_bytes && u.lines < self.max_lines {
            u.bytes += len;
            u.lines += 1;
            true
        } else {
            u.dropped_bytes += len;
            u.dropped_lines += 1;
            false
        }
    }

    /// Whether output is being dropped already.
    fn exhausted(&self) -> bool {
        self.used().dropped_bytes > 0
    }

    /// Counts `bytes` dropped without looking at them.
    fn drop_bytes(&self, bytes: &[u8]) {
        let mut u = self.used();
        u.dropped_bytes += bytes.len() as u64;
        u.dropped_lines += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    }

    /// Logs how much was dropped (if anything) and starts a fresh budget,
    /// for the next invocation in the same instance.
    pub fn report_and_reset(&self, function: &str) {
        let u = std::mem::take(&mut *self.used());
        if u.dropped_bytes > 0 {
            let request_id = self.request_ids();
            tracing::warn!(
                target: "lamina::guest",
                function = %function,
                request_id = %request_id,
                dropped_bytes = u.dropped_bytes,
                dropped_lines = u.dropped_lines,
                "guest output truncated: dropped {} bytes ({} lines) beyond this invocation's limit \
                 of {} bytes / {} lines (max_log_bytes / max_log_lines)",
                u.dropped_bytes,
                u.dropped_lines,
                self.max_bytes,
                self.max_lines
            );
        }
    }
}

/// One guest output stream (stdout or stderr) of one instance.
#[derive(Clone)]
pub struct GuestLog {
    function: Arc<str>,
    stream: &'static str,
    inner: Arc<Mutex<Inner>>,
    budget: Arc<LogBudget>,
}

impl GuestLog {
    /// A stream named `stream` ("stdout"/"stderr") for `function`, logging
    /// within `budget` (shared by the instance's streams).
    pub fn new(function: Arc<str>, stream: &'static str, budget: Arc<LogBudget>) -> Self {
        GuestLog {
            function,
            stream,
            inner: Arc::default(),
            budget,
        }
    }

    fn push(&self, bytes: &[u8]) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let recent = &bytes[bytes.len().saturating_sub(TAIL_BYTES)..];
        inner.tail.extend(recent);
        let excess = inner.tail.len().saturating_sub(TAIL_BYTES);
        inner.tail.drain(..excess);
        if self.budget.exhausted() {
            self.budget.drop_bytes(bytes);
            return;
        }
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || inner.line.len() >= MAX_LINE {
                let line = std::mem::take(&mut inner.line);
                if !self.emit(&line) {
                    // Over the budget: the rest of this write is dropped too.
                    let rest = if b == b'\n' { i + 1 } else { i };
                    self.budget.drop_bytes(&bytes[rest..]);
                    return;
                }
                if b != b'\n' {
                    inner.line.push(b);
                }
            } else {
                inner.line.push(b);
            }
        }
    }

    /// Logs one line if the budget allows; false when it was dropped.
    fn emit(&self, line: &[u8]) -> bool {
        if !self.budget.take_line(line.len()) {
            return false;
        }
        let text = String::from_utf8_lossy(line);
        let request_id = self.budget.request_ids();
        if request_id.is_empty() {
            tracing::info!(target: "lamina::guest", function = %self.function, stream = self.stream, "{}", text.trim_end());
        } else {
            tracing::info!(target: "lamina::guest", function = %self.function, request_id = %request_id, stream = self.stream, "{}", text.trim_end());
        }
        true
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
        let log = GuestLog::new("f".into(), "stderr", LogBudget::new(1 << 20, 10_000));
        log.push(b"first\nthread panicked: boom\nnote: run with `RUST_BACKTRACE=1`\n");
        assert_eq!(log.last_line().as_deref(), Some("thread panicked: boom"));
        log.push(&vec![b'x'; 10_000]);
        assert!(log.inner.lock().map(|i| i.tail.len()).unwrap_or(0) <= TAIL_BYTES);
    }

    #[test]
    fn output_past_the_budget_is_counted_not_logged() {
        let budget = LogBudget::new(100, 1000);
        let out = GuestLog::new("f".into(), "stdout", budget.clone());
        let err = GuestLog::new("f".into(), "stderr", budget.clone());
        out.push(&[b'a'; 59]);
        out.push(b"\n");
        err.push(&[b'b'; 29]);
        err.push(b"\n");
        // 90 bytes used; the next 20-byte line does not fit.
        out.push(b"0123456789012345678\nmore\n");
        let u = budget.used();
        assert_eq!((u.bytes, u.lines), (90, 2));
        assert_eq!((u.dropped_bytes, u.dropped_lines), (25, 2));
        drop(u);
        // The tail still has the latest output for error messages.
        assert_eq!(out.last_line().as_deref(), Some("more"));
        budget.report_and_reset("f");
        assert_eq!(budget.used().dropped_bytes, 0);
        let lines = LogBudget::new(1 << 20, 3);
        let log = GuestLog::new("f".into(), "stdout", lines.clone());
        log.push(b"1\n2\n3\n4\n5\n");
        assert_eq!(lines.used().lines, 3);
        assert_eq!(lines.used().dropped_lines, 2);
    }

    #[test]
    fn request_ids_follow_the_running_invocations() {
        let budget = LogBudget::new(1 << 20, 1000);
        assert_eq!(budget.request_ids(), "");
        budget.begin_request("r-1");
        assert_eq!(budget.request_ids(), "r-1");
        budget.begin_request("r-2");
        assert_eq!(budget.request_ids(), "r-1,r-2");
        budget.end_request("r-1");
        assert_eq!(budget.request_ids(), "r-2");
        budget.end_request("r-2");
        assert_eq!(budget.request_ids(), "");
    }
}
