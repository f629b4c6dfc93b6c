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
