//! Signs the CLI's requests with AWS Signature Version 4 (through
//! `aws-sigv4`) when `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are
//! set, so `lamina invoke`, `executions` and `callback` work against a host
//! with `[auth]`. The region is `AWS_REGION`, else `AWS_DEFAULT_REGION`,
//! else `us-east-1`; the service is `lambda`.

use super::CliError;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use std::time::SystemTime;

/// Credentials from the environment, if any.
fn credentials() -> Option<(Credentials, String)> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let id = var("AWS_ACCESS_KEY_ID")?;
    let secret = var("AWS_SECRET_ACCESS_KEY")?;
    let token = var("AWS_SESSION_TOKEN");
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".to_string());
    Some((
        Credentials::new(id, secret, token, None, "environment"),
        region,
    ))
}

/// Adds `Host`, `X-Amz-Date` and `Authorization` to `req` (whose body is
/// `body`) when credentials are in the environment; leaves it alone when not.
pub(crate) fn sign_request<B>(req: &mut http::Request<B>, body: &[u8]) -> Result<(), CliError> {
    let Some((creds, region)) = credentials() else {
        return Ok(());
    };
    if !req.headers().contains_key(http::header::HOST)
        && let Some(authority) = req.uri().authority()
        && let Ok(v) = http::HeaderValue::from_str(authority.as_str())
    {
        req.headers_mut().insert(http::header::HOST, v);
    }
    let identity = creds.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name("lambda")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| CliError::Http(format!("cannot sign the request: {e}")))?
        .into();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let uri = req.uri().to_string();
    let signable = SignableRequest::new(
        req.method().as_str(),
        &uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| CliError::Http(format!("cannot sign the request: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| CliError::Http(format!("cannot sign the request: {e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(req);
    Ok(())
}
