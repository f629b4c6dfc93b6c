//! 200 concurrent requests across both kinds, with no error.

use crate::support::*;

#[tokio::test]
async fn two_hundred_concurrent_requests() {
    let g = guests();
    let host = Lamina::with_config(
        &format!(
            "[functions.hello-http]\ncomponent = {}\n[functions.echo]\ncomponent = {}\n",
            toml_path(&g.hello_http),
            toml_path(&g.echo)
        ),
        &[],
    );
    let mut tasks = Vec::new();
    for i in 0..200 {
        let hello = host.at("/hello-http/n");
        let echo = host.at("/2015-03-31/functions/echo/invocations");
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let r = client().get(hello).send().await.expect("request");
                assert_eq!(r.status(), 200);
                assert!(r.text().await.expect("body").contains("Hello from Lamina!"));
            } else {
                let body = format!("{{\"i\":{i}}}");
                let r = client()
                    .post(echo)
                    .body(body.clone())
                    .send()
                    .await
                    .expect("request");
                assert_eq!(r.status(), 200);
                assert!(r.headers().get("x-amz-function-error").is_none());
                assert_eq!(r.text().await.expect("body"), body);
            }
        }));
    }
    for t in tasks {
        t.await.expect("a request failed");
    }
    assert_eq!(
        host.metric("lamina_invocations_total{function=\"echo\",kind=\"handler\"}")
            .await,
        Some(100.0)
    );
    assert_eq!(
        host.metric("lamina_invocations_total{function=\"hello-http\",kind=\"http\"}")
            .await,
        Some(100.0)
    );
}
