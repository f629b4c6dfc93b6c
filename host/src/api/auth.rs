//! Authentication of the control plane, when `[auth]` is configured.
//!
//! Every request to the Lambda and durable APIs, `/api/...` and `/metrics`
//! must carry an AWS Signature Version 4 (`Authorization` header) made with
//! one of the configured access keys, so boto3, the AWS CLI and the SDKs
//! work unchanged. The HMAC work is in [`crate::sigv4`]; this module builds
//! the canonical request from what the client says it signed and compares
//! in constant time.
//!
//! The dashboard logs in once with a key id and secret (`POST /ui/login`)
//! and then sends an HttpOnly, SameSite=Strict session cookie plus the
//! [`CSRF_HEADER`] header, which a page on another origin cannot add.
//!
//! `/healthz`, the dashboard's static files and the data plane of http
//! functions (`/NAME/...`) stay open, like a Lambda function URL with auth
//! type NONE.

use super::response::{Response, aws_error, json};
use super::server::{ApiBody, Host, read_body};
use crate::config::{AccessKey, AuthConfig};
use crate::error::InvokeError;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;

/// The dashboard's session cookie.
pub const SESSION_COOKIE: &str = "lamina_session";
/// The header the dashboard adds to every request it makes with its
/// session cookie (a cross-site form or image cannot add it).
pub const CSRF_HEADER: &str = "x-lamina-csrf";
/// How long a dashboard session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// How far `X-Amz-Date` may be from the host's clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);
/// The signing service name Lambda clients use.
pub const SERVICE: &str = "lambda";
/// Most dashboard sessions kept at once (the oldest go first).
const MAX_SESSIONS: usize = 10_000;
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The configured keys and the dashboard's sessions.
pub struct Auth {
    keys: Vec<AccessKey>,
    sessions: Mutex<HashMap<String, Instant>>,
}

impl Auth {
    /// Authentication with the keys of `config`.
    pub fn new(config: AuthConfig) -> Self {
        Auth {
            keys: config.access_keys,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn secret(&self, id: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|k| k.id == id)
            .map(|k| k.secret.as_str())
    }

    /// Whether `headers` carry a live session cookie and the CSRF header.
    fn session_ok(&self, headers: &HeaderMap) -> bool {
        if !headers.contains_key(CSRF_HEADER) {
            return false;
        }
        let Some(token) = cookie(headers, SESSION_COOKIE) else {
            return false;
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        match sessions.get(token) {
            Some(expires) if *expires > Instant::now() => true,
            Some(_) => {
                sessions.remove(token);
                false
            }
            None => false,
        }
    }

    fn new_session(&self) -> String {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, expires| *expires > now);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, e)| **e)
                .map(|(t, _)| t.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(token.clone(), now + SESSION_TTL);
        token
    }

