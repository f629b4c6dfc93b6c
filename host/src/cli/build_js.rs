//! `lamina build` for JavaScript and TypeScript: a module (`.js`, `.mjs`,
//! `.ts`, `.mts`) or a directory (package.json, index.js, index.ts, ...) into
//! a WebAssembly component, with esbuild and ComponentizeJS.
//!
//! The binary carries the `lamina-sdk` npm package (guest-sdk/js) and the
//! build tool (guest-sdk/js/tools/build.mjs with the toolchain's pinned
//! package.json and package-lock.json), bundled by host/build.rs. On first
//! use they are written into the cache directory, and the tool installs the
//! toolchain there with `npm ci`.

use super::build::{BuildArgs, cache_dir, default_output, human_size, unpack_files, wit_files};
use super::{CliError, io};
use std::path::{Path, PathBuf};
use std::process::Command;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/js_assets.rs"));
}

const JS_EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "ts", "mts", "cts"];
const JS_ENTRIES: &[&str] = &[
    "package.json",
    "index.ts",
    "index.mts",
    "index.js",
    "index.mjs",
    "handler.ts",
    "handler.js",
];

/// Whether `source` is a JavaScript/TypeScript function: a file with a JS or
/// TS extension, or a directory with a package.json or a JS entry module and
/// no Python entry module.
pub fn is_js_source(source: &Path) -> bool {
    if source.is_file() {
        return source
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| JS_EXTENSIONS.contains(&e));
    }
    if !source.is_dir() {
        return false;
    }
    let python = ["handler.py", "lambda_function.py"]
        .iter()
        .any(|f| source.join(f).is_file());
    !python && JS_ENTRIES.iter().any(|f| source.join(f).is_file())
}

/// The JS SDK, the build tool and the WIT worlds, written once per content
/// into `work/support-HASH/`.
fn unpack_support(work: &Path) -> Result<PathBuf, CliError> {
    let files = assets::JS_SDK
        .iter()
        .map(|(p, c)| (Path::new("sdk").join(p), *c))
        .chain(
            assets::JS_TOOLS
                .iter()
                .map(|(p, c)| (Path::new("sdk/tools").join(p), *c)),
        )
        .chain(wit_files())
        .collect::<Vec<_>>();
    unpack_files(work, &files)
}

/// Runs `lamina build` on a JavaScript/TypeScript source.
pub fn build(args: &BuildArgs) -> Result<(), CliError> {
    // `--handler` defaults to Python's `lambda_handler`; JavaScript's is the export `handler`.
    let handler = if args.handler == "lambda_handler" {
        "handler"
    } else {
        args.handler.as_str()
    };
    let valid_ident = handler
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && handler
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if !valid_ident {
        return Err(CliError::Build(format!(
            "--handler {handler:?} is not a JavaScript identifier"
        )));
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => {
            return Err(CliError::Build(
                "node not found: `lamina build` needs Node.js >= 18 with npm for JavaScript \
                 and TypeScript functions (https://nodejs.org, or apt-get install nodejs npm)"
                    .into(),
            ));
        }
    }
    let work = cache_dir()?.join("js-guests");
    std::fs::create_dir_all(&work).map_err(io(format!("creating {}", work.display())))?;
    let support = unpack_support(&work)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(&args.source));
    let cwd = std::env::current_dir().map_err(io("reading the current directory"))?;
    let output = if output.is_absolute() {
        output
    } else {
        cwd.join(output)
    };
    eprintln!(
        "lamina build: {} -> {} (cache {})",
        args.source.display(),
        output.display(),
        work.display()
    );
    let status = Command::new("node")
        .arg(support.join("sdk/tools/build.mjs"))
        .arg(&args.source)
        .arg("-o")
        .arg(&output)
        .arg("--handler")
        .arg(handler)
        .env("LAMINA_JS_SDK_DIR", support.join("sdk"))
        .env("LAMINA_JS_WIT_DIR", support.join("wit"))
        .env("LAMINA_JS_WORK", &work)
        .env("LAMINA_JS_PROG", "lamina build")
        .status()
        .map_err(io("cannot run node"))?;
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
