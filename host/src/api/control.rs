//! The Lambda control plane under `/2015-03-31/functions`: create, update
//! (code and configuration), get, list and delete functions; publish and
//! list versions; create, update, get, list and delete aliases. The URIs,
//! fields and error shapes are botocore's `lambda` model, so boto3 and
//! `aws lambda ... --endpoint-url` work unchanged. The work is done by
//! [`crate::deploy::Deployer`]; this module maps JSON in and out.

use super::lambda::{function_name, percent_decode, qualifier_of, query_param};
use super::response::{Response, aws_error, json};
use super::server::{ApiBody, Host, read_body};
use crate::config::{FunctionConfig, MAX_RETENTION_DAYS};
use crate::deploy::record::{AliasRecord, FunctionRecord, LATEST, Settings, VersionRecord};
use crate::deploy::{
    AliasChange, DeployError, NewFunction, SettingsChange, base64, function_arn, zip,
};
use crate::error::InvokeError;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Largest control-plane request body (a base64 zip of a component).
pub const MAX_REQUEST_BYTES: usize = 100 << 20;
/// Largest component a deployment may hold.
pub const MAX_CODE_BYTES: usize = 64 << 20;

/// The most body a request to `path` may carry: code uploads (create,
/// update code, replay check) may be larger than an invocation payload.
pub fn body_limit(host: &Host, method: &Method, path: &str) -> usize {
    let upload = path.starts_with("/2015-03-31/functions")
        && !path.ends_with("/invocations")
        && matches!(*method, Method::POST | Method::PUT);
    if upload {
        MAX_REQUEST_BYTES.max(host.config.max_body_bytes)
    } else {
        host.config.max_body_bytes
    }
}

