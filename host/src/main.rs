//! The `lamina` binary.

use clap::Parser;
use lamina::cli::{self, Cli, Command};
use tracing_subscriber::EnvFilter;

use std::process::ExitCode;

/// Runs the command; an error is printed as one `error: …` line (with its
/// causes), never as a Rust backtrace, whatever `RUST_BACKTRACE` says.
#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_env("LAMINA_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LAMINA_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => cli::serve(args).await?,
        Command::Invoke(args) => cli::invoke(args).await?,
        Command::Bench(args) => cli::bench(args).await?,
        Command::Executions(args) => cli::executions(args).await?,
        Command::Callback(args) => cli::callback(args).await?,
        Command::Build(args) => cli::build(args)?,
        Command::New(args) => cli::new(args)?,
        Command::Deploy(args) => cli::deploy(args).await?,
        Command::Functions(args) => cli::functions(args).await?,
        Command::Versions(args) => cli::versions(args).await?,
    }
    Ok(())
}
