//! The `lamina` command line: `serve` runs the host, `invoke` calls a
//! function on a running host, `executions` and `callback` work with
//! durable executions, `deploy`, `functions` and `versions` with the
//! functions themselves.

mod build;
mod build_js;
mod build_rust;
mod deploy;
mod durable;
mod new;
mod new_js;
mod new_rust;
mod sign;
mod table;

pub use build::{BuildArgs, build};
pub use deploy::{DeployArgs, FunctionsArgs, VersionsArgs, deploy, functions, versions};
pub use durable::{CallbackArgs, ExecutionsArgs, callback, executions};
pub use new::{NewArgs, new};

use crate::api::server::{self, Host, StartError};
use crate::config::{ConfigError, FunctionKind, HostConfig, Overrides};
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use table::Table;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "lamina",
    version,
    about = "Run WebAssembly components as serverless functions"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve functions over HTTP: one component, or every function of a config file.
    Serve(ServeArgs),
    /// Invoke a function on a running host (Lambda-compatible API).
    Invoke(InvokeArgs),
    /// Measure instantiate and first-call (durable: replay) time and memory per instance of a component.
    Bench(BenchArgs),
    /// List and inspect durable executions on a running host.
    Executions(ExecutionsArgs),
    /// Complete (or heartbeat) a durable callback on a running host.
    Callback(CallbackArgs),
    /// Build a Rust crate (DIR or Cargo.toml), a Python, JavaScript or TypeScript function (FILE.py, FILE.js, FILE.ts or a directory) into a component.
    Build(BuildArgs),
    /// Write a new function project (`--lang python|js|ts|rust`, `--template handler|durable|http`).
    New(NewArgs),
    /// Deploy a component to a running host: create the function or update its code, without a restart.
    Deploy(DeployArgs),
    /// List, show or delete the functions of a running host.
    Functions(FunctionsArgs),
    /// Show the versions and aliases of a function on a running host.
    Versions(VersionsArgs),
}

/// Arguments of `lamina bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The component to measure.
    pub component: PathBuf,
    /// Measured instantiations.
    #[arg(long, short = 'n', default_value_t = 1000)]
    pub iterations: u32,
    /// Unmeasured instantiations first.
    #[arg(long, default_value_t = 100)]
    pub warmup: u32,
    /// Use on-demand allocation instead of the pooling allocator.
    #[arg(long)]
    pub no_pooling: bool,
    /// JSON payload for handler functions.
    #[arg(long, default_value = "{}")]
    pub payload: String,
    /// Instances held alive at once for the memory measurement.
    #[arg(long, default_value_t = 100)]
    pub resident_sample: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The function's name while measured (durable guests may dispatch on it).
    #[arg(long, default_value = "bench")]
    pub function_name: String,
    /// Directory for compiled code, reused across runs (default: a fresh temporary one).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// Arguments of `lamina serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A single component to serve (named after its file); omit to use --config.
    pub component: Option<PathBuf>,
    /// Config file declaring functions (default: ./lamina.toml when no component is given).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Address to listen on (HOST:PORT; port 0 picks a free one) [default: 127.0.0.1:8080,
    /// or [host] listen in the config].
    #[arg(long, short)]
    pub listen: Option<String>,
    /// Directory for host state: the journal and the compiled-component cache
    /// [default: .lamina beside the config file, or in the current directory].
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Directory for compiled components [default: STATE_DIR/cache].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Keep durable state in this PostgreSQL database, shared by every host
    /// given the same URL (postgres://user[:password]@host[:port]/database)
    /// [default: [journal] url in the config, else the redb file in STATE_DIR].
    #[arg(long, value_name = "URL")]
    pub journal: Option<String>,
    /// Largest request body accepted, in bytes [default: 6291456 (6 MiB)].
    #[arg(long)]
    pub max_body_bytes: Option<u64>,
    /// Single component only: an environment variable for the guest (KEY=VALUE; repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Single component only: memory limit per instance in MiB [default: 128].
    #[arg(long)]
    pub memory_mb: Option<u64>,
    /// Single component only: timeout per invocation in ms [default: 30000].
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Single component only: preopen a host directory for the guest
    /// (HOST_DIR[::GUEST_DIR], as `wasmtime run --dir`; repeatable).
    #[arg(long = "dir", value_name = "HOST_DIR[::GUEST_DIR]")]
    pub dirs: Vec<String>,
    /// Allocate instances on demand instead of from the pooling allocator.
    #[arg(long)]
    pub no_pooling: bool,
    /// Listen on a non-loopback address although no `[auth]` is configured
    /// (anyone who can reach it controls the host; a warning is logged).
    #[arg(long)]
    pub insecure_listen: bool,
    /// Redeploy a function when its component file changes (polled twice a
    /// second), without a restart: in-flight requests finish on the old code.
    #[arg(long)]
    pub watch: bool,
}

