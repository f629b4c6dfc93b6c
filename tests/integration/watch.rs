//! `lamina serve --watch`: a rebuilt component file is redeployed without a
//! restart, and a broken one leaves the function on its previous code.

use crate::support::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// Replaces `dest` with a copy of `src` the way a build tool does (a new
/// file renamed over it).
fn replace(src: &Path, dest: &Path) {
    let tmp = dest.with_extension("partial");
    std::fs::copy(src, &tmp).expect("copy");
    std::fs::rename(&tmp, dest).expect("rename");
}

async fn answer(host: &Lamina) -> Value {
    let resp = invoke(
        host,
        "app",
        &json!({"action": "ok"}).to_string(),
        "RequestResponse",
    )
    .await;
    resp.json().await.unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_component_is_redeployed_without_a_restart() {
    let g = guests();
    let dir = tempfile::tempdir().expect("tempdir");
    let app = dir.path().join("app.wasm");
    std::fs::copy(&g.echo, &app).expect("copy echo");
    let host = Lamina::start(&[app.to_str().expect("utf8"), "--watch"]);
    // echo answers with its payload.
    assert_eq!(answer(&host).await, json!({"action": "ok"}));

    // Not a component: reported, and echo keeps serving.
    std::fs::write(dir.path().join("junk"), b"not wasm").expect("write");
    replace(&dir.path().join("junk"), &app);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(answer(&host).await, json!({"action": "ok"}));

    // The faults fixture answers {"ok": true}: the same process now runs it.
    replace(&g.faults, &app);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let a = answer(&host).await;
        if a == json!({"ok": true}) {
            break;
        }
        assert!(Instant::now() < deadline, "still the old code: {a}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let functions: Value = client()
        .get(host.at("/api/functions"))
        .send()
        .await
        .expect("functions")
        .json()
        .await
        .expect("json");
    let faults_sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(
            std::fs::read(&g.faults).expect("faults"),
        ))
    };
    assert!(functions.to_string().contains(&faults_sha), "{functions}");
}
