//! Functions as deployable, versioned resources: the control plane behind
//! `CreateFunction`, `UpdateFunctionCode`, `PublishVersion`, aliases and
//! `Invoke` with a qualifier.
//!
//! - [`store`]: records and content-addressed code in the state directory;
//! - [`record`]: what is stored per function (`$LATEST`, versions, aliases);
//! - `operations`: create, update, publish, delete;
//! - `aliases`: aliases and their weights;
//! - `lookup`: which code an invocation or a durable execution runs;
//! - [`replay_check`]: replaying live executions against new code;
//! - [`pools`]: the live managed pools, swapped with their function;
//! - [`zip`] and [`base64`]: code as the Lambda API sends it.
//!
//! A change loads (compiles or reads the cache, links) the new code and
//! starts its managed environments *before* it takes traffic, writes the
//! record, then swaps the function in the [`Registry`] atomically. A request
//! holds the [`Function`] it looked up until it ends, so in-flight requests
//! finish on the old code; the old managed pool is retired (it finishes
//! what it was given, then its environments end).
//!
//! Functions declared in `lamina.toml` are the initial deployment: a
//! declaration seeds the record, API changes stick across restarts until the
//! declaration itself changes (then it wins again).

mod aliases;
pub mod base64;
mod lookup;
mod operations;
pub mod pools;
pub mod record;
pub mod replay_check;
pub mod store;
pub mod zip;

use crate::api::Host;
use crate::config::{FunctionConfig, FunctionKind, Mode};
use crate::engine::LaminaEngine;
use crate::journal::now_ms;
use crate::modes::managed::ManagedPool;
use crate::registry::{Function, Registry};
use record::{FunctionRecord, Origin, Settings, VersionRecord};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use store::{Store, StoreError};

pub use aliases::AliasChange;
pub use pools::Pools;

/// The account id in the ARNs Lamina shows.
pub const ACCOUNT: &str = "000000000000";
/// The region in the ARNs Lamina shows.
pub const REGION: &str = "us-east-1";

/// The ARN of function `name`, with `:qualifier` when given.
pub fn function_arn(name: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:{q}"),
        None => format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"),
    }
}

/// Why a control-plane operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// No such function, version or alias (404).
    #[error("{0}")]
    NotFound(String),
    /// It exists already, or is in use (409).
    #[error("{0}")]
    Conflict(String),
    /// A bad parameter or bad code (400), with the reason.
    #[error("{0}")]
    Invalid(String),
    /// `RevisionId` or `CodeSha256` does not match (412).
    #[error("{0}")]
    Precondition(String),
    /// The store failed (500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn not_found(name: &str, qualifier: Option<&str>) -> DeployError {
    DeployError::NotFound(format!(
        "Function not found: {}",
        function_arn(name, qualifier)
    ))
}

/// What an invocation runs: the function (code and settings), the managed
/// pool serving it, if any, and the version name it answers as
/// `ExecutedVersion`.
pub struct Target {
    /// The function.
    pub function: Arc<Function>,
    /// Its managed pool, when it runs in managed mode.
    pub pool: Option<Arc<ManagedPool>>,
    /// `$LATEST` or a version number.
    pub version: String,
}

/// A new function's code and settings.
pub struct NewFunction {
    /// Its name.
    pub name: String,
    /// The component bytes.
    pub code: Vec<u8>,
    /// Its settings.
    pub settings: Settings,
    /// Publish version 1 at once.
    pub publish: bool,
}

/// A change of settings (`UpdateFunctionConfiguration`); `None` keeps.
#[derive(Default)]
pub struct SettingsChange {
    /// Memory in MiB.
    pub memory_mb: Option<u64>,
    /// Timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Environment variables (replacing all).
    pub env: Option<BTreeMap<String, String>>,
    /// Description.
    pub description: Option<String>,
    /// Role ARN.
    pub role: Option<String>,
    /// Durable execution timeout in seconds.
    pub execution_timeout_s: Option<u64>,
    /// Durable retention in seconds.
    pub retention_s: Option<u64>,
    /// Managed mode with this per-environment concurrency.
    pub managed_concurrency: Option<u32>,
}

