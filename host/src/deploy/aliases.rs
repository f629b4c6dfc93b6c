//! Aliases: a name for a version, optionally sending a weighted share of
//! the invocations to a second version.

use super::record::{self, AliasRecord, FunctionRecord, LATEST};
use super::{DeployError, Deployer, function_arn, not_found};
use std::collections::BTreeMap;

/// A change of an alias; `None` keeps.
#[derive(Default)]
pub struct AliasChange {
    /// The version it names.
    pub version: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its routing weights.
    pub weights: Option<BTreeMap<String, f64>>,
    /// The expected revision (update only).
    pub revision_id: Option<String>,
}

impl Deployer {
    /// `CreateAlias` / `UpdateAlias`: `create` refuses an existing name,
    /// update refuses a missing one. Returns the alias.
    pub async fn put_alias(
        &self,
        name: &str,
        alias: &str,
        change: AliasChange,
        create: bool,
    ) -> Result<AliasRecord, DeployError> {
        let _one = self.changes.lock().await;
        let mut rec = self.existing(name)?;
        if alias.is_empty()
            || alias.bytes().all(|b| b.is_ascii_digit())
            || !alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            || alias == LATEST
        {
            return Err(DeployError::Invalid(format!(
                "alias name `{alias}`: letters, digits, `-` and `_`, not only digits"
            )));
        }
        let current = rec.aliases.get(alias).cloned();
        let mut a = match (create, current) {
            (true, Some(_)) => {
                return Err(DeployError::Conflict(format!(
                    "Alias already exists: {}",
                    function_arn(name, Some(alias))
                )));
            }
            (false, None) => return Err(not_found(name, Some(alias))),
            (true, None) => AliasRecord {
                version: String::new(),
                description: String::new(),
                weights: BTreeMap::new(),
                revision_id: String::new(),
            },
            (false, Some(a)) => {
                if let Some(r) = &change.revision_id
                    && *r != a.revision_id
                {
                    return Err(DeployError::Precondition(format!(
                        "RevisionId {r} does not match the alias's current revision"
                    )));
                }
                a
            }
        };
        if let Some(v) = change.version {
            a.version = v;
        }
        if let Some(d) = change.description {
            a.description = d;
        }
        if let Some(w) = change.weights {
            a.weights = w;
        }
        check_alias(&rec, &a)?;
        a.revision_id = record::new_revision_id();
        rec.aliases.insert(alias.to_string(), a.clone());
        self.save(rec)?;
        Ok(a)
    }

    /// `DeleteAlias`.
    pub async fn delete_alias(&self, name: &str, alias: &str) -> Result<(), DeployError> {
        let _one = self.changes.lock().await;
        let mut rec = self.existing(name)?;
        if rec.aliases.remove(alias).is_none() {
            return Err(not_found(name, Some(alias)));
        }
        self.save(rec)
    }
}

pub(super) fn check_alias(rec: &FunctionRecord, a: &AliasRecord) -> Result<(), DeployError> {
    if rec.version(&a.version).is_none() {
        return Err(DeployError::NotFound(format!(
            "Function not found: {}",
            function_arn(&rec.name, Some(&a.version))
        )));
    }
    if a.weights.len() > 1 {
        return Err(DeployError::Invalid(
            "RoutingConfig: at most one additional version".into(),
        ));
    }
    for (v, w) in &a.weights {
        if !(0.0..=1.0).contains(w) {
            return Err(DeployError::Invalid(format!(
                "RoutingConfig: the weight of version {v} must be between 0.0 and 1.0"
            )));
        }
        if *v == a.version {
            return Err(DeployError::Invalid(format!(
                "RoutingConfig: version {v} is already the alias's primary version"
            )));
        }
        if v == LATEST || a.version == LATEST {
            return Err(DeployError::Invalid(
                "RoutingConfig: weighted aliases route between published versions, not $LATEST"
                    .into(),
            ));
        }
        if rec.version(v).is_none() {
            return Err(not_found(&rec.name, Some(v)));
        }
    }
    Ok(())
}
