//! com.atproto.sync.listRepos: every hosted repo with its head, rev and status.

use crate::context::AppState;
use crate::store::repo as repo_store;
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Params;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct P {
    limit: Option<u32>,
    cursor: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    Params(p): Params<P>,
) -> Result<Json<Value>, XrpcError> {
    let limit = p.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(XrpcError::invalid("limit must be between 1 and 1000"));
    }
    let rows = state
        .db
        .read(move |c| repo_store::list_repos(c, p.cursor.as_deref(), limit))
        .await?;
    let repos: Vec<Value> = rows
        .iter()
        .map(|(did, head, status)| {
            let mut r = json!({
                "did": did,
                "head": head.commit.to_string(),
                "rev": head.rev.to_string(),
                "active": status.is_none(),
            });
            if let Some(s) = status {
                r["status"] = json!(s);
            }
            r
        })
        .collect();
    let mut out = json!({ "repos": repos });
    if rows.len() as u32 == limit
        && let Some((last, _, _)) = rows.last()
    {
        out["cursor"] = json!(last);
    }
    Ok(Json(out))
}