    fn end_session(&self, headers: &HeaderMap) {
        if let Some(token) = cookie(headers, SESSION_COOKIE) {
            let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
            sessions.remove(token);
        }
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denied {
    /// No `Authorization` header (and no dashboard session).
    Missing,
    /// The header is there but malformed or incomplete.
    Incomplete(String),
    /// The access key id is not configured.
    UnknownKey,
    /// The signature does not match, or has expired.
    BadSignature(String),
}

impl Denied {
    /// The 403 answer in AWS's JSON error shape.
    pub(crate) fn response(&self) -> Response {
        let (kind, message) = match self {
            Denied::Missing => (
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".to_string(),
            ),
            Denied::Incomplete(m) => ("IncompleteSignatureException", m.clone()),
            Denied::UnknownKey => (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".to_string(),
            ),
            Denied::BadSignature(m) => ("InvalidSignatureException", m.clone()),
        };
        aws_error(StatusCode::FORBIDDEN, kind, message)
    }
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you \
                        provided. Check your AWS Secret Access Key and signing method.";

/// The parts of a SigV4 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SigV4 {
    /// The access key id.
    pub key_id: String,
    /// The credential scope's date, `YYYYMMDD`.
    pub date: String,
    /// The credential scope's region.
    pub region: String,
    /// The credential scope's service.
    pub service: String,
    /// The signed header names, lower case, in the order given.
    pub signed_headers: Vec<String>,
    /// The signature, lower-case hex.
    pub signature: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/SERVICE/aws4_request,
/// SignedHeaders=a;b, Signature=HEX`.
pub(crate) fn parse_authorization(value: &str) -> Result<SigV4, Denied> {
    let incomplete = |m: &str| Denied::Incomplete(m.to_string());
    let rest = value
        .trim()
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| {
            incomplete("Authorization header requires the AWS4-HMAC-SHA256 algorithm")
        })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').unwrap_or((part.trim(), ""));
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(incomplete(
            "Credential must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request",
        ));
    };
    if key_id.is_empty() || date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete(
            "Credential must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request",
        ));
    }
    let signed_headers: Vec<String> = signed
        .split(';')
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(incomplete("the Host header must be signed"));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(incomplete("Signature must be 64 hex digits"));
    }
    Ok(SigV4 {
        key_id: key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
        signature: signature.to_ascii_lowercase(),
    })
}

/// Parses an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`).
pub(crate) fn parse_amz_date(v: &str) -> Option<SystemTime> {
    let b = v.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = v.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil); the year has
    // four digits, so nothing here can overflow.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Checks the scope and the request time; returns the signing time. A
/// presigned request (`expires_s`) is valid from 15 minutes before its date
/// until its expiry; a signed one within 15 minutes of the host's clock.
pub(crate) fn check_scope(p: &Presented, now: SystemTime) -> Result<SystemTime, Denied> {
    let sig = &p.sig;
    if sig.service != SERVICE {
        return Err(Denied::BadSignature(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    let Some(amz_date) = p.amz_date.as_deref() else {
        return Err(Denied::Incomplete(
            "the request must carry a signed X-Amz-Date header".into(),
        ));
    };
    if p.expires_s.is_none() && !sig.signed_headers.iter().any(|h| h == "x-amz-date") {
        return Err(Denied::Incomplete("X-Amz-Date must be signed".into()));
    }
    let Some(at) = parse_amz_date(amz_date) else {
        return Err(Denied::Incomplete(format!(
            "X-Amz-Date `{amz_date}` is not of the form YYYYMMDDTHHMMSSZ"
        )));
    };
    if !amz_date.starts_with(&sig.date) {
        return Err(Denied::BadSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{}'",
            sig.date,
            &amz_date[..8]
        )));
    }
    let ahead = at.duration_since(now).unwrap_or(Duration::ZERO);
    let behind = now.duration_since(at).unwrap_or(Duration::ZERO);
    let valid_for = p.expires_s.map_or(MAX_CLOCK_SKEW, Duration::from_secs);
    if ahead > MAX_CLOCK_SKEW || behind > valid_for {
        return Err(Denied::BadSignature(match p.expires_s {
            Some(_) => format!(
                "Request has expired (X-Amz-Date {amz_date}, X-Amz-Expires {})",
                valid_for.as_secs()
            ),
            None => format!(
                "Signature expired: {amz_date} is more than 15 minutes away from the host's time"
            ),
        }));
    }
    Ok(at)
}

/// A signature as presented: from the `Authorization` header, or from the
/// query string of a presigned URL (`expires_s` set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Presented {
    /// The signature and its scope.
    pub sig: SigV4,
    /// `X-Amz-Date`, from the header or the query.
    pub amz_date: Option<String>,
    /// `X-Amz-Expires` of a presigned URL, in seconds.
    pub expires_s: Option<u64>,
}

