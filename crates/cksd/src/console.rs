//! The web console: the front end built into `console/dist` (by `scripts/build-console.sh`, committed
//! so that building cksd needs no Node) and embedded in the binary, served at `/` and `/console/*`.
//!
//! The console is a client of `/client/api` like any other: it logs in with `login`, sends the
//! session key as a parameter beside the cookie, and has no route of its own into the server.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../../../console/dist/index.html");

/// The files under `/console/`: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../console/dist/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../console/dist/console.css"),
    ),
];

/// Everything the page needs comes from this origin; inline scripts and framing are refused.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The console's routes; merged into `crate::router` beside `/client/api`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/console/{file}", get(asset))
}

async fn index() -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The page names its assets by content hash, so only the page itself must be revalidated.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX_HTML,
    )
        .into_response();
    add_security_headers(&mut response);
    response
}

async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "Not found\n").into_response();
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        *bytes,
    )
        .into_response();
    add_security_headers(&mut response);
    response
}

fn add_security_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use aws_lc_rs::digest;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;

    fn console_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../console")
    }

    fn walk(root: &Path, dir: &str, files: &mut Vec<String>) {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let entry = entry.unwrap();
            let path = format!("{dir}/{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, files);
            } else {
                files.push(path);
            }
        }
    }

    /// The same definition as `sourceHash` in console/build.mjs.
    fn source_hash(root: &Path) -> String {
        let mut files = vec!["build.mjs".to_string(), "package-lock.json".to_string()];
        walk(root, "src", &mut files);
        files.sort();
        let mut ctx = digest::Context::new(&digest::SHA256);
        for file in &files {
            ctx.update(file.as_bytes());
            ctx.update(b"\0");
            ctx.update(&std::fs::read(root.join(file)).unwrap());
            ctx.update(b"\0");
        }
        ctx.finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn embedded_console_is_built_from_the_current_sources() {
        let root = console_dir();
        let recorded = std::fs::read_to_string(root.join("dist/SOURCE_HASH")).unwrap();
        assert_eq!(
            recorded.trim(),
            source_hash(&root),
            "console/dist is stale: run scripts/build-console.sh and commit console/dist"
        );
    }

    async fn get(path: &str) -> axum::response::Response {
        let request = Request::builder().uri(path).body(Body::empty()).unwrap();
        super::routes::<()>().oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn serves_the_page_and_its_assets() {
        let page = get("/").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(
            page.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(
            page.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        assert!(super::INDEX_HTML.contains("/console/console.js?v="));

        let script = get("/console/console.js").await;
        assert_eq!(script.status(), StatusCode::OK);
        assert_eq!(
            script.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        let css = get("/console/console.css?v=1").await;
        assert_eq!(css.status(), StatusCode::OK);

        assert_eq!(
            get("/console/../Cargo.toml").await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get("/console/nothing.js").await.status(),
            StatusCode::NOT_FOUND
        );
    }
}