/// Arguments of `lamina invoke`.
#[derive(Debug, clap::Args)]
pub struct InvokeArgs {
    /// Function name.
    pub name: String,
    /// JSON payload, or @FILE to read it from a file.
    #[arg(long, short, default_value = "{}")]
    pub payload: String,
    /// The host's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080", env = "LAMINA_ENDPOINT")]
    pub endpoint: String,
    /// Invocation type: RequestResponse (wait for the result), Event (queue it) or
    /// DryRun (check the function exists and may be invoked).
    #[arg(long, default_value = "RequestResponse", value_parser = ["RequestResponse", "Event", "DryRun"])]
    pub invocation_type: String,
    /// Durable functions: the execution's unique name (idempotency key).
    #[arg(long)]
    pub execution_name: Option<String>,
}

/// Errors of the command line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The host could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// Nothing to serve was named.
    #[error(
        "nothing to serve: give a component (`lamina serve app.wasm`) or a config file (`--config lamina.toml`)"
    )]
    NothingToServe,
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// The HTTP call to the host failed.
    #[error("{0}")]
    Http(String),
    /// The benchmark failed.
    #[error(transparent)]
    Bench(#[from] crate::bench::BenchError),
    /// A non-loopback listen address without `[auth]` and without `--insecure-listen`.
    #[error(
        "refusing to listen on {0} without authentication: anyone who can reach it could invoke \
         functions, read execution histories and complete callbacks. Configure [auth] \
         access_keys in lamina.toml, listen on 127.0.0.1, or pass --insecure-listen"
    )]
    InsecureListen(std::net::SocketAddr),
    /// `lamina build` or `lamina new` failed.
    #[error("{0}")]
    Build(String),
    /// The function reported an error (its body has been printed).
    #[error("the function returned an error ({0})")]
    FunctionError(String),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
    let context = context.into();
    move |source| CliError::Io { context, source }
}

/// Builds the host config from `serve` arguments.
pub fn serve_config(args: &ServeArgs) -> Result<HostConfig, CliError> {
    let overrides = Overrides {
        listen: args.listen.clone(),
        state_dir: args.state_dir.clone(),
        cache_dir: args.cache_dir.clone(),
        max_body_bytes: args.max_body_bytes,
        no_pooling: args.no_pooling,
        journal_url: args.journal.clone(),
    };
    let single_options = !args.env.is_empty()
        || args.memory_mb.is_some()
        || args.timeout_ms.is_some()
        || !args.dirs.is_empty();
    let cfg = match (&args.component, &args.config) {
        (Some(c), _) => {
            let mut cfg = HostConfig::single(c, &overrides)?;
            if single_options {
                apply_single_options(&mut cfg, args)?;
            }
            cfg
        }
        (None, _) if single_options => {
            return Err(CliError::Config(ConfigError::Invalid {
                key: "--env/--memory-mb/--timeout-ms/--dir".into(),
                message: "these options apply to a single component (`lamina serve app.wasm`); \
                         set them per function in lamina.toml instead"
                    .into(),
            }));
        }
        (None, Some(path)) => HostConfig::from_file(path, &overrides)?,
        (None, None) if Path::new("lamina.toml").is_file() => {
            HostConfig::from_file(Path::new("lamina.toml"), &overrides)?
        }
        (None, None) => return Err(CliError::NothingToServe),
    };
    Ok(cfg)
}

