//! The dashboard at `/ui`: functions, durable executions and the order demo.
//!
//! Plain HTML, CSS and ES modules from `host/ui/`, embedded in the binary so
//! the dashboard works offline and with any install of the host. The pages
//! read the host's own JSON APIs (`/api/functions`, `/metrics` and the
//! durable API) from the same origin and poll them about once a second.
//!
//! With `[auth]`, the files stay open but the APIs need a session:
//! `login.html` posts a key id and secret to `POST /ui/login` (see
//! `api::auth`), and every fetch adds the `X-Lamina-CSRF` header.

use super::response::{Response, full, text};
use http::{HeaderValue, Method, StatusCode, header};

/// One embedded file.
struct Asset {
    /// Its path under `/ui/`.
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("../../ui/", $path)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file of the dashboard.
const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("style.css", CSS),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("format.js", JS),
    asset!("outcome.js", JS),
    asset!("chart.js", JS),
    asset!("functions.js", JS),
    asset!("executions.js", JS),
    asset!("execution.js", JS),
    asset!("demo.js", JS),
    asset!("login.html", HTML),
    asset!("login.js", JS),
];

/// Only the host's own origin: no CDN, no inline script.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

fn find(rest: Option<&str>) -> Option<&'static Asset> {
    let path = match rest {
        None | Some("") => "index.html",
        Some(p) => p,
    };
    ASSETS.iter().find(|a| a.path == path)
}

/// Serves `/ui` (`rest` is the path after `/ui/`, `None` for `/ui` itself).
pub fn handle(method: &Method, rest: Option<&str>) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut resp = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "the dashboard answers GET and HEAD only",
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    let Some(asset) = find(rest) else {
        let mut resp = text(
            StatusCode::NOT_FOUND,
            format!(
                "no dashboard file /ui/{}; the dashboard is at /ui",
                rest.unwrap_or("")
            ),
        );
        no_cache(&mut resp);
        return resp;
    };
    let mut resp = hyper::Response::new(full(asset.body));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(asset.body.len()));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if asset.content_type == HTML {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    no_cache(&mut resp);
    resp
}

/// Browsers revalidate every load, so a new host binary shows its own UI.
fn no_cache(resp: &mut Response) {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content_type(resp: &Response) -> &str {
        resp.headers()[header::CONTENT_TYPE].to_str().unwrap_or("")
    }

    #[test]
    fn index_at_ui_and_ui_slash() {
        for rest in [None, Some("")] {
            let resp = handle(&Method::GET, rest);
            assert_eq!(resp.status(), StatusCode::OK);
            assert_eq!(content_type(&resp), HTML);
            assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-cache");
            assert!(resp.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        }
    }

    #[test]
    fn assets_have_their_types() {
        let resp = handle(&Method::GET, Some("app.js"));
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(content_type(&resp), JS);
        let resp = handle(&Method::HEAD, Some("style.css"));
        assert_eq!(content_type(&resp), CSS);
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-cache");
    }

    #[test]
    fn unknown_files_and_methods() {
        assert_eq!(
            handle(&Method::GET, Some("nope.js")).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            handle(&Method::GET, Some("../Cargo.toml")).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            handle(&Method::POST, None).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn every_module_import_is_embedded() {
        // `'/ui/x.js'` or `"/ui/style.css"` in any asset must name an asset.
        for a in ASSETS {
            let body = std::str::from_utf8(a.body).unwrap_or("");
            for quote in ['\'', '"'] {
                for part in body.split(&format!("{quote}/ui/")).skip(1) {
                    let name = part.split(quote).next().unwrap_or("");
                    if ["login", "logout"].contains(&name) {
                        continue; // routes of the host (api::auth), not files
                    }
                    assert!(
                        find(Some(name)).is_some(),
                        "{} refers to /ui/{name}, which is not embedded",
                        a.path
                    );
                }
            }
        }
    }
}
