//! `lamina new`: writes a ready-to-build function project.

use super::{CliError, io};
use std::path::{Path, PathBuf};

/// Arguments of `lamina new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The project (and function) name; a directory of that name is created.
    pub name: String,
    /// The language.
    #[arg(long, value_enum, default_value_t = Lang::Python)]
    pub lang: Lang,
    /// What kind of function.
    #[arg(long, value_enum, default_value_t = Template::Handler)]
    pub template: Template,
    /// Rust: depend on `lamina-sdk` by path (a local checkout's `guest-sdk/`
    /// directory) instead of from git.
    #[arg(long, value_name = "DIR")]
    pub sdk_path: Option<PathBuf>,
}

/// Languages `lamina new` writes projects in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Python, built with `lamina build` (componentize-py).
    Python,
    /// JavaScript, built with `lamina build` (esbuild and ComponentizeJS).
    #[value(alias = "javascript")]
    Js,
    /// TypeScript, built with `lamina build` (esbuild and ComponentizeJS).
    #[value(alias = "typescript")]
    Ts,
    /// Rust, a cdylib crate built with `lamina build` (cargo, wasm32-wasip2).
    Rust,
}

/// Project templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Template {
    /// A Lambda-style handler: `def lambda_handler(event, context)`.
    Handler,
    /// A durable function: steps and a durable wait.
    Durable,
    /// An HTTP function (`wasi:http/proxy`); Rust only.
    Http,
}

const PY_HANDLER: &str = r#""""A Lambda-style handler on Lamina.

    {"name": "Ada"}  ->  {"message": "Hello, Ada!", "functionName": "..."}
    {}               ->  fails with ValueError (a Lambda function error)
"""


def lambda_handler(event, context):
    name = event.get("name") if isinstance(event, dict) else None
    if not name:
        raise ValueError("name is required")
    return {
        "message": f"Hello, {name}!",
        "functionName": context.function_name,
        "requestId": context.aws_request_id,
    }
"#;

const PY_DURABLE: &str = r#""""A durable function on Lamina (the AWS Durable Execution SDK's API).

Each step's result is journaled: after the wait the function is replayed
and the first step does not run again. No instance is held while it waits.

    {"name": "Ada"}  ->  {"message": "Hello, Ada!", "steps": 2}