/// Applies `--env`, `--memory-mb`, `--timeout-ms` and `--dir` to the one
/// function of `lamina serve app.wasm`, then checks the result.
fn apply_single_options(cfg: &mut HostConfig, args: &ServeArgs) -> Result<(), CliError> {
    let bad = |key: &str, reason: String| {
        CliError::Config(ConfigError::Invalid {
            key: key.into(),
            message: reason,
        })
    };
    let Some(f) = cfg.functions.first_mut() else {
        return Ok(());
    };
    for pair in &args.env {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| bad("--env", format!("`{pair}` is not KEY=VALUE")))?;
        if k.is_empty() {
            return Err(bad("--env", format!("`{pair}` has an empty name")));
        }
        f.env.insert(k.to_string(), v.to_string());
    }
    if let Some(mb) = args.memory_mb {
        f.memory_mb = mb;
    }
    if let Some(ms) = args.timeout_ms {
        f.timeout_ms = ms;
    }
    for spec in &args.dirs {
        let (host, guest) = match spec.split_once("::") {
            Some((h, g)) => (h, g),
            None => (spec.as_str(), spec.as_str()),
        };
        let host = PathBuf::from(host);
        if !host.is_dir() {
            return Err(bad(
                "--dir",
                format!("{} is not a directory", host.display()),
            ));
        }
        let host = host
            .canonicalize()
            .map_err(|e| bad("--dir", format!("{}: {e}", host.display())))?;
        f.dirs.insert(guest.to_string(), host);
    }
    cfg.validate()?;
    Ok(())
}

/// Runs `lamina serve` until Ctrl-C or SIGTERM.
pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let cfg = serve_config(&args)?;
    if cfg.functions.is_empty() {
        tracing::warn!(
            "the config declares no functions ([functions.NAME] with a `component`): \
             the host starts, but every invocation will answer 404"
        );
    }
    let listen = cfg.listen;
    if cfg.auth.is_none() && !listen.ip().is_loopback() {
        if !args.insecure_listen {
            return Err(CliError::InsecureListen(listen));
        }
        tracing::warn!(
            %listen,
            "listening on a non-loopback address WITHOUT authentication (--insecure-listen): \
             anyone who can reach this port can invoke functions and control durable executions"
        );
    }
    let host = tokio::task::spawn_blocking(move || Host::new(cfg))
        .await
        .map_err(|e| CliError::Http(format!("loading functions panicked: {e}")))??;
    let mut host = host;
    // Guests never reach the host's own listener unless a function's
    // allowed_outbound_hosts names it exactly.
    host.engine.add_listen_addr(listen);
    host.start_managed().await?;
    host.start_durable().await?;
    let host = Arc::new(host);
    let (listener, addr) = server::bind(listen).await.map_err(|source| {
        let hint = if source.kind() == std::io::ErrorKind::AddrInUse {
            " (another program is using this port: pick another with --listen 127.0.0.1:PORT)"
        } else {
            ""
        };
        CliError::Io {
            context: format!("cannot listen on {listen}{hint}"),
            source,
        }
    })?;
    host.engine.add_listen_addr(addr);
    print_table(&host, &format!("http://{addr}"));
    if args.watch {
        tokio::spawn(crate::watch::watch(
            host.clone(),
            std::time::Duration::from_millis(500),
        ));
    }
    server::serve(host, listener, shutdown_signal())
        .await
        .map_err(io("serving"))?;
    tracing::info!("shut down");
    Ok(())
}

