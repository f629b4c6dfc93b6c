//! The function store in the state directory, beside the journal:
//! `functions.redb` holds one JSON record per function (see [`record`]),
//! and `code/{sha256}.wasm` holds every component ever deployed,
//! content-addressed, so a version's code (or a durable execution's) can be
//! loaded again after a restart. Code files are never deleted while the
//! host runs: a durable execution may still reference them.
//!
//! [`record`]: super::record

use super::record::FunctionRecord;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// `functions`: name -> record JSON.
const FUNCTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("functions");

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("function store {path}: {message}")]
    Db {
        /// The database file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A code file could not be written or read.
    #[error("code store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A record could not be decoded.
    #[error("function store: record of `{name}` is unreadable: {message}")]
    Corrupt {
        /// The function.
        name: String,
        /// The decoding error.
        message: String,
    },
}

/// The function store.
pub struct Store {
    /// `None` when `functions.redb` could not be opened (another host
    /// holds it): changes then last until the host stops.
    db: Option<Database>,
    path: PathBuf,
    code_dir: PathBuf,
}

impl Store {
    /// Opens (or creates) `{state_dir}/functions.redb` and `{state_dir}/code/`.
    /// When the database cannot be opened (say another host uses the same
    /// state directory) the store keeps records in memory only, with a
    /// warning; the code directory must be writable.
    pub fn open_in(state_dir: &Path) -> Result<Self, StoreError> {
        let code_dir = state_dir.join("code");
        std::fs::create_dir_all(&code_dir).map_err(|source| StoreError::Io {
            path: code_dir.clone(),
            source,
        })?;
        let path = state_dir.join("functions.redb");
        let db = match Self::open_db(&path) {
            Ok(db) => Some(db),
            Err(e) => {
                tracing::warn!(
                    "{e}: deployed functions, versions and aliases will not survive a restart"
                );
                None
            }
        };
        Ok(Store { db, path, code_dir })
    }

    fn open_db(path: &Path) -> Result<Database, StoreError> {
        let err = |e: &dyn std::fmt::Display| StoreError::Db {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let db = Database::create(path).map_err(|e| err(&e))?;
        let tx = db.begin_write().map_err(|e| err(&e))?;
        tx.open_table(FUNCTIONS).map_err(|e| err(&e))?;
        tx.commit().map_err(|e| err(&e))?;
        Ok(db)
    }

    /// Whether records survive a restart.
    pub fn persistent(&self) -> bool {
        self.db.is_some()
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Every record, in name order.
    pub fn all(&self) -> Result<Vec<FunctionRecord>, StoreError> {
        let Some(db) = &self.db else {
            return Ok(Vec::new());
        };
        let tx = db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(FUNCTIONS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in table.iter().map_err(|e| self.err(e))? {
            let (k, v) = row.map_err(|e| self.err(e))?;
            out.push(decode(k.value(), v.value())?);
        }
        Ok(out)
    }

    /// The record of `name`.
    pub fn get(&self, name: &str) -> Result<Option<FunctionRecord>, StoreError> {
        let Some(db) = &self.db else {
            return Ok(None);
        };
        let tx = db.begin_read().map_err(|e| self.err(e))?;
        let table = tx.open_table(FUNCTIONS).map_err(|e| self.err(e))?;
        match table.get(name).map_err(|e| self.err(e))? {
            Some(v) => Ok(Some(decode(name, v.value())?)),
            None => Ok(None),
        }
    }

    /// Writes `record` (durably: committed before this returns).
    pub fn put(&self, record: &FunctionRecord) -> Result<(), StoreError> {
        let Some(db) = &self.db else {
            return Ok(());
        };
        let bytes = serde_json::to_vec(record).map_err(|e| self.err(e))?;
        let tx = db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = tx.open_table(FUNCTIONS).map_err(|e| self.err(e))?;
            table
                .insert(record.name.as_str(), bytes.as_slice())
                .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Removes the record of `name`.
    pub fn delete(&self, name: &str) -> Result<(), StoreError> {
        let Some(db) = &self.db else {
            return Ok(());
        };
        let tx = db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = tx.open_table(FUNCTIONS).map_err(|e| self.err(e))?;
            table.remove(name).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Where the code with this sha256 is kept.
    pub fn code_path(&self, sha256: &str) -> PathBuf {
        self.code_dir.join(format!("{sha256}.wasm"))
    }

    /// Keeps `bytes` in the code store; returns their sha256 (hex).
    pub fn put_code(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.code_path(&sha);
        if path.is_file() {
            return Ok(sha);
        }
        let tmp = path.with_extension(format!("tmp{}", uuid::Uuid::new_v4().simple()));
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(sha)
    }
}

fn decode(name: &str, bytes: &[u8]) -> Result<FunctionRecord, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        name: name.to_string(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FunctionConfig;
    use crate::deploy::record::{LATEST, Origin, Settings, VersionRecord};
    use std::collections::BTreeMap;

    #[test]
    fn records_and_code_survive_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sha;
        {
            let store = Store::open_in(dir.path()).expect("open");
            sha = store.put_code(b"\0asm\x0d\0\x01\0").expect("code");
            let latest = VersionRecord {
                code_sha256: sha.clone(),
                code_size: 8,
                kind: "handler".into(),
                settings: Settings::from_config(&FunctionConfig::new("f", "/x")),
                last_modified_ms: 1,
                revision_id: "r".into(),
            };
            store
                .put(&FunctionRecord {
                    name: "f".into(),
                    origin: Origin::Api,
                    latest,
                    versions: BTreeMap::new(),
                    next_version: 1,
                    aliases: BTreeMap::new(),
                })
                .expect("put");
        }
        let store = Store::open_in(dir.path()).expect("reopen");
        let rec = store.get("f").expect("get").expect("present");
        assert_eq!(
            rec.version(LATEST).map(|v| v.code_sha256.as_str()),
            Some(sha.as_str())
        );
        assert_eq!(
            std::fs::read(store.code_path(&sha)).expect("code file"),
            b"\0asm\x0d\0\x01\0"
        );
        store.delete("f").expect("delete");
        assert!(store.all().expect("all").is_empty());
    }
}