/// Handles a control-plane request under `/2015-03-31/`; `rest` is the
/// path after it.
pub async fn handle(host: Arc<Host>, req: hyper::Request<ApiBody>, rest: &str) -> Response {
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let method = req.method().clone();
    let query = req.uri().query().map(str::to_string);
    let q = |k: &str| query_param(query.as_deref(), k);
    let body = match read_body(req.into_body(), MAX_REQUEST_BYTES).await {
        Ok(b) => b,
        Err(InvokeError::PayloadTooLarge { limit }) => {
            return aws_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                format!("Request must be smaller than {limit} bytes"),
            );
        }
        Err(e) => return invalid(e.to_string()),
    };
    let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return invalid(format!("the request body is not JSON: {e}")),
        }
    };
    let named = |raw: &str| {
        let raw = percent_decode(raw);
        (function_name(&raw), qualifier_of(&raw))
    };
    let result = match (&method, parts.as_slice()) {
        (&Method::POST, ["functions"]) => create(&host, &input).await,
        (&Method::GET, ["functions"]) => Ok(list(&host, q("Marker"), q("MaxItems"))),
        (&Method::GET, ["functions", f]) => {
            let (name, qual) = named(f);
            get_function(&host, &name, q("Qualifier").or(qual).as_deref())
        }
        (&Method::DELETE, ["functions", f]) => {
            let (name, qual) = named(f);
            let qual = q("Qualifier").or(qual);
            host.deploy
                .delete(&host, &name, qual.as_deref())
                .await
                .map(|()| (StatusCode::NO_CONTENT, Value::Null))
        }
        (&Method::GET, ["functions", f, "configuration"]) => {
            let (name, qual) = named(f);
            get_function(&host, &name, q("Qualifier").or(qual).as_deref())
                .map(|(s, v)| (s, v["Configuration"].clone()))
        }
        (&Method::PUT, ["functions", f, "configuration"]) => {
            update_configuration(&host, &named(f).0, &input).await
        }
        (&Method::PUT, ["functions", f, "code"]) => update_code(&host, &named(f).0, &input).await,
        (&Method::POST, ["functions", f, "replay-check"]) => {
            replay_check(&host, &named(f).0, &input).await
        }
        (&Method::POST, ["functions", f, "versions"]) => {
            let name = named(f).0;
            let s = |k: &str| input.get(k).and_then(Value::as_str);
            host.deploy
                .publish(&name, s("CodeSha256"), s("Description"), s("RevisionId"))
                .await
                .map(|(rec, n)| {
                    let v = rec.versions.get(&n).unwrap_or(&rec.latest);
                    (StatusCode::CREATED, configuration(&rec, &n.to_string(), v))
                })
        }
        (&Method::GET, ["functions", f, "versions"]) => list_versions(&host, &named(f).0),
        (&Method::POST, ["functions", f, "aliases"]) => {
            let alias = input.get("Name").and_then(Value::as_str).unwrap_or("");
            put_alias(&host, &named(f).0, alias, &input, true).await
        }
        (&Method::GET, ["functions", f, "aliases"]) => {
            let name = named(f).0;
            host.deploy
                .record(&name)
                .ok_or_else(|| not_found(&name))
                .map(|rec| {
                    let aliases: Vec<Value> = rec
                        .aliases
                        .iter()
                        .map(|(a, r)| alias_json(&name, a, r))
                        .collect();
                    (StatusCode::OK, json!({ "Aliases": aliases }))
                })
        }
        (&Method::GET, ["functions", f, "aliases", a]) => {
            let name = named(f).0;
            let a = percent_decode(a);
            host.deploy
                .record(&name)
                .and_then(|rec| rec.aliases.get(&a).cloned())
                .ok_or_else(|| {
                    DeployError::NotFound(format!(
                        "Alias not found: {}",
                        function_arn(&name, Some(&a))
                    ))
                })
                .map(|r| (StatusCode::OK, alias_json(&name, &a, &r)))
        }
        (&Method::PUT, ["functions", f, "aliases", a]) => {
            put_alias(&host, &named(f).0, &percent_decode(a), &input, false).await
        }
        (&Method::DELETE, ["functions", f, "aliases", a]) => host
            .deploy
            .delete_alias(&named(f).0, &percent_decode(a))
            .await
            .map(|()| (StatusCode::NO_CONTENT, Value::Null)),
        _ => {
            return aws_error(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                format!("unknown operation: {method} /2015-03-31/{rest}"),
            );
        }
    };
    match result {
        Ok((status, Value::Null)) => {
            let mut resp = json(status, &Value::Null);
            *resp.body_mut() = super::response::full(bytes::Bytes::new());
            resp
        }
        Ok((status, v)) => json(status, &v),
        Err(e) => error_response(&e),
    }
}

/// A [`DeployError`] in AWS's shape.
pub fn error_response(e: &DeployError) -> Response {
    let (status, kind) = match e {
        DeployError::NotFound(_) => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
        DeployError::Conflict(_) => (StatusCode::CONFLICT, "ResourceConflictException"),
        DeployError::Invalid(_) => (StatusCode::BAD_REQUEST, "InvalidParameterValueException"),
        DeployError::Precondition(_) => (
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailedException",
        ),
        DeployError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "ServiceException"),
    };
    aws_error(status, kind, e.to_string())
}

type Answer = Result<(StatusCode, Value), DeployError>;

fn invalid(message: String) -> Response {
    error_response(&DeployError::Invalid(message))
}

fn not_found(name: &str) -> DeployError {
    DeployError::NotFound(format!("Function not found: {}", function_arn(name, None)))
}

/// The component in a request's `ZipFile` (base64 of a zip holding one
/// `.wasm`, or of the component itself).
fn code_of(zip_file: Option<&Value>) -> Result<Vec<u8>, DeployError> {
    let text = zip_file.and_then(Value::as_str).ok_or_else(|| {
        DeployError::Invalid(
            "Code.ZipFile is required (S3 and image code are not supported)".into(),
        )
    })?;
    let raw =
        base64::decode(text).ok_or_else(|| DeployError::Invalid("ZipFile is not base64".into()))?;
    zip::component_bytes(&raw, MAX_CODE_BYTES)
        .map_err(|e| DeployError::Invalid(format!("Code.ZipFile: {e}")))
}

