//! `lamina build`: a Python function (a `.py` file or a directory) into a
//! WebAssembly component, with componentize-py. JavaScript and TypeScript
//! sources go to `build_js` instead.
//!
//! The binary carries everything the build needs besides `python3`: the
//! `lamina_sdk` package, the WIT worlds and the build script
//! (scripts/build-python-guests.sh), bundled by host/build.rs. On first use
//! they are written into the cache directory, and the script installs the
//! pinned componentize-py from PyPI into a venv there.

use super::{CliError, io};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/python_assets.rs"));
}

/// Arguments of `lamina build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// A Python module (FILE.py) or a directory (its handler.py, lambda_function.py
    /// or only .py file); a requirements.txt beside it is bundled (pure Python only).
    /// Or a JavaScript/TypeScript module (FILE.js, FILE.ts) or a directory with a
    /// package.json or index.js/index.ts (bundled with its npm dependencies).
    /// Or a Rust crate (a directory with a Cargo.toml, or the Cargo.toml):
    /// built with cargo for wasm32-wasip2, as a cdylib.
    pub source: PathBuf,
    /// The component to write (default: NAME.wasm in the current directory).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// The handler function's name in the module (JavaScript: the export
    /// named `handler` unless another name is given).
    #[arg(long, default_value = "lambda_handler")]
    pub handler: String,
}

/// The cache directory: `$LAMINA_CACHE_DIR`, else `$XDG_CACHE_HOME/lamina`,
/// else `~/.cache/lamina`.
pub fn cache_dir() -> Result<PathBuf, CliError> {
    if let Some(dir) = std::env::var_os("LAMINA_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("lamina"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".cache").join("lamina")),
        None => Err(CliError::Build(
            "no cache directory: set LAMINA_CACHE_DIR (or HOME)".into(),
        )),
    }
}

/// Writes the bundled SDK, WIT files and build script into
/// `work/support-HASH/` (once per content), and returns that directory.
fn unpack_support(work: &Path) -> Result<PathBuf, CliError> {
    let files = assets::PYTHON_SDK
        .iter()
        .map(|(p, c)| (Path::new("sdk").join(p), *c))
        .chain(
            assets::WIT
                .iter()
                .map(|(p, c)| (Path::new("wit").join(p), *c)),
        )
        .chain(std::iter::once((
            PathBuf::from("build-python-guests.sh"),
            assets::BUILD_SCRIPT,
        )))
        .collect::<Vec<_>>();
    unpack_files(work, &files)
}

/// The bundled WIT worlds, as (path under `wit/`, contents).
pub(super) fn wit_files() -> impl Iterator<Item = (PathBuf, &'static str)> {
    assets::WIT
        .iter()
        .map(|(p, c)| (Path::new("wit").join(p), *c))
}

/// Writes `files` (relative path, contents) into `work/support-HASH/` once
/// per content, and returns that directory.
pub(super) fn unpack_files(work: &Path, files: &[(PathBuf, &str)]) -> Result<PathBuf, CliError> {
    let mut hash = Sha256::new();
    for (path, contents) in files {
        hash.update(path.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update(contents.as_bytes());
        hash.update([0]);
    }
    let digest = hex::encode(hash.finalize());
    let dir = work.join(format!("support-{}", &digest[..16]));
    if dir.join(".complete").is_file() {
        return Ok(dir);
    }
    let tmp = work.join(format!(
        "support-{}.tmp{}",
        &digest[..16],
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    for (path, contents) in files {
        let dest = tmp.join(path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(io(format!("creating {}", parent.display())))?;
        }
        std::fs::write(&dest, contents).map_err(io(format!("writing {}", dest.display())))?;
    }
    std::fs::write(tmp.join(".complete"), b"").map_err(io("writing the support marker"))?;
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // Another build unpacked the same content first.
        Err(_) if dir.join(".complete").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => Err(CliError::Io {
            context: format!("moving {} into place", dir.display()),
            source: e,
        }),
    }
}

/// The default output: `NAME.wasm` in the current directory, NAME being
/// the file's stem or the directory's name (`-` becomes `_`).
pub(super) fn default_output(source: &Path) -> PathBuf {
    let abs = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
    let name = if abs.is_dir() {
        abs.file_name()
    } else {
        abs.file_stem()
    }
    .and_then(|n| n.to_str())
    .unwrap_or("function")
    .replace('-', "_");
    PathBuf::from(format!("{name}.wasm"))
}

pub(super) fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

/// Runs `lamina build`.
pub fn build(args: BuildArgs) -> Result<(), CliError> {
    if !args.source.exists() {
        return Err(CliError::Build(format!(
            "{}: no such file or directory",
            args.source.display()
        )));
    }
    if super::build_rust::is_rust_source(&args.source) {
        return super::build_rust::build(&args);
    }
    if super::build_js::is_js_source(&args.source) {
        return super::build_js::build(&args);
    }
    if !args
        .handler
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || args.handler.is_empty()
    {
        return Err(CliError::Build(format!(
            "--handler {:?} is not a Python identifier",
            args.handler
        )));
    }
    match Command::new("python3").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => {
            return Err(CliError::Build(
                "python3 not found: `lamina build` needs Python >= 3.10 with venv and pip \
                 (on Debian/Ubuntu: apt-get install python3 python3-venv)"
                    .into(),
            ));
        }
    }
    let work = cache_dir()?.join("python-guests");
    std::fs::create_dir_all(&work).map_err(io(format!("creating {}", work.display())))?;
    let support = unpack_support(&work)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(&args.source));
    // The script runs componentize-py from its staging directory.
    let output = if output.is_absolute() {
        output
    } else {
        std::env::current_dir()
            .map_err(io("reading the current directory"))?
            .join(output)
    };
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    }
    eprintln!(
        "lamina build: {} -> {} (cache {})",
        args.source.display(),
        output.display(),
        work.display()
    );
    let status = Command::new("bash")
        .arg(support.join("build-python-guests.sh"))
        .arg(&args.source)
        .arg("-o")
        .arg(&output)
        .env("LAMINA_PY_SDK_DIR", support.join("sdk"))
        .env("LAMINA_PY_WIT_DIR", support.join("wit"))
        .env("LAMINA_PY_WORK", &work)
        .env("LAMINA_PY_HANDLER", &args.handler)
        .env("LAMINA_PY_PROG", "lamina build")
        .status()
        .map_err(io("cannot run bash (`lamina build` needs bash)"))?;
    if !status.success() {
        return Err(CliError::Build(format!(
            "building {} failed (the reason is printed above)",
            args.source.display()
        )));
    }
    let size = std::fs::metadata(&output)
        .map_err(io(format!("reading {}", output.display())))?
        .len();
    println!("built {} ({})", output.display(), human_size(size));
    Ok(())
}
