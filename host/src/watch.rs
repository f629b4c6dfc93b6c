//! `lamina serve --watch`: when the component file of a declared function
//! changes (a rebuild), its new code is deployed as the function's
//! `$LATEST` without a restart, through the control plane's zero-downtime
//! swap ([`crate::deploy`]): the new code is loaded first, requests in
//! flight finish on the old code.
//!
//! Files are polled (modification time and size): a change is deployed once
//! the file has looked the same on two polls in a row, so a build still
//! writing it is not read half-way. Code that fails to load is reported and
//! the function keeps serving its previous code.

use crate::api::Host;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// What a poll sees of a file: its modification time and size.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &std::path::Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// One watched component file.
struct Watched {
    name: String,
    path: PathBuf,
    /// The stamp of the code being served (or last tried).
    served: Stamp,
    /// The stamp seen on the previous poll.
    last: Stamp,
}

/// Watches the component files of the functions `host` was started with,
/// polling every `interval`, until the process ends.
pub async fn watch(host: Arc<Host>, interval: Duration) {
    let mut files: Vec<Watched> = host
        .config
        .functions
        .iter()
        .map(|f| {
            let s = stamp(&f.component);
            Watched {
                name: f.name.clone(),
                path: f.component.clone(),
                served: s,
                last: s,
            }
        })
        .collect();
    tracing::info!(
        files = files.len(),
        "watching the functions' component files: a changed file is redeployed"
    );
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        for w in &mut files {
            let now = stamp(&w.path);
            let settled = now == w.last;
            w.last = now;
            if !settled || now.is_none() || now == w.served {
                continue;
            }
            w.served = now;
            redeploy(&host, &w.name, &w.path).await;
        }
    }
}

/// Deploys the code at `path` as `$LATEST` of `name`, unless it is the code
/// the function serves already.
async fn redeploy(host: &Arc<Host>, name: &str, path: &std::path::Path) {
    let bytes = match tokio::fs::read(path).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(function = name, "cannot read {}: {e}", path.display());
            return;
        }
    };
    let sha = hex::encode(Sha256::digest(&bytes));
    if host
        .registry
        .get(name)
        .is_some_and(|f| f.code_sha256 == sha)
    {
        return;
    }
    let started = Instant::now();
    match host
        .deploy
        .update_code(host, name, &bytes, false, false, None)
        .await
    {
        Ok(_) => tracing::info!(
            function = name,
            code_sha256 = %&sha[..12],
            "redeployed {name} from {} in {} ms (changed on disk)",
            path.display(),
            started.elapsed().as_millis()
        ),
        Err(e) => tracing::warn!(
            function = name,
            "{} changed but was not deployed; {name} keeps its previous code: {e}",
            path.display()
        ),
    }
}
