//! Signs the CLI's requests with AWS Signature Version 4 when
//! `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are set, so `lamina
//! invoke`, `executions` and `callback` work against a host with `[auth]`.
//! The region is `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`;
//! the service is `lambda`. Every header of the request is signed (but the
//! few an SDK leaves out), as the AWS SDKs do.

use super::CliError;
use crate::api::auth::{canonical_query, uri_encode};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

/// Credentials: key id, secret, optional session token.
pub(crate) struct Credentials {
    id: String,
    secret: String,
    token: Option<String>,
}

/// Credentials and region from the environment, if any.
fn credentials() -> Option<(Credentials, String)> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let creds = Credentials {
        id: var("AWS_ACCESS_KEY_ID")?,
        secret: var("AWS_SECRET_ACCESS_KEY")?,
        token: var("AWS_SESSION_TOKEN"),
    };
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".to_string());
    Some((creds, region))
}

/// Headers an SDK does not sign (they may change on the way).
const UNSIGNED: &[&str] = &[
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "expect",
    "transfer-encoding",
    "connection",
];

/// Adds `Host`, `X-Amz-Date` and `Authorization` to `req` (whose body is
/// `body`) when credentials are in the environment; leaves it alone when not.
pub(crate) fn sign_request<B>(req: &mut http::Request<B>, body: &[u8]) -> Result<(), CliError> {
    let Some((creds, region)) = credentials() else {
        return Ok(());
    };
    sign_with(req, body, &creds, &region, SystemTime::now())
}

/// Signs `req` for service `lambda` in `region` at `at`.
pub(crate) fn sign_with<B>(
    req: &mut http::Request<B>,
    body: &[u8],
    creds: &Credentials,
    region: &str,
    at: SystemTime,
) -> Result<(), CliError> {
    let bad = |e: String| CliError::Http(format!("cannot sign the request: {e}"));
    if !req.headers().contains_key(http::header::HOST)
        && let Some(authority) = req.uri().authority()
        && let Ok(v) = http::HeaderValue::from_str(authority.as_str())
    {
        req.headers_mut().insert(http::header::HOST, v);
    }
    let (date, stamp) = crate::sigv4::amz_date(at);
    let headers = req.headers_mut();
    headers.insert(
        "x-amz-date",
        http::HeaderValue::from_str(&stamp).map_err(|e| bad(e.to_string()))?,
    );
    if let Some(token) = &creds.token {
        headers.insert(
            "x-amz-security-token",
            http::HeaderValue::from_str(token).map_err(|e| bad(e.to_string()))?,
        );
    }
    let mut names: Vec<String> = headers
        .keys()
        .map(|k| k.as_str().to_ascii_lowercase())
        .filter(|k| !UNSIGNED.contains(&k.as_str()))
        .collect();
    names.sort();
    names.dedup();
    let mut block = String::new();
    for name in &names {
        let values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        block.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let signed = names.join(";");
    let path = req.uri().path();
    let uri = uri_encode(
        if path.is_empty() {
            b"/"
        } else {
            path.as_bytes()
        },
        true,
    );
    let query = canonical_query(req.uri().query());
    let canonical = format!(
        "{}\n{uri}\n{query}\n{block}\n{signed}\n{}",
        req.method().as_str(),
        hex::encode(Sha256::digest(body))
    );
    let scope = format!("{date}/{region}/lambda/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = crate::sigv4::signing_key(&creds.secret, at, region, "lambda");
    let signature = crate::sigv4::signature(&key, to_sign.as_bytes());
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        creds.id
    );
    req.headers_mut().insert(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_str(&authorization).map_err(|e| bad(e.to_string()))?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// The same request signed by aws-sigv4, the AWS SDKs' signer.
    fn by_aws_sigv4(
        uri: &str,
        body: &[u8],
        token: Option<&str>,
        at: SystemTime,
    ) -> http::Request<()> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let mut req = request(uri);
        let identity = aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "secret/KEY",
            token.map(str::to_string),
            None,
            "test",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-3")
            .name("lambda")
            .time(at)
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let signable = SignableRequest::new(
            "POST",
            uri,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .expect("signable");
        let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
        instructions.apply_to_request_http1x(&mut req);
        req
    }

    fn request(uri: &str) -> http::Request<()> {
        http::Request::builder()
            .method("POST")
            .uri(uri)
            .header("host", "127.0.0.1:8080")
            .header("content-type", "application/json")
            .header("x-amz-invocation-type", "Event")
            .body(())
            .expect("request")
    }

    #[test]
    fn signatures_are_those_of_aws_sigv4() {
        let at = UNIX_EPOCH + Duration::from_secs(1_767_225_599);
        for (uri, token) in [
            (
                "http://127.0.0.1:8080/2015-03-31/functions/echo/invocations",
                None,
            ),
            (
                "http://127.0.0.1:8080/2025-12-01/durable-executions/arn%3Alamina%3Adurable%3Af%3A1/history?MaxItems=10&IncludeExecutionData=true",
                Some("session-token"),
            ),
            (
                "http://127.0.0.1:8080/2025-12-01/functions/f/durable-executions?Statuses=RUNNING&ReverseOrder=true",
                None,
            ),
        ] {
            let body = br#"{"a":1}"#;
            let mut ours = request(uri);
            let creds = Credentials {
                id: "AKIDEXAMPLE".into(),
                secret: "secret/KEY".into(),
                token: token.map(str::to_string),
            };
            sign_with(&mut ours, body, &creds, "eu-west-3", at).expect("sign");
            let theirs = by_aws_sigv4(uri, body, token, at);
            for h in ["authorization", "x-amz-date", "x-amz-security-token"] {
                assert_eq!(
                    ours.headers().get(h),
                    theirs.headers().get(h),
                    "{h} of {uri}"
                );
            }
        }
    }
}
