//! Standard mode, http kind: an unmodified `wasi:http/proxy` component.

use crate::support::*;

#[tokio::test]
async fn hello_http_is_served_at_its_prefix_with_timing_headers() {
    let g = guests();
    let host = Lamina::start(&[g.hello_http.to_str().expect("utf8")]);
    let resp = client()
        .get(host.at("/hello-http/greet?x=1"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    for h in [
        "x-lamina-instantiate-us",
        "x-lamina-run-us",
        "x-amzn-requestid",
    ] {
        assert!(resp.headers().contains_key(h), "missing {h}");
    }
    let inst: u64 = resp.headers()["x-lamina-instantiate-us"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("number");
    assert!(inst > 0, "instantiate time must be measured");
    let body = resp.text().await.expect("body");
    assert!(body.contains("Hello from Lamina!"), "{body}");
    // The route prefix is stripped: the component sees the path it would see alone.
    assert!(body.contains("path: /greet?x=1"), "{body}");

    // The only http function also serves `/`.
    let body = client()
        .get(host.at("/"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(body.contains("path: /"), "{body}");

    assert_eq!(
        host.metric("lamina_invocations_total{function=\"hello-http\",kind=\"http\"}")
            .await,
        Some(2.0)
    );
    assert_eq!(
        host.metric("lamina_instantiate_seconds_count{function=\"hello-http\"}")
            .await,
        Some(2.0)
    );
}

#[tokio::test]
async fn unknown_function_and_oversized_body_get_clear_errors() {
    let g = guests();
    let host = Lamina::with_config(
        &format!(
            "[host]\nmax_body_bytes = 1024\n[functions.hello-http]\ncomponent = {}\n[functions.echo]\ncomponent = {}\n",
            toml_path(&g.hello_http),
            toml_path(&g.echo)
        ),
        &[],
    );

    let resp = client()
        .get(host.at("/nope/x"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 404);
    let body = resp.text().await.expect("body");
    assert!(
        body.contains("/nope/x") && body.contains("echo, hello-http"),
        "{body}"
    );

    // A handler function is not on the data plane: the error says how to call it.
    let resp = client()
        .get(host.at("/echo/"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("/2015-03-31/functions/echo/invocations")
    );

    // Declared length over the limit.
    let resp = client()
        .post(host.at("/hello-http/"))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 413);
    assert!(resp.text().await.expect("body").contains("1024 bytes"));

    // Chunked body over the limit (no content-length).
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..8).map(|_| Ok(vec![b'y'; 512])).collect();
    let resp = client()
        .post(host.at("/hello-http/"))
        .body(reqwest::Body::wrap_stream(futures_stream(chunks)))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 413);
    assert!(resp.text().await.expect("body").contains("1024 bytes"));

    // A body within the limit reaches the guest whole.
    let resp = client()
        .post(host.at("/hello-http/"))
        .body(vec![b'z'; 1000])
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.text()
            .await
            .expect("body")
            .contains("body: 1000 bytes")
    );

    // The host keeps serving.
    let resp = client()
        .get(host.at("/hello-http/"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
}

fn futures_stream(
    items: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::iter(items)
}
