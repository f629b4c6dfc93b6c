//! Response helpers shared by the API modules: the body type, plain and
//! JSON responses, AWS-shaped errors and the timing headers.

use crate::modes::standard::Timing;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full};
use std::convert::Infallible;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The body type of every response the host sends.
pub type Body = HyperOutgoingBody;
/// A response the host sends.
pub type Response = hyper::Response<Body>;

/// Header with the microseconds spent creating and instantiating the instance.
pub const INSTANTIATE_HEADER: &str = "x-lamina-instantiate-us";
/// Header with the microseconds the guest ran.
pub const RUN_HEADER: &str = "x-lamina-run-us";
/// Header with the request id (the Lambda name for it).
pub const REQUEST_ID_HEADER: &str = "x-amzn-requestid";

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|e: Infallible| match e {})
        .boxed_unsync()
}

/// A plain-text response.
pub fn text(status: StatusCode, message: impl Into<String>) -> Response {
    let mut body = message.into();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    let mut resp = hyper::Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// A JSON response.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut resp = hyper::Response::new(full(value.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// An error in the AWS REST-JSON shape: status, `x-amzn-ErrorType` header and
/// a JSON body with `__type` and `message`, as botocore parses it.
pub fn aws_error(status: StatusCode, error_type: &str, message: impl Into<String>) -> Response {
    let message = message.into();
    let mut resp = json(
        status,
        &serde_json::json!({
            "__type": error_type,
            "Type": if status.is_server_error() { "Service" } else { "User" },
            "message": message,
        }),
    );
    if let Ok(v) = HeaderValue::from_str(error_type) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

/// Adds the timing headers of one invocation.
pub fn add_timing(resp: &mut Response, timing: &Timing) {
    let h = resp.headers_mut();
    h.insert(
        INSTANTIATE_HEADER,
        HeaderValue::from(timing.instantiate.as_micros() as u64),
    );
    h.insert(RUN_HEADER, HeaderValue::from(timing.run.as_micros() as u64));
}

/// Adds the request id header.
pub fn add_request_id(resp: &mut Response, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
}