fn print_table(host: &Host, url: &str) {
    let mut out = String::new();
    out.push_str(&format!(
        "Lamina {} listening on {url}\n",
        env!("CARGO_PKG_VERSION")
    ));
    let mut table = Table::new(["FUNCTION", "KIND", "MODE", "ROUTE", "CODE"]).indent(2);
    for f in host.registry.all() {
        let mode = match host.pools.get(&f.name) {
            Some(p) => format!("managed:{}", p.environments().len()),
            None if f.kind == FunctionKind::Durable => "durable".to_string(),
            None => "standard".to_string(),
        };
        let route = match f.kind {
            FunctionKind::Http => format!("{url}/{}/", f.name),
            FunctionKind::Handler | FunctionKind::Durable => {
                format!("POST {url}/2015-03-31/functions/{}/invocations", f.name)
            }
        };
        table.row([
            f.name.to_string(),
            f.kind.as_str().to_string(),
            mode,
            route,
            format!(
                "{} in {} ms",
                f.code_source.as_str(),
                f.load_time.as_millis()
            ),
        ]);
    }
    out.push_str(&table.render());
    if host.registry.get("ui").is_none() {
        out.push_str(&format!("Dashboard: {url}/ui\n"));
    }
    // Kept last: scripts and tests wait for the `Metrics:` line.
    out.push_str(&format!("Metrics: {url}/metrics   Health: {url}/healthz\n"));
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot watch SIGTERM: {e}");
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `lamina invoke`: prints the function's response body to stdout.
pub async fn invoke(args: InvokeArgs) -> Result<(), CliError> {
    let payload = match args.payload.strip_prefix('@') {
        Some(file) => {
            std::fs::read(file).map_err(io(format!("cannot read payload file {file}")))?
        }
        None => args.payload.clone().into_bytes(),
    };
    let url = format!(
        "{}/2015-03-31/functions/{}/invocations",
        args.endpoint.trim_end_matches('/'),
        args.name
    );
    let uri: http::Uri = url
        .parse()
        .map_err(|e| CliError::Http(format!("bad endpoint URL {url}: {e}")))?;
    let mut req = hyper::Request::post(uri)
        .header("x-amz-invocation-type", &args.invocation_type)
        .header(http::header::CONTENT_TYPE, "application/json");
    if let Some(name) = &args.execution_name {
        req = req.header("x-amz-durable-execution-name", name);
    }
    let mut req = req
        .body(Full::new(bytes::Bytes::from(payload.clone())))
        .map_err(|e| CliError::Http(e.to_string()))?;
    sign::sign_request(&mut req, &payload)?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    let resp = client
        .request(req)
        .await
        .map_err(|e| CliError::Http(format!("cannot reach {}: {e}", args.endpoint)))?;
    let status = resp.status();
    let arn = resp
        .headers()
        .get("x-amz-durable-execution-arn")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(arn) = &arn {
        eprintln!("durable execution: {arn}");
    }
    let function_error = resp
        .headers()
        .get("x-amz-function-error")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| CliError::Http(format!("reading the response: {e}")))?
        .to_bytes();
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&body);
    if !body.ends_with(b"\n") && !body.is_empty() {
        let _ = stdout.write_all(b"\n");
    }
    if body.is_empty() && status.is_success() {
        // A durable execution started without waiting: its ARN is the
        // answer, alone on stdout for `ARN=$(lamina invoke ...)`.
        if let Some(arn) = &arn {
            let _ = writeln!(stdout, "{arn}");
            return Ok(());
        }
        // Event and DryRun answer with no body: say what happened.
        let line = match args.invocation_type.as_str() {
            "DryRun" => format!(
                "dry run: {} exists and may be invoked ({status})",
                args.name
            ),
            "Event" => format!("queued: {} will run asynchronously ({status})", args.name),
            _ => format!("{} returned no payload ({status})", args.name),
        };
        let _ = writeln!(stdout, "{line}");
    }
    let _ = stdout.flush();
    if !status.is_success() {
        return Err(CliError::Http(format!("the host answered {status}")));
    }
    if let Some(kind) = function_error {
        return Err(CliError::FunctionError(kind));
    }
    Ok(())
}

/// Runs `lamina bench`.
pub async fn bench(args: BenchArgs) -> Result<(), CliError> {
    if args.iterations == 0 {
        return Err(CliError::Http("--iterations must be at least 1".into()));
    }
    let opts = crate::bench::BenchOptions {
        component: args.component,
        iterations: args.iterations,
        warmup: args.warmup,
        pooling: !args.no_pooling,
        payload: args.payload.into_bytes(),
        resident_sample: args.resident_sample.max(1),
        cache_dir: args.cache_dir,
        function_name: args.function_name,
    };
    let report = crate::bench::run(&opts).await?;
    let text = if args.json {
        serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
    } else {
        crate::bench::render(&report)
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    Ok(())
}
