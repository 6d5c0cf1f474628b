//! `/oauth/authorize`: the page the app sends the browser to with its `request_uri`.
//!
//! GET shows the sign-in page, or the consent page when this browser already has an
//! account signed in (the app's `login_hint` picks which; `prompt=login` forces a new
//! sign-in). POST takes the forms: `signin` (password, optionally remembered on this
//! browser), `allow` (issue a code and send the browser back), `deny` (send back
//! `access_denied`), `switch` (sign this browser out and show the sign-in form).
//!
//! A request belongs to the first browser that opens it (a device cookie, stored only as
//! a hash); every form carries an anti-forgery token bound to that browser and request,
//! and cross-site posts are refused. Nothing is sent back to the app before a request
//! has been validated at PAR, so errors about the request itself are shown as a page.
//! The answer goes back with `code`/`error`, `state` and `iss`, by query, fragment or
//! form post as the app asked.

use super::client_metadata::Client;
use super::error::Code;
use super::pages::{self, AppView, FormCtx};
use super::par::{AuthParams, REQUEST_URI_PREFIX, ResponseMode};
use super::{Form, issuer, jose, store, token};
use crate::context::AppState;
use crate::store::accounts::AccountRow;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::sync::Arc;

/// The browser cookie naming a device (random; the server keeps only its hash).
pub const DEVICE_COOKIE: &str = "pdsd-device";
/// Time to sign in and answer once the page was opened, in seconds.
const REQUEST_WINDOW: i64 = 1800;
/// Lifetime of an authorization code, in seconds.
const CODE_LIFETIME: i64 = 60;

struct PageError {
    status: StatusCode,
    title: &'static str,
    message: String,
    code: &'static str,
}

impl PageError {
    fn new(
        status: StatusCode,
        title: &'static str,
        message: impl Into<String>,
        code: &'static str,
    ) -> Self {
        PageError {
            status,
            title,
            message: message.into(),
            code,
        }
    }
    fn request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "This sign-in request cannot be used",
            message,
            "invalid_request",
        )
    }
    fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "authorization page failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The server could not complete this step. Please try again.",
            "server_error",
        )
    }
    fn render(self, state: &AppState) -> Response {
        let html = pages::error::render(&server_host(state), self.title, &self.message, self.code);
        pages::respond(self.status, html)
    }
}

impl From<crate::store::DbError> for PageError {
    fn from(e: crate::store::DbError) -> Self {
        PageError::internal(e)
    }
}