/// Finds the signature of a request: `Authorization`, else presigned query
/// parameters, else [`Denied::Missing`].
pub(crate) fn presented(headers: &HeaderMap, query: Option<&str>) -> Result<Presented, Denied> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        return Ok(Presented {
            sig: parse_authorization(value.to_str().unwrap_or(""))?,
            amz_date: headers
                .get("x-amz-date")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            expires_s: None,
        });
    }
    let pairs: Vec<(String, String)> = query
        .unwrap_or("")
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(&percent_decode_bytes(k)).into_owned(),
                String::from_utf8_lossy(&percent_decode_bytes(v)).into_owned(),
            )
        })
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let Some(signature) = get("X-Amz-Signature") else {
        return Err(Denied::Missing);
    };
    if get("X-Amz-Algorithm") != Some(ALGORITHM) {
        return Err(Denied::Incomplete(
            "X-Amz-Algorithm must be AWS4-HMAC-SHA256".into(),
        ));
    }
    let expires_s = get("X-Amz-Expires")
        .and_then(|e| e.parse::<u64>().ok())
        .filter(|e| (1..=604_800).contains(e))
        .ok_or_else(|| {
            Denied::Incomplete("X-Amz-Expires must be a number of seconds from 1 to 604800".into())
        })?;
    let header = format!(
        "{ALGORITHM} Credential={}, SignedHeaders={}, Signature={signature}",
        get("X-Amz-Credential").unwrap_or(""),
        get("X-Amz-SignedHeaders").unwrap_or("")
    );
    Ok(Presented {
        sig: parse_authorization(&header)?,
        amz_date: get("X-Amz-Date").map(str::to_string),
        expires_s: Some(expires_s),
    })
}