"""

from lamina_sdk.durable import DurableContext, Duration, durable_execution


@durable_execution
def lambda_handler(event, context: DurableContext):
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    greeting = context.step(lambda _: f"Hello, {name}!", name="greet")
    context.wait(Duration.from_seconds(1), name="pause")
    shouted = context.step(lambda _: greeting.upper(), name="shout")
    return {"message": greeting, "shouted": shouted, "steps": 2}
"#;

fn readme(name: &str, template: Template) -> String {
    let invoke = match template {
        Template::Handler | Template::Http => {
            format!("    lamina invoke {name} --payload '{{\"name\":\"Ada\"}}'\n")
        }
        Template::Durable => format!(
            "    lamina invoke {name} --invocation-type Event --payload '{{\"name\":\"Ada\"}}'\n    \
             lamina executions list {name}\n"
        ),
    };
    format!(
        "# {name}\n\n\
         A Python function for Lamina ({kind}).\n\n\
         Build it into a WebAssembly component and serve it (the first build installs\n\
         componentize-py into Lamina's cache, about a minute):\n\n    \
         lamina build . -o {name}.wasm\n    \
         lamina serve            # serves ./lamina.toml on http://127.0.0.1:8080\n\n\
         Then, from another shell:\n\n{invoke}\n\
         Pure-Python dependencies listed in a `requirements.txt` here are bundled.\n",
        kind = match template {
            Template::Handler | Template::Http => "a Lambda-style handler",
            Template::Durable => "a durable function",
        }
    )
}

fn lamina_toml(name: &str) -> String {
    format!(
        "# Serve with `lamina serve` in this directory, after `lamina build . -o {name}.wasm`.\n\
         [host]\n\
         listen = \"127.0.0.1:8080\"\n\
         state_dir = \".lamina\"\n\n\
         [functions.{name}]\n\
         component = \"{name}.wasm\"\n\
         timeout_ms = 30000\n"
    )
}

/// Runs `lamina new`.
pub fn new(args: NewArgs) -> Result<(), CliError> {
    let name = args.name.trim_end_matches('/');
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if !valid {
        return Err(CliError::Build(format!(
            "{name:?} is not a valid function name: use letters, digits, '-' and '_', \
             starting with a letter"
        )));
    }
    if args.template == Template::Http && args.lang != Lang::Rust {
        return Err(CliError::Build(
            "the http template is for --lang rust only".into(),
        ));
    }
    if args.sdk_path.is_some() && args.lang != Lang::Rust {
        return Err(CliError::Build("--sdk-path is for --lang rust only".into()));
    }
    let sdk_path = match &args.sdk_path {
        Some(path) => {
            if !path.join("Cargo.toml").is_file() {
                return Err(CliError::Build(format!(
                    "--sdk-path {}: no Cargo.toml there (give the guest-sdk/ directory of a \
                     Lamina checkout)",
                    path.display()
                )));
            }
            Some(std::fs::canonicalize(path).map_err(io(format!("resolving {}", path.display())))?)
        }
        None => None,
    };
    let dir = Path::new(name);
    if dir.exists() {
        return Err(CliError::Build(format!("{name} already exists")));
    }
    let files = match args.lang {
        Lang::Python => {
            let module = match args.template {
                Template::Durable => PY_DURABLE,
                Template::Handler | Template::Http => PY_HANDLER,
            };
            vec![
                ("lambda_function.py", module.to_string()),
                ("lamina.toml", lamina_toml(name)),
                ("README.md", readme(name, args.template)),
                (
                    ".gitignore",
                    "*.wasm\n*.wasm.inputs\n.lamina/\n".to_string(),
                ),
            ]
        }
        Lang::Js | Lang::Ts => {
            let typescript = args.lang == Lang::Ts;
            let (entry, module) = super::new_js::module(typescript, args.template);
            vec![
                (entry, module.to_string()),
                ("package.json", super::new_js::package_json(name, entry)),
                ("lamina.toml", lamina_toml(name)),
                (
                    "README.md",
                    super::new_js::readme(name, typescript, args.template),
                ),
                (
                    ".gitignore",
                    "*.wasm\n*.wasm.inputs\n.lamina/\nnode_modules/\n".to_string(),
                ),
            ]
        }
        Lang::Rust => {
            let sdk = sdk_path.as_deref();
            vec![
                (
                    "Cargo.toml",
                    super::new_rust::cargo_toml(name, args.template, sdk),
                ),
                ("src/lib.rs", super::new_rust::lib_rs(name, args.template)),
                ("lamina.toml", lamina_toml(name)),
                (
                    "README.md",
                    super::new_rust::readme(name, args.template, sdk),
                ),
                (".gitignore", "/target\n*.wasm\n.lamina/\n".to_string()),
            ]
        }
    };
    std::fs::create_dir_all(dir).map_err(io(format!("creating {name}")))?;
    for (file, contents) in files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(io(format!("creating {}", parent.display())))?;
        }
        std::fs::write(&path, contents).map_err(io(format!("writing {}", path.display())))?;
    }
    let template = match args.template {
        Template::Handler => "handler",
        Template::Durable => "durable",
        Template::Http => "http",
    };
    let lang = match args.lang {
        Lang::Python => "python",
        Lang::Js => "javascript",
        Lang::Ts => "typescript",
        Lang::Rust => "rust",
    };
    println!("created {name}/ ({lang}, {template} template)");
    println!("  cd {name} && lamina build . -o {name}.wasm && lamina serve");
    Ok(())
}
