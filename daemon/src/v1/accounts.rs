//! `POST /v1/accounts`: the web flow's account creation (account first, devices later).
//!
//! Either the relay runs the whole DID ceremony here (`rotationKey` optional, placed first
//! in rotationKeys), or the client made the DID beforehand with `POST /v1/dids` and names
//! it in `did`: the relay then checks that the DID still names this relay and the signing
//! key it reserved, and creates the account on it. Answers with an account session.

use super::route::{self, Auth, Milestone, Route, err, schema_ref};
use crate::context::AppState;
use crate::services::{ServiceError, account, device as device_service, session};
use crate::store::{self, devices};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    handle: String,
    email: Option<String>,
    password: String,
    invite_code: Option<String>,
    did: Option<String>,
    rotation_key: Option<String>,
}

/// The sealing label of a signing key made with a pending DID.
pub fn pending_key_label(did: &str) -> String {
    format!("pending-did:{did}")
}

/// Turn a DID made by `POST /v1/dids` into what account creation needs, after checking
/// that the PLC directory still has it as the relay made it.
async fn take_pending(
    state: &AppState,
    did: &str,
    handle: &str,
) -> Result<account::PreparedDid, ServiceError> {
    let d = did.to_string();
    let row = state
        .db
        .read(move |c| devices::pending_did(c, &d))
        .await?
        .filter(|p| p.expires_at > store::now())
        .ok_or_else(|| {
            ServiceError::Named(
                "DidNotFound",
                format!("{did} was not made by POST /v1/dids on this relay, or it expired"),
            )
        })?;
    let wanted = account::check_handle(state, handle)?;
    if row.handle != wanted {
        return Err(ServiceError::invalid(format!(
            "{did} was made for the handle {}, not {wanted}",
            row.handle
        )));
    }
    let signing_key = state
        .kek
        .open_keypair(&pending_key_label(did), &row.signing_key)?;
    let op = pds::identity::SignedOp::from_json(row.operation.as_bytes())
        .map_err(ServiceError::internal)?;
    let last = crate::services::identity::last_op(state, did).await?;
    let data = last.op.normalized();
    let keeps_key = data
        .as_ref()
        .and_then(|d| d.verification_methods.get("atproto"))
        == Some(&signing_key.did_key());
    let keeps_pds = data
        .as_ref()
        .and_then(|d| d.services.get("atproto_pds"))
        .is_some_and(|s| s.endpoint.trim_end_matches('/') == state.public_url);
    if !keeps_key || !keeps_pds {
        return Err(ServiceError::invalid(format!(
            "{did} no longer names this relay and the signing key it reserved; it cannot host an account here"
        )));
    }
    Ok(account::PreparedDid {
        did: did.to_string(),
        op,
        signing_key,
    })
}

async fn handler(
    State(state): State<AppState>,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    if input.password.is_empty() {
        return Err(XrpcError::invalid("a password is required"));
    }
    if let Some(k) = &input.rotation_key {
        device_service::parse_rotation_key("rotationKey", k)?;
    }
    let (prepared, after_insert): (_, Option<account::AfterInsert>) = match &input.did {
        Some(did) => {
            if input.rotation_key.is_some() {
                return Err(XrpcError::invalid(
                    "rotationKey is fixed by POST /v1/dids when did is given",
                ));
            }
            let prepared = take_pending(&state, did, &input.handle).await?;
            let hook: account::AfterInsert = Box::new(|tx, did| {
                devices::delete_pending_did(tx.conn(), did)?;
                Ok(())
            });
            (Some(prepared), Some(hook))
        }
        None => (None, None),
    };
    let created = account::create_with(
        &state,
        account::NewAccount {
            handle: input.handle,
            email: input.email.filter(|e| !e.is_empty()),
            password: Some(input.password),
            invite_code: input.invite_code,
            recovery_key: input.rotation_key,
            ..Default::default()
        },
        prepared,
        after_insert,
    )
    .await?;
    let tokens = session::issue(&state, &created.did, None).await?;
    Ok(Json(json!({
        "did": created.did,
        "handle": created.handle,
        "accessJwt": tokens.access,
        "refreshJwt": tokens.refresh,
        "signingKey": created.signing_key,
        "rotationKeys": created.plc_op.op.rotation_keys(),
        "plcOperation": serde_json::to_value(&created.plc_op).map_err(XrpcError::internal)?,
    })))
}

/// `POST /v1/accounts`.
pub fn route() -> Route {
    Route {
        method: Method::POST,
        path: "/v1/accounts",
        milestone: Milestone::V0_1,
        auth: Auth::None,
        summary: "Create an account (web flow: account first, devices later)",
        description: "Creates the account with a password and answers with an account session (the same tokens \
            as com.atproto.server.createSession). Without `did`, the relay runs the DID ceremony: \
            rotationKeys = [rotationKey (if given), relay rotation key], #atproto = a new relay-held signing key. \
            With `did` (made by POST /v1/dids), the account is created on that DID. Devices are enrolled later \
            with POST /v1/devices using this session.",
        params: vec![],
        request: route::json(json!({
            "type": "object",
            "required": ["handle", "password"],
            "properties": {
                "handle": { "type": "string", "description": "e.g. alice.example.com (under one of the relay's handle domains)" },
                "email": { "type": ["string", "null"], "format": "email" },
                "password": { "type": "string", "minLength": 1 },
                "inviteCode": { "type": "string", "description": "required when the relay requires invites" },
                "did": { "$ref": "#/components/schemas/Did", "description": "a DID made by POST /v1/dids" },
                "rotationKey": { "$ref": "#/components/schemas/DidKey", "description": "the user's rotation key (P-256 or secp256k1), first in rotationKeys; not with did" }
            }
        })),
        responses: route::ok_json("The account and its session.", schema_ref("CreatedAccount")),
        errors: vec![
            err(
                400,
                "InvalidHandle",
                "the handle is malformed or too short/long",
            ),
            err(
                400,
                "UnsupportedDomain",
                "the handle is not under one of the relay's domains",
            ),
            err(
                400,
                "HandleNotAvailable",
                "the handle is taken (or held by a pending DID)",
            ),
            err(
                400,
                "InvalidInviteCode",
                "an invite is required and missing, or used up",
            ),
            err(
                400,
                "UnsupportedKeyType",
                "rotationKey is Ed25519 or another unsupported key type",
            ),
            err(400, "DidNotFound", "did was not made here, or expired"),
            err(502, "UpstreamFailure", "the PLC directory failed"),
        ],
        handler: axum::routing::post(handler),
    }
}
