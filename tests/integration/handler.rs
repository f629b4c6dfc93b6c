//! Standard mode, handler kind, through the Lambda-compatible invoke API.

use crate::support::*;

#[tokio::test]
async fn invocation_types_and_api_errors() {
    let g = guests();
    let host = Lamina::start(&[g.echo.to_str().expect("utf8")]);

    // RequestResponse: 200 with the echoed payload and timing headers.
    let resp = invoke(
        &host,
        "echo",
        r#"{"a":1,"b":[true,null]}"#,
        "RequestResponse",
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("x-amz-function-error").is_none());
    assert!(resp.headers().contains_key("x-lamina-instantiate-us"));
    assert!(resp.headers().contains_key("x-amzn-requestid"));
    let v: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(v, serde_json::json!({"a":1,"b":[true,null]}));

    // No header at all means RequestResponse; an ARN works as the name.
    let resp = client()
        .post(host.at("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aecho/invocations"))
        .body("[1,2,3]")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body"), "[1,2,3]");

    // Event: 202 at once, runs in the background.
    let before = host
        .metric("lamina_invocations_total{function=\"echo\",kind=\"handler\"}")
        .await
        .unwrap_or(0.0);
    let resp = invoke(&host, "echo", r#"{"async":true}"#, "Event").await;
    assert_eq!(resp.status(), 202);
    let mut seen = before;
    for _ in 0..100 {
        seen = host
            .metric("lamina_invocations_total{function=\"echo\",kind=\"handler\"}")
            .await
            .unwrap_or(0.0);
        if seen > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        seen,
        before + 1.0,
        "the Event invocation ran in the background"
    );

    // DryRun: 204, nothing runs.
    let resp = invoke(&host, "echo", "{}", "DryRun").await;
    assert_eq!(resp.status(), 204);
    assert_eq!(
        host.metric("lamina_invocations_total{function=\"echo\",kind=\"handler\"}")
            .await,
        Some(seen)
    );

    // Unknown function: AWS-shaped 404.
    let resp = invoke(&host, "nope", "{}", "RequestResponse").await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "ResourceNotFoundException"
    );
    let v: serde_json::Value = resp.json().await.expect("json");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("Function not found: nope")
    );

    // Malformed JSON payload.
    let resp = invoke(&host, "echo", "{not json", "RequestResponse").await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "InvalidRequestContentException"
    );

    // Unknown invocation type.
    let resp = invoke(&host, "echo", "{}", "Sometimes").await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.expect("body").contains("Sometimes"));

    // Invoking the http data plane path of a handler is explained; invoking an http
    // function through the API likewise (covered in http.rs). The host still works:
    let resp = invoke(&host, "echo", r#"{"still":"ok"}"#, "RequestResponse").await;
    assert_eq!(resp.text().await.expect("body"), r#"{"still":"ok"}"#);
}

#[tokio::test]
async fn oversized_invoke_payload_is_rejected() {
    let g = guests();
    let host = Lamina::start(&[g.echo.to_str().expect("utf8"), "--max-body-bytes", "2048"]);
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(4096));
    let resp = invoke(&host, "echo", &big, "RequestResponse").await;
    assert_eq!(resp.status(), 413);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "RequestTooLargeException"
    );
    let resp = invoke(&host, "echo", r#"{"small":1}"#, "RequestResponse").await;
    assert_eq!(resp.status(), 200);
}
