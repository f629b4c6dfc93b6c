//! Start-up: bad components and bad config fail clearly with a non-zero exit;
//! a restart reuses the compiled-component cache.

use crate::support::*;

#[test]
fn bad_components_fail_at_start_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "text.wasm",
            b"this is not wasm at all",
            "is not a WebAssembly file",
        ),
        (
            "core.wasm",
            b"\0asm\x01\0\0\0",
            "is a core WebAssembly module, not a component",
        ),
        (
            "broken.wasm",
            b"\0asm\x0d\0\x01\0\xff\xff\xff",
            "is not a valid component",
        ),
    ];
    for (name, bytes, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let failed = start_fails(&[path.to_str().expect("utf8")]);
        assert_ne!(failed.code, Some(0), "{name} must fail");
        assert!(failed.stderr.contains(needle), "{name}: {}", failed.stderr);
        assert!(
            failed.stderr.contains(name),
            "the error names the file: {}",
            failed.stderr
        );
    }
    let failed = start_fails(&[dir.path().join("missing.wasm").to_str().expect("utf8")]);
    assert_ne!(failed.code, Some(0));
    assert!(failed.stderr.contains("missing.wasm"), "{}", failed.stderr);
}

#[test]
fn bad_config_fails_naming_the_key() {
    let g = guests();
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            format!(
                "[functions.echo]\ncomponent = {}\ntimeout = 5\n",
                toml_path(&g.echo)
            ),
            "timeout",
        ),
        (
            format!(
                "[functions.echo]\ncomponent = {}\nmemory_mb = 0\n",
                toml_path(&g.echo)
            ),
            "functions.echo.memory_mb",
        ),
        (
            format!(
                "[functions.echo]\ncomponent = {}\nkind = \"http\"\n",
                toml_path(&g.echo)
            ),
            "declared as kind `http`",
        ),
        ("[hots]\nlisten = \"x\"\n".to_string(), "hots"),
    ];
    for (text, needle) in cases {
        let cfg = write_config(dir.path(), &text);
        let failed = start_fails(&["--config", cfg.to_str().expect("utf8")]);
        assert_ne!(failed.code, Some(0), "{text}");
        assert!(
            failed.stderr.contains(needle),
            "`{needle}` not in: {}",
            failed.stderr
        );
    }
}

#[tokio::test]
async fn restart_reuses_the_compiled_cache() {
    let g = guests();
    let config = format!(
        "[functions.hello-http]\ncomponent = {}\n[functions.echo]\ncomponent = {}\n",
        toml_path(&g.hello_http),
        toml_path(&g.echo)
    );
    let state = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(state.path(), &config);
    let cfg = cfg.to_str().expect("utf8").to_string();

    // First start: a cache under the state dir, empty, so both are compiled.
    let first = Lamina::start_in(&["--config", &cfg], state, None);
    assert_eq!(
        first.metric("lamina_component_compilations_total").await,
        Some(2.0)
    );
    assert_eq!(
        first.metric("lamina_component_cache_hits_total").await,
        Some(0.0)
    );
    let resp = invoke(&first, "echo", "{}", "RequestResponse").await;
    assert_eq!(resp.status(), 200);
    let state = first.stop();

    // Second start on the same state dir: nothing is compiled.
    let second = Lamina::start_in(&["--config", &cfg], state, None);
    assert_eq!(
        second.metric("lamina_component_compilations_total").await,
        Some(0.0)
    );
    assert_eq!(
        second.metric("lamina_component_cache_hits_total").await,
        Some(2.0)
    );
    assert!(second.banner.contains("cache in"), "{}", second.banner);
    let resp = invoke(&second, "echo", r#"{"again":true}"#, "RequestResponse").await;
    assert_eq!(resp.text().await.expect("body"), r#"{"again":true}"#);
    let resp = client()
        .get(second.at("/hello-http/"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn healthz_answers() {
    let g = guests();
    let host = Lamina::start(&[g.echo.to_str().expect("utf8")]);
    let resp = client()
        .get(host.at("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body").trim(), "ok");
}
