//! Which code serves an invocation: `$LATEST`, a version or an alias
//! (weighted), and the code a durable execution started with.

use super::record::{AliasRecord, LATEST};
use super::{DeployError, Deployer, Target, lock, not_found};
use crate::api::Host;
use crate::registry::{CodeLookup, Function};
use std::sync::Arc;

impl Deployer {
    /// What `name` (with `qualifier`: `$LATEST`, a version number or an
    /// alias) runs now. An alias with a second version picks one by its
    /// weight.
    pub async fn resolve(
        &self,
        host: &Host,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<Target, DeployError> {
        let latest = self
            .registry
            .get(name)
            .ok_or_else(|| not_found(name, qualifier))?;
        let latest_target = |version: String| Target {
            pool: host.pools.get(name),
            function: latest.clone(),
            version,
        };
        let q = match qualifier {
            None | Some("") | Some(LATEST) => return Ok(latest_target(LATEST.to_string())),
            Some(q) => q,
        };
        let rec = self
            .record(name)
            .ok_or_else(|| not_found(name, qualifier))?;
        let version = if q.bytes().all(|b| b.is_ascii_digit()) {
            q.to_string()
        } else {
            let alias = rec
                .aliases
                .get(q)
                .ok_or_else(|| not_found(name, qualifier))?;
            pick(alias)
        };
        if version == LATEST {
            return Ok(latest_target(version));
        }
        let n: u64 = version
            .parse()
            .map_err(|_| not_found(name, Some(&version)))?;
        let v = rec
            .versions
            .get(&n)
            .ok_or_else(|| not_found(name, Some(&version)))?;
        if v.code_sha256 == latest.code_sha256
            && v.code_sha256 == rec.latest.code_sha256
            && v.settings == rec.latest.settings
        {
            // The same code and settings as $LATEST: share its environments.
            return Ok(latest_target(version));
        }
        let key = (name.to_string(), n);
        if let Some(f) = lock(&self.versions).get(&key).cloned() {
            return Ok(Target {
                function: f,
                pool: None,
                version,
            });
        }
        let f = self.load(name, v).await?;
        lock(&self.versions).insert(key, f.clone());
        Ok(Target {
            function: f,
            pool: None,
            version,
        })
    }
}

/// The version an alias sends this invocation to.
pub(super) fn pick(alias: &AliasRecord) -> String {
    let r = (uuid::Uuid::new_v4().as_u128() >> 64) as f64 / 2f64.powi(64);
    let mut acc = 0.0;
    for (v, w) in &alias.weights {
        acc += w;
        if r < acc {
            return v.clone();
        }
    }
    alias.version.clone()
}

impl CodeLookup for Deployer {
    fn function_with_code(
        &self,
        name: &str,
        code_sha256: &str,
    ) -> futures::future::BoxFuture<'_, Option<Arc<Function>>> {
        let (name, sha) = (name.to_string(), code_sha256.to_string());
        Box::pin(async move {
            if let Some(f) = self.registry.get(&name)
                && f.code_sha256 == sha
            {
                return Some(f);
            }
            let key = (name.clone(), sha.clone());
            if let Some(f) = lock(&self.pinned).get(&key).cloned() {
                return Some(f);
            }
            let rec = self.record(&name)?;
            // The settings of a version with that code, else of $LATEST.
            let mut v = rec
                .versions
                .values()
                .rev()
                .find(|v| v.code_sha256 == sha)
                .cloned()
                .unwrap_or_else(|| rec.latest.clone());
            v.code_sha256 = sha.clone();
            if !self.store.code_path(&sha).is_file() {
                return None;
            }
            match self.load(&name, &v).await {
                Ok(f) => {
                    tracing::info!(function = %name, code_sha256 = %sha,
                        "loaded the code a durable execution started with");
                    lock(&self.pinned).insert(key, f.clone());
                    Some(f)
                }
                Err(e) => {
                    tracing::warn!(function = %name, code_sha256 = %sha,
                        "cannot load the code a durable execution started with: {e}");
                    None
                }
            }
        })
    }
}