/// `UriEncode` of SigV4: every byte but `A-Za-z0-9-_.~` (and `/` when
/// `keep_slash`) as `%XX`.
pub(crate) fn uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decoding to bytes (`+` stays `+`); a stray `%` stays as is.
fn percent_decode_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = b.get(i + 1..i + 3)
            && let Some(v) = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The canonical URIs a client may have signed for `path` (as sent, already
/// percent-encoded): encoded once more (botocore and the AWS SDKs for every
/// service but S3), or normalised once.
fn canonical_uris(path: &str) -> Vec<String> {
    let path = if path.is_empty() { "/" } else { path };
    let double = uri_encode(path.as_bytes(), true);
    let single = uri_encode(&percent_decode_bytes(path), true);
    if double == single {
        vec![double]
    } else {
        vec![double, single]
    }
}

/// The canonical query string of SigV4: pairs decoded and encoded strictly,
/// sorted (what the AWS SDKs sign).
pub(crate) fn canonical_query(query: Option<&str>) -> String {
    canonical_queries(query, false).swap_remove(0)
}

/// The canonical query strings a client may have signed: pairs decoded and
/// encoded strictly, or kept as sent (botocore), sorted; a presigned URL's
/// own `X-Amz-Signature` left out.
fn canonical_queries(query: Option<&str>, presigned: bool) -> Vec<String> {
    let pairs: Vec<(&str, &str)> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .filter(|(k, _)| !(presigned && *k == "X-Amz-Signature"))
        .collect();
    let mut strict: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| {
            (
                uri_encode(&percent_decode_bytes(k), false),
                uri_encode(&percent_decode_bytes(v), false),
            )
        })
        .collect();
    strict.sort();
    let mut raw: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    raw.sort();
    let join = |v: &[(String, String)]| {
        v.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let (a, b) = (join(&strict), join(&raw));
    if a == b { vec![a] } else { vec![a, b] }
}

/// The canonical headers block and the signed-headers line, or the name of
/// a signed header the request lacks.
fn canonical_headers(headers: &HeaderMap, signed: &[String]) -> Result<(String, String), String> {
    let mut block = String::new();
    for name in signed {
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
        if values.is_empty() {
            return Err(name.clone());
        }
        block.push_str(name);
        block.push(':');
        block.push_str(&values.join(","));
        block.push('\n');
    }
    Ok((block, signed.join(";")))
}

/// Whether `p` is a valid signature of the request (whose body hashes to
/// `payload_hash`) by `secret` at `at`. A presigned URL may also have
/// signed `UNSIGNED-PAYLOAD`, as presigned URLs do.
#[allow(clippy::too_many_arguments)]
pub(crate) fn signature_matches(
    p: &Presented,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    payload_hash: &str,
    secret: &str,
    at: SystemTime,
) -> Result<(), Denied> {
    let sig = &p.sig;
    let presigned = p.expires_s.is_some();
    let (header_block, signed_line) = canonical_headers(headers, &sig.signed_headers)
        .map_err(|h| Denied::BadSignature(format!("signed header `{h}` is missing")))?;
    let amz_date = p.amz_date.as_deref().unwrap_or("");
    let mut payload_hashes = vec![payload_hash];
    if presigned {
        payload_hashes.push("UNSIGNED-PAYLOAD");
    }
    let scope = format!("{}/{}/{}/aws4_request", sig.date, sig.region, sig.service);
    let key = crate::sigv4::signing_key(secret, at, &sig.region, &sig.service);
    let mut ok = subtle::Choice::from(0);
    for uri in canonical_uris(path) {
        for q in canonical_queries(query, presigned) {
            for hash in &payload_hashes {
                let canonical =
                    format!("{method}\n{uri}\n{q}\n{header_block}\n{signed_line}\n{hash}");
                let to_sign = format!(
                    "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
                    hex::encode(Sha256::digest(canonical.as_bytes()))
                );
                let expected = crate::sigv4::signature(&key, to_sign.as_bytes());
                ok |= expected.as_bytes().ct_eq(sig.signature.as_bytes());
            }
        }
    }
    if bool::from(ok) {
        Ok(())
    } else {
        Err(Denied::BadSignature(MISMATCH.into()))
    }
}

/// Admits a control-plane request: without `[auth]` as it is; with it, only
/// with a valid signature (its body then read, checked and handed on) or a
/// dashboard session.
pub async fn admit(
    host: &Host,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Request<ApiBody>, Response> {
    let Some(auth) = &host.auth else {
        return Ok(req.map(Either::Left));
    };
    if auth.session_ok(req.headers()) {
        return Ok(req.map(Either::Left));
    }
    let deny = |d: Denied| {
        tracing::debug!(reason = ?d, "request refused");
        d.response()
    };
    let p = presented(req.headers(), req.uri().query()).map_err(deny)?;
    let Some(secret) = auth.secret(&p.sig.key_id) else {
        return Err(deny(Denied::UnknownKey));
    };
    let at = check_scope(&p, SystemTime::now()).map_err(deny)?;
    let (parts, body) = req.into_parts();
    let limit = super::control::body_limit(host, &parts.method, parts.uri.path());
    let bytes = match read_body(body, limit).await {
        Ok(b) => b,
        Err(InvokeError::PayloadTooLarge { .. }) => {
            return Err(aws_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                format!("the request body must be smaller than {limit} bytes"),
            ));
        }
        Err(e) => {
            return Err(aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                e.to_string(),
            ));
        }
    };
    let payload_hash = hex::encode(Sha256::digest(&bytes));
    if let Some(claimed) = parts.headers.get("x-amz-content-sha256")
        && claimed.as_bytes() != payload_hash.as_bytes()
    {
        return Err(deny(Denied::BadSignature(
            "The provided 'x-amz-content-sha256' header does not match what was computed.".into(),
        )));
    }
    signature_matches(
        &p,
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query(),
        &parts.headers,
        &payload_hash,
        secret,
        at,
    )
    .map_err(deny)?;
    Ok(hyper::Request::from_parts(
        parts,
        Either::Right(Full::new(bytes)),
    ))
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name && !v.is_empty()).then_some(v)
        })
}

#[derive(serde::Deserialize)]
struct Login {
    access_key_id: String,
    secret_access_key: String,
}

