//! The built-in PLC directory of `--dev`: the did:plc HTTP API (submit an operation, read
//! the document, data, log, audit log, last operation) on loopback, so a newcomer gets a
//! working PDS offline. Every operation is checked with `pds::identity::PlcState` (the
//! signature chain, key priorities, the 72-hour recovery window) before it is stored in
//! the `plc_op` table; invalid ones are refused as the reference directory refuses them.

use crate::store::{Db, DbError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pds::identity::{LogEntry, PlcState, SignedOp};
use rusqlite::params;
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
enum DirError {
    #[error("DID not registered: {0}")]
    NotFound(String),
    #[error("DID not available: {0}")]
    Tombstoned(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Db(#[from] DbError),
}

impl IntoResponse for DirError {
    fn into_response(self) -> Response {
        let status = match &self {
            DirError::NotFound(_) => StatusCode::NOT_FOUND,
            DirError::Tombstoned(_) => StatusCode::GONE,
            DirError::Invalid(_) => StatusCode::BAD_REQUEST,
            DirError::Db(e) => {
                tracing::error!(error = %e, "PLC directory storage failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, Json(json!({ "message": self.to_string() }))).into_response()
    }
}

/// The directory's routes (served on their own loopback port).
pub fn router(db: Db) -> Router {
    Router::new()
        .route(
            "/_health",
            get(|| async { Json(json!({"version": "pdsd-builtin"})) }),
        )
        .route("/{did}", get(document).post(submit))
        .route("/{did}/data", get(data))
        .route("/{did}/log", get(log))
        .route("/{did}/log/audit", get(audit))
        .route("/{did}/log/last", get(last))
        .with_state(db)
}

fn load(conn: &rusqlite::Connection, did: &str) -> Result<Vec<LogEntry>, DbError> {
    let mut st = conn.prepare_cached(
        "SELECT operation, cid, nullified, created_at FROM plc_op WHERE did = ?1 ORDER BY id",
    )?;
    let rows = st.query_map([did], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (op, cid, nullified, created_at) = row?;
        let entry: LogEntry = serde_json::from_value(json!({
            "did": did,
            "operation": serde_json::from_str::<Value>(&op).map_err(|e| DbError::Task(e.to_string()))?,
            "cid": cid,
            "nullified": nullified != 0,
            "createdAt": created_at,
        }))
        .map_err(|e| DbError::Task(format!("stored PLC operation is unreadable: {e}")))?;
        out.push(entry);
    }
    Ok(out)
}

async fn state_of(db: &Db, did: &str) -> Result<PlcState, DirError> {
    let d = did.to_string();
    let entries = db.read(move |c| load(c, &d)).await?;
    if entries.is_empty() {
        return Err(DirError::NotFound(did.to_string()));
    }
    PlcState::from_log(did, &entries)
        .map_err(|e| DirError::Invalid(format!("stored log does not verify: {e}")))
}

async fn submit(
    State(db): State<Db>,
    Path(did): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, DirError> {
    let op = SignedOp::from_json(&body)
        .map_err(|e| DirError::Invalid(format!("Invalid operation: {e}")))?;
    let did2 = did.clone();
    db.write(move |tx| -> Result<(), DirError> {
        let conn = tx.conn();
        let entries = load(conn, &did2)?;
        // The log's times must rise strictly; two operations within one millisecond
        // still get distinct, increasing times.
        let now = match entries.last() {
            Some(last) if last.created_at >= chrono::Utc::now() => {
                last.created_at + chrono::Duration::milliseconds(1)
            }
            _ => chrono::Utc::now(),
        };
        let (state, applied) = if entries.is_empty() {
            let (state, applied) = PlcState::create(op, now).map_err(|e| DirError::Invalid(e.to_string()))?;
            if state.did() != did2 {
                return Err(DirError::Invalid(format!(
                    "genesis operation hashes to {}, not {did2}",
                    state.did()
                )));
            }
            (state, applied)
        } else {
            let mut state = PlcState::from_log(&did2, &entries)
                .map_err(|e| DirError::Invalid(format!("stored log does not verify: {e}")))?;
            let applied = state.apply(op, now).map_err(|e| DirError::Invalid(e.to_string()))?;
            (state, applied)
        };
        let head = state.head();
        let op_json = serde_json::to_string(&head.operation).map_err(|e| DirError::Invalid(e.to_string()))?;
        let created = head.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        conn.execute(
            "INSERT INTO plc_op (did, cid, operation, nullified, created_at) VALUES (?1, ?2, ?3, 0, ?4)",
            params![did2, applied.cid.to_string(), op_json, created],
        )
        .map_err(DbError::from)?;
        for n in &applied.nullified {
            conn.execute(
                "UPDATE plc_op SET nullified = 1 WHERE did = ?1 AND cid = ?2",
                params![did2, n.to_string()],
            )
            .map_err(DbError::from)?;
        }
        Ok(())
    })
    .await?;
    Ok(Json(json!({})))
}

async fn document(State(db): State<Db>, Path(did): Path<String>) -> Result<Json<Value>, DirError> {
    let state = state_of(&db, &did).await?;
    let doc = state
        .document()
        .ok_or_else(|| DirError::Tombstoned(did.clone()))?;
    Ok(Json(
        serde_json::to_value(doc).map_err(|e| DirError::Invalid(e.to_string()))?,
    ))
}

async fn data(State(db): State<Db>, Path(did): Path<String>) -> Result<Json<Value>, DirError> {
    let state = state_of(&db, &did).await?;
    let data = state
        .data()
        .ok_or_else(|| DirError::Tombstoned(did.clone()))?;
    Ok(Json(
        serde_json::to_value(data).map_err(|e| DirError::Invalid(e.to_string()))?,
    ))
}

async fn log(State(db): State<Db>, Path(did): Path<String>) -> Result<Json<Value>, DirError> {
    let state = state_of(&db, &did).await?;
    Ok(Json(
        serde_json::to_value(state.ops()).map_err(|e| DirError::Invalid(e.to_string()))?,
    ))
}

async fn audit(State(db): State<Db>, Path(did): Path<String>) -> Result<Json<Value>, DirError> {
    let state = state_of(&db, &did).await?;
    Ok(Json(
        serde_json::to_value(state.audit_log()).map_err(|e| DirError::Invalid(e.to_string()))?,
    ))
}

async fn last(State(db): State<Db>, Path(did): Path<String>) -> Result<Json<Value>, DirError> {
    let state = state_of(&db, &did).await?;
    Ok(Json(
        serde_json::to_value(state.last_op()).map_err(|e| DirError::Invalid(e.to_string()))?,
    ))
}
