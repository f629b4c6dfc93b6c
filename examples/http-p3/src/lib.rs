//! A `wasi:http` 0.3 service (`wasi:http/handler@0.3.0`, an `async`
//! export): one instance can serve many requests at once.
//!
//! Every answer is `200` with the body
//! `count=N in_flight=K max_in_flight=M instance=ID`: `N` is how many
//! requests this instance has taken, this one included; `K` how many it is
//! serving now (this one included); `M` the most it served at once so far;
//! `ID` 16 hex digits, random per instance. `/sleep/MS` first awaits a
//! `MS` millisecond WASI timer, so requests overlap; `/trap` panics, which
//! traps the instance.

use std::cell::{Cell, OnceCell};

use wasip3::http::types::{ErrorCode, Fields, Request, Response};
use wasip3::{wit_bindgen, wit_future, wit_stream};

wasip3::http::service::export!(HttpP3);

thread_local! {
    static TAKEN: Cell<u64> = const { Cell::new(0) };
    static IN_FLIGHT: Cell<u64> = const { Cell::new(0) };
    static MAX_IN_FLIGHT: Cell<u64> = const { Cell::new(0) };
    static ID: OnceCell<u64> = const { OnceCell::new() };
}

/// Counts a request in flight until dropped.
struct InFlight;

impl InFlight {
    fn start() -> (Self, u64) {
        let now = IN_FLIGHT.get() + 1;
        IN_FLIGHT.set(now);
        MAX_IN_FLIGHT.set(MAX_IN_FLIGHT.get().max(now));
        (InFlight, now)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.set(IN_FLIGHT.get() - 1);
    }
}

struct HttpP3;

impl wasip3::exports::http::handler::Guest for HttpP3 {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let path = request
            .get_path_with_query()
            .unwrap_or_else(|| "/".to_owned());
        if path.starts_with("/trap") {
            panic!("trap requested by {path}");
        }
        let count = TAKEN.get() + 1;
        TAKEN.set(count);
        let (guard, _) = InFlight::start();
        let mut in_flight = IN_FLIGHT.get();
        if let Some(ms) = path
            .strip_prefix("/sleep/")
            .and_then(|ms| ms.parse::<u64>().ok())
        {
            wasip3::clocks::monotonic_clock::wait_for(ms * 1_000_000).await;
            in_flight = in_flight.max(IN_FLIGHT.get());
        }
        let id = ID.with(|id| *id.get_or_init(wasip3::random::random::get_random_u64));
        let text = format!(
            "count={count} in_flight={in_flight} max_in_flight={} instance={id:016x}\n",
            MAX_IN_FLIGHT.get()
        );
        drop(guard);

        let (mut body_tx, body_rx) = wit_stream::new();
        let (body_result_tx, body_result_rx) = wit_future::new(|| Ok(None));
        let (response, _sent) = Response::new(Fields::new(), Some(body_rx), body_result_rx);
        drop(body_result_tx);
        wit_bindgen::spawn_local(async move {
            let rest = body_tx.write_all(text.into_bytes()).await;
            assert!(rest.is_empty(), "the host reads the whole body");
        });
        Ok(response)
    }
}
