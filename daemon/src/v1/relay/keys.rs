//! `POST /v1/relay/keys`, `GET /v1/relay/keys`, `DELETE /v1/relay/keys/{keyId}`: the
//! account's relay signing keys (generate and publish a new one, list, revoke). See
//! `services::relay_keys`.

use crate::context::AppState;
use crate::services::relay_keys;
use crate::store::devices::RelayKeyRow;
use crate::v1::PathParam;
use crate::v1::auth::DeviceAuth;
use crate::v1::route::{self, Auth, Milestone, Route, err, path_param, schema_ref};
use crate::xrpc::error::XrpcError;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use pds::crypto::Curve;
use serde::Deserialize;
use serde_json::{Value, json};

/// A relay key as the API shows it.
pub fn key_json(k: &RelayKeyRow) -> Value {
    let curve = pds::crypto::PublicKey::from_did_key(&k.public_key)
        .map(|p| p.curve().name())
        .unwrap_or("unknown");
    json!({
        "keyId": k.key_id,
        "publicKey": k.public_key,
        "curve": curve,
        "status": k.status,
        "createdAt": k.created_at,
        "retiredAt": k.retired_at,
        "revokedAt": k.revoked_at,
    })
}

/// A signing-key curve: secp256k1 (default) or P-256; anything else is refused by name.
pub fn parse_curve(s: Option<&str>) -> Result<Curve, XrpcError> {
    match s {
        None => Ok(Curve::Secp256k1),
        Some(c) => c.parse::<Curve>().map_err(|_| {
            XrpcError::named(
                "UnsupportedKeyType",
                format!(
                    "curve {c:?} is not accepted: signing keys are secp256k1 or p256 (Ed25519 is not supported)"
                ),
            )
        }),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CreateIn {
    curve: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    auth: DeviceAuth,
    body: axum::body::Bytes,
) -> Result<Json<Value>, XrpcError> {
    let input: CreateIn = if body.is_empty() {
        CreateIn::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| XrpcError::invalid(format!("Input: {e}")))?
    };
    let curve = parse_curve(input.curve.as_deref())?;
    let r = relay_keys::rotate(&state, &auth.device.did, curve).await?;
    Ok(Json(json!({
        "key": key_json(&r.new),
        "previous": key_json(&r.old),
        "operation": serde_json::to_value(&r.operation).map_err(XrpcError::internal)?,
    })))
}

async fn list(State(state): State<AppState>, auth: DeviceAuth) -> Result<Json<Value>, XrpcError> {
    let keys = relay_keys::list(&state, &auth.device.did).await?;
    Ok(Json(json!({
        "keys": keys.iter().map(key_json).collect::<Vec<_>>(),
    })))
}

async fn revoke(
    State(state): State<AppState>,
    auth: DeviceAuth,
    PathParam(key_id): PathParam,
) -> Result<Json<Value>, XrpcError> {
    let r = relay_keys::revoke(&state, &auth.device.did, &key_id).await?;
    let current = match &r.rotation {
        Some(rot) => rot.new.clone(),
        None => relay_keys::list(&state, &auth.device.did)
            .await?
            .into_iter()
            .find(|k| k.status == crate::store::devices::KEY_CURRENT)
            .ok_or_else(|| XrpcError::internal("no current relay key"))?,
    };
    let mut out = json!({ "revoked": key_json(&r.revoked), "current": key_json(&current) });
    if let Some(rot) = &r.rotation {
        out["operation"] = serde_json::to_value(&rot.operation).map_err(XrpcError::internal)?;
    }
    Ok(Json(out))
}

/// `POST /v1/relay/keys`.
pub fn create_route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/relay/keys",
        milestone: Milestone::V0_1,
        auth: Auth::Device,
        summary: "Generate a new relay signing key and publish it",
        description: "The relay generates a new #atproto signing key for the account (secp256k1 by default, or p256), \
            publishes it with a PLC update signed by the relay's rotation key, signs every later commit with it, and \
            retires the previous key (its private half is destroyed). Body optional.",
        params: vec![],
        request: route::json_optional(json!({
            "type": "object",
            "properties": { "curve": { "$ref": "#/components/schemas/Curve" } }
        })),
        responses: route::ok_json(
            "The new key, the one it replaced, and the PLC operation.",
            json!({
                "type": "object",
                "required": ["key", "previous", "operation"],
                "properties": {
                    "key": schema_ref("RelayKey"),
                    "previous": schema_ref("RelayKey"),
                    "operation": { "type": "object" }
                }
            }),
        ),
        errors: vec![
            err(400, "UnsupportedKeyType", "curve is not secp256k1 or p256"),
            err(
                403,
                "Forbidden",
                "the relay's rotation key can no longer sign for this DID",
            ),
            err(409, "RotationInProgress", "another rotation is running"),
            err(502, "UpstreamFailure", "the PLC directory failed"),
        ],
        handler: axum::routing::post(create),
    }
}

/// `GET /v1/relay/keys`.
pub fn list_route() -> Route {
    Route {
        method: Method::GET,
        path: "/v1/relay/keys",
        milestone: Milestone::V0_1,
        auth: Auth::Device,
        summary: "List the account's relay signing keys",
        description: "Newest first: the current key (the DID's #atproto key), then retired and revoked ones.",
        params: vec![],
        request: None,
        responses: route::ok_json(
            "The keys.",
            json!({
                "type": "object",
                "required": ["keys"],
                "properties": { "keys": { "type": "array", "items": schema_ref("RelayKey") } }
            }),
        ),
        errors: vec![],
        handler: axum::routing::get(list),
    }
}

/// `DELETE /v1/relay/keys/{keyId}`.
pub fn revoke_route() -> Route {
    Route {
        method: Method::DELETE,
        path: "/v1/relay/keys/{keyId}",
        milestone: Milestone::V0_1,
        auth: Auth::Device,
        summary: "Revoke a relay signing key",
        description: "Revoking the current key first replaces it (a new key on the same curve, published with a PLC \
            update), so a revoked key is never in the DID document. Revoking a retired key marks it revoked.",
        params: vec![path_param(
            "keyId",
            "a key id from GET /v1/relay/keys",
            json!({ "type": "string", "minLength": 1 }),
        )],
        request: None,
        responses: route::ok_json(
            "The revoked key and the current one.",
            json!({
                "type": "object",
                "required": ["revoked", "current"],
                "properties": {
                    "revoked": schema_ref("RelayKey"),
                    "current": schema_ref("RelayKey"),
                    "operation": { "type": "object", "description": "the PLC update, when the current key was replaced" }
                }
            }),
        ),
        errors: vec![
            err(404, "KeyNotFound", "no such key on this account"),
            err(409, "RotationInProgress", "the key is being published"),
            err(502, "UpstreamFailure", "the PLC directory failed"),
        ],
        handler: axum::routing::delete(revoke),
    }
}
