//! `lamina deploy`, `lamina functions` and `lamina versions`: the control
//! plane of a running host, through its Lambda-compatible API (the same
//! calls as `aws lambda create-function`, `update-function-code`, ...).

use super::CliError;
use super::durable::{Endpoint, call, enc, pretty, print};
use crate::deploy::base64;
use http::Method;
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `lamina deploy`.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The function's name (created when it does not exist yet).
    pub name: String,
    /// The component (`.wasm`) to deploy.
    pub file: PathBuf,
    /// Publish a numbered version of the new code.
    #[arg(long)]
    pub publish: bool,
    /// Point this alias at the published version (implies --publish).
    #[arg(long)]
    pub alias: Option<String>,
    /// First replay every live execution of the (durable) function against
    /// the new code in a sandbox; deploy only if none diverges.
    #[arg(long)]
    pub check_replay: bool,
    /// With --check-replay: deploy even if executions diverge (they keep
    /// running on the code they started with).
    #[arg(long)]
    pub force: bool,
    /// With --check-replay: move the compatible live executions to the new
    /// code (by default every execution keeps the code it started with).
    #[arg(long)]
    pub move_compatible: bool,
    /// Where the host is.
    #[command(flatten)]
    pub host: Endpoint,
}

/// Arguments of `lamina functions`.
#[derive(Debug, clap::Args)]
pub struct FunctionsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: FunctionsCommand,
    /// Where the host is.
    #[command(flatten)]
    pub host: Endpoint,
}

/// `lamina functions` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum FunctionsCommand {
    /// List the functions.
    List,
    /// Show one function's configuration (with `--qualifier`: a version or alias).
    Get {
        /// The function.
        name: String,
        /// A version number or alias.
        #[arg(long)]
        qualifier: Option<String>,
    },
    /// Delete a function (with `--qualifier`: one published version).
    Delete {
        /// The function.
        name: String,
        /// A version number.
        #[arg(long)]
        qualifier: Option<String>,
    },
}

/// Arguments of `lamina versions`.
#[derive(Debug, clap::Args)]
pub struct VersionsArgs {
    /// The function.
    pub name: String,
    /// Where the host is.
    #[command(flatten)]
    pub host: Endpoint,
}

const ROLE: &str = "arn:aws:iam::000000000000:role/lamina";

/// Runs `lamina deploy`: creates the function or updates its code (the
/// host compiles and links it before it takes traffic), then publishes and
/// moves the alias when asked.
pub async fn deploy(args: DeployArgs) -> Result<(), CliError> {
    let ep = &args.host.endpoint;
    let code = std::fs::read(&args.file)
        .map_err(super::io(format!("cannot read {}", args.file.display())))?;
    let zip = base64::encode(&code);
    let publish = args.publish || args.alias.is_some();
    let path = format!("/2015-03-31/functions/{}", enc(&args.name));
    let exists = match call(ep, Method::GET, &path, vec![]).await {
        Ok(_) => true,
        Err(CliError::Http(m)) if m.contains("ResourceNotFoundException") => false,
        Err(e) => return Err(e),
    };
    if args.check_replay && exists {
        let divergent_first = if args.move_compatible {
            // Move nothing unless the deployment will go ahead.
            let body = json!({ "ZipFile": zip }).to_string().into_bytes();
            let dry = call(ep, Method::POST, &format!("{path}/replay-check"), body).await?;
            dry["Divergent"].as_u64().unwrap_or(0)
        } else {
            0
        };
        let move_now = args.move_compatible && (divergent_first == 0 || args.force);
        let body = json!({ "ZipFile": zip, "MoveCompatible": move_now })
            .to_string()
            .into_bytes();
        let report = call(ep, Method::POST, &format!("{path}/replay-check"), body).await?;
        let mut out = String::new();
        let verdicts = report["Executions"].as_array().cloned().unwrap_or_default();
        for v in &verdicts {
            out.push_str(&format!(
                "{:<10} {}{}\n           {}\n",
                v["Result"].as_str().unwrap_or("?"),
                v["DurableExecutionArn"].as_str().unwrap_or("?"),
                if v["Moved"] == true {
                    " (moved to the new code)"
                } else {
                    ""
                },
                v["Detail"].as_str().unwrap_or("")
            ));
        }
        let divergent = report["Divergent"].as_u64().unwrap_or(0);
        out.push_str(&format!(
            "replay check: {} live execution(s), {divergent} divergent\n",
            verdicts.len()
        ));
        print(&out);
        if divergent > 0 && !args.force {
            return Err(CliError::Http(format!(
                "not deployed: {divergent} execution(s) would diverge on the new code \
                 (--force deploys anyway; running executions keep their own code)"
            )));
        }
    }
    let cfg = if exists {
        let body = json!({ "ZipFile": zip, "Publish": publish });
        call(
            ep,
            Method::PUT,
            &format!("{path}/code"),
            body.to_string().into_bytes(),
        )
        .await?
    } else {
        let body = json!({
            "FunctionName": args.name,
            "Role": ROLE,
            "Code": { "ZipFile": zip },
            "Publish": publish,
        });
        call(
            ep,
            Method::POST,
            "/2015-03-31/functions",
            body.to_string().into_bytes(),
        )
        .await?
    };
    let version = cfg["Version"].as_str().unwrap_or("$LATEST").to_string();
    let mut out = format!(
        "{} {}: {} function, code {}, version {version}\n",
        if exists { "updated" } else { "created" },
        args.name,
        cfg["Lamina"]["Kind"].as_str().unwrap_or("?"),
        cfg["Lamina"]["CodeSha256Hex"].as_str().unwrap_or("?"),
    );
    if let Some(alias) = &args.alias {
        let apath = format!("{path}/aliases/{}", enc(alias));
        let body = json!({ "FunctionVersion": version })
            .to_string()
            .into_bytes();
        match call(ep, Method::PUT, &apath, body).await {
            Ok(_) => {}
            Err(CliError::Http(m)) if m.contains("ResourceNotFoundException") => {
                let body = json!({ "Name": alias, "FunctionVersion": version });
                call(
                    ep,
                    Method::POST,
                    &format!("{path}/aliases"),
                    body.to_string().into_bytes(),
                )
                .await?;
            }
            Err(e) => return Err(e),
        }
        out.push_str(&format!("alias {alias} -> version {version}\n"));
    }
    print(&out);
    Ok(())
}

