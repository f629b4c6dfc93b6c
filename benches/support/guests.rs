//! Shared by the benches: builds the example guests once per process with
//! `scripts/build-guests.sh` and finds their `.wasm` files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// The built guest `{stem}.wasm` (e.g. `echo`, `durable_cases`).
pub fn guest(stem: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let status = Command::new("bash")
            .arg(repo().join("scripts/build-guests.sh"))
            .stdout(Stdio::null())
            .status()
            .expect("build guests");
        assert!(status.success(), "building the guests failed");
        std::env::var_os("LAMINA_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target"))
            .join("guests/wasm32-wasip2/release")
    });
    dir.join(format!("{stem}.wasm"))
}
