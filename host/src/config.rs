//! Host and function configuration: `lamina.toml`, or a single component
//! given on the command line.
//!
//! Unknown keys and bad values are errors that name the offending key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Default address the host listens on.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default largest request body accepted (the Lambda synchronous payload limit).
pub const DEFAULT_MAX_BODY_BYTES: usize = 6 * 1024 * 1024;
/// Default per-instance memory limit.
pub const DEFAULT_MEMORY_MB: u64 = 128;
/// Default per-invocation timeout.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Default most bytes of guest output (stdout and stderr) one invocation may log.
pub const DEFAULT_MAX_LOG_BYTES: u64 = 1024 * 1024;
/// Default most lines of guest output one invocation may log.
pub const DEFAULT_MAX_LOG_LINES: u64 = 10_000;
/// Path prefixes owned by the host; no function may take them as its name.
pub const RESERVED_NAMES: &[&str] = &[
    "healthz",
    "metrics",
    "ui",
    "api",
    "2015-03-31",
    "2025-12-01",
];

/// Errors found while reading or checking configuration.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the schema (unknown key, wrong type).
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the key and position.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid value for `{key}`: {message}")]
    Invalid {
        /// Dotted path of the key, e.g. `functions.echo.memory_mb`.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },
}

/// How a function is invoked, detected from the component's exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionKind {
    /// Exports `wasi:http/incoming-handler` (the `wasi:http/proxy` world).
    Http,
    /// Exports `lamina:function/handler`.
    Handler,
    /// Exports `lamina:durable/handler`: a durable workflow.
    Durable,
}

impl FunctionKind {
    /// The lower-case name used in config, logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionKind::Http => "http",
            FunctionKind::Handler => "handler",
            FunctionKind::Durable => "durable",
        }
    }
}

/// How a function's instances live.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// A fresh instance for every request (the default).
    Standard,
    /// Long-lived environments with one-time init and multi-concurrency.
    Managed(ManagedConfig),
}

/// Settings of a managed-mode function (see the README, "Execution modes").
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedConfig {
    /// Environments kept alive (and initialised) even when idle.
    pub min_environments: u32,
    /// Most environments at once.
    pub max_environments: u32,
    /// Invocations one environment serves at the same time (async exports;
    /// a sync export is always served one at a time).
    pub max_concurrency: u32,
    /// Time `init` may take, in milliseconds.
    pub init_timeout_ms: u64,
    /// An environment above the minimum idle this long is retired, in milliseconds.
    pub idle_timeout_ms: u64,
    /// Spare capacity kept over the observed in-flight load (0.5 = 50%).
    pub headroom: f64,
    /// Capacity may at most double within this window, in milliseconds.
    pub scale_window_ms: u64,
    /// Recycle an environment after this many invocations (`None`: never).
    pub max_requests: Option<u64>,
}

impl Default for ManagedConfig {
    fn default() -> Self {
        ManagedConfig {
            min_environments: 1,
            max_environments: 8,
            max_concurrency: 16,
            init_timeout_ms: 15 * 60 * 1000,
            idle_timeout_ms: 60_000,
            headroom: 0.5,
            scale_window_ms: 10_000,
            max_requests: None,
        }
    }
}

/// One function as declared.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// Name used in routes and the invoke API.
    pub name: String,
    /// Path of the `.wasm` component.
    pub component: PathBuf,
    /// Kind override; `None` means detect from exports.
    pub kind: Option<FunctionKind>,
    /// Linear memory limit per instance, in MiB.
    pub memory_mb: u64,
    /// Per-invocation timeout in milliseconds.
    pub timeout_ms: u64,
    /// Environment variables visible to the guest.
    pub env: BTreeMap<String, String>,
    /// Preopened directories: guest path -> host path.
    pub dirs: BTreeMap<String, PathBuf>,
    /// Standard (default) or managed.
    pub mode: Mode,
    /// Durable functions: how long an execution may run in all, in seconds
    /// (from 1 to 366 days; default 366 days).
    pub execution_timeout_s: u64,
    /// Durable functions: how long an ended execution is kept, in seconds
    /// (`retention_days` or `retention_s`; default `[durable] retention_days`).
    pub retention_s: u64,
    /// Where the guest may send outgoing HTTP requests
    /// (`scheme://host[:port]`, see [`crate::outbound`]); empty denies all.
    pub allowed_outbound_hosts: Vec<String>,
    /// Most bytes of guest output one invocation may log.
    pub max_log_bytes: u64,
    /// Most lines of guest output one invocation may log.
    pub max_log_lines: u64,
    /// Instances reserved for this function out of `engine.max_instances`,
    /// which are also the most it runs at once (Lambda's
    /// `ReservedConcurrentExecutions`); `None`: it shares the unreserved pool.
    pub reserved_concurrency: Option<u32>,
}

/// The default and largest durable execution timeout: 366 days, in seconds.
pub const MAX_EXECUTION_TIMEOUT_S: u64 = 366 * 24 * 3600;
/// Default retention of ended durable executions, in days (AWS's
/// `DurableConfig.RetentionPeriodInDays` default).
pub const DEFAULT_RETENTION_DAYS: u64 = 30;
/// Longest retention of ended durable executions, in days (AWS's maximum).
pub const MAX_RETENTION_DAYS: u64 = 90;
/// Default interval between two retention sweeps, in seconds.
pub const DEFAULT_RETENTION_SWEEP_INTERVAL_S: u64 = 600;

