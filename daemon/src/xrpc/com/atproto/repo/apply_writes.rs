//! com.atproto.repo.applyWrites: several creates/updates/deletes as ONE commit, atomically.

use crate::auth::AccessAuth;
use crate::context::AppState;
use crate::services::repo::{PreparedWrite, apply_writes, prepare_record};
use crate::xrpc::error::XrpcError;
use crate::xrpc::extract::Input;
use axum::Json;
use axum::extract::State;
use pds::repo::{Action, Write};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct In {
    repo: String,
    validate: Option<bool>,
    writes: Vec<Value>,
    swap_commit: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    auth: AccessAuth,
    Input(input): Input<In>,
) -> Result<Json<Value>, XrpcError> {
    let did = super::write_target(&state, &auth, &input.repo).await?;
    let max = state.config.limits.writes_per_batch;
    if input.writes.len() > max {
        return Err(XrpcError::invalid(format!("Too many writes. Max: {max}")));
    }
    let mut prepared = Vec::with_capacity(input.writes.len());
    for (i, w) in input.writes.iter().enumerate() {
        let kind = w.get("$type").and_then(Value::as_str).unwrap_or("");
        let collection =
            super::collection(w.get("collection").and_then(Value::as_str).ok_or_else(|| {
                XrpcError::invalid(format!("writes/{i}: collection is required"))
            })?)?;
        let rkey_in = w.get("rkey").and_then(Value::as_str);
        match kind {
            "com.atproto.repo.applyWrites#create" => {
                let rkey = match rkey_in {
                    Some(k) => super::rkey(k)?,
                    None => state.tids.next().to_string(),
                };
                let record = super::record_value(
                    w.get("value").ok_or_else(|| {
                        XrpcError::invalid(format!("writes/{i}: value is required"))
                    })?,
                    &collection,
                )?;
                let (blobs, validation) =
                    prepare_record(&collection, &rkey, &record, input.validate)?;
                prepared.push(PreparedWrite {
                    write: Write::Create {
                        collection,
                        rkey,
                        record,
                    },
                    blobs,
                    validation,
                });
            }
            "com.atproto.repo.applyWrites#update" => {
                let rkey =
                    super::rkey(rkey_in.ok_or_else(|| {
                        XrpcError::invalid(format!("writes/{i}: rkey is required"))
                    })?)?;
                let record = super::record_value(
                    w.get("value").ok_or_else(|| {
                        XrpcError::invalid(format!("writes/{i}: value is required"))
                    })?,
                    &collection,
                )?;
                let (blobs, validation) =
                    prepare_record(&collection, &rkey, &record, input.validate)?;
                prepared.push(PreparedWrite {
                    write: Write::Update {
                        collection,
                        rkey,
                        record,
                        swap_record: None,
                    },
                    blobs,
                    validation,
                });
            }
            "com.atproto.repo.applyWrites#delete" => {
                let rkey =
                    super::rkey(rkey_in.ok_or_else(|| {
                        XrpcError::invalid(format!("writes/{i}: rkey is required"))
                    })?)?;
                prepared.push(PreparedWrite {
                    write: Write::Delete {
                        collection,
                        rkey,
                        swap_record: None,
                    },
                    blobs: vec![],
                    validation: None,
                });
            }
            other => {
                return Err(XrpcError::invalid(format!(
                    "writes/{i}: unknown write type {other:?}"
                )));
            }
        }
    }
    let swap = super::optional_cid(input.swap_commit.as_deref(), "swapCommit")?;
    let done = apply_writes(&state, &did, prepared, swap).await?;
    let results: Vec<Value> = done
        .results
        .iter()
        .map(|r| {
            let uri = format!("at://{}/{}/{}", did, r.collection, r.rkey);
            match r.action {
                Action::Create | Action::Update => {
                    let t = if r.action == Action::Create {
                        "com.atproto.repo.applyWrites#createResult"
                    } else {
                        "com.atproto.repo.applyWrites#updateResult"
                    };
                    let mut o =
                        json!({"$type": t, "uri": uri, "cid": r.cid.map(|c| c.to_string())});
                    if let Some(v) = r.validation {
                        o["validationStatus"] = json!(v);
                    }
                    o
                }
                Action::Delete => json!({"$type": "com.atproto.repo.applyWrites#deleteResult"}),
            }
        })
        .collect();
    Ok(Json(json!({
        "commit": {"cid": done.commit.to_string(), "rev": done.rev.to_string()},
        "results": results,
    })))
}