/// The settings a Create or UpdateFunctionConfiguration request sets.
fn settings_change(input: &Value) -> Result<SettingsChange, DeployError> {
    let mut c = SettingsChange::default();
    let int = |k: &str| input.get(k).and_then(Value::as_u64);
    if let Some(t) = int("Timeout") {
        if t == 0 {
            return Err(DeployError::Invalid("Timeout must be at least 1".into()));
        }
        c.timeout_ms = Some(t.saturating_mul(1000));
    }
    if let Some(m) = int("MemorySize") {
        if m == 0 {
            return Err(DeployError::Invalid("MemorySize must be positive".into()));
        }
        c.memory_mb = Some(m);
    }
    if let Some(vars) = input.pointer("/Environment/Variables") {
        let vars = vars
            .as_object()
            .ok_or_else(|| DeployError::Invalid("Environment.Variables is not a map".into()))?;
        let mut env = BTreeMap::new();
        for (k, v) in vars {
            let v = v.as_str().ok_or_else(|| {
                DeployError::Invalid(format!("Environment.Variables.{k} is not a string"))
            })?;
            env.insert(k.clone(), v.to_string());
        }
        c.env = Some(env);
    }
    c.description = input
        .get("Description")
        .and_then(Value::as_str)
        .map(str::to_string);
    c.role = input
        .get("Role")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(d) = input.get("DurableConfig") {
        c.execution_timeout_s = d.get("ExecutionTimeout").and_then(Value::as_u64);
        if let Some(days) = d.get("RetentionPeriodInDays").and_then(Value::as_u64) {
            if !(1..=MAX_RETENTION_DAYS).contains(&days) {
                return Err(DeployError::Invalid(format!(
                    "DurableConfig.RetentionPeriodInDays must be 1..={MAX_RETENTION_DAYS}"
                )));
            }
            c.retention_s = Some(days * 86_400);
        }
    }
    if let Some(m) =
        input.pointer("/CapacityProviderConfig/LambdaManagedInstancesCapacityProviderConfig")
    {
        let per_env = m
            .get("PerExecutionEnvironmentMaxConcurrency")
            .and_then(Value::as_u64)
            .unwrap_or(16);
        c.managed_concurrency = Some(u32::try_from(per_env).unwrap_or(u32::MAX));
    }
    Ok(c)
}

async fn create(host: &Host, input: &Value) -> Answer {
    let name = input
        .get("FunctionName")
        .and_then(Value::as_str)
        .map(|n| function_name(&percent_decode(n)))
        .ok_or_else(|| DeployError::Invalid("FunctionName is required".into()))?;
    let code = code_of(input.pointer("/Code/ZipFile"))?;
    let mut settings = Settings::from_config(&FunctionConfig::new(&name, "/"));
    settings_change(input)?.apply(&mut settings);
    let publish = input.get("Publish").and_then(Value::as_bool) == Some(true);
    let rec = host
        .deploy
        .create(
            host,
            NewFunction {
                name,
                code,
                settings,
                publish,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, latest_or_published(&rec, publish)))
}

async fn update_code(host: &Host, name: &str, input: &Value) -> Answer {
    let code = code_of(input.get("ZipFile"))?;
    let flag = |k: &str| input.get(k).and_then(Value::as_bool) == Some(true);
    let publish = flag("Publish");
    let rec = host
        .deploy
        .update_code(
            host,
            name,
            &code,
            publish,
            flag("DryRun"),
            input.get("RevisionId").and_then(Value::as_str),
        )
        .await?;
    Ok((StatusCode::OK, latest_or_published(&rec, publish)))
}

/// `POST /2015-03-31/functions/{name}/replay-check` (Lamina's own):
/// `{"ZipFile", "MoveCompatible"}` in, `{"Executions": [verdicts],
/// "Divergent": n}` out.
async fn replay_check(host: &Host, name: &str, input: &Value) -> Answer {
    let code = code_of(input.get("ZipFile"))?;
    let move_compatible = input.get("MoveCompatible").and_then(Value::as_bool) == Some(true);
    let verdicts = host
        .deploy
        .check_replay(host, name, &code, move_compatible)
        .await?;
    let divergent = verdicts.iter().filter(|v| v.result == "DIVERGENT").count();
    Ok((
        StatusCode::OK,
        json!({ "Executions": verdicts, "Divergent": divergent }),
    ))
}

