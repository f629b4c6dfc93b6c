//! The data every instance's `Store` carries: WASI and wasi-http contexts,
//! the resource table, the memory limiter and the guest's log streams.

use crate::config::FunctionConfig;
use crate::guest_log::GuestLog;
use std::sync::Arc;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Error returned from the limiter when a guest grows memory past its limit;
/// it travels through wasmtime as the call's error and is recognised by downcast.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes exceeded: the guest asked for {desired} bytes")]
pub struct MemoryLimitExceeded {
    /// The limit in bytes.
    pub limit: usize,
    /// The size the guest tried to grow to.
    pub desired: usize,
}

/// Enforces a function's memory limit on every linear memory of an instance.
#[derive(Debug)]
pub struct MemoryLimiter {
    limit: usize,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            return Err(MemoryLimitExceeded {
                limit: self.limit,
                desired,
            }
            .into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// Store data for one instance.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    /// The memory limiter, installed with `Store::limiter`.
    pub limiter: MemoryLimiter,
    /// The guest's standard output.
    pub stdout: GuestLog,
    /// The guest's standard error.
    pub stderr: GuestLog,
    /// When the running work must stop (managed mode checks it on every epoch
    /// tick; `None` means no limit).
    pub deadline: Option<std::time::Instant>,
    /// The execution a durable instance runs (`None` for other functions).
    pub durable: Option<Box<crate::durable::imports::DurableInvocation>>,
}

impl HostState {
    /// Builds the sandbox for one instance of `function`: only the env vars and
    /// directories its config grants, stdio captured into the log.
    pub fn new(function: &Arc<str>, cfg: &FunctionConfig) -> wasmtime::Result<Self> {
        let stdout = GuestLog::new(function.clone(), "stdout");
        let stderr = GuestLog::new(function.clone(), "stderr");
        let mut b = WasiCtxBuilder::new();
        b.stdout(stdout.clone()).stderr(stderr.clone());
        for (k, v) in &cfg.env {
            b.env(k, v);
        }
        for (guest, host) in &cfg.dirs {
            b.preopened_dir(host, guest, FsPerms::ReadWrite)?;
        }
        let limit = usize::try_from(cfg.memory_mb * 1024 * 1024).unwrap_or(usize::MAX);
        Ok(HostState {
            wasi: b.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter { limit },
            stdout,
            stderr,
            deadline: None,
            durable: None,
        })
    }

    /// Logs unterminated output lines; call once the instance is finished.
    pub fn flush_logs(&self) {
        self.stdout.flush_partial();
        self.stderr.flush_partial();
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}
