//! Bundles what `lamina build` needs at run time into the binary, so an
//! installed `lamina` builds Python and JavaScript functions outside the
//! repository: the pure-Python SDK (guest-sdk/python/lamina_sdk), the WIT
//! worlds (wit/) and the build script (scripts/build-python-guests.sh) in
//! `$OUT_DIR/python_assets.rs`; the JavaScript SDK (guest-sdk/js: src/,
//! index.d.ts, package.json) and its build tool (guest-sdk/js/tools: build.mjs
//! and the pinned toolchain's package.json and package-lock.json) in
//! `$OUT_DIR/js_assets.rs`. Each is a table of (relative path, contents).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "__pycache__" || name == "node_modules" || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, ext, out);
        } else if path.extension().and_then(|e| e.to_str()) == Some(ext) {
            out.push(path);
        }
    }
}

fn table(out: &mut String, name: &str, root: &Path, files: &[PathBuf]) {
    let _ = writeln!(
        out,
        "/// Bundled files: (path relative to its root, contents)."
    );
    let _ = writeln!(out, "pub static {name}: &[(&str, &str)] = &[");
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            f.display().to_string()
        );
    }
    let _ = writeln!(out, "];");
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let repo = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    let sdk_root = repo.join("guest-sdk/python");
    let wit_root = repo.join("wit");
    let script = repo.join("scripts/build-python-guests.sh");

    let mut sdk = Vec::new();
    collect(&sdk_root.join("lamina_sdk"), "py", &mut sdk);
    let mut wit = Vec::new();
    collect(&wit_root, "wit", &mut wit);

    let mut out = String::new();
    table(&mut out, "PYTHON_SDK", &sdk_root, &sdk);
    table(&mut out, "WIT", &wit_root, &wit);
    let _ = writeln!(out, "/// scripts/build-python-guests.sh.");
    let _ = writeln!(
        out,
        "pub static BUILD_SCRIPT: &str = include_str!({:?});",
        script.display().to_string()
    );
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("python_assets.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
    for p in [sdk_root.join("lamina_sdk"), wit_root, script] {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    js_assets(&repo);
}

/// Writes `$OUT_DIR/js_assets.rs`: `JS_SDK` (guest-sdk/js's src/*.js,
/// index.d.ts and package.json) and `JS_TOOLS` (guest-sdk/js/tools).
fn js_assets(repo: &Path) {
    let js_root = repo.join("guest-sdk/js");
    let mut sdk = Vec::new();
    collect(&js_root.join("src"), "js", &mut sdk);
    for f in ["index.d.ts", "package.json"] {
        sdk.push(js_root.join(f));
    }
    let tools_root = js_root.join("tools");
    let tools: Vec<PathBuf> = ["build.mjs", "package.json", "package-lock.json"]
        .iter()
        .map(|f| tools_root.join(f))
        .collect();
    let mut out = String::new();
    table(&mut out, "JS_SDK", &js_root, &sdk);
    table(&mut out, "JS_TOOLS", &tools_root, &tools);
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("js_assets.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
    for p in sdk.iter().chain(tools.iter()) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rerun-if-changed={}", js_root.join("src").display());
}