async fn update_configuration(host: &Host, name: &str, input: &Value) -> Answer {
    let change = settings_change(input)?;
    let rec = host
        .deploy
        .update_settings(
            host,
            name,
            &change,
            input.get("RevisionId").and_then(Value::as_str),
        )
        .await?;
    Ok((StatusCode::OK, configuration(&rec, LATEST, &rec.latest)))
}

/// The configuration of `$LATEST`, or of the version just published.
fn latest_or_published(rec: &FunctionRecord, published: bool) -> Value {
    match rec.versions.iter().next_back() {
        Some((n, v)) if published => configuration(rec, &n.to_string(), v),
        _ => configuration(rec, LATEST, &rec.latest),
    }
}

fn get_function(host: &Host, name: &str, qualifier: Option<&str>) -> Answer {
    let rec = host.deploy.record(name).ok_or_else(|| not_found(name))?;
    let version = match qualifier {
        None | Some("") => LATEST.to_string(),
        Some(q) if q == LATEST || q.bytes().all(|b| b.is_ascii_digit()) => q.to_string(),
        Some(alias) => rec
            .aliases
            .get(alias)
            .map(|a| a.version.clone())
            .ok_or_else(|| {
                DeployError::NotFound(format!(
                    "Function not found: {}",
                    function_arn(name, Some(alias))
                ))
            })?,
    };
    let v = rec.version(&version).ok_or_else(|| {
        DeployError::NotFound(format!(
            "Function not found: {}",
            function_arn(name, Some(&version))
        ))
    })?;
    Ok((
        StatusCode::OK,
        json!({
            "Configuration": configuration(&rec, &version, v),
            "Code": {
                "RepositoryType": "Lamina",
                "Location": format!("code/{}.wasm", v.code_sha256),
            },
        }),
    ))
}

fn list(host: &Host, marker: Option<String>, max_items: Option<String>) -> (StatusCode, Value) {
    let max = max_items
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 10_000);
    let records = host.deploy.records();
    let after: Vec<&FunctionRecord> = records
        .iter()
        .filter(|r| marker.as_deref().is_none_or(|m| r.name.as_str() > m))
        .collect();
    let page: Vec<Value> = after
        .iter()
        .take(max)
        .map(|r| configuration(r, LATEST, &r.latest))
        .collect();
    let mut out = json!({ "Functions": page });
    if after.len() > max
        && let Some(last) = after.get(max - 1)
    {
        out["NextMarker"] = last.name.clone().into();
    }
    (StatusCode::OK, out)
}

fn list_versions(host: &Host, name: &str) -> Answer {
    let rec = host.deploy.record(name).ok_or_else(|| not_found(name))?;
    let mut versions = vec![configuration(&rec, LATEST, &rec.latest)];
    versions.extend(
        rec.versions
            .iter()
            .map(|(n, v)| configuration(&rec, &n.to_string(), v)),
    );
    Ok((StatusCode::OK, json!({ "Versions": versions })))
}

async fn put_alias(host: &Host, name: &str, alias: &str, input: &Value, create: bool) -> Answer {
    let s = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_string);
    let weights = match input.pointer("/RoutingConfig/AdditionalVersionWeights") {
        None => None,
        Some(w) => {
            let w = w.as_object().ok_or_else(|| {
                DeployError::Invalid("RoutingConfig.AdditionalVersionWeights is not a map".into())
            })?;
            let mut out = BTreeMap::new();
            for (v, weight) in w {
                let weight = weight.as_f64().ok_or_else(|| {
                    DeployError::Invalid(format!("the weight of version {v} is not a number"))
                })?;
                out.insert(v.clone(), weight);
            }
            Some(out)
        }
    };
    if create && s("FunctionVersion").is_none() {
        return Err(DeployError::Invalid("FunctionVersion is required".into()));
    }
    let change = AliasChange {
        version: s("FunctionVersion"),
        description: s("Description"),
        weights,
        revision_id: s("RevisionId"),
    };
    let a = host.deploy.put_alias(name, alias, change, create).await?;
    let status = if create {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, alias_json(name, alias, &a)))
}