/// The server as people see it: host and port of the public URL.
fn server_host(state: &AppState) -> String {
    url::Url::parse(&state.public_url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_else(|| state.config.hostname.clone())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| {
            (20..=100).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn device_id(cookie_value: &str) -> String {
    jose::sha256_b64(cookie_value)
}

fn set_device_cookie(res: &mut Response, value: &str, secure: bool) {
    let c = format!(
        "{DEVICE_COOKIE}={value}; Path=/oauth; Max-Age=31536000; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn csrf_token(state: &AppState, device: &str, request_id: &str) -> String {
    let mac = super::hmac_sha256(
        state.oauth.page_key(),
        &[b"csrf|", device.as_bytes(), b"|", request_id.as_bytes()],
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
}

fn request_id(request_uri: &str) -> Result<&str, PageError> {
    request_uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .ok_or_else(|| PageError::request("request_uri is not one this server issued"))
}

struct Loaded {
    row: store::RequestRow,
    params: AuthParams,
    client: Arc<Client>,
}

/// Find the request, give it to this browser (or refuse another one), load its client.
async fn load(state: &AppState, form: &Form, device: &str, now: i64) -> Result<Loaded, PageError> {
    let Some(request_uri) = form.get("request_uri") else {
        let msg = if form.get("response_type").is_some() || form.get("redirect_uri").is_some() {
            "This server only accepts pushed authorization requests (PAR): the app must first POST its request to /oauth/par and then send you here with the request_uri it got."
        } else {
            "The link is missing its request_uri. The app must start the sign-in with a pushed authorization request."
        };
        return Err(PageError::request(msg));
    };
    let id = request_id(request_uri)?;
    let client_id = form
        .get("client_id")
        .ok_or_else(|| PageError::request("client_id is missing from the link"))?;
    let row = store::claim_request_for_device(
        &state.db,
        id.to_string(),
        device.to_string(),
        now + REQUEST_WINDOW,
        now,
    )
    .await?
    .ok_or_else(|| {
        PageError::request(
            "This sign-in request has expired or was already used. Start again from the app.",
        )
    })?;
    if row.client_id != client_id {
        return Err(PageError::request(
            "The link's client_id does not match its request.",
        ));
    }
    if row.device_id.as_deref() != Some(device) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "This sign-in was started in another browser",
            "For your safety a sign-in request can only be completed in the browser that first opened it. Start again from the app.",
            "access_denied",
        ));
    }
    if row.code_hash.is_some() {
        return Err(PageError::request(
            "This sign-in request was already answered.",
        ));
    }
    let params: AuthParams = serde_json::from_str(&row.parameters).map_err(PageError::internal)?;
    let client = state
        .oauth
        .clients
        .client(&row.client_id, now)
        .await
        .map_err(|e| {
            PageError::new(
                StatusCode::BAD_GATEWAY,
                "The app could not be verified",
                format!(
                    "This server could not load the app's information: {}",
                    e.description
                ),
                e.code.as_str(),
            )
        })?;
    Ok(Loaded {
        row,
        params,
        client,
    })
}

fn app_view(state: &AppState, client: &Client) -> AppView {
    let trusted = state.config.oauth.trusted_clients.contains(&client.id);
    let name = if client.localhost {
        "Development app".to_string()
    } else {
        client.name.clone().unwrap_or_else(|| client.host())
    };
    AppView {
        name,
        host: client.host(),
        client_id: client.id.clone(),
        logo_uri: client.logo_uri.clone(),
        client_uri: client.client_uri.clone(),
        tos_uri: client.tos_uri.clone(),
        policy_uri: client.policy_uri.clone(),
        trusted,
        localhost: client.localhost,
    }
}

fn form_ctx(state: &AppState, l: &Loaded, device: &str) -> FormCtx {
    FormCtx {
        server_host: server_host(state),
        request_uri: format!("{REQUEST_URI_PREFIX}{}", l.row.id),
        client_id: l.row.client_id.clone(),
        csrf: csrf_token(state, device, &l.row.id),
    }
}

fn hint_matches(hint: &str, account: &AccountRow) -> bool {
    let h = hint.trim().trim_start_matches('@').to_ascii_lowercase();
    account.did == hint.trim()
        || account
            .handle
            .as_deref()
            .is_some_and(|x| x.eq_ignore_ascii_case(&h))
}

fn account_label(a: &AccountRow) -> String {
    match &a.handle {
        Some(h) => format!("@{h}"),
        None => a.did.clone(),
    }
}

fn redirect_host(params: &AuthParams) -> String {
    url::Url::parse(&params.redirect_uri)
        .ok()
        .map(|u| match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => format!("{}:", u.scheme()),
        })
        .unwrap_or_else(|| params.redirect_uri.clone())
}

/// `GET /oauth/authorize`
pub async fn page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let now = crate::auth::jwt::now_secs();
    let (cookie_value, fresh) = match cookie(&headers, DEVICE_COOKIE) {
        Some(v) => (v, false),
        None => match super::random_token() {
            Ok(v) => (v, true),
            Err(e) => return PageError::internal(e).render(&state),
        },
    };
    let mut res = match show(&state, &uri, &device_id(&cookie_value), now).await {
        Ok(r) => r,
        Err(e) => e.render(&state),
    };
    if fresh {
        set_device_cookie(
            &mut res,
            &cookie_value,
            issuer(&state).starts_with("https:"),
        );
    }
    res
}

async fn show(state: &AppState, uri: &Uri, device: &str, now: i64) -> Result<Response, PageError> {
    let query = uri.query().unwrap_or("");
    let form = Form::parse_body(query.as_bytes()).map_err(|e| PageError::request(e.description))?;
    let l = load(state, &form, device, now).await?;
    let force_signin = form.get("view") == Some("signin")
        || (l.params.prompt.as_deref() == Some("login") && l.row.did.is_none());
    let mut account: Option<AccountRow> = None;
    if !force_signin {
        if let Some(did) = &l.row.did {
            account = store::find_account(&state.db, did.clone()).await?;
        } else {
            let remembered = store::device_accounts(&state.db, device.to_string(), now).await?;
            account = remembered.into_iter().find(|a| {
                a.is_active()
                    && l.params
                        .login_hint
                        .as_deref()
                        .is_none_or(|h| hint_matches(h, a))
            });
            if let Some(a) = &account {
                store::set_request_account(&state.db, l.row.id.clone(), Some(a.did.clone()))
                    .await?;
            }
        }
    }
    if l.params.prompt.as_deref() == Some("none") {
        let error = if account.is_some() {
            "consent_required"
        } else {
            "login_required"
        };
        store::delete_request(&state.db, l.row.id.clone()).await?;
        return Ok(to_client(
            state,
            &l.params,
            vec![
                ("error", error.to_string()),
                (
                    "error_description",
                    "this server needs the user to sign in and approve".into(),
                ),
            ],
        ));
    }
    let app = app_view(state, &l.client);
    let ctx = form_ctx(state, &l, device);
    match account {
        Some(a) => Ok(consent_page(&app, &ctx, &a, &l)),
        None => {
            let hinted = match &l.params.login_hint {
                Some(h) => store::find_account(&state.db, h.clone()).await?.is_some(),
                None => false,
            };
            Ok(pages::respond(
                StatusCode::OK,
                pages::signin::render(&pages::signin::SignIn {
                    app: &app,
                    form: &ctx,
                    identifier: l.params.login_hint.as_deref(),
                    hinted,
                    error: None,
                }),
            ))
        }
    }
}

