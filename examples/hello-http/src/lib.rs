//! A plain `wasi:http/proxy` component, written against the `wasi` crate
//! rather than the Lamina SDK. It proves that components built for
//! `wasmtime serve` run on Lamina unmodified.
//!
//! Every request gets `200 OK`, `content-type: text/plain` and the body
//!
//! ```text
//! Hello from Lamina!
//! path: /the/path?and=query
//! body: N bytes
//! ```
//!
//! where the second line echoes the path (with query) the component received
//! and the third the size of the request body it read (if reading the body
//! fails, for example because the host cut it off, it answers 400).

use std::io::Write as _;

use wasi::exports::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingBody, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct HelloHttp;

impl Guest for HelloHttp {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_else(|| "/".to_owned());
        let (status, body_text) = match read_body(request) {
            Ok(n) => (
                200,
                format!("Hello from Lamina!\npath: {path}\nbody: {n} bytes\n"),
            ),
            Err(e) => (400, format!("could not read the request body: {e}\n")),
        };

        let headers = Fields::from_list(&[
            ("content-type".to_owned(), b"text/plain".to_vec()),
            (
                "content-length".to_owned(),
                body_text.len().to_string().into_bytes(),
            ),
        ])
        .expect("static headers are valid");
        let response = OutgoingResponse::new(headers);
        response
            .set_status_code(status)
            .expect("200 and 400 are valid status codes");
        let body = response.body().expect("response body is taken once");

        ResponseOutparam::set(response_out, Ok(response));

        {
            let mut stream = body.write().expect("body stream is taken once");
            stream
                .write_all(body_text.as_bytes())
                .expect("write response body");
            stream.flush().expect("flush response body");
        }
        OutgoingBody::finish(body, None).expect("finish response body");
    }
}

/// Reads the whole request body and returns its length in bytes.
fn read_body(request: IncomingRequest) -> Result<u64, String> {
    let body = request
        .consume()
        .map_err(|()| "body already taken".to_string())?;
    let mut total = 0u64;
    {
        let stream = body
            .stream()
            .map_err(|()| "body stream already taken".to_string())?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => total += chunk.len() as u64,
                Err(wasi::io::streams::StreamError::Closed) => break,
                Err(wasi::io::streams::StreamError::LastOperationFailed(e)) => {
                    return Err(e.to_debug_string());
                }
            }
        }
    }
    IncomingBody::finish(body);
    Ok(total)
}

wasi::http::proxy::export!(HelloHttp);
