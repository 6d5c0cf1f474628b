//! Service proxying for XRPC methods pdsd does not serve itself (app.bsky.*, chat.bsky.*,
//! ...): the request goes to the service named by the `atproto-proxy` header
//! (`<did>#<service id>`), or to the configured app view (chat.bsky.* to the chat
//! service), with a short-lived service-auth token signed by the caller's signing key.
//! With nothing configured the caller gets a clear error.

use super::error::XrpcError;
use crate::auth::OptionalAccess;
use crate::context::AppState;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;

/// Request headers passed on to the upstream service.
const FORWARD_REQUEST: &[&str] = &[
    "accept",
    "accept-language",
    "content-type",
    "content-encoding",
    "atproto-accept-labelers",
    "x-bsky-topics",
];
/// Response headers passed back to the client.
const FORWARD_RESPONSE: &[&str] = &[
    "content-type",
    "content-language",
    "atproto-repo-rev",
    "atproto-content-labelers",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "ratelimit-policy",
];

struct Target {
    url: String,
    did: String,
}

async fn target(state: &AppState, nsid: &str, headers: &HeaderMap) -> Result<Target, XrpcError> {
    if let Some(h) = headers.get("atproto-proxy") {
        let v = h
            .to_str()
            .map_err(|_| XrpcError::invalid("atproto-proxy header is not valid text"))?;
        let (did, id) = v
            .split_once('#')
            .ok_or_else(|| XrpcError::invalid("atproto-proxy must look like <did>#<service id>"))?;
        pds::syntax::Did::new(did)
            .map_err(|e| XrpcError::invalid(format!("atproto-proxy: {e}")))?;
        let url = crate::services::identity::service_endpoint(state, did, id).await?;
        return Ok(Target {
            url,
            did: did.to_string(),
        });
    }
    let a = &state.config.appview;
    let (url, did) = if nsid.starts_with("chat.bsky.") {
        (a.chat_url.clone(), a.chat_did.clone())
    } else {
        (a.url.clone(), a.did.clone())
    };
    match (url, did) {
        (Some(url), Some(did)) => Ok(Target { url, did }),
        _ => Err(XrpcError::invalid(format!(
            "No service configured for {nsid}: set [appview] url and did in the configuration, or send an atproto-proxy header"
        ))),
    }
}

/// `/xrpc/{nsid}` for methods without a local handler.
pub async fn handler(
    State(state): State<AppState>,
    Path(nsid): Path<String>,
    auth: OptionalAccess,
    req: Request,
) -> Result<Response, XrpcError> {
    if pds::syntax::Nsid::new(&nsid).is_err() {
        return Err(XrpcError::not_found(format!(
            "{nsid} is not an XRPC method"
        )));
    }
    let (parts, body) = req.into_parts();
    if parts.method != Method::GET && parts.method != Method::POST && parts.method != Method::HEAD {
        return Err(XrpcError::invalid(
            "XRPC methods are called with GET or POST",
        ));
    }
    let target = target(&state, &nsid, &parts.headers).await?;
    let mut url = format!("{}/xrpc/{nsid}", target.url.trim_end_matches('/'));
    if let Some(q) = parts.uri.query() {
        url.push('?');
        url.push_str(q);
    }
    let mut out = state.http.request(parts.method.clone(), &url);
    for name in FORWARD_REQUEST {
        if let Some(v) = parts.headers.get(*name) {
            out = out.header(*name, v);
        }
    }
    if let OptionalAccess(Some(caller)) = &auth {
        let exp = crate::auth::jwt::now_secs() + 60;
        let token = crate::services::identity::service_token(
            &state,
            &caller.did,
            &target.did,
            Some(&nsid),
            exp,
        )
        .await?;
        out = out.bearer_auth(token);
    }
    if parts.method == Method::POST {
        // The upstream service judges the body; we only stop runaway uploads.
        let limit = state.config.limits.proxy_body_bytes;
        let limited = http_body_util::Limited::new(body, limit);
        let stream =
            http_body_util::BodyExt::into_data_stream(limited).map_err(std::io::Error::other);
        out = out.body(reqwest::Body::wrap_stream(stream));
    }
    let res = out
        .timeout(std::time::Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| XrpcError::upstream(format!("Upstream service unreachable: {e}")))?;
    let status = res.status();
    let mut headers = HeaderMap::new();
    for name in FORWARD_RESPONSE {
        if let Some(v) = res.headers().get(*name)
            && let Ok(v) = HeaderValue::from_bytes(v.as_bytes())
        {
            headers.insert(*name, v);
        }
    }
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let stream = res.bytes_stream().map_err(std::io::Error::other);
    let mut response = (status, Body::from_stream(stream)).into_response();
    response.headers_mut().extend(headers);
    Ok(response)
}