impl FunctionConfig {
    /// A function with default settings for `component`.
    pub fn new(name: impl Into<String>, component: impl Into<PathBuf>) -> Self {
        FunctionConfig {
            name: name.into(),
            component: component.into(),
            kind: None,
            memory_mb: DEFAULT_MEMORY_MB,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            env: BTreeMap::new(),
            dirs: BTreeMap::new(),
            mode: Mode::Standard,
            execution_timeout_s: MAX_EXECUTION_TIMEOUT_S,
            retention_s: DEFAULT_RETENTION_DAYS * 86_400,
            allowed_outbound_hosts: Vec::new(),
            max_log_bytes: DEFAULT_MAX_LOG_BYTES,
            max_log_lines: DEFAULT_MAX_LOG_LINES,
            reserved_concurrency: None,
        }
    }
}

/// Host-wide durable settings (`[durable]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurableSettings {
    /// Retention of ended executions of functions that set none (and of
    /// functions no longer configured), in seconds.
    pub retention_s: u64,
    /// Interval between two retention sweeps, in seconds.
    pub retention_sweep_interval_s: u64,
}

impl Default for DurableSettings {
    fn default() -> Self {
        DurableSettings {
            retention_s: DEFAULT_RETENTION_DAYS * 86_400,
            retention_sweep_interval_s: DEFAULT_RETENTION_SWEEP_INTERVAL_S,
        }
    }
}

/// Engine-wide settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Use the pooling instance allocator (fast instantiation); off means on-demand.
    pub pooling: bool,
    /// Most component instances alive at once (the pool size and the back-pressure limit).
    pub max_instances: u32,
    /// Largest linear memory any instance may have, in MiB (bounds every function's `memory_mb`).
    pub max_memory_mb: u64,
    /// Where compiled components are cached.
    pub cache_dir: PathBuf,
}

/// Everything the host needs to start.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the host's state (compiled cache, later the journal).
    pub state_dir: PathBuf,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Engine settings.
    pub engine: EngineConfig,
    /// Declared functions, in name order.
    pub functions: Vec<FunctionConfig>,
    /// Host-wide durable settings (retention).
    pub durable: DurableSettings,
    /// Most unreserved instances durable invocations hold at once
    /// (`engine.max_durable_instances`), so replays leave room for requests.
    pub max_durable_instances: u32,
    /// The queue of asynchronous (Event) invocations of handler functions.
    pub async_events: AsyncConfig,
    /// Connection handling: timeouts, limits, shutdown grace (`[server]`).
    pub server: ServerConfig,
    /// Access keys for AWS Signature Version 4 (`[auth]`); `None`: no authentication.
    pub auth: Option<AuthConfig>,
    /// The shared journal database (`[journal] url = "postgres://…"` or
    /// `--journal`); `None`: the redb journal in the state directory.
    pub journal_url: Option<String>,
}

/// Settings of the queue of asynchronous invocations (`[async]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncConfig {
    /// Most events queued at once; beyond it an Event invoke gets 429.
    pub max_queued_events: u64,
    /// Queued events run at the same time.
    pub max_concurrency: u32,
    /// Retries of a failed event (Lambda's `MaximumRetryAttempts`, 0 to 2).
    pub max_retry_attempts: u32,
    /// Delay before the first retry, in milliseconds; each next retry waits twice as long.
    pub retry_delay_ms: u64,
    /// Events older than this are dropped instead of run, in milliseconds
    /// (Lambda's `MaximumEventAgeInSeconds`, at most 6 hours).
    pub max_event_age_ms: u64,
    /// Largest payload of an Event invoke, in bytes.
    pub max_event_bytes: usize,
}

/// Lambda's longest maximum event age: 6 hours, in milliseconds.
pub const MAX_EVENT_AGE_MS: u64 = 6 * 3600 * 1000;

impl Default for AsyncConfig {
    fn default() -> Self {
        AsyncConfig {
            max_queued_events: 10_000,
            max_concurrency: 8,
            max_retry_attempts: 2,
            retry_delay_ms: 60_000,
            max_event_age_ms: MAX_EVENT_AGE_MS,
            max_event_bytes: 1024 * 1024,
        }
    }
}

/// Default time a client has to send a request's headers, in milliseconds.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// Default time a connection may sit idle (no request running, no bytes
/// moving), in milliseconds.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// Default most client connections open at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default time in-flight requests get to finish at shutdown, in milliseconds.
pub const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 30_000;

/// Connection handling settings (`[server]` in lamina.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Time a client has to send a request's headers (also bounds the wait
    /// for the next request on a keep-alive connection), in milliseconds.
    pub header_read_timeout_ms: u64,
    /// A connection with no request running and no bytes moving this long is closed, in milliseconds.
    pub idle_timeout_ms: u64,
    /// Most client connections open at once; at the limit the host stops accepting.
    pub max_connections: usize,
    /// On SIGTERM / Ctrl-C, time in-flight requests get to finish, in milliseconds.
    pub shutdown_grace_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace_ms: DEFAULT_SHUTDOWN_GRACE_MS,
        }
    }
}

/// Authentication settings (`[auth]` in lamina.toml).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The access keys accepted, with their secrets resolved.
    pub access_keys: Vec<AccessKey>,
}

/// One access key: an id and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The access key id (`AKIA...` style, any text).
    pub id: String,
    /// The secret access key.
    pub secret: String,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.access_keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("AuthConfig")
            .field("access_keys", &ids)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    header_read_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
    shutdown_grace_ms: Option<u64>,
}