/// `POST /ui/login` (JSON `{"access_key_id", "secret_access_key"}`) starts
/// a dashboard session; `POST /ui/logout` ends it. Both need the
/// [`CSRF_HEADER`] header.
pub async fn login_route(host: &Host, req: hyper::Request<Incoming>, logout: bool) -> Response {
    let Some(auth) = &host.auth else {
        return aws_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "this host has no [auth] configured: the dashboard needs no login",
        );
    };
    if !req.headers().contains_key(CSRF_HEADER) {
        return aws_error(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            format!("the {CSRF_HEADER} header is required"),
        );
    }
    if logout {
        auth.end_session(req.headers());
        return with_cookie(
            json(StatusCode::OK, &serde_json::json!({})),
            &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        );
    }
    let body = match read_body(req.into_body(), 16 * 1024).await {
        Ok(b) => b,
        Err(e) => {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                e.to_string(),
            );
        }
    };
    let Ok(login) = serde_json::from_slice::<Login>(&body) else {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "send JSON {\"access_key_id\": \"...\", \"secret_access_key\": \"...\"}",
        );
    };
    if !secret_ok(auth, &login) {
        tracing::warn!(key = %login.access_key_id, "dashboard login refused");
        return aws_error(
            StatusCode::FORBIDDEN,
            "UnrecognizedClientException",
            "unknown access key id or wrong secret",
        );
    }
    let token = auth.new_session();
    with_cookie(
        json(
            StatusCode::OK,
            &serde_json::json!({ "access_key_id": login.access_key_id }),
        ),
        &format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
            SESSION_TTL.as_secs()
        ),
    )
}

fn secret_ok(auth: &Auth, login: &Login) -> bool {
    let mut ok = subtle::Choice::from(0);
    for k in &auth.keys {
        let id = k.id.as_bytes().ct_eq(login.access_key_id.as_bytes());
        let secret = k
            .secret
            .as_bytes()
            .ct_eq(login.secret_access_key.as_bytes());
        ok |= id & secret;
    }
    bool::from(ok)
}