impl SettingsChange {
    /// Applies the change to `s`.
    pub fn apply(&self, s: &mut Settings) {
        if let Some(v) = self.memory_mb {
            s.memory_mb = v;
        }
        if let Some(v) = self.timeout_ms {
            s.timeout_ms = v;
        }
        if let Some(v) = &self.env {
            s.env = v.clone();
        }
        if let Some(v) = &self.description {
            s.description = v.clone();
        }
        if let Some(v) = &self.role {
            s.role = v.clone();
        }
        if let Some(v) = self.execution_timeout_s {
            s.execution_timeout_s = v;
        }
        if let Some(v) = self.retention_s {
            s.retention_s = v;
        }
        if let Some(c) = self.managed_concurrency {
            let mut m = s
                .managed
                .clone()
                .unwrap_or_else(|| (&crate::config::ManagedConfig::default()).into());
            m.max_concurrency = c.max(1);
            s.managed = Some(m);
        }
    }
}

/// The store, reconciled with the declared functions.
pub struct Opened {
    store: Store,
    records: BTreeMap<String, FunctionRecord>,
    /// The configs of the code each function serves now, to load.
    pub configs: Vec<FunctionConfig>,
}

/// A function loaded and (when managed) with its environments started,
/// not yet taking traffic.
struct Prepared {
    function: Arc<Function>,
    pool: Option<Arc<ManagedPool>>,
}

impl Prepared {
    /// Gives up on it: its environments stop.
    fn discard(self) {
        if let Some(p) = self.pool {
            p.retire();
        }
    }
}

/// The control plane: records, code and the loaded versions.
pub struct Deployer {
    store: Store,
    engine: Arc<LaminaEngine>,
    registry: Arc<Registry>,
    records: RwLock<BTreeMap<String, FunctionRecord>>,
    /// One change at a time.
    changes: tokio::sync::Mutex<()>,
    /// Published versions loaded for invocation, by (name, number).
    versions: Mutex<HashMap<(String, u64), Arc<Function>>>,
    /// Code loaded for durable executions pinned to it, by (name, sha256).
    pinned: Mutex<HashMap<(String, String), Arc<Function>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Identifies a declaration: its code digest and settings.
fn fingerprint(sha: &str, settings: &Settings) -> String {
    let mut h = Sha256::new();
    h.update(sha.as_bytes());
    h.update(serde_json::to_vec(settings).unwrap_or_default());
    hex::encode(h.finalize())
}

impl Deployer {
    /// Opens the store in `state_dir` and reconciles it with the `declared`
    /// functions; returns the configs of the code each function serves now
    /// (to load into the registry).
    pub fn open(state_dir: &Path, declared: &[FunctionConfig]) -> Result<Opened, StoreError> {
        let store = Store::open_in(state_dir)?;
        let mut records: BTreeMap<String, FunctionRecord> = store
            .all()?
            .into_iter()
            .map(|r| (r.name.clone(), r))
            .collect();
        let mut configs = Vec::new();
        for cfg in declared {
            // An unreadable component is reported by the load, as before.
            let Ok(bytes) = std::fs::read(&cfg.component) else {
                configs.push(cfg.clone());
                continue;
            };
            let sha = store.put_code(&bytes)?;
            let settings = Settings::from_config(cfg);
            let print = fingerprint(&sha, &settings);
            let seeded = Origin::Config {
                fingerprint: print.clone(),
            };
            let fresh = VersionRecord {
                code_sha256: sha.clone(),
                code_size: bytes.len() as u64,
                kind: String::new(),
                settings: settings.clone(),
                last_modified_ms: now_ms(),
                revision_id: record::new_revision_id(),
            };
            let rec = match records.remove(&cfg.name) {
                Some(r) if r.origin == seeded => r,
                Some(mut r) => {
                    // The declaration changed since it was seeded: it wins.
                    r.origin = seeded;
                    r.latest = fresh;
                    store.put(&r)?;
                    r
                }
                None => {
                    let r = FunctionRecord {
                        name: cfg.name.clone(),
                        origin: seeded,
                        latest: fresh,
                        versions: BTreeMap::new(),
                        next_version: 1,
                        aliases: BTreeMap::new(),
                    };
                    store.put(&r)?;
                    r
                }
            };
            if rec.latest.code_sha256 == sha && rec.latest.settings == settings {
                configs.push(cfg.clone());
            } else {
                configs.push(
                    rec.latest
                        .settings
                        .to_config(&cfg.name, &store.code_path(&rec.latest.code_sha256)),
                );
            }
            configs_record(&mut records, rec);
        }
        // Seeded from a declaration that is gone: the function is gone.
        let dropped: Vec<String> = records
            .values()
            .filter(|r| {
                matches!(r.origin, Origin::Config { .. })
                    && !declared.iter().any(|c| c.name == r.name)
            })
            .map(|r| r.name.clone())
            .collect();
        for name in dropped {
            store.delete(&name)?;
            records.remove(&name);
        }
        for r in records.values() {
            if r.origin == Origin::Api {
                configs.push(
                    r.latest
                        .settings
                        .to_config(&r.name, &store.code_path(&r.latest.code_sha256)),
                );
            }
        }
        Ok(Opened {
            store,
            records,
            configs,
        })
    }

