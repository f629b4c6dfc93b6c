//! The changes of a function: create, update code or settings, publish,
//! delete. Each loads the new code before it takes traffic.

use super::record::{self, FunctionRecord, LATEST, Origin, VersionRecord};
use super::{DeployError, Deployer, NewFunction, SettingsChange, base64, lock, not_found};
use crate::api::Host;
use crate::journal::now_ms;
use std::collections::BTreeMap;
use std::sync::PoisonError;

impl Deployer {
    /// `CreateFunction`.
    pub async fn create(
        &self,
        host: &Host,
        new: NewFunction,
    ) -> Result<FunctionRecord, DeployError> {
        crate::config::validate_name(&new.name, "FunctionName")
            .map_err(|e| DeployError::Invalid(e.to_string()))?;
        let _one = self.changes.lock().await;
        if self.record(&new.name).is_some() || self.registry.get(&new.name).is_some() {
            return Err(DeployError::Conflict(format!(
                "Function already exist: {}",
                new.name
            )));
        }
        let mut v = self.new_version(&new.code, new.settings)?;
        let prepared = self.prepare(host, &new.name, &v).await?;
        v.kind = prepared.function.kind.as_str().to_string();
        let mut rec = FunctionRecord {
            name: new.name.clone(),
            origin: Origin::Api,
            latest: v,
            versions: BTreeMap::new(),
            next_version: 1,
            aliases: BTreeMap::new(),
        };
        if new.publish {
            publish_latest(&mut rec);
        }
        if let Err(e) = self.save(rec.clone()) {
            prepared.discard();
            return Err(e);
        }
        self.swap(host, prepared);
        Ok(rec)
    }

    /// `UpdateFunctionCode`: the new code serves `$LATEST` once it is
    /// loaded; with `dry_run` it is only checked.
    pub async fn update_code(
        &self,
        host: &Host,
        name: &str,
        code: &[u8],
        publish: bool,
        dry_run: bool,
        revision_id: Option<&str>,
    ) -> Result<FunctionRecord, DeployError> {
        let _one = self.changes.lock().await;
        let mut rec = self.existing(name)?;
        check_revision(&rec.latest, revision_id)?;
        let mut v = self.new_version(code, rec.latest.settings.clone())?;
        if dry_run {
            let f = self.load(name, &v).await?;
            v.kind = f.kind.as_str().to_string();
            let mut preview = rec;
            preview.latest = v;
            return Ok(preview);
        }
        let prepared = self.prepare(host, name, &v).await?;
        v.kind = prepared.function.kind.as_str().to_string();
        rec.latest = v;
        if publish {
            publish_latest(&mut rec);
        }
        if let Err(e) = self.save(rec.clone()) {
            prepared.discard();
            return Err(e);
        }
        self.swap(host, prepared);
        Ok(rec)
    }

    /// `UpdateFunctionConfiguration`.
    pub async fn update_settings(
        &self,
        host: &Host,
        name: &str,
        change: &SettingsChange,
        revision_id: Option<&str>,
    ) -> Result<FunctionRecord, DeployError> {
        let _one = self.changes.lock().await;
        let mut rec = self.existing(name)?;
        check_revision(&rec.latest, revision_id)?;
        let mut v = rec.latest.clone();
        change.apply(&mut v.settings);
        v.last_modified_ms = now_ms();
        v.revision_id = record::new_revision_id();
        let prepared = self.prepare(host, name, &v).await?;
        v.kind = prepared.function.kind.as_str().to_string();
        rec.latest = v;
        if let Err(e) = self.save(rec.clone()) {
            prepared.discard();
            return Err(e);
        }
        self.swap(host, prepared);
        Ok(rec)
    }

    /// `PublishVersion`: `$LATEST` as a new numbered version (or the last
    /// one, when `$LATEST` has not changed since). Returns its number.
    pub async fn publish(
        &self,
        name: &str,
        code_sha256: Option<&str>,
        description: Option<&str>,
        revision_id: Option<&str>,
    ) -> Result<(FunctionRecord, u64), DeployError> {
        let _one = self.changes.lock().await;
        let mut rec = self.existing(name)?;
        check_revision(&rec.latest, revision_id)?;
        if let Some(want) = code_sha256
            && want != base64::encode(&hex::decode(&rec.latest.code_sha256).unwrap_or_default())
            && want != rec.latest.code_sha256
        {
            return Err(DeployError::Precondition(format!(
                "CodeSha256 ({want}) is not the code of $LATEST"
            )));
        }
        let n = publish_latest(&mut rec);
        if let Some(d) = description
            && let Some(v) = rec.versions.get_mut(&n)
        {
            v.settings.description = d.to_string();
        }
        self.save(rec.clone())?;
        Ok((rec, n))
    }

    /// `DeleteFunction`: the whole function, or one published version.
    pub async fn delete(
        &self,
        host: &Host,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(), DeployError> {
        let _one = self.changes.lock().await;
        let Some(mut rec) = self.record(name) else {
            if self.registry.get(name).is_some() {
                return Err(DeployError::Conflict(format!(
                    "`{name}` is not in the function store (it could not be stored at start)"
                )));
            }
            return Err(not_found(name, qualifier));
        };
        match qualifier {
            None | Some("") | Some(LATEST) => {
                self.store.delete(name)?;
                {
                    let mut map = self.records.write().unwrap_or_else(PoisonError::into_inner);
                    map.remove(name);
                }
                self.registry.remove(name);
                if let Some(pool) = host.pools.remove(name) {
                    pool.retire();
                }
                lock(&self.versions).retain(|(n, _), _| n != name);
                tracing::info!(function = %name, "function deleted");
                Ok(())
            }
            Some(q) => {
                let n: u64 = q.parse().map_err(|_| {
                    DeployError::Invalid(format!(
                        "Qualifier `{q}`: DeleteFunction takes a version number (delete an \
                         alias with DeleteAlias)"
                    ))
                })?;
                if !rec.versions.contains_key(&n) {
                    return Err(not_found(name, Some(q)));
                }
                if let Some((alias, _)) = rec
                    .aliases
                    .iter()
                    .find(|(_, a)| a.version == q || a.weights.contains_key(q))
                {
                    return Err(DeployError::Conflict(format!(
                        "Unable to delete version {q} of {name}: alias `{alias}` routes to it"
                    )));
                }
                rec.versions.remove(&n);
                self.save(rec)?;
                lock(&self.versions).remove(&(name.to_string(), n));
                Ok(())
            }
        }
    }
}

fn check_revision(v: &VersionRecord, revision_id: Option<&str>) -> Result<(), DeployError> {
    match revision_id {
        Some(r) if r != v.revision_id => Err(DeployError::Precondition(format!(
            "The Revision Id provided ({r}) does not match the latest Revision Id ({}). \
             Call GetFunction to get the latest Revision Id",
            v.revision_id
        ))),
        _ => Ok(()),
    }
}

/// Publishes `$LATEST` unless the newest version already has its code and
/// settings; returns the version number.
pub(super) fn publish_latest(rec: &mut FunctionRecord) -> u64 {
    if let Some((n, v)) = rec.versions.iter().next_back()
        && v.code_sha256 == rec.latest.code_sha256
        && v.settings == rec.latest.settings
    {
        return *n;
    }
    let n = rec.next_version;
    rec.next_version += 1;
    let mut v = rec.latest.clone();
    v.last_modified_ms = now_ms();
    v.revision_id = record::new_revision_id();
    rec.versions.insert(n, v);
    n
}