fn with_cookie(mut resp: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};

    /// Signs a request with aws-sigv4's own signer, as an AWS SDK would.
    fn signed(
        method: &str,
        uri: &str,
        body: &[u8],
        key: &str,
        secret: &str,
        at: SystemTime,
    ) -> http::Request<()> {
        signed_with(
            method,
            uri,
            body,
            key,
            secret,
            at,
            SigningSettings::default(),
        )
    }

    fn signed_with(
        method: &str,
        uri: &str,
        body: &[u8],
        key: &str,
        secret: &str,
        at: SystemTime,
        settings: SigningSettings,
    ) -> http::Request<()> {
        let mut req = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:8080")
            .header("content-type", "application/json")
            .header("x-amz-invocation-type", "Event")
            .body(())
            .expect("request");
        let identity = Credentials::new(key, secret, None, None, "test").into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-3")
            .name("lambda")
            .time(at)
            .settings(settings)
            .build()
            .expect("params")
            .into();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let signable = SignableRequest::new(
            method,
            uri,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .expect("signable");
        let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
        instructions.apply_to_request_http1x(&mut req);
        req
    }

    fn verify(
        req: &http::Request<()>,
        body: &[u8],
        secret: &str,
        now: SystemTime,
    ) -> Result<(), Denied> {
        let p = presented(req.headers(), req.uri().query())?;
        let at = check_scope(&p, now)?;
        signature_matches(
            &p,
            req.method().as_str(),
            req.uri().path(),
            req.uri().query(),
            req.headers(),
            &hex::encode(Sha256::digest(body)),
            secret,
            at,
        )
    }

    #[test]
    fn a_request_signed_by_aws_sigv4_verifies() {
        let now = SystemTime::now();
        let uri = "http://127.0.0.1:8080/2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Ax/history?MaxItems=10&IncludeExecutionData=true&Marker=a%20b";
        let req = signed("GET", uri, b"", "AKID", "s3cr3t", now);
        assert_eq!(verify(&req, b"", "s3cr3t", now), Ok(()));
        let req = signed(
            "POST",
            "http://127.0.0.1:8080/2015-03-31/functions/echo/invocations",
            b"{\"a\":1}",
            "AKID",
            "s3cr3t",
            now,
        );
        assert_eq!(verify(&req, b"{\"a\":1}", "s3cr3t", now), Ok(()));
        // A changed body, secret or clock fails.
        assert!(matches!(
            verify(&req, b"{\"a\":2}", "s3cr3t", now),
            Err(Denied::BadSignature(_))
        ));
        assert!(matches!(
            verify(&req, b"{\"a\":1}", "other", now),
            Err(Denied::BadSignature(_))
        ));
        let later = now + Duration::from_secs(16 * 60);
        assert!(
            matches!(verify(&req, b"{\"a\":1}", "s3cr3t", later), Err(Denied::BadSignature(m)) if m.contains("expired"))
        );
    }

    #[test]
    fn a_presigned_url_verifies_until_it_expires() {
        let now = SystemTime::now();
        let mut settings = SigningSettings::default();
        settings.signature_location = aws_sigv4::http_request::SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
        let uri = "http://127.0.0.1:8080/2025-12-01/functions/f/durable-executions?MaxItems=3";
        let req = signed_with("GET", uri, b"", "AKID", "s3cr3t", now, settings);
        assert!(req.headers().get(header::AUTHORIZATION).is_none());
        assert!(
            req.uri()
                .query()
                .is_some_and(|q| q.contains("X-Amz-Signature="))
        );
        assert_eq!(verify(&req, b"", "s3cr3t", now), Ok(()));
        assert!(matches!(
            verify(&req, b"", "other", now),
            Err(Denied::BadSignature(_))
        ));
        let later = now + Duration::from_secs(301);
        assert!(matches!(
            verify(&req, b"", "s3cr3t", later),
            Err(Denied::BadSignature(m)) if m.contains("expired")
        ));
        let no_auth = http::Request::builder()
            .uri("http://h/x?a=1")
            .body(())
            .expect("request");
        assert_eq!(
            presented(no_auth.headers(), no_auth.uri().query()),
            Err(Denied::Missing)
        );
    }

    #[test]
    fn authorization_headers_are_parsed_strictly() {
        let ok = "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=".to_string()
            + &"a".repeat(64);
        let sig = parse_authorization(&ok).expect("valid");
        assert_eq!(sig.key_id, "AK");
        assert_eq!(sig.signed_headers, ["host", "x-amz-date"]);
        for bad in [
            "",
            "Basic abc",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=AK/2026/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/lambda, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/20260101/r/lambda/aws4_request, SignedHeaders=x-amz-date, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AK/20260101/r/lambda/aws4_request, SignedHeaders=host, Signature=zz",
            "AWS4-HMAC-SHA256 Credential=€/2026€€01/r/lambda/aws4_request, SignedHeaders=host, Signature=00",
        ] {
            assert!(
                matches!(parse_authorization(bad), Err(Denied::Incomplete(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn amz_dates() {
        assert_eq!(
            parse_amz_date("20260101T000000Z"),
            UNIX_EPOCH.checked_add(Duration::from_secs(1_767_225_600))
        );
        for bad in [
            "",
            "2026-01-01T00:00:00Z",
            "20261301T000000Z",
            "2026010€T00000Z",
            "+0260101T000000Z",
            "99999999T999999Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; lamina_session=tok; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn sessions_need_the_csrf_header() {
        let auth = Auth::new(AuthConfig {
            access_keys: vec![AccessKey {
                id: "AK".into(),
                secret: "s".into(),
            }],
        });
        let token = auth.new_session();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{SESSION_COOKIE}={token}")).expect("ascii"),
        );
        assert!(!auth.session_ok(&h));
        h.insert(CSRF_HEADER, HeaderValue::from_static("1"));
        assert!(auth.session_ok(&h));
        auth.end_session(&h);
        assert!(!auth.session_ok(&h));
    }
}
