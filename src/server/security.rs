//! Response hardening: security headers on every response, a Content-Security-Policy for pages
//! (with the per-response nonce Leptos puts on its inline scripts), and a same-origin check on
//! every state-changing request.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use leptos::{config::Env, prelude::*};

use super::{config::StorageConfig, state::AppState};

/// The nonce of one response, made by [`security_headers`] before the page renders. Leptos puts
/// it on its inline hydration scripts ([`provide_page_nonce`]); the policy allows exactly those.
#[derive(Clone)]
pub struct CspNonce(String);

/// Gives the page being rendered the nonce of its response. Called as additional context by every
/// handler that renders the app.
pub fn provide_page_nonce() {
    let nonce =
        use_context::<Parts>().and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

/// The policy of an HTML page: our own scripts (plus Leptos' inline scripts, which carry the
/// nonce), WebAssembly, our own styles, connections to this origin and the Realtime API's, and
/// nothing framed or posted elsewhere.
fn page_policy(nonce: &str, state: &AppState) -> String {
    let options = &state.leptos_options;
    let mut connect = String::from("'self'");
    if let Some(origin) = origin_of(&state.config.realtime.base_url) {
        connect.push(' ');
        connect.push_str(origin);
    }
    if options.env == Env::DEV {
        // cargo-leptos' live-reload socket, development only.
        let host = options.site_addr.ip();
        connect.push_str(&format!(" ws://{host}:{}", options.reload_port));
    }
    // Recordings stored on S3 play straight from there (presigned URLs).
    let mut media = String::from("'self' blob:");
    if let Some(origin) = storage_origin(&state.config.storage) {
        media.push(' ');
        media.push_str(&origin);
    }
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; media-src {media}; font-src 'self'; \
         connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// What responses that are not pages (JSON, files) may do: nothing.
const NOTHING_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Security headers on every response: a fresh nonce per request and a Content-Security-Policy
/// that matches what the response is (a page, or anything else), `nosniff`, a same-origin
/// referrer policy and no framing.
pub async fn security_headers(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let policy = if is_page {
        HeaderValue::from_str(&page_policy(&nonce, &state))
            .unwrap_or(HeaderValue::from_static(NOTHING_POLICY))
    } else {
        HeaderValue::from_static(NOTHING_POLICY)
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if state.config.secure_cookies() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Refuses state-changing requests (anything but GET, HEAD, OPTIONS) whose `Origin` (or, without
/// one, `Referer`) is not this server. Together with SameSite=Lax cookies this stops cross-site
/// request forgery: a form on another site cannot sign a learner out or delete their data.
/// The scheme must be the public URL's: an `https://` page of the same host is another origin
/// than the `http://` site (and the other way round).
pub async fn same_origin_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let scheme = if state.config.secure_cookies() {
        "https"
    } else {
        "http"
    };
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || is_same_origin(request.headers(), scheme)
    {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        path = %super::telemetry::loggable_path(request.uri().path()),
        "cross-site write refused"
    );
    (
        StatusCode::FORBIDDEN,
        "This request did not come from Speaking Coach's own pages, so it was refused.",
    )
        .into_response()
}

/// `scheme://host[:port]` of an http(s) URL.
/// Where presigned recording URLs point: the S3 endpoint's origin, or AWS's for the bucket.
fn storage_origin(storage: &StorageConfig) -> Option<String> {
    let StorageConfig::S3(s3) = storage else {
        return None;
    };
    Some(match &s3.endpoint {
        Some(endpoint) => origin_of(endpoint)?.to_owned(),
        None if s3.force_path_style => format!("https://s3.{}.amazonaws.com", s3.region),
        None => format!("https://{}.s3.{}.amazonaws.com", s3.bucket, s3.region),
    })
}

fn origin_of(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")? + 3;
    let end = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| scheme_end + i);
    Some(&url[..end])
}

fn is_same_origin(headers: &HeaderMap, scheme: &str) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(source) = source else {
        return false;
    };
    let authority = source
        .strip_prefix(scheme)
        .and_then(|rest| rest.strip_prefix("://"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    authority.is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(
            origin_of("https://api.openai.com/v1"),
            Some("https://api.openai.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3000/sim/v1"),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(origin_of("http://host"), Some("http://host"));
        assert_eq!(origin_of("nonsense"), None);
    }

    #[test]
    fn same_origin_is_judged_by_origin_then_referer() {
        let host = (header::HOST, "127.0.0.1:3000");
        let is_same_origin = |headers: &HeaderMap| is_same_origin(headers, "http");
        assert!(is_same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:3000")
        ])));
        assert!(is_same_origin(&headers(&[
            host.clone(),
            (
                header::REFERER,
                "http://127.0.0.1:3000/sign-in?next=/account"
            )
        ])));
        assert!(!is_same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "https://evil.example")
        ])));
        assert!(!is_same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:3000.evil.example")
        ])));
        assert!(!is_same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "null")
        ])));
        assert!(
            !is_same_origin(&headers(std::slice::from_ref(&host))),
            "neither header: refused"
        );
    }

    #[test]
    fn the_scheme_must_be_the_sites() {
        let host = (header::HOST, "coach.example.org");
        let https = headers(&[host.clone(), (header::ORIGIN, "https://coach.example.org")]);
        let http = headers(&[host, (header::ORIGIN, "http://coach.example.org")]);
        assert!(!is_same_origin(&https, "http"));
        assert!(is_same_origin(&http, "http"));
        assert!(is_same_origin(&https, "https"));
        assert!(!is_same_origin(&http, "https"));
    }
}
