//! A `wasi:http/proxy` component for managed mode: it exports
//! `lamina:function/lifecycle` beside its HTTP handler, and every answer
//! says how many requests its instance has served.
//!
//! * `init` counts its own runs and picks a random instance id.
//! * `GET /` (any path but the two below) answers `200` with the body
//!   `count=N inits=I instance=ID`: `N` is how many requests this instance
//!   has served, this one included; `I` how many times `init` ran in it;
//!   `ID` 16 hex digits, random per instance.
//! * `/sleep/MS` waits `MS` milliseconds (on a WASI timer) before
//!   answering the same way, so requests overlap.
//! * `/trap` panics, which traps the instance.
//!
//! In managed mode `count` climbs and `inits` is 1; in standard mode every
//! request gets a fresh instance, `init` never runs and the body is always
//! `count=1 inits=0`.

use std::io::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use wasi::exports::http::incoming_handler::Guest as HttpGuest;
use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wit_bindgen::generate!({
    path: "../../wit/function",
    world: "lamina:function/http-lifecycle",
});

/// Requests this instance served.
static SERVED: AtomicU64 = AtomicU64::new(0);
/// Times `init` ran in this instance.
static INITS: AtomicU64 = AtomicU64::new(0);
/// This instance's random id.
static ID: OnceLock<u64> = OnceLock::new();

fn instance_id() -> u64 {
    *ID.get_or_init(wasi::random::random::get_random_u64)
}

struct HttpCounter;

impl exports::lamina::function::lifecycle::Guest for HttpCounter {
    fn init() -> Result<(), String> {
        INITS.fetch_add(1, Ordering::Relaxed);
        instance_id();
        Ok(())
    }
}

impl HttpGuest for HttpCounter {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_else(|| "/".to_owned());
        if path.starts_with("/trap") {
            panic!("trap requested by {path}");
        }
        if let Some(ms) = path
            .strip_prefix("/sleep/")
            .and_then(|ms| ms.parse::<u64>().ok())
        {
            wasi::clocks::monotonic_clock::subscribe_duration(ms * 1_000_000).block();
        }
        let count = SERVED.fetch_add(1, Ordering::Relaxed) + 1;
        let text = format!(
            "count={count} inits={} instance={:016x}\n",
            INITS.load(Ordering::Relaxed),
            instance_id()
        );
        let headers = Fields::from_list(&[("content-type".to_owned(), b"text/plain".to_vec())])
            .expect("static headers are valid");
        let response = OutgoingResponse::new(headers);
        let body = response.body().expect("response body is taken once");
        ResponseOutparam::set(response_out, Ok(response));
        {
            let mut stream = body.write().expect("body stream is taken once");
            stream
                .write_all(text.as_bytes())
                .expect("write response body");
            stream.flush().expect("flush response body");
        }
        OutgoingBody::finish(body, None).expect("finish response body");
    }
}

export!(HttpCounter);
wasi::http::proxy::export!(HttpCounter);
