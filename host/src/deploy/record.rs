//! What the function store keeps per function: its `$LATEST` code and
//! settings, its published versions and its aliases. Records are JSON in
//! the store (one row per function), so fields can be added later with
//! `#[serde(default)]`.

use crate::config::{FunctionConfig, FunctionKind, ManagedConfig, Mode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The version name of the code a function serves by default.
pub const LATEST: &str = "$LATEST";

/// The settings of one version, everything of a [`FunctionConfig`] but the
/// component path (the code is addressed by its sha256 instead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Declared kind, if any (`http`, `handler`, `durable`).
    #[serde(default)]
    pub kind: Option<String>,
    /// Memory limit per instance, in MiB.
    pub memory_mb: u64,
    /// Per-invocation timeout in milliseconds.
    pub timeout_ms: u64,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Preopened directories: guest path -> host path.
    #[serde(default)]
    pub dirs: BTreeMap<String, PathBuf>,
    /// Managed-mode settings; `None` is standard mode.
    #[serde(default)]
    pub managed: Option<ManagedSettings>,
    /// Durable: execution timeout in seconds.
    pub execution_timeout_s: u64,
    /// Durable: retention of ended executions in seconds.
    pub retention_s: u64,
    /// Allowed outbound hosts.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Log byte limit per invocation.
    pub max_log_bytes: u64,
    /// Log line limit per invocation.
    pub max_log_lines: u64,
    /// Reserved instances.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// The description given by the API.
    #[serde(default)]
    pub description: String,
    /// The role ARN given by the API (kept and shown, not used).
    #[serde(default)]
    pub role: String,
}

/// The settings of managed mode (see [`ManagedConfig`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedSettings {
    /// See [`ManagedConfig::min_environments`].
    pub min_environments: u32,
    /// See [`ManagedConfig::max_environments`].
    pub max_environments: u32,
    /// See [`ManagedConfig::max_concurrency`].
    pub max_concurrency: u32,
    /// See [`ManagedConfig::init_timeout_ms`].
    pub init_timeout_ms: u64,
    /// See [`ManagedConfig::idle_timeout_ms`].
    pub idle_timeout_ms: u64,
    /// See [`ManagedConfig::headroom`].
    pub headroom: f64,
    /// See [`ManagedConfig::scale_window_ms`].
    pub scale_window_ms: u64,
    /// See [`ManagedConfig::max_requests`].
    #[serde(default)]
    pub max_requests: Option<u64>,
}

impl From<&ManagedConfig> for ManagedSettings {
    fn from(c: &ManagedConfig) -> Self {
        ManagedSettings {
            min_environments: c.min_environments,
            max_environments: c.max_environments,
            max_concurrency: c.max_concurrency,
            init_timeout_ms: c.init_timeout_ms,
            idle_timeout_ms: c.idle_timeout_ms,
            headroom: c.headroom,
            scale_window_ms: c.scale_window_ms,
            max_requests: c.max_requests,
        }
    }
}

impl From<&ManagedSettings> for ManagedConfig {
    fn from(m: &ManagedSettings) -> Self {
        ManagedConfig {
            min_environments: m.min_environments,
            max_environments: m.max_environments,
            max_concurrency: m.max_concurrency,
            init_timeout_ms: m.init_timeout_ms,
            idle_timeout_ms: m.idle_timeout_ms,
            headroom: m.headroom,
            scale_window_ms: m.scale_window_ms,
            max_requests: m.max_requests,
        }
    }
}

impl Settings {
    /// The settings of a declared function.
    pub fn from_config(cfg: &FunctionConfig) -> Self {
        Settings {
            kind: cfg.kind.map(|k| k.as_str().to_string()),
            memory_mb: cfg.memory_mb,
            timeout_ms: cfg.timeout_ms,
            env: cfg.env.clone(),
            dirs: cfg.dirs.clone(),
            managed: match &cfg.mode {
                Mode::Standard => None,
                Mode::Managed(m) => Some(m.into()),
            },
            execution_timeout_s: cfg.execution_timeout_s,
            retention_s: cfg.retention_s,
            allowed_outbound_hosts: cfg.allowed_outbound_hosts.clone(),
            max_log_bytes: cfg.max_log_bytes,
            max_log_lines: cfg.max_log_lines,
            reserved_concurrency: cfg.reserved_concurrency,
            description: String::new(),
            role: String::new(),
        }
    }