fn consent_page(app: &AppView, ctx: &FormCtx, a: &AccountRow, l: &Loaded) -> Response {
    let scopes: Vec<String> = l.params.scope.split(' ').map(str::to_string).collect();
    pages::respond(
        StatusCode::OK,
        pages::consent::render(&pages::consent::Consent {
            app,
            form: ctx,
            account: &account_label(a),
            scopes: &scopes,
            redirect_host: &redirect_host(&l.params),
        }),
    )
}

/// `POST /oauth/authorize`
pub async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let now = crate::auth::jwt::now_secs();
    match answer(&state, &headers, &body, now).await {
        Ok(r) => r,
        Err(e) => e.render(&state),
    }
}

fn same_origin(issuer: &str, headers: &HeaderMap) -> bool {
    // Browsers say where a form came from: Sec-Fetch-Site (all current ones), else Origin.
    // The pages use `Referrer-Policy: same-origin` so that Origin is sent, not "null".
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match (site, origin) {
        (Some(s), _) => s == "same-origin" || s == "none",
        (None, Some(o)) => o == issuer,
        (None, None) => true,
    }
}

async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Response, PageError> {
    if !same_origin(issuer(state), headers) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Request refused",
            "This form can only be sent from this server's own page.",
            "access_denied",
        ));
    }
    let form = Form::parse(headers, body).map_err(|e| PageError::request(e.description))?;
    let device = cookie(headers, DEVICE_COOKIE).map(|c| device_id(&c)).ok_or_else(|| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "Cookies are needed to sign in",
            "This browser did not send the sign-in cookie. Allow cookies for this site and start again from the app.",
            "invalid_request",
        )
    })?;
    let l = load(state, &form, &device, now).await?;
    let expected = csrf_token(state, &device, &l.row.id);
    if !form
        .get("csrf")
        .is_some_and(|c| crate::auth::constant_time_eq(c.as_bytes(), expected.as_bytes()))
    {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Request refused",
            "The form's security token is missing or wrong. Reload the page and try again.",
            "access_denied",
        ));
    }
    let back_to_page = || {
        let location = format!(
            "/oauth/authorize?client_id={}&request_uri={}",
            encode(&l.row.client_id),
            encode(&format!("{REQUEST_URI_PREFIX}{}", l.row.id))
        );
        see_other(&location)
    };
    match form.get("action") {
        Some("signin") => sign_in(state, &form, &l, &device, now)
            .await
            .map(|r| r.unwrap_or_else(back_to_page)),
        Some("switch") => {
            store::forget_device(&state.db, device.clone()).await?;
            store::set_request_account(&state.db, l.row.id.clone(), None).await?;
            let location = format!(
                "/oauth/authorize?client_id={}&request_uri={}&view=signin",
                encode(&l.row.client_id),
                encode(&format!("{REQUEST_URI_PREFIX}{}", l.row.id))
            );
            Ok(see_other(&location))
        }
        Some("deny") => {
            store::delete_request(&state.db, l.row.id.clone()).await?;
            Ok(to_client(
                state,
                &l.params,
                vec![
                    ("error", Code::AccessDenied.as_str().to_string()),
                    (
                        "error_description",
                        "The user declined to authorize this app".into(),
                    ),
                ],
            ))
        }
        Some("allow") => allow(state, &l, now).await,
        _ => Err(PageError::request("Unknown action.")),
    }
}

