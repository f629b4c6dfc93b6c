//! The environment pools of managed functions, by name, swapped with the
//! function they serve when a new version is deployed.

use crate::modes::managed::ManagedPool;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

/// The live managed pools, by function name.
#[derive(Default)]
pub struct Pools {
    pools: RwLock<BTreeMap<String, Arc<ManagedPool>>>,
}

impl Pools {
    /// The pool serving `name` now.
    pub fn get(&self, name: &str) -> Option<Arc<ManagedPool>> {
        let map = self.pools.read().unwrap_or_else(PoisonError::into_inner);
        map.get(name).cloned()
    }

    /// Whether `name` has a pool.
    pub fn contains_key(&self, name: &str) -> bool {
        let map = self.pools.read().unwrap_or_else(PoisonError::into_inner);
        map.contains_key(name)
    }

    /// All pools in name order.
    pub fn all(&self) -> Vec<(String, Arc<ManagedPool>)> {
        let map = self.pools.read().unwrap_or_else(PoisonError::into_inner);
        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Makes `pool` serve `name`; returns the pool it replaces.
    pub fn insert(&self, name: &str, pool: Arc<ManagedPool>) -> Option<Arc<ManagedPool>> {
        let mut map = self.pools.write().unwrap_or_else(PoisonError::into_inner);
        map.insert(name.to_string(), pool)
    }

    /// Removes the pool of `name`.
    pub fn remove(&self, name: &str) -> Option<Arc<ManagedPool>> {
        let mut map = self.pools.write().unwrap_or_else(PoisonError::into_inner);
        map.remove(name)
    }
}
