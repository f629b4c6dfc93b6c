//! `lamina build` for a Rust crate (a directory with a Cargo.toml, or the
//! Cargo.toml itself): `cargo build --release --target wasm32-wasip2`,
//! installing the target with rustup when it is missing, then copies the
//! crate's `.wasm` component to the output.
//!
//! cargo writes a `.wasm` for a library only when it is a `cdylib`; a crate
//! without `crate-type = ["cdylib"]` builds fine and produces nothing, so this
//! says exactly that instead of failing to find a file.

use super::{BuildArgs, CliError, io};
use serde_json::Value;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Rust target Lamina components are built for.
const TARGET: &str = "wasm32-wasip2";

/// Whether `source` is a Rust crate: a `Cargo.toml`, or a directory with one.
pub(super) fn is_rust_source(source: &Path) -> bool {
    if source.is_dir() {
        source.join("Cargo.toml").is_file()
    } else {
        source.file_name().and_then(|n| n.to_str()) == Some("Cargo.toml")
    }
}

/// The cargo to run: the one running us (`$CARGO`, set under `cargo run`
/// and `cargo test`), else `cargo` on the PATH.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Installs the wasm32-wasip2 target with rustup when the toolchain that
/// builds `dir` lacks it. Without rustup, cargo's own error says what is
/// missing.
fn ensure_target(dir: &Path) -> Result<(), CliError> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(dir)
        .stderr(Stdio::null())
        .output();
    let Ok(listed) = listed else {
        eprintln!(
            "lamina build: rustup not found; assuming the {TARGET} target is installed \
             (with rustup: rustup target add {TARGET})"
        );
        return Ok(());
    };
    if listed.status.success()
        && String::from_utf8_lossy(&listed.stdout)
            .lines()
            .any(|l| l.trim() == TARGET)
    {
        return Ok(());
    }
    eprintln!("lamina build: installing the Rust target {TARGET} (rustup target add {TARGET})…");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .current_dir(dir)
        .status()
        .map_err(io("running rustup"))?;
    if !status.success() {
        return Err(CliError::Build(format!(
            "`rustup target add {TARGET}` failed (the reason is printed above)"
        )));
    }
    Ok(())
}

/// What cargo reported about the crate's own targets.
#[derive(Default)]
struct Artifacts {
    /// `.wasm` files of the library target.
    wasm: Vec<PathBuf>,
    /// The crate types of the library target, when it was built.
    lib_crate_types: Option<Vec<String>>,
}

/// Reads cargo's JSON messages, keeping the artifacts of the package whose
/// manifest is `manifest`.
fn read_artifacts(out: impl std::io::Read, manifest: &Path) -> Artifacts {
    let mut found = Artifacts::default();
    for line in std::io::BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let same = msg["manifest_path"]
            .as_str()
            .and_then(|p| std::fs::canonicalize(p).ok())
            .is_some_and(|p| p == manifest);
        if !same {
            continue;
        }
        let kinds: Vec<String> = msg["target"]["kind"]
            .as_array()
            .map(|k| {
                k.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let is_lib = kinds.iter().any(|k| {
            matches!(
                k.as_str(),
                "lib" | "rlib" | "dylib" | "cdylib" | "staticlib"
            )
        });
        if !is_lib {
            continue;
        }
        found.lib_crate_types = Some(kinds.clone());
        if kinds.iter().any(|k| k == "cdylib") {
            let files = msg["filenames"].as_array().cloned().unwrap_or_default();
            found.wasm.extend(
                files
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|f| f.ends_with(".wasm"))
                    .map(PathBuf::from),
            );
        }
    }
    found
}

/// Builds the crate at `args.source` into a component.
pub(super) fn build(args: &BuildArgs) -> Result<(), CliError> {
    let manifest = if args.source.is_dir() {
        args.source.join("Cargo.toml")
    } else {
        args.source.clone()
    };
    let manifest =
        std::fs::canonicalize(&manifest).map_err(io(format!("reading {}", manifest.display())))?;
    let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    ensure_target(&dir)?;
    eprintln!(
        "lamina build: cargo build --release --target {TARGET} --manifest-path {}",
        manifest.display()
    );
    let mut child = cargo()
        .args(["build", "--release", "--target", TARGET])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(&manifest)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(io(
            "running cargo (`lamina build` of a Rust crate needs cargo)",
        ))?;
    let artifacts = match child.stdout.take() {
        Some(out) => read_artifacts(out, &manifest),
        None => Artifacts::default(),
    };
    let status = child.wait().map_err(io("waiting for cargo"))?;
    if !status.success() {
        return Err(CliError::Build(format!(
            "cargo build of {} failed (the errors are printed above)",
            manifest.display()
        )));
    }
    let wasm = match (artifacts.wasm.as_slice(), artifacts.lib_crate_types) {
        ([wasm], _) => wasm.clone(),
        ([], None) => {
            return Err(CliError::Build(format!(
                "{} has no library target, so cargo built no .wasm: a Lamina function is a \
                 library (src/lib.rs) with `crate-type = [\"cdylib\"]` under [lib] in Cargo.toml",
                manifest.display()
            )));
        }
        ([], Some(types)) => {
            return Err(CliError::Build(format!(
                "cargo built no .wasm: the library of {} has crate-type {types:?}; add \
                 `crate-type = [\"cdylib\"]` under [lib] in Cargo.toml (cargo writes a .wasm \
                 component only for a cdylib)",
                manifest.display()
            )));
        }
        (many, _) => {
            return Err(CliError::Build(format!(
                "cargo built several .wasm files for {}: {many:?}",
                manifest.display()
            )));
        }
    };
    let output = match &args.output {
        Some(output) => output.clone(),
        None => PathBuf::from(wasm.file_name().unwrap_or("function.wasm".as_ref())),
    };
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    }
    // Copied beside the output and renamed over it, so a host watching the
    // output (`lamina serve --watch`) never reads a half-written file.
    let mut partial = output.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::copy(&wasm, &partial).map_err(io(format!(
        "copying {} to {}",
        wasm.display(),
        partial.display()
    )))?;
    std::fs::rename(&partial, &output).map_err(io(format!(
        "moving {} to {}",
        partial.display(),
        output.display()
    )))?;
    let size = std::fs::metadata(&output)
        .map_err(io(format!("reading {}", output.display())))?
        .len();
    println!(
        "built {} ({})",
        output.display(),
        super::build::human_size(size)
    );
    Ok(())
}
