//! `GET /v1/keys/shares/{id}`: release the escrowed share to someone who proves control
//! of the account with its password (HTTP Basic: handle or DID, and the password; never
//! an app password, a device token or a session alone). `{id}` is a set id or `current`.
//! Every release, and every wrong password, is recorded in the rotation log, and the
//! account is told by e-mail.

use super::held_json;
use crate::context::AppState;
use crate::services::escrow::{self, Actor};
use crate::store::accounts;
use crate::v1::PathParam;
use crate::v1::route::{self, Auth, Milestone, Route, err, path_param};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine;
use serde_json::json;
use zeroize::Zeroizing;

fn password_required(message: &str) -> XrpcError {
    XrpcError::new(StatusCode::UNAUTHORIZED, "PasswordRequired", message)
}

fn invalid_password() -> XrpcError {
    XrpcError::new(
        StatusCode::UNAUTHORIZED,
        "InvalidPassword",
        "the identifier or the password is wrong",
    )
}

/// `Authorization: Basic base64(identifier:password)`.
fn basic(headers: &HeaderMap) -> Result<(String, Zeroizing<String>), XrpcError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            password_required(
                "releasing the escrowed share needs the account password: send \
                 `Authorization: Basic base64(handle-or-DID:password)`",
            )
        })?;
    let encoded = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => rest.trim(),
        _ => {
            return Err(password_required(
                "the escrowed share is released only for the account password (HTTP Basic), \
                 not for a device token or a session",
            ));
        }
    };
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| password_required("the Basic credentials are not base64"))?,
    );
    let text = std::str::from_utf8(&decoded)
        .map_err(|_| password_required("the Basic credentials are not UTF-8"))?;
    let (id, password) = split_credentials(text)
        .ok_or_else(|| password_required("the Basic credentials are not identifier:password"))?;
    Ok((id.to_string(), Zeroizing::new(password.to_string())))
}

/// `identifier:password`, where a did:plc identifier keeps its own two colons (HTTP
/// Basic user names have none, so a did:plc is read whole first).
fn split_credentials(text: &str) -> Option<(&str, &str)> {
    if let Some(rest) = text.strip_prefix("did:plc:") {
        let (id, password) = rest.split_once(':')?;
        return Some((&text[..8 + id.len()], password));
    }
    text.split_once(':')
}

async fn handler(
    State(state): State<AppState>,
    PathParam(id): PathParam,
    headers: HeaderMap,
) -> Result<impl IntoResponse, XrpcError> {
    let (identifier, password) = basic(&headers)?;
    let ident = identifier
        .trim()
        .trim_start_matches('@')
        .to_ascii_lowercase();
    let ident = if ident.starts_with("did:") {
        identifier.trim().to_string()
    } else {
        ident
    };
    let account = state
        .db
        .read(move |c| accounts::by_identifier(c, &ident))
        .await?
        .ok_or_else(invalid_password)?;
    if account.takedown_ref.is_some() {
        return Err(XrpcError::new(
            StatusCode::UNAUTHORIZED,
            "AccountTakedown",
            "Account has been taken down",
        ));
    }
    let Some(hash) = account.password_hash.clone() else {
        return Err(invalid_password());
    };
    let ok = crate::auth::password::verify_async(password.to_string(), hash).await;
    drop(password);
    if !ok {
        escrow::refuse_release(&state, &account.did, "wrong password").await?;
        return Err(invalid_password());
    }
    let (held, text) = escrow::release_share(&state, &account.did, &id, &Actor::Password).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "did": account.did,
            "held": held_json(&held),
            "share": text.as_str(),
        })),
    ))
}

/// `GET /v1/keys/shares/{id}`.
pub fn route() -> Route {
    Route {
        method: axum::http::Method::GET,
        path: "/v1/keys/shares/{id}",
        milestone: Milestone::V0_1,
        auth: Auth::Password,
        summary: "Release the escrowed share (account password)",
        description: "Gives back the share the relay holds, for a recovery: only to a caller who presents the account's \
            password with HTTP Basic (the handle or DID as user name). Device tokens, sessions and app passwords are refused, \
            so a stolen device alone never gets it. `{id}` is the set id, or `current`. Each release is recorded in the \
            rotation log (`share_released`, and `share_release_refused` for a wrong password) and announced to the account's \
            e-mail address. The answer is not cached.",
        params: vec![path_param(
            "id",
            "a set id, or `current`",
            json!({ "type": "string" }),
        )],
        request: None,
        responses: route::ok_json(
            "The share.",
            json!({
                "type": "object",
                "required": ["did", "held", "share"],
                "properties": {
                    "did": { "$ref": "#/components/schemas/Did" },
                    "held": super::held_schema(),
                    "share": { "type": "string", "description": "`pds-share-v1:` text" }
                }
            }),
        ),
        errors: vec![
            err(404, "ShareNotFound", "no share is held, or not of that set"),
            err(401, "AccountTakedown", "the account was taken down"),
        ],
        handler: axum::routing::get(handler),
    }
}

#[cfg(test)]
mod tests {
    use super::split_credentials;

    #[test]
    fn a_did_plc_keeps_its_colons() {
        assert_eq!(
            split_credentials("did:plc:abc:pass:word"),
            Some(("did:plc:abc", "pass:word"))
        );
        assert_eq!(
            split_credentials("alice.test:pass:word"),
            Some(("alice.test", "pass:word"))
        );
        assert_eq!(split_credentials("no-colon"), None);
    }
}
