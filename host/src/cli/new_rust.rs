//! `lamina new --lang rust`: the files of a standalone Rust function crate.
//!
//! The crate is its own cargo workspace (an empty `[workspace]` table), so it
//! builds wherever it is created, and a `cdylib` library, which is what makes
//! cargo write a `.wasm` component for `wasm32-wasip2`. It depends on
//! `lamina-sdk` from git (this repository), or by path with `--sdk-path`
//! (a local checkout's `guest-sdk/`).

use super::new::Template;
use std::path::Path;

/// The git repository `lamina-sdk` is fetched from unless `--sdk-path` is given.
pub const SDK_GIT: &str = env!("CARGO_PKG_REPOSITORY");

const RUST_HANDLER: &str = r#"//! A Lambda-style handler on Lamina.
//!
//!     {"name": "Ada"}  ->  {"message": "Hello, Ada!", "functionName": "...", "requestId": "..."}
//!     {}               ->  fails with ValidationError (a Lambda function error)

use lamina_sdk::{Context, FunctionError};
use serde_json::{Value, json};

fn handle(event: Value, ctx: &Context) -> Result<Value, FunctionError> {
    let name = event.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() {
        return Err(FunctionError::new("ValidationError", "name is required"));
    }
    println!("greeting {name}");
    Ok(json!({
        "message": format!("Hello, {name}!"),
        "functionName": ctx.function_name(),
        "requestId": ctx.request_id(),
    }))
}

lamina_sdk::handler!(handle);
"#;

const RUST_DURABLE: &str = r#"//! A durable function on Lamina.
//!
//! Each step's result is journaled: after the wait the function is replayed
//! and the first step does not run again. No instance is held while it waits.
//!
//!     {"name": "Ada"}  ->  {"message": "Hello, Ada!", "shouted": "HELLO, ADA!", "steps": 2}

use std::time::Duration;

use lamina_sdk::durable::{DurableContext, DurableError};
use serde_json::{Value, json};

fn handle(event: Value, ctx: &DurableContext) -> Result<Value, DurableError> {
    let name = event
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("world")
        .to_owned();
    let greeting: String = ctx.step_named("greet", |_| Ok::<_, String>(format!("Hello, {name}!")))?;
    ctx.wait(Some("pause"), Duration::from_secs(1))?;
    let shouted: String = ctx.step_named("shout", |_| Ok::<_, String>(greeting.to_uppercase()))?;
    Ok(json!({ "message": greeting, "shouted": shouted, "steps": 2 }))
}

lamina_sdk::durable_handler!(handle);
"#;

const RUST_HTTP: &str = r#"//! An HTTP function on Lamina: a plain `wasi:http/proxy` component (the
//! world `wasmtime serve` runs too), written with the `wasi` crate.
//!
//!     GET /NAME/some/path  ->  200 "Hello from NAME!\nmethod: GET\npath: /some/path\n"

use std::io::Write as _;

use wasi::exports::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Function;

impl Guest for Function {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let method = match request.method() {
            Method::Get => "GET".to_owned(),
            Method::Head => "HEAD".to_owned(),
            Method::Post => "POST".to_owned(),
            Method::Put => "PUT".to_owned(),
            Method::Delete => "DELETE".to_owned(),
            Method::Other(other) => other,
            _ => "other".to_owned(),
        };
        let path = request.path_with_query().unwrap_or_else(|| "/".to_owned());
        let text = format!("Hello from {{NAME}}!\nmethod: {method}\npath: {path}\n");

        let headers = Fields::from_list(&[(
            "content-type".to_owned(),
            b"text/plain; charset=utf-8".to_vec(),
        )])
        .unwrap_or_else(|_| Fields::new());
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(200);
        let Ok(body) = response.body() else { return };
        ResponseOutparam::set(response_out, Ok(response));
        if let Ok(mut stream) = body.write() {
            let _ = stream.write_all(text.as_bytes());
            let _ = stream.flush();
        }
        let _ = OutgoingBody::finish(body, None);
    }
}

wasi::http::proxy::export!(Function);
"#;