    /// The function config of `name` with these settings and the component
    /// at `component`.
    pub fn to_config(&self, name: &str, component: &Path) -> FunctionConfig {
        let mut cfg = FunctionConfig::new(name, component);
        cfg.kind = self.kind.as_deref().and_then(|k| match k {
            "http" => Some(FunctionKind::Http),
            "handler" => Some(FunctionKind::Handler),
            "durable" => Some(FunctionKind::Durable),
            _ => None,
        });
        cfg.memory_mb = self.memory_mb;
        cfg.timeout_ms = self.timeout_ms;
        cfg.env = self.env.clone();
        cfg.dirs = self.dirs.clone();
        cfg.mode = match &self.managed {
            None => Mode::Standard,
            Some(m) => Mode::Managed(m.into()),
        };
        cfg.execution_timeout_s = self.execution_timeout_s;
        cfg.retention_s = self.retention_s;
        cfg.allowed_outbound_hosts = self.allowed_outbound_hosts.clone();
        cfg.max_log_bytes = self.max_log_bytes;
        cfg.max_log_lines = self.max_log_lines;
        cfg.reserved_concurrency = self.reserved_concurrency;
        cfg
    }
}

/// One version: its code and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// The sha256 of the component (hex).
    pub code_sha256: String,
    /// The component's size in bytes.
    pub code_size: u64,
    /// The kind detected when the code was loaded.
    pub kind: String,
    /// The settings.
    pub settings: Settings,
    /// When the version was last changed (ms since the epoch).
    pub last_modified_ms: u64,
    /// Changes on every update (optimistic concurrency, `RevisionId`).
    pub revision_id: String,
}

/// An alias: a name for a version, optionally sending a share of the
/// traffic to a second version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasRecord {
    /// The version it names (`$LATEST` or a number).
    pub version: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Additional version -> share of the invocations (0..1).
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// Changes on every update.
    pub revision_id: String,
}

/// Where a function came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Declared in `lamina.toml`; `fingerprint` identifies the declaration
    /// (code and settings) the record was last seeded from.
    Config {
        /// sha256 over the declaration's code digest and settings.
        fingerprint: String,
    },
    /// Created through the API.
    Api,
}

/// Everything stored about one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionRecord {
    /// The function's name.
    pub name: String,
    /// Where it came from.
    pub origin: Origin,
    /// `$LATEST`.
    pub latest: VersionRecord,
    /// Published versions by number.
    #[serde(default)]
    pub versions: BTreeMap<u64, VersionRecord>,
    /// The number the next published version gets.
    pub next_version: u64,
    /// Aliases by name.
    #[serde(default)]
    pub aliases: BTreeMap<String, AliasRecord>,
}

impl FunctionRecord {
    /// The version called `version` (`$LATEST` or a number).
    pub fn version(&self, version: &str) -> Option<&VersionRecord> {
        if version == LATEST {
            return Some(&self.latest);
        }
        let n: u64 = version.parse().ok()?;
        self.versions.get(&n)
    }
}

/// A fresh revision id.
pub fn new_revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_a_function_config() {
        let mut cfg = FunctionConfig::new("f", "/x.wasm");
        cfg.memory_mb = 256;
        cfg.env.insert("A".into(), "1".into());
        cfg.mode = Mode::Managed(ManagedConfig::default());
        cfg.kind = Some(FunctionKind::Handler);
        let s = Settings::from_config(&cfg);
        let back = s.to_config("f", Path::new("/y.wasm"));
        assert_eq!(back.memory_mb, 256);
        assert_eq!(back.env, cfg.env);
        assert_eq!(back.mode, cfg.mode);
        assert_eq!(back.kind, cfg.kind);
        assert_eq!(back.component, Path::new("/y.wasm"));
        assert_eq!(Settings::from_config(&back), s);
    }
}
