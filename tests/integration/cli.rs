//! `lamina invoke` against a running host.

use crate::support::*;

#[tokio::test]
async fn lamina_invoke_prints_the_result() {
    let g = guests();
    let host = Lamina::start(&[g.echo.to_str().expect("utf8")]);
    let url = host.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        lamina_cmd()
            .args([
                "invoke",
                "echo",
                "--payload",
                r#"{"a":1}"#,
                "--endpoint",
                &url,
            ])
            .output()
            .expect("run lamina invoke")
    })
    .await
    .expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"{"a":1}"#);

    // Payload from a file.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("event.json");
    std::fs::write(&file, r#"{"from":"file"}"#).expect("write");
    let url = host.url.clone();
    let arg = format!("@{}", file.display());
    let out = tokio::task::spawn_blocking(move || {
        lamina_cmd()
            .args(["invoke", "echo", "--payload", &arg, "--endpoint", &url])
            .output()
            .expect("run lamina invoke")
    })
    .await
    .expect("join");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"from":"file"}"#
    );

    // Unknown function: non-zero exit, the AWS error printed.
    let url = host.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        lamina_cmd()
            .args(["invoke", "nope", "--endpoint", &url])
            .output()
            .expect("run lamina invoke")
    })
    .await
    .expect("join");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Function not found: nope"));
}

#[test]
fn lamina_bench_reports_distributions_as_json() {
    let g = guests();
    for (component, kind) in [(&g.hello_http, "http"), (&g.echo, "handler")] {
        let out = lamina_cmd()
            .args([
                "bench",
                component.to_str().expect("utf8"),
                "-n",
                "50",
                "--warmup",
                "5",
            ])
            .args(["--resident-sample", "10", "--json"])
            .output()
            .expect("run lamina bench");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
        assert_eq!(v["kind"], kind);
        assert_eq!(v["iterations"], 50);
        assert_eq!(v["pooling"], true);
        for key in ["instantiate_us", "first_call_us"] {
            let d = &v[key];
            let (min, p50, max) = (
                d["min"].as_f64().unwrap_or(0.0),
                d["p50"].as_f64().unwrap_or(0.0),
                d["max"].as_f64().unwrap_or(0.0),
            );
            assert!(min > 0.0 && min <= p50 && p50 <= max, "{key}: {d}");
        }
    }
    // A bad component is a clear error, not a panic.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.wasm");
    std::fs::write(&bad, b"nope").expect("write");
    let out = lamina_cmd()
        .args(["bench", bad.to_str().expect("utf8")])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a WebAssembly file"));
}