    /// The control plane over the opened store, serving the functions in
    /// `registry` (loaded from [`Opened::configs`]).
    pub fn new(opened: Opened, engine: Arc<LaminaEngine>, registry: Arc<Registry>) -> Self {
        let Opened {
            store, mut records, ..
        } = opened;
        for r in records.values_mut() {
            if let Some(f) = registry.get(&r.name)
                && r.latest.code_sha256 == f.code_sha256
            {
                r.latest.kind = f.kind.as_str().to_string();
            }
        }
        Deployer {
            store,
            engine,
            registry,
            records: RwLock::new(records),
            changes: tokio::sync::Mutex::new(()),
            versions: Mutex::default(),
            pinned: Mutex::default(),
        }
    }

    /// Whether changes survive a restart.
    pub fn persistent(&self) -> bool {
        self.store.persistent()
    }

    /// The record of `name`.
    pub fn record(&self, name: &str) -> Option<FunctionRecord> {
        let map = self.records.read().unwrap_or_else(PoisonError::into_inner);
        map.get(name).cloned()
    }

    /// Every record, in name order.
    pub fn records(&self) -> Vec<FunctionRecord> {
        let map = self.records.read().unwrap_or_else(PoisonError::into_inner);
        map.values().cloned().collect()
    }

    fn save(&self, rec: FunctionRecord) -> Result<(), DeployError> {
        self.store.put(&rec)?;
        let mut map = self.records.write().unwrap_or_else(PoisonError::into_inner);
        map.insert(rec.name.clone(), rec);
        Ok(())
    }

    fn existing(&self, name: &str) -> Result<FunctionRecord, DeployError> {
        self.record(name).ok_or_else(|| not_found(name, None))
    }

    /// Loads (compiles or reads the cache, links) version `v` of `name`.
    async fn load(&self, name: &str, v: &VersionRecord) -> Result<Arc<Function>, DeployError> {
        let path = self.store.code_path(&v.code_sha256);
        let cfg = v.settings.to_config(name, &path);
        let engine = self.engine.clone();
        let loaded = tokio::task::spawn_blocking(move || Function::load(&engine, &cfg))
            .await
            .map_err(|e| DeployError::Invalid(format!("loading the code failed: {e}")))?;
        loaded.map(Arc::new).map_err(|e| {
            DeployError::Invalid(
                e.to_string()
                    .replace(&path.display().to_string(), "the code"),
            )
        })
    }

    /// Loads `v` and starts its managed environments, before any traffic.
    async fn prepare(
        &self,
        host: &Host,
        name: &str,
        v: &VersionRecord,
    ) -> Result<Prepared, DeployError> {
        let max = host.config.engine.max_memory_mb;
        if v.settings.memory_mb > max {
            return Err(DeployError::Invalid(format!(
                "MemorySize {} is above this host's engine.max_memory_mb ({max})",
                v.settings.memory_mb
            )));
        }
        let f = self.load(name, v).await?;
        if f.kind == FunctionKind::Durable && host.durable.is_none() {
            return Err(DeployError::Invalid(format!(
                "`{name}` is a durable function, and this host started without durable \
                 functions: restart it to serve it (the deployment is kept) or declare a \
                 durable function in lamina.toml"
            )));
        }
        let pool = match &f.config.mode {
            Mode::Managed(m) => {
                if f.kind == FunctionKind::Durable {
                    return Err(DeployError::Invalid(format!(
                        "managed mode serves handler and http functions; `{name}` is a durable \
                         function, which runs each invocation on a fresh instance and replays \
                         from its journal"
                    )));
                }
                let pool = ManagedPool::start(host.engine.clone(), f.clone(), m.clone())
                    .await
                    .map_err(|e| DeployError::Invalid(e.to_string()))?;
                Some(pool)
            }
            Mode::Standard => None,
        };
        Ok(Prepared { function: f, pool })
    }