impl ServerSection {
    fn finish(self) -> Result<ServerConfig, ConfigError> {
        let d = ServerConfig::default();
        let s = ServerConfig {
            header_read_timeout_ms: self
                .header_read_timeout_ms
                .unwrap_or(d.header_read_timeout_ms),
            idle_timeout_ms: self.idle_timeout_ms.unwrap_or(d.idle_timeout_ms),
            max_connections: self.max_connections.unwrap_or(d.max_connections),
            shutdown_grace_ms: self.shutdown_grace_ms.unwrap_or(d.shutdown_grace_ms),
        };
        for (k, v) in [
            ("server.header_read_timeout_ms", s.header_read_timeout_ms),
            ("server.idle_timeout_ms", s.idle_timeout_ms),
            ("server.max_connections", s.max_connections as u64),
        ] {
            if v == 0 {
                return Err(invalid(k, "must be at least 1"));
            }
        }
        Ok(s)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthSection {
    #[serde(default)]
    access_keys: Vec<AccessKeySection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessKeySection {
    id: String,
    secret: Option<String>,
    secret_env: Option<String>,
}

impl AuthSection {
    /// Resolves secrets (`secret`, or `secret_env` read from the environment).
    fn finish(self) -> Result<AuthConfig, ConfigError> {
        if self.access_keys.is_empty() {
            return Err(invalid(
                "auth.access_keys",
                "give at least one key: access_keys = [{ id = \"...\", secret_env = \"VAR\" }]",
            ));
        }
        let mut keys = Vec::with_capacity(self.access_keys.len());
        for (i, k) in self.access_keys.into_iter().enumerate() {
            let key = format!("auth.access_keys[{i}]");
            if k.id.is_empty() || k.id.contains(['/', ',', '=', ' ']) {
                return Err(invalid(
                    &format!("{key}.id"),
                    "must be non-empty, without `/`, `,`, `=` or spaces",
                ));
            }
            let secret = match (k.secret, k.secret_env) {
                (Some(s), None) => s,
                (None, Some(var)) => std::env::var(&var).map_err(|_| {
                    invalid(
                        &format!("{key}.secret_env"),
                        &format!(
                            "the secret of access key `{}` is read from ${var}, which is not set",
                            k.id
                        ),
                    )
                })?,
                _ => {
                    return Err(invalid(
                        &key,
                        &format!(
                            "access key `{}` needs exactly one of `secret` and `secret_env`",
                            k.id
                        ),
                    ));
                }
            };
            if secret.is_empty() {
                return Err(invalid(
                    &format!("{key}.secret"),
                    &format!("the secret of access key `{}` is empty", k.id),
                ));
            }
            keys.push(AccessKey { id: k.id, secret });
        }
        Ok(AuthConfig { access_keys: keys })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    host: HostSection,
    #[serde(default)]
    engine: EngineSection,
    #[serde(default)]
    functions: BTreeMap<String, FunctionSection>,
    #[serde(default)]
    durable: DurableSection,
    #[serde(default)]
    server: ServerSection,
    auth: Option<AuthSection>,
    #[serde(default, rename = "async")]
    async_events: AsyncSection,
    #[serde(default)]
    journal: JournalSection,
}

/// `[journal]`: where durable state lives.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalSection {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DurableSection {
    retention_days: Option<u64>,
    retention_sweep_interval_s: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AsyncSection {
    max_queued_events: Option<u64>,
    max_concurrency: Option<u32>,
    max_retry_attempts: Option<u32>,
    retry_delay_ms: Option<u64>,
    max_event_age_ms: Option<u64>,
    max_event_bytes: Option<u64>,
}

impl AsyncSection {
    /// The settings, checked.
    fn finish(self) -> Result<AsyncConfig, ConfigError> {
        let d = AsyncConfig::default();
        let max_event_bytes = match self.max_event_bytes {
            Some(n) => usize::try_from(n)
                .map_err(|_| invalid("async.max_event_bytes", "too large for this platform"))?,
            None => d.max_event_bytes,
        };
        let c = AsyncConfig {
            max_queued_events: self.max_queued_events.unwrap_or(d.max_queued_events),
            max_concurrency: self.max_concurrency.unwrap_or(d.max_concurrency),
            max_retry_attempts: self.max_retry_attempts.unwrap_or(d.max_retry_attempts),
            retry_delay_ms: self.retry_delay_ms.unwrap_or(d.retry_delay_ms),
            max_event_age_ms: self.max_event_age_ms.unwrap_or(d.max_event_age_ms),
            max_event_bytes,
        };
        if c.max_queued_events == 0 {
            return Err(invalid("async.max_queued_events", "must be at least 1"));
        }
        if c.max_concurrency == 0 {
            return Err(invalid("async.max_concurrency", "must be at least 1"));
        }
        if c.max_retry_attempts > 2 {
            return Err(invalid(
                "async.max_retry_attempts",
                "must be 0, 1 or 2 (as Lambda's MaximumRetryAttempts)",
            ));
        }
        if c.max_event_age_ms == 0 || c.max_event_age_ms > MAX_EVENT_AGE_MS {
            return Err(invalid(
                "async.max_event_age_ms",
                &format!("must be between 1 and {MAX_EVENT_AGE_MS} (6 hours)"),
            ));
        }
        if c.max_event_bytes == 0 {
            return Err(invalid("async.max_event_bytes", "must be at least 1"));
        }
        Ok(c)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostSection {
    listen: Option<String>,
    state_dir: Option<PathBuf>,
    max_body_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EngineSection {
    pooling: Option<bool>,
    max_instances: Option<u32>,
    max_memory_mb: Option<u64>,
    cache_dir: Option<PathBuf>,
    max_durable_instances: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionSection {
    component: PathBuf,
    kind: Option<FunctionKind>,
    memory_mb: Option<u64>,
    timeout_ms: Option<u64>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    dirs: BTreeMap<String, PathBuf>,
    mode: Option<ModeName>,
    execution_timeout_s: Option<u64>,
    retention_days: Option<u64>,
    retention_s: Option<u64>,
    min_environments: Option<u32>,
    max_environments: Option<u32>,
    max_concurrency: Option<u32>,
    init_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    headroom: Option<f64>,
    scale_window_ms: Option<u64>,
    max_requests: Option<u64>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    max_log_bytes: Option<u64>,
    max_log_lines: Option<u64>,
    reserved_concurrency: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ModeName {
    Standard,
    Managed,
}

impl FunctionSection {
    /// The mode, checking that managed-only keys come with `mode = "managed"`.
    fn mode(&self, key: &str) -> Result<Mode, ConfigError> {
        let managed_keys = [
            ("min_environments", self.min_environments.is_some()),
            ("max_environments", self.max_environments.is_some()),
            ("max_concurrency", self.max_concurrency.is_some()),
            ("init_timeout_ms", self.init_timeout_ms.is_some()),
            ("idle_timeout_ms", self.idle_timeout_ms.is_some()),
            ("headroom", self.headroom.is_some()),
            ("scale_window_ms", self.scale_window_ms.is_some()),
            ("max_requests", self.max_requests.is_some()),
        ];
        if self.mode != Some(ModeName::Managed) {
            if let Some((k, _)) = managed_keys.iter().find(|(_, set)| *set) {
                return Err(invalid(
                    &format!("{key}.{k}"),
                    "only applies to managed functions: add mode = \"managed\"",
                ));
            }
            return Ok(Mode::Standard);
        }
        let d = ManagedConfig::default();
        let min = self.min_environments.unwrap_or(d.min_environments);
        let m = ManagedConfig {
            min_environments: min,
            max_environments: self.max_environments.unwrap_or(d.max_environments.max(min)),
            max_concurrency: self.max_concurrency.unwrap_or(d.max_concurrency),
            init_timeout_ms: self.init_timeout_ms.unwrap_or(d.init_timeout_ms),
            idle_timeout_ms: self.idle_timeout_ms.unwrap_or(d.idle_timeout_ms),
            headroom: self.headroom.unwrap_or(d.headroom),
            scale_window_ms: self.scale_window_ms.unwrap_or(d.scale_window_ms),
            max_requests: self.max_requests,
        };
        let k = |name: &str| format!("{key}.{name}");
        if m.max_environments == 0 {
            return Err(invalid(&k("max_environments"), "must be at least 1"));
        }
        if m.min_environments > m.max_environments {
            return Err(invalid(
                &k("min_environments"),
                &format!(
                    "{} is more than max_environments ({})",
                    m.min_environments, m.max_environments
                ),
            ));
        }
        if m.max_concurrency == 0 {
            return Err(invalid(&k("max_concurrency"), "must be at least 1"));
        }
        if m.init_timeout_ms == 0 || m.idle_timeout_ms == 0 || m.scale_window_ms == 0 {
            let which = if m.init_timeout_ms == 0 {
                "init_timeout_ms"
            } else if m.idle_timeout_ms == 0 {
                "idle_timeout_ms"
            } else {
                "scale_window_ms"
            };
            return Err(invalid(&k(which), "must be at least 1"));
        }
        if !(m.headroom.is_finite() && (0.0..=10.0).contains(&m.headroom)) {
            return Err(invalid(
                &k("headroom"),
                "must be between 0 and 10 (0.5 means 50%)",
            ));
        }
        if m.max_requests == Some(0) {
            return Err(invalid(&k("max_requests"), "must be at least 1"));
        }
        Ok(Mode::Managed(m))
    }
}

/// Overrides from the command line, applied on top of the file (or defaults).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--state-dir`.
    pub state_dir: Option<PathBuf>,
    /// `--cache-dir`.
    pub cache_dir: Option<PathBuf>,
    /// `--max-body-bytes`.
    pub max_body_bytes: Option<u64>,
    /// `--no-pooling` turns the pooling allocator off.
    pub no_pooling: bool,
    /// `--journal`: the shared journal database URL.
    pub journal_url: Option<String>,
}

impl HostConfig {
    /// Reads `path` (a `lamina.toml`); relative paths in it resolve against its directory.
    pub fn from_file(path: &Path, overrides: &Overrides) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Self::from_toml(&text, path, &base, overrides)
    }

    /// Parses config text; `origin` names it in errors, `base` resolves relative paths.
    pub fn from_toml(
        text: &str,
        origin: &Path,
        base: &Path,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let durable = durable_settings(&file.durable)?;
        let mut functions = Vec::with_capacity(file.functions.len());
        for (name, f) in file.functions {
            let key = format!("functions.{name}");
            validate_name(&name, &key)?;
            let mode = f.mode(&key)?;
            let mut cfg = FunctionConfig::new(name, resolve(base, &f.component));
            cfg.mode = mode;
            cfg.kind = f.kind;
            cfg.memory_mb = f.memory_mb.unwrap_or(DEFAULT_MEMORY_MB);
            cfg.timeout_ms = f.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
            cfg.execution_timeout_s = f.execution_timeout_s.unwrap_or(MAX_EXECUTION_TIMEOUT_S);
            cfg.retention_s = function_retention_s(&f, &key)?.unwrap_or(durable.retention_s);
            cfg.reserved_concurrency = f.reserved_concurrency;
            cfg.env = f.env;
            cfg.dirs = f
                .dirs
                .into_iter()
                .map(|(guest, host)| (guest, resolve(base, &host)))
                .collect();
            for (i, entry) in f.allowed_outbound_hosts.iter().enumerate() {
                crate::outbound::OutboundRule::parse(entry).map_err(|e| {
                    invalid(
                        &format!("{key}.allowed_outbound_hosts[{i}]"),
                        &e.to_string(),
                    )
                })?;
            }
            cfg.allowed_outbound_hosts = f.allowed_outbound_hosts;
            cfg.max_log_bytes = f.max_log_bytes.unwrap_or(DEFAULT_MAX_LOG_BYTES);
            cfg.max_log_lines = f.max_log_lines.unwrap_or(DEFAULT_MAX_LOG_LINES);
            functions.push(cfg);
        }
        let state_dir = file.host.state_dir.map(|p| resolve(base, &p));
        let cache_dir = file.engine.cache_dir.map(|p| resolve(base, &p));
        let sections = Sections {
            listen: file.host.listen,
            state_dir,
            cache_dir,
            max_body_bytes: file.host.max_body_bytes,
            pooling: file.engine.pooling,
            max_instances: file.engine.max_instances,
            max_memory_mb: file.engine.max_memory_mb,
            max_durable_instances: file.engine.max_durable_instances,
            async_events: file.async_events.finish()?,
        };
        let mut cfg = sections.finish(functions, overrides)?;
        cfg.durable = durable;
        cfg.server = file.server.finish()?;
        cfg.auth = file.auth.map(AuthSection::finish).transpose()?;
        if cfg.journal_url.is_none() {
            cfg.journal_url = file.journal.url;
        }
        if let Some(url) = &cfg.journal_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "journal.url",
                "must be a PostgreSQL URL (postgres://user@host:port/database)",
            ));
        }
        Ok(cfg)
    }

    /// A host serving one component, like `wasmtime serve app.wasm`; the
    /// function is named after the file stem.
    pub fn single(component: &Path, overrides: &Overrides) -> Result<Self, ConfigError> {
        let stem = component
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("function")
            .replace('_', "-");
        validate_name(&stem, "component file name")?;
        let functions = vec![FunctionConfig::new(stem, component)];
        Sections::default().finish(functions, overrides)
    }

    /// Checks cross-field rules (names, limits) after overrides are applied.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.engine.max_instances == 0 {
            return Err(invalid("engine.max_instances", "must be at least 1"));
        }
        if self.engine.max_memory_mb == 0 || self.engine.max_memory_mb > 4096 {
            return Err(invalid(
                "engine.max_memory_mb",
                "must be between 1 and 4096",
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(invalid("host.max_body_bytes", "must be at least 1"));
        }
        for f in &self.functions {
            let key = |k: &str| format!("functions.{}.{k}", f.name);
            if f.memory_mb == 0 || f.memory_mb > self.engine.max_memory_mb {
                return Err(invalid(
                    &key("memory_mb"),
                    &format!(
                        "{} is out of range: must be between 1 and engine.max_memory_mb ({})",
                        f.memory_mb, self.engine.max_memory_mb
                    ),
                ));
            }
            if f.timeout_ms == 0 {
                return Err(invalid(&key("timeout_ms"), "must be at least 1"));
            }
            if f.max_log_lines == 0 {
                return Err(invalid(&key("max_log_lines"), "must be at least 1"));
            }
            if f.execution_timeout_s == 0 || f.execution_timeout_s > MAX_EXECUTION_TIMEOUT_S {
                return Err(invalid(
                    &key("execution_timeout_s"),
                    &format!(
                        "{} is out of range: must be between 1 and {MAX_EXECUTION_TIMEOUT_S} (366 days)",
                        f.execution_timeout_s
                    ),
                ));
            }
            if let Some(n) = f.reserved_concurrency {
                if n == 0 {
                    return Err(invalid(&key("reserved_concurrency"), "must be at least 1"));
                }
                if let Mode::Managed(m) = &f.mode
                    && m.min_environments > n
                {
                    return Err(invalid(
                        &key("reserved_concurrency"),
                        &format!(
                            "{n} is less than min_environments ({}): each environment is an instance",
                            m.min_environments
                        ),
                    ));
                }
            }
            for (guest, host) in &f.dirs {
                if !host.is_dir() {
                    return Err(invalid(
                        &format!("{}.{guest}", key("dirs")),
                        &format!("{} is not a directory", host.display()),
                    ));
                }
            }
        }
        self.validate_reservations()
    }

    /// The instances left for functions without `reserved_concurrency`.
    pub fn unreserved_instances(&self) -> u32 {
        let reserved: u64 = self
            .functions
            .iter()
            .filter_map(|f| f.reserved_concurrency)
            .map(u64::from)
            .sum();
        u32::try_from(u64::from(self.engine.max_instances).saturating_sub(reserved)).unwrap_or(0)
    }

    /// Reservations must leave at least one instance unreserved, and durable
    /// invocations may hold at most the unreserved instances.
    fn validate_reservations(&self) -> Result<(), ConfigError> {
        let reserved: u64 = self
            .functions
            .iter()
            .filter_map(|f| f.reserved_concurrency)
            .map(u64::from)
            .sum();
        let max = u64::from(self.engine.max_instances);
        if reserved >= max {
            let first = self
                .functions
                .iter()
                .find(|f| f.reserved_concurrency.is_some())
                .map_or("functions".to_string(), |f| {
                    format!("functions.{}.reserved_concurrency", f.name)
                });
            return Err(invalid(
                &first,
                &format!(
                    "the functions reserve {reserved} instances in all, but engine.max_instances                      is {max}: reservations must leave at least 1 instance for the other functions"
                ),
            ));
        }
        let unreserved = self.unreserved_instances();
        if self.max_durable_instances == 0 || self.max_durable_instances > unreserved {
            return Err(invalid(
                "engine.max_durable_instances",
                &format!(
                    "{} is out of range: must be between 1 and the unreserved instances                      ({unreserved} = engine.max_instances minus every reserved_concurrency)",
                    self.max_durable_instances
                ),
            ));
        }
        Ok(())
    }
}

#[derive(Default)]
struct Sections {
    listen: Option<String>,
    state_dir: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    max_body_bytes: Option<u64>,
    pooling: Option<bool>,
    max_instances: Option<u32>,
    max_memory_mb: Option<u64>,
    max_durable_instances: Option<u32>,
    async_events: AsyncConfig,
}

impl Sections {
    fn finish(
        self,
        functions: Vec<FunctionConfig>,
        o: &Overrides,
    ) -> Result<HostConfig, ConfigError> {
        let (listen_key, listen) = match (&o.listen, self.listen) {
            (Some(l), _) => ("--listen", l.clone()),
            (None, Some(l)) => ("host.listen", l),
            (None, None) => ("host.listen", DEFAULT_LISTEN.to_string()),
        };
        let listen = parse_listen(&listen).map_err(|m| invalid(listen_key, &m))?;
        let state_dir = o
            .state_dir
            .clone()
            .or(self.state_dir)
            .unwrap_or_else(|| PathBuf::from(".lamina"));
        let cache_dir = o
            .cache_dir
            .clone()
            .or(self.cache_dir)
            .unwrap_or_else(|| state_dir.join("cache"));
        let max_body = o
            .max_body_bytes
            .or(self.max_body_bytes)
            .unwrap_or(DEFAULT_MAX_BODY_BYTES as u64);
        let max_body_bytes = usize::try_from(max_body)
            .map_err(|_| invalid("host.max_body_bytes", "too large for this platform"))?;
        let cfg = HostConfig {
            listen,
            state_dir,
            max_body_bytes,
            engine: EngineConfig {
                pooling: !o.no_pooling && self.pooling.unwrap_or(true),
                max_instances: self.max_instances.unwrap_or(1000),
                max_memory_mb: self.max_memory_mb.unwrap_or(512),
                cache_dir,
            },
            functions,
            durable: DurableSettings::default(),
            max_durable_instances: 0,
            async_events: self.async_events,
            server: ServerConfig::default(),
            auth: None,
            journal_url: o.journal_url.clone(),
        };
        let mut cfg = cfg;
        // By default durable invocations may hold half of the unreserved
        // instances, so that requests always find room.
        cfg.max_durable_instances = self
            .max_durable_instances
            .unwrap_or_else(|| cfg.unreserved_instances().div_ceil(2).max(1));
        cfg.validate()?;
        Ok(cfg)
    }
}

/// `[durable]`: the host-wide retention (1 to 90 days) and sweep interval.
fn durable_settings(d: &DurableSection) -> Result<DurableSettings, ConfigError> {
    let mut s = DurableSettings::default();
    if let Some(days) = d.retention_days {
        s.retention_s = retention_days_s(days, "durable.retention_days")?;
    }
    if let Some(interval) = d.retention_sweep_interval_s {
        if interval == 0 {
            return Err(invalid(
                "durable.retention_sweep_interval_s",
                "must be at least 1",
            ));
        }
        s.retention_sweep_interval_s = interval;
    }
    Ok(s)
}

/// A retention in days (1 to 90, AWS's `RetentionPeriodInDays` range), in seconds.
fn retention_days_s(days: u64, key: &str) -> Result<u64, ConfigError> {
    if !(1..=MAX_RETENTION_DAYS).contains(&days) {
        return Err(invalid(
            key,
            &format!("{days} is out of range: must be between 1 and {MAX_RETENTION_DAYS} days"),
        ));
    }
    Ok(days * 86_400)
}

/// A function's own retention (`retention_days`, or `retention_s` for
/// retentions shorter than a day), if it sets one.
fn function_retention_s(f: &FunctionSection, key: &str) -> Result<Option<u64>, ConfigError> {
    match (f.retention_days, f.retention_s) {
        (Some(_), Some(_)) => Err(invalid(
            &format!("{key}.retention_s"),
            "set either retention_days or retention_s, not both",
        )),
        (Some(days), None) => retention_days_s(days, &format!("{key}.retention_days")).map(Some),
        (None, Some(s)) if s == 0 || s > MAX_RETENTION_DAYS * 86_400 => Err(invalid(
            &format!("{key}.retention_s"),
            &format!(
                "{s} is out of range: must be between 1 and {} ({MAX_RETENTION_DAYS} days)",
                MAX_RETENTION_DAYS * 86_400
            ),
        )),
        (None, s) => Ok(s),
    }
}

/// Accepts `HOST:PORT`, or a bare `:PORT`/`PORT` meaning 127.0.0.1.
fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let candidate = if let Some(port) = s.strip_prefix(':') {
        format!("127.0.0.1:{port}")
    } else if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
        format!("127.0.0.1:{s}")
    } else if let Some(rest) = s.strip_prefix("localhost:") {
        format!("127.0.0.1:{rest}")
    } else {
        s.to_string()
    };
    candidate
        .parse()
        .map_err(|_| format!("`{s}` is not an address; use HOST:PORT such as 127.0.0.1:8080"))
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn invalid(key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.to_string(),
    }
}

/// Function names follow Lambda's rule (letters, digits, `-`, `_`; 1 to 64
/// characters) and may not shadow a host route.
pub fn validate_name(name: &str, key: &str) -> Result<(), ConfigError> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if name.is_empty() || name.len() > 64 || !ok_chars {
        return Err(invalid(
            key,
            &format!(
                "function name `{name}` must be 1-64 characters of letters, digits, `-` or `_`"
            ),
        ));
    }
    if RESERVED_NAMES.contains(&name) {
        return Err(invalid(
            key,
            &format!("function name `{name}` is reserved for a host route"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<HostConfig, ConfigError> {
        HostConfig::from_toml(
            text,
            Path::new("lamina.toml"),
            Path::new("/base"),
            &Overrides::default(),
        )
    }

    #[test]
    fn full_file_parses_and_resolves_paths() {
        let cfg = parse(
            r#"
            [host]
            listen = ":9000"
            [engine]
            max_instances = 10
            [functions.echo]
            component = "echo.wasm"
            memory_mb = 64
            env = { GREETING = "hi" }
            "#,
        )
        .expect("valid config");
        assert_eq!(cfg.listen.port(), 9000);
        assert_eq!(cfg.engine.max_instances, 10);
        assert_eq!(cfg.functions[0].component, PathBuf::from("/base/echo.wasm"));
        assert_eq!(cfg.functions[0].memory_mb, 64);
        assert_eq!(cfg.functions[0].env["GREETING"], "hi");
        assert_eq!(cfg.state_dir, PathBuf::from(".lamina"));
    }

    #[test]
    fn unknown_key_is_named() {
        let err = parse("[functions.echo]\ncomponent = \"e.wasm\"\nmemroy_mb = 3\n")
            .expect_err("typo must fail");
        assert!(err.to_string().contains("memroy_mb"), "{err}");
    }

    #[test]
    fn bad_value_is_named() {
        let err = parse("[functions.echo]\ncomponent = \"e.wasm\"\nmemory_mb = 100000\n")
            .expect_err("too much memory");
        assert!(
            err.to_string().contains("functions.echo.memory_mb"),
            "{err}"
        );
        let err = parse("[host]\nlisten = \"nowhere\"\n").expect_err("bad address");
        assert!(err.to_string().contains("host.listen"), "{err}");
    }

    #[test]
    fn managed_mode_keys() {
        let cfg = parse(
            "[functions.c]\ncomponent = \"c.wasm\"\nmode = \"managed\"\nmin_environments = 2\nmax_concurrency = 64\n",
        )
        .expect("managed");
        let Mode::Managed(m) = &cfg.functions[0].mode else {
            panic!("not managed");
        };
        assert_eq!(
            (m.min_environments, m.max_environments, m.max_concurrency),
            (2, 8, 64)
        );
        assert_eq!(m.init_timeout_ms, 900_000);
        let err = parse("[functions.c]\ncomponent = \"c.wasm\"\nmax_concurrency = 4\n")
            .expect_err("managed key without managed mode");
        assert!(
            err.to_string().contains("functions.c.max_concurrency"),
            "{err}"
        );
        let err = parse(
            "[functions.c]\ncomponent = \"c.wasm\"\nmode = \"managed\"\nmin_environments = 9\nmax_environments = 2\n",
        )
        .expect_err("min > max");
        assert!(err.to_string().contains("min_environments"), "{err}");
        let err = parse("[functions.c]\ncomponent = \"c.wasm\"\nmode = \"warm\"\n")
            .expect_err("bad mode");
        assert!(err.to_string().contains("warm"), "{err}");
    }

    #[test]
    fn retention_defaults_to_30_days_and_is_checked() {
        let cfg = parse("[functions.w]\ncomponent = \"w.wasm\"\n").expect("defaults");
        assert_eq!(cfg.functions[0].retention_s, 30 * 86_400);
        assert_eq!(cfg.durable.retention_s, 30 * 86_400);
        assert_eq!(cfg.durable.retention_sweep_interval_s, 600);
        let cfg = parse(
            "[durable]\nretention_days = 7\nretention_sweep_interval_s = 5\n\
             [functions.a]\ncomponent = \"a.wasm\"\n\
             [functions.b]\ncomponent = \"b.wasm\"\nretention_days = 90\n\
             [functions.c]\ncomponent = \"c.wasm\"\nretention_s = 2\n",
        )
        .expect("retention");
        let r: Vec<u64> = cfg.functions.iter().map(|f| f.retention_s).collect();
        assert_eq!(r, [7 * 86_400, 90 * 86_400, 2]);
        assert_eq!(cfg.durable.retention_sweep_interval_s, 5);
        for (text, key) in [
            ("[durable]\nretention_days = 91\n", "durable.retention_days"),
            ("[durable]\nretention_days = 0\n", "durable.retention_days"),
            (
                "[functions.a]\ncomponent = \"a.wasm\"\nretention_days = 1\nretention_s = 1\n",
                "functions.a.retention_s",
            ),
            (
                "[functions.a]\ncomponent = \"a.wasm\"\nretention_s = 0\n",
                "functions.a.retention_s",
            ),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.to_string().contains(key), "{err}");
        }
    }

    #[test]
    fn outbound_and_log_limit_keys() {
        let cfg = parse(
            "[functions.f]\ncomponent = \"f.wasm\"\nallowed_outbound_hosts = [\"https://*.example.com\", \"http://127.0.0.1:9000\"]\nmax_log_bytes = 4096\n",
        )
        .expect("valid");
        assert_eq!(cfg.functions[0].allowed_outbound_hosts.len(), 2);
        assert_eq!(cfg.functions[0].max_log_bytes, 4096);
        assert_eq!(cfg.functions[0].max_log_lines, DEFAULT_MAX_LOG_LINES);
        let d = parse("[functions.f]\ncomponent = \"f.wasm\"\n").expect("defaults");
        assert!(d.functions[0].allowed_outbound_hosts.is_empty());
        assert_eq!(d.functions[0].max_log_bytes, DEFAULT_MAX_LOG_BYTES);
        let err = parse(
            "[functions.f]\ncomponent = \"f.wasm\"\nallowed_outbound_hosts = [\"example.com\"]\n",
        )
        .expect_err("no scheme");
        assert!(
            err.to_string()
                .contains("functions.f.allowed_outbound_hosts[0]"),
            "{err}"
        );
    }

    #[test]
    fn reserved_and_malformed_names_are_rejected() {
        assert!(parse("[functions.metrics]\ncomponent = \"m.wasm\"\n").is_err());
        assert!(parse("[functions.\"a b\"]\ncomponent = \"m.wasm\"\n").is_err());
    }

    #[test]
    fn reservations_must_leave_room_and_durable_gets_half_the_rest() {
        let cfg = parse(
            "[engine]\nmax_instances = 10\n[functions.a]\ncomponent = \"a.wasm\"\nreserved_concurrency = 4\n",
        )
        .expect("valid");
        assert_eq!(cfg.functions[0].reserved_concurrency, Some(4));
        assert_eq!(cfg.unreserved_instances(), 6);
        assert_eq!(cfg.max_durable_instances, 3);
        let err = parse(
            "[engine]\nmax_instances = 4\n[functions.a]\ncomponent = \"a.wasm\"\nreserved_concurrency = 2\n\
             [functions.b]\ncomponent = \"b.wasm\"\nreserved_concurrency = 2\n",
        )
        .expect_err("nothing left unreserved");
        assert!(err.to_string().contains("reserved_concurrency"), "{err}");
        let err = parse("[engine]\nmax_instances = 4\nmax_durable_instances = 5\n")
            .expect_err("more durable instances than instances");
        assert!(
            err.to_string().contains("engine.max_durable_instances"),
            "{err}"
        );
        let err = parse("[functions.a]\ncomponent = \"a.wasm\"\nreserved_concurrency = 0\n")
            .expect_err("zero");
        assert!(
            err.to_string().contains("functions.a.reserved_concurrency"),
            "{err}"
        );
    }

    #[test]
    fn async_section_defaults_and_bounds() {
        let cfg = parse("").expect("defaults");
        assert_eq!(cfg.async_events, AsyncConfig::default());
        assert_eq!(cfg.async_events.max_retry_attempts, 2);
        let cfg = parse("[async]\nretry_delay_ms = 5\nmax_queued_events = 7\n").expect("set");
        assert_eq!(
            (
                cfg.async_events.retry_delay_ms,
                cfg.async_events.max_queued_events
            ),
            (5, 7)
        );
        for bad in [
            "max_retry_attempts = 3",
            "max_queued_events = 0",
            "max_event_age_ms = 0",
            "max_event_age_ms = 21600001",
            "max_concurrency = 0",
            "max_event_bytes = 0",
        ] {
            let key = bad.split(' ').next().unwrap_or_default();
            let err = parse(&format!("[async]\n{bad}\n")).expect_err(bad);
            assert!(err.to_string().contains(&format!("async.{key}")), "{err}");
        }
    }

    #[test]
    fn server_and_auth_sections() {
        let cfg = parse("").expect("empty");
        assert_eq!(cfg.server, ServerConfig::default());
        assert!(cfg.auth.is_none());
        let cfg = parse(
            "[server]\nheader_read_timeout_ms = 5\nmax_connections = 3\n[auth]\naccess_keys = [{ id = \"AK\", secret = \"s3\" }]\n",
        )
        .expect("valid");
        assert_eq!(cfg.server.header_read_timeout_ms, 5);
        assert_eq!(cfg.server.max_connections, 3);
        assert_eq!(cfg.server.idle_timeout_ms, DEFAULT_IDLE_TIMEOUT_MS);
        let auth = cfg.auth.expect("auth");
        assert_eq!(auth.access_keys[0].secret, "s3");
        assert!(!format!("{auth:?}").contains("s3"), "Debug hides secrets");
        let err = parse("[auth]\naccess_keys = [{ id = \"AK\", secret_env = \"LAMINA_TEST_UNSET_SECRET_VAR\" }]\n")
            .expect_err("unset variable");
        assert!(err.to_string().contains("AK"), "{err}");
        assert!(
            err.to_string().contains("LAMINA_TEST_UNSET_SECRET_VAR"),
            "{err}"
        );
        let err = parse("[server]\nmax_connections = 0\n").expect_err("zero");
        assert!(err.to_string().contains("server.max_connections"), "{err}");
    }

    #[test]
    fn single_component_is_named_after_its_file() {
        let cfg = HostConfig::single(Path::new("/x/hello_http.wasm"), &Overrides::default())
            .expect("single");
        assert_eq!(cfg.functions[0].name, "hello-http");
    }
}