/// Runs `lamina functions`.
pub async fn functions(args: FunctionsArgs) -> Result<(), CliError> {
    let ep = &args.host.endpoint;
    let qualified = |name: &str, q: &Option<String>| match q {
        Some(q) => format!("/2015-03-31/functions/{}?Qualifier={}", enc(name), enc(q)),
        None => format!("/2015-03-31/functions/{}", enc(name)),
    };
    match args.command {
        FunctionsCommand::List => {
            let v = call(
                ep,
                Method::GET,
                "/2015-03-31/functions?MaxItems=10000",
                vec![],
            )
            .await?;
            let mut out = format!(
                "{:<20} {:<8} {:<9} {:>7} {:>8} {}\n",
                "NAME", "KIND", "MODE", "MEMORY", "TIMEOUT", "CODE SHA256"
            );
            for f in v["Functions"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "{:<20} {:<8} {:<9} {:>7} {:>8} {}\n",
                    f["FunctionName"].as_str().unwrap_or("?"),
                    f["Lamina"]["Kind"].as_str().unwrap_or("?"),
                    f["Lamina"]["Mode"].as_str().unwrap_or("?"),
                    f["MemorySize"],
                    f["Timeout"],
                    f["Lamina"]["CodeSha256Hex"].as_str().unwrap_or("?"),
                ));
            }
            print(&out);
        }
        FunctionsCommand::Get { name, qualifier } => {
            let v = call(ep, Method::GET, &qualified(&name, &qualifier), vec![]).await?;
            print(&pretty(&v));
        }
        FunctionsCommand::Delete { name, qualifier } => {
            call(ep, Method::DELETE, &qualified(&name, &qualifier), vec![]).await?;
            print(&format!(
                "deleted {name}{}\n",
                qualifier.map(|q| format!(":{q}")).unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// Runs `lamina versions`: the versions and aliases of a function.
pub async fn versions(args: VersionsArgs) -> Result<(), CliError> {
    let ep = &args.host.endpoint;
    let path = format!("/2015-03-31/functions/{}", enc(&args.name));
    let v = call(ep, Method::GET, &format!("{path}/versions"), vec![]).await?;
    let a = call(ep, Method::GET, &format!("{path}/aliases"), vec![]).await?;
    let mut out = format!(
        "{:<9} {:<30} {}\n",
        "VERSION", "LAST MODIFIED", "CODE SHA256"
    );
    for f in v["Versions"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{:<9} {:<30} {}\n",
            f["Version"].as_str().unwrap_or("?"),
            f["LastModified"].as_str().unwrap_or(""),
            f["Lamina"]["CodeSha256Hex"].as_str().unwrap_or("?"),
        ));
    }
    let aliases = a["Aliases"].as_array().cloned().unwrap_or_default();
    if !aliases.is_empty() {
        out.push_str(&format!(
            "\n{:<16} {:<9} {}\n",
            "ALIAS", "VERSION", "ROUTING"
        ));
        for al in &aliases {
            let routing = al["RoutingConfig"]["AdditionalVersionWeights"]
                .as_object()
                .map(|w| {
                    w.iter()
                        .map(|(v, x)| format!("{v}: {x}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "{:<16} {:<9} {}\n",
                al["Name"].as_str().unwrap_or("?"),
                al["FunctionVersion"].as_str().unwrap_or("?"),
                routing
            ));
        }
    }
    print(&out);
    Ok(())
}