/// Check the password; `Ok(None)` means signed in (go back to the page), `Ok(Some)` is
/// the sign-in page again with an error.
async fn sign_in(
    state: &AppState,
    form: &Form,
    l: &Loaded,
    device: &str,
    now: i64,
) -> Result<Option<Response>, PageError> {
    let identifier = form.get("identifier").unwrap_or("").trim().to_string();
    let password = form.get("password").unwrap_or("").to_string();
    let app = app_view(state, &l.client);
    let ctx = form_ctx(state, l, device);
    let again = |error: &str, status: StatusCode| {
        pages::respond(
            status,
            pages::signin::render(&pages::signin::SignIn {
                app: &app,
                form: &ctx,
                identifier: Some(identifier.as_str()).filter(|s| !s.is_empty()),
                hinted: false,
                error: Some(error),
            }),
        )
    };
    if identifier.is_empty() || password.is_empty() {
        return Ok(Some(again(
            "Enter your handle or email and your password.",
            StatusCode::BAD_REQUEST,
        )));
    }
    if identifier.len() > 256 || password.len() > 1024 {
        return Ok(Some(again(
            "That handle or password is too long.",
            StatusCode::BAD_REQUEST,
        )));
    }
    let account = store::find_account(&state.db, identifier.clone()).await?;
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    // Verify even without an account, so the answer takes the same time either way.
    let ok = crate::auth::password::verify_async(
        password,
        hash.unwrap_or_else(|| DUMMY_HASH.to_string()),
    )
    .await;
    let account = match account {
        Some(a) if ok => a,
        _ => {
            return Ok(Some(again(
                "Wrong handle, email or password.",
                StatusCode::UNAUTHORIZED,
            )));
        }
    };
    if let Some(h) = &l.params.login_hint
        && !hint_matches(h, &account)
    {
        return Ok(Some(again(
            &format!("The app asked to sign in as {h}. Sign in with that account, or cancel."),
            StatusCode::BAD_REQUEST,
        )));
    }
    if account.takedown_ref.is_some() {
        return Ok(Some(again(
            "This account has been taken down.",
            StatusCode::FORBIDDEN,
        )));
    }
    if account.deactivated_at.is_some() {
        return Ok(Some(again(
            "This account is deactivated. Reactivate it before signing in to apps.",
            StatusCode::FORBIDDEN,
        )));
    }
    store::set_request_account(&state.db, l.row.id.clone(), Some(account.did.clone())).await?;
    if form.get("remember") == Some("1") {
        let days = i64::try_from(state.config.oauth.device_session_days).unwrap_or(30);
        store::remember_device(
            &state.db,
            device.to_string(),
            account.did.clone(),
            now,
            now + days * 86_400,
        )
        .await?;
    }
    Ok(None)
}

/// An Argon2id hash of a random password, checked when no account matched.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Jgk8mJ2NZeIMkhxa2yFYfOtAUnPRYIHnXAWK0L2WkhQ";

async fn allow(state: &AppState, l: &Loaded, now: i64) -> Result<Response, PageError> {
    let did = l
        .row
        .did
        .clone()
        .ok_or_else(|| PageError::request("Sign in before approving."))?;
    match store::find_account(&state.db, did).await? {
        Some(a) if a.is_active() => {}
        _ => {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This account cannot authorize apps",
                "The account is missing, deactivated or taken down.",
                "access_denied",
            ));
        }
    }
    let code = super::random_token().map_err(|e| PageError::internal(e.description))?;
    if !store::set_request_code(
        &state.db,
        l.row.id.clone(),
        token::token_hash(&code),
        now + CODE_LIFETIME,
    )
    .await?
    {
        return Err(PageError::request(
            "This sign-in request was already answered.",
        ));
    }
    Ok(to_client(state, &l.params, vec![("code", code)]))
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Send the authorization response back to the app (its redirect_uri was checked at PAR).
fn to_client(
    state: &AppState,
    params: &AuthParams,
    mut fields: Vec<(&'static str, String)>,
) -> Response {
    fields.push(("state", params.state.clone()));
    fields.push(("iss", issuer(state).to_string()));
    let Ok(mut url) = url::Url::parse(&params.redirect_uri) else {
        return PageError::request("The app's redirect_uri is not a URL.").render(state);
    };
    match params.response_mode {
        ResponseMode::Query => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in &fields {
                    q.append_pair(k, v);
                }
            }
            see_other(url.as_str())
        }
        ResponseMode::Fragment => {
            let encoded: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            url.set_fragment(Some(&encoded));
            see_other(url.as_str())
        }
        ResponseMode::FormPost => {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            pages::respond(
                StatusCode::OK,
                pages::form_post::render(&server_host(state), &params.redirect_uri, &pairs),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn only_same_origin_forms_are_accepted() {
        let iss = "https://pds.example.com";
        assert!(super::same_origin(
            iss,
            &h(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(super::same_origin(
            iss,
            &h(&[("origin", "https://pds.example.com")])
        ));
        assert!(!super::same_origin(
            iss,
            &h(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(!super::same_origin(
            iss,
            &h(&[("sec-fetch-site", "same-site")])
        ));
        assert!(!super::same_origin(
            iss,
            &h(&[("origin", "https://evil.example.com")])
        ));
        assert!(!super::same_origin(iss, &h(&[("origin", "null")])));
    }

    #[test]
    fn dummy_hash_is_a_valid_phc_string_that_matches_nothing_typed() {
        assert!(!crate::auth::password::verify(
            "password",
            super::DUMMY_HASH
        ));
        assert!(argon2::password_hash::phc::PasswordHash::new(super::DUMMY_HASH).is_ok());
    }
}