/// The `lamina-sdk` dependency line: by path when `sdk_path` is given, else from git.
fn sdk_dependency(sdk_path: Option<&Path>) -> String {
    match sdk_path {
        Some(path) => format!(
            "lamina-sdk = {{ path = {} }}\n",
            toml_string(&path.display().to_string())
        ),
        None => format!("lamina-sdk = {{ git = {} }}\n", toml_string(SDK_GIT)),
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The source file `src/lib.rs`.
pub fn lib_rs(name: &str, template: Template) -> String {
    match template {
        Template::Handler => RUST_HANDLER.to_string(),
        Template::Durable => RUST_DURABLE.to_string(),
        Template::Http => RUST_HTTP.replace("{{NAME}}", name),
    }
}

/// The crate's `Cargo.toml`.
pub fn cargo_toml(name: &str, template: Template, sdk_path: Option<&Path>) -> String {
    let deps = match template {
        Template::Handler | Template::Durable => {
            format!("{}serde_json = \"1\"\n", sdk_dependency(sdk_path))
        }
        Template::Http => "wasi = \"0.14.7\"\n".to_string(),
    };
    format!(
        "[package]\n\
         name = \"{name}\"\n\
         version = \"0.1.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\n\
         # A Lamina function is a WebAssembly component: a cdylib library built for\n\
         # wasm32-wasip2 (`lamina build .` runs cargo for it). Without this line\n\
         # cargo builds no .wasm file at all.\n\
         [lib]\n\
         crate-type = [\"cdylib\"]\n\n\
         [dependencies]\n\
         {deps}\n\
         # A workspace of its own, so that it builds inside another cargo workspace too.\n\
         [workspace]\n\n\
         # Small components: optimised for size, with LTO, stripped.\n\
         [profile.release]\n\
         opt-level = \"s\"\n\
         lto = true\n\
         strip = true\n\
         codegen-units = 1\n\
         debug = false\n"
    )
}

/// The project's README.md.
pub fn readme(name: &str, template: Template, sdk_path: Option<&Path>) -> String {
    let file = name.replace('-', "_");
    let (kind, try_it) = match template {
        Template::Handler => (
            "a Lambda-style handler",
            format!("    lamina invoke {name} --payload '{{\"name\":\"Ada\"}}'\n"),
        ),
        Template::Durable => (
            "a durable function",
            format!(
                "    lamina invoke {name} --invocation-type Event --payload '{{\"name\":\"Ada\"}}'\n    \
                 lamina executions list {name}\n"
            ),
        ),
        Template::Http => (
            "an HTTP function",
            format!("    curl http://127.0.0.1:8080/{name}/hello\n"),
        ),
    };
    let sdk = match (template, sdk_path) {
        (Template::Http, _) => {
            "It is a plain `wasi:http/proxy` component written with the `wasi` crate;\n\
             it does not need `lamina-sdk`.\n"
                .to_string()
        }
        (_, Some(path)) => format!(
            "`lamina-sdk` comes from the local checkout at `{}` (a path\n\
             dependency); to build elsewhere, use the git dependency instead:\n\n    \
             lamina-sdk = {{ git = \"{SDK_GIT}\" }}\n",
            path.display()
        ),
        (_, None) => format!(
            "`lamina-sdk` is a git dependency on `{SDK_GIT}`; with a local checkout\n\
             use `lamina-sdk = {{ path = \"/path/to/lamina/guest-sdk\" }}` instead.\n"
        ),
    };
    format!(
        "# {name}\n\n\
         A Rust function for Lamina ({kind}).\n\n\
         Build it into a WebAssembly component and serve it (`lamina build` installs\n\
         the `wasm32-wasip2` target with rustup when it is missing):\n\n    \
         lamina build . -o {name}.wasm\n    \
         lamina serve            # serves ./lamina.toml on http://127.0.0.1:8080\n\n\
         Then, from another shell:\n\n{try_it}\n\
         {sdk}\n\
         `crate-type = [\"cdylib\"]` in Cargo.toml is what makes cargo write a `.wasm`\n\
         file (`target/wasm32-wasip2/release/{file}.wasm`); `lamina build` copies it.\n"
    )
}
