//! com.atproto.server.getServiceAuth: a short-lived token signed by the account's signing
//! key, for calling another service (`aud`) as this account, optionally bound to one method (`lxm`).

use crate::auth::{AccessAuth, jwt};
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct P {
    aud: String,
    exp: Option<i64>,
    lxm: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Params(p): Params<P>,
) -> Result<Json<Value>, XrpcError> {
    pds::syntax::Did::new(&p.aud).map_err(|e| XrpcError::invalid(format!("Invalid aud: {e}")))?;
    if let Some(l) = &p.lxm {
        pds::syntax::Nsid::new(l).map_err(|e| XrpcError::invalid(format!("Invalid lxm: {e}")))?;
    }
    let now = jwt::now_secs();
    let exp = match p.exp {
        None => now + 60,
        Some(e) if e <= now => {
            return Err(XrpcError::named(
                "BadExpiration",
                "expiration is in the past",
            ));
        }
        Some(e) if e - now > 3600 => {
            return Err(XrpcError::named(
                "BadExpiration",
                "expiration is more than one hour away",
            ));
        }
        Some(e) if p.lxm.is_none() && e - now > 60 => {
            return Err(XrpcError::named(
                "BadExpiration",
                "a token without lxm may be valid for at most 60 seconds",
            ));
        }
        Some(e) => e,
    };
    if !auth.is_privileged()
        && p.lxm.as_deref().is_some_and(|l| {
            l.starts_with("com.atproto.server.") || l.starts_with("com.atproto.identity.")
        })
    {
        return Err(XrpcError::invalid(format!(
            "{} cannot get tokens for account-management methods",
            auth.limited_kind()
        )));
    }
    let token =
        crate::services::identity::service_token(&state, &auth.did, &p.aud, p.lxm.as_deref(), exp)
            .await?;
    Ok(Json(json!({ "token": token })))
}