fn alias_json(name: &str, alias: &str, a: &AliasRecord) -> Value {
    let mut v = json!({
        "AliasArn": function_arn(name, Some(alias)),
        "Name": alias,
        "FunctionVersion": a.version,
        "Description": a.description,
        "RevisionId": a.revision_id,
    });
    if !a.weights.is_empty() {
        v["RoutingConfig"] = json!({ "AdditionalVersionWeights": a.weights });
    }
    v
}

/// A version's `FunctionConfiguration`, plus a `Lamina` object with the
/// kind, mode and hex digest.
pub fn configuration(rec: &FunctionRecord, version: &str, v: &VersionRecord) -> Value {
    let s = &v.settings;
    let digest = hex::decode(&v.code_sha256).unwrap_or_default();
    let mut c = json!({
        "FunctionName": rec.name,
        "FunctionArn": function_arn(&rec.name, (version != LATEST).then_some(version)),
        "Role": s.role,
        "Handler": v.kind,
        "CodeSize": v.code_size,
        "Description": s.description,
        "Timeout": s.timeout_ms.div_ceil(1000),
        "MemorySize": s.memory_mb,
        "LastModified": iso8601(v.last_modified_ms),
        "CodeSha256": base64::encode(&digest),
        "Version": version,
        "RevisionId": v.revision_id,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Lamina": {
            "Kind": v.kind,
            "Mode": if s.managed.is_some() { "managed" } else { "standard" },
            "CodeSha256Hex": v.code_sha256,
        },
    });
    if !s.env.is_empty() {
        c["Environment"] = json!({ "Variables": s.env });
    }
    if v.kind == "durable" {
        c["DurableConfig"] = json!({
            "ExecutionTimeout": s.execution_timeout_s,
            "RetentionPeriodInDays": s.retention_s / 86_400,
        });
    }
    if let Some(m) = &s.managed {
        c["CapacityProviderConfig"] = json!({
            "LambdaManagedInstancesCapacityProviderConfig": {
                "CapacityProviderArn": format!(
                    "arn:aws:lambda:{}:{}:capacity-provider:lamina",
                    crate::deploy::REGION,
                    crate::deploy::ACCOUNT
                ),
                "PerExecutionEnvironmentMaxConcurrency": m.max_concurrency,
            }
        });
    }
    c
}

/// `2026-12-02T12:48:05.000+0000`, Lambda's `LastModified` format.
fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}+0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_lambda_format() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000+0000");
        assert_eq!(iso8601(1_796_215_685_123), "2026-12-02T12:48:05.123+0000");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000+0000");
    }

    #[test]
    fn settings_from_a_request() {
        let input = json!({
            "Timeout": 3, "MemorySize": 256,
            "Environment": {"Variables": {"A": "1"}},
            "DurableConfig": {"ExecutionTimeout": 60, "RetentionPeriodInDays": 2},
            "CapacityProviderConfig": {"LambdaManagedInstancesCapacityProviderConfig":
                {"CapacityProviderArn": "x", "PerExecutionEnvironmentMaxConcurrency": 4}},
        });
        let c = settings_change(&input).expect("valid");
        let mut s = Settings::from_config(&FunctionConfig::new("f", "/"));
        c.apply(&mut s);
        assert_eq!(s.timeout_ms, 3000);
        assert_eq!(s.memory_mb, 256);
        assert_eq!(s.env.get("A").map(String::as_str), Some("1"));
        assert_eq!(s.execution_timeout_s, 60);
        assert_eq!(s.retention_s, 2 * 86_400);
        assert_eq!(s.managed.map(|m| m.max_concurrency), Some(4));
        assert!(settings_change(&json!({"Timeout": 0})).is_err());
        assert!(
            settings_change(&json!({"DurableConfig": {"RetentionPeriodInDays": 400}})).is_err()
        );
    }
}