    /// Makes a prepared function take the traffic of its name.
    fn swap(&self, host: &Host, p: Prepared) {
        let name = p.function.name.to_string();
        let old_pool = match p.pool {
            Some(pool) => host.pools.insert(&name, pool),
            None => host.pools.remove(&name),
        };
        let old = self.registry.insert(p.function.clone());
        if let Some(pool) = old_pool {
            pool.retire();
        }
        tracing::info!(
            function = %name,
            code_sha256 = %p.function.code_sha256,
            replaced = old.as_ref().map(|o| o.code_sha256.as_str()).unwrap_or("-"),
            "deployed"
        );
    }

    /// A version record for `code` (kept in the code store) with `settings`.
    fn new_version(&self, code: &[u8], settings: Settings) -> Result<VersionRecord, DeployError> {
        let sha = self.store.put_code(code)?;
        Ok(VersionRecord {
            code_sha256: sha,
            code_size: code.len() as u64,
            kind: String::new(),
            settings,
            last_modified_ms: now_ms(),
            revision_id: record::new_revision_id(),
        })
    }

    /// The bytes of the code with this sha256, when kept.
    pub fn code(&self, sha256: &str) -> Option<Vec<u8>> {
        std::fs::read(self.store.code_path(sha256)).ok()
    }
}

/// Keeps `rec` in `records` under its name.
fn configs_record(records: &mut BTreeMap<String, FunctionRecord>, rec: FunctionRecord) {
    records.insert(rec.name.clone(), rec);
}

#[cfg(test)]
mod tests {
    use super::aliases::check_alias;
    use super::lookup::pick;
    use super::operations::publish_latest;
    use super::record::{AliasRecord, LATEST};
    use super::*;

    fn alias(version: &str, weights: &[(&str, f64)]) -> AliasRecord {
        AliasRecord {
            version: version.into(),
            description: String::new(),
            weights: weights.iter().map(|(v, w)| (v.to_string(), *w)).collect(),
            revision_id: String::new(),
        }
    }

    #[test]
    fn weighted_alias_sends_about_its_share() {
        let a = alias("1", &[("2", 0.25)]);
        let n = 20_000;
        let to_2 = (0..n).filter(|_| pick(&a) == "2").count();
        let share = to_2 as f64 / n as f64;
        assert!((0.22..0.28).contains(&share), "share {share}");
        assert_eq!(pick(&alias("3", &[])), "3");
    }

    #[test]
    fn publishing_unchanged_latest_returns_the_last_version() {
        let v = VersionRecord {
            code_sha256: "a".into(),
            code_size: 1,
            kind: "handler".into(),
            settings: Settings::from_config(&FunctionConfig::new("f", "/x")),
            last_modified_ms: 0,
            revision_id: "r".into(),
        };
        let mut rec = FunctionRecord {
            name: "f".into(),
            origin: Origin::Api,
            latest: v,
            versions: BTreeMap::new(),
            next_version: 1,
            aliases: BTreeMap::new(),
        };
        assert_eq!(publish_latest(&mut rec), 1);
        assert_eq!(publish_latest(&mut rec), 1);
        rec.latest.code_sha256 = "b".into();
        assert_eq!(publish_latest(&mut rec), 2);
        assert!(check_alias(&rec, &alias("1", &[("2", 0.5)])).is_ok());
        assert!(check_alias(&rec, &alias("1", &[("3", 0.5)])).is_err());
        assert!(check_alias(&rec, &alias("1", &[("2", 1.5)])).is_err());
        assert!(check_alias(&rec, &alias(LATEST, &[("2", 0.5)])).is_err());
    }
}
