//! com.atproto.server.reserveSigningKey: make a signing key ahead of a migration, so the
//! user can put it in their DID document before importing their repo here.

use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use pds::crypto::{Curve, Keypair};
use rusqlite::params;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct In {
    did: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    if let Some(d) = &input.did {
        pds::syntax::Did::new(d).map_err(|e| XrpcError::invalid(format!("Invalid did: {e}")))?;
    }
    let key = Keypair::generate(Curve::Secp256k1);
    let did_key = key.did_key();
    let sealed = state
        .kek
        .seal_keypair(&format!("reserved-key:{did_key}"), &key)
        .map_err(XrpcError::internal)?;
    let (k, d) = (did_key.clone(), input.did.clone());
    state
        .db
        .write(move |tx| {
            tx.conn()
                .execute(
                    "INSERT INTO reserved_key (key_did, for_did, secret, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![k, d, sealed, crate::store::now()],
                )
                .map(|_| ())
                .map_err(crate::store::DbError::from)
        })
        .await?;
    Ok(Json(json!({ "signingKey": did_key })))
}
