//! com.atproto.server.createInviteCodes (admin): several codes, per account.

use crate::auth::AdminAuth;
use crate::context::AppState;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    code_count: u32,
    use_count: u32,
    #[serde(default)]
    for_accounts: Vec<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let targets = if input.for_accounts.is_empty() {
        vec!["admin".to_string()]
    } else {
        input.for_accounts
    };
    let mut out = Vec::new();
    for account in targets {
        let codes = crate::services::invite::create(
            &state,
            input.code_count,
            input.use_count,
            Some(account.clone()),
        )
        .await?;
        out.push(json!({
            "account": account,
            "codes": codes.iter().map(|c| c.code.clone()).collect::<Vec<_>>(),
        }));
    }
    Ok(Json(json!({ "codes": out })))
}
