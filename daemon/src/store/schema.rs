//! The SQLite schema and its migrations, numbered by `PRAGMA user_version`.
//!
//! Migrations only ever get appended; an existing one is never edited after release.
//! CIDs are stored as their binary form, times as RFC 3339 strings (UTC, millisecond
//! precision) so that they sort as text.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: accounts, repos, blobs, sessions, invites, the sequencer, the built-in PLC.
    r#"
    CREATE TABLE account (
        did              TEXT PRIMARY KEY,
        handle           TEXT UNIQUE,
        email            TEXT UNIQUE COLLATE NOCASE,
        email_confirmed_at TEXT,
        password_hash    TEXT,
        created_at       TEXT NOT NULL,
        deactivated_at   TEXT,
        delete_after     TEXT,
        takedown_ref     TEXT,
        tier             TEXT NOT NULL DEFAULT 'free',
        invite_code      TEXT,
        signing_key      BLOB NOT NULL
    );

    CREATE TABLE repo_root (
        did         TEXT PRIMARY KEY REFERENCES account(did) ON DELETE CASCADE,
        commit_cid  BLOB NOT NULL,
        rev         TEXT NOT NULL,
        data_cid    BLOB NOT NULL,
        indexed_at  TEXT NOT NULL
    );

    CREATE TABLE repo_block (
        did    TEXT NOT NULL,
        cid    BLOB NOT NULL,
        rev    TEXT NOT NULL,
        bytes  BLOB NOT NULL,
        PRIMARY KEY (did, cid)
    ) WITHOUT ROWID;
    CREATE INDEX repo_block_rev ON repo_block (did, rev);

    CREATE TABLE record (
        did         TEXT NOT NULL,
        collection  TEXT NOT NULL,
        rkey        TEXT NOT NULL,
        cid         BLOB NOT NULL,
        rev         TEXT NOT NULL,
        indexed_at  TEXT NOT NULL,
        PRIMARY KEY (did, collection, rkey)
    ) WITHOUT ROWID;

    CREATE TABLE blob (
        did         TEXT NOT NULL,
        cid         TEXT NOT NULL,
        mime_type   TEXT NOT NULL,
        size        INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        takedown_ref TEXT,
        PRIMARY KEY (did, cid)
    ) WITHOUT ROWID;

    CREATE TABLE record_blob (
        did         TEXT NOT NULL,
        blob_cid    TEXT NOT NULL,
        record_path TEXT NOT NULL,
        PRIMARY KEY (did, blob_cid, record_path)
    ) WITHOUT ROWID;
    CREATE INDEX record_blob_path ON record_blob (did, record_path);

    CREATE TABLE refresh_token (
        id          TEXT PRIMARY KEY,
        did         TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        app_password_name TEXT,
        next_id     TEXT
    );
    CREATE INDEX refresh_token_did ON refresh_token (did);

    CREATE TABLE app_password (
        did           TEXT NOT NULL,
        name          TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        privileged    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (did, name)
    ) WITHOUT ROWID;

    CREATE TABLE invite_code (
        code        TEXT PRIMARY KEY,
        available   INTEGER NOT NULL,
        disabled    INTEGER NOT NULL DEFAULT 0,
        for_account TEXT NOT NULL,
        created_by  TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE invite_code_use (
        code     TEXT NOT NULL,
        used_by  TEXT NOT NULL,
        used_at  TEXT NOT NULL,
        PRIMARY KEY (code, used_by)
    );

    CREATE TABLE email_token (
        purpose      TEXT NOT NULL,
        did          TEXT NOT NULL,
        token        TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        PRIMARY KEY (purpose, did)
    );

    CREATE TABLE reserved_key (
        key_did     TEXT PRIMARY KEY,
        for_did     TEXT,
        secret      BLOB NOT NULL,
        created_at  TEXT NOT NULL
    );

    CREATE TABLE server_secret (
        name   TEXT PRIMARY KEY,
        value  BLOB NOT NULL
    );

    CREATE TABLE repo_seq (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        did          TEXT NOT NULL,
        event_type   TEXT NOT NULL,
        event        BLOB NOT NULL,
        sequenced_at TEXT NOT NULL
    );
    CREATE INDEX repo_seq_time ON repo_seq (sequenced_at);

    CREATE TABLE plc_op (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        did         TEXT NOT NULL,
        cid         TEXT NOT NULL,
        operation   TEXT NOT NULL,
        nullified   INTEGER NOT NULL DEFAULT 0,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX plc_op_did ON plc_op (did, id);

    CREATE TABLE crawl_status (
        relay       TEXT PRIMARY KEY,
        last_try_at TEXT,
        last_ok_at  TEXT,
        last_status TEXT
    );
    "#,
    // 2: the OAuth authorization server (daemon/src/oauth). Times are RFC 3339 like the rest;
    // tokens and codes are stored only as SHA-256 hashes.
    r#"
    CREATE TABLE oauth_request (
        id          TEXT PRIMARY KEY,
        client_id   TEXT NOT NULL,
        client_auth TEXT NOT NULL,
        parameters  TEXT NOT NULL,
        dpop_jkt    TEXT NOT NULL,
        device_id   TEXT,
        did         TEXT,
        code_hash   TEXT UNIQUE,
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL
    );
    CREATE INDEX oauth_request_expiry ON oauth_request (expires_at);

    CREATE TABLE oauth_token (
        id                 TEXT PRIMARY KEY,
        did                TEXT NOT NULL,
        client_id          TEXT NOT NULL,
        client_auth        TEXT NOT NULL,
        scope              TEXT NOT NULL,
        dpop_jkt           TEXT NOT NULL,
        device_id          TEXT,
        code_hash          TEXT NOT NULL UNIQUE,
        refresh_hash       TEXT UNIQUE,
        created_at         TEXT NOT NULL,
        refreshed_at       TEXT NOT NULL,
        expires_at         TEXT NOT NULL,
        session_expires_at TEXT
    );
    CREATE INDEX oauth_token_did ON oauth_token (did, client_id);
    CREATE INDEX oauth_token_expiry ON oauth_token (expires_at);

    CREATE TABLE oauth_used_refresh (
        hash        TEXT PRIMARY KEY,
        token_id    TEXT NOT NULL,
        expires_at  TEXT NOT NULL
    );
    CREATE INDEX oauth_used_refresh_token ON oauth_used_refresh (token_id);

    CREATE TABLE oauth_replay (
        key         TEXT PRIMARY KEY,
        expires_at  TEXT NOT NULL
    );
    CREATE INDEX oauth_replay_expiry ON oauth_replay (expires_at);

    CREATE TABLE oauth_device_account (
        device_id    TEXT NOT NULL,
        did          TEXT NOT NULL,
        signed_in_at TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        PRIMARY KEY (device_id, did)
    );

    CREATE TABLE oauth_authorization (
        did          TEXT NOT NULL,
        client_id    TEXT NOT NULL,
        client_name  TEXT,
        scope        TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        PRIMARY KEY (did, client_id)
    );
    "#,
    // 3: the device API (/v1): enrolled devices, the repo-host desktop, single-use nonces of
    // device tokens, the history of each account's relay signing keys, and DIDs made ahead
    // of their accounts (web flow).
    r#"
    CREATE TABLE device (
        id              TEXT PRIMARY KEY,
        did             TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        name            TEXT NOT NULL,
        platform        TEXT NOT NULL,
        public_key      TEXT NOT NULL,
        status          TEXT NOT NULL,
        pairing_code    TEXT,
        created_at      TEXT NOT NULL,
        approved_at     TEXT,
        approved_by     TEXT,
        removed_at      TEXT,
        last_seen_at    TEXT,
        signed_off_at   TEXT,
        firehose_cursor INTEGER
    );
    CREATE INDEX device_did ON device (did, status);
    CREATE UNIQUE INDEX device_live_key ON device (public_key) WHERE status <> 'removed';

    CREATE TABLE repo_host (
        did        TEXT PRIMARY KEY REFERENCES account(did) ON DELETE CASCADE,
        device_id  TEXT NOT NULL REFERENCES device(id) ON DELETE CASCADE,
        since      TEXT NOT NULL
    );

    CREATE TABLE device_nonce (
        nonce       TEXT PRIMARY KEY,
        expires_at  TEXT NOT NULL
    );
    CREATE INDEX device_nonce_expiry ON device_nonce (expires_at);

    CREATE TABLE relay_signing_key (
        did         TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        key_id      TEXT NOT NULL,
        public_key  TEXT NOT NULL,
        status      TEXT NOT NULL,
        sealed      BLOB,
        created_at  TEXT NOT NULL,
        retired_at  TEXT,
        revoked_at  TEXT,
        PRIMARY KEY (did, key_id)
    ) WITHOUT ROWID;

    CREATE TABLE pending_did (
        did          TEXT PRIMARY KEY,
        handle       TEXT NOT NULL,
        signing_key  BLOB NOT NULL,
        operation    TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        expires_at   TEXT NOT NULL
    );
    CREATE INDEX pending_did_handle ON pending_did (handle);
    "#,
    // 4: the user's keys (/v1/keys, /v1/recovery, /v1/transfer): the one Shamir share the
    // relay escrows per account (sealed), the rotation log, recovery sessions, and transfer
    // codes (only their keyed hash; the hashing key is a sealed server_secret).
    r#"
    CREATE TABLE key_share (
        did          TEXT PRIMARY KEY REFERENCES account(did) ON DELETE CASCADE,
        set_id       TEXT NOT NULL,
        epoch        INTEGER NOT NULL,
        share_index  INTEGER NOT NULL,
        rotation_key TEXT NOT NULL,
        sealed       BLOB NOT NULL,
        stored_at    TEXT NOT NULL,
        stored_by    TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE rotation_log (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        did          TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        at           TEXT NOT NULL,
        event        TEXT NOT NULL,
        set_id       TEXT,
        epoch        INTEGER,
        share_index  INTEGER,
        rotation_key TEXT,
        actor        TEXT NOT NULL,
        detail       TEXT
    );
    CREATE INDEX rotation_log_did ON rotation_log (did, seq);

    CREATE TABLE recovery_session (
        id           TEXT PRIMARY KEY,
        did          TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        rotation_key TEXT NOT NULL,
        challenge    TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        verified_at  TEXT,
        device_id    TEXT
    );
    CREATE INDEX recovery_session_expiry ON recovery_session (expires_at);

    CREATE TABLE transfer (
        id           TEXT PRIMARY KEY,
        did          TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        from_device  TEXT NOT NULL,
        code_hash    TEXT NOT NULL UNIQUE,
        status       TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        new_device   TEXT,
        accepted_at  TEXT,
        completed_at TEXT
    );
    CREATE INDEX transfer_did ON transfer (did, status);
    "#,
    // Dropping a block the head no longer references asks whether a record still
    // points at it: without this index that question scanned the account's records, so
    // every write cost O(records).
    r#"
    CREATE INDEX record_cid ON record (did, cid);
    "#,
    // getRepo's `since` is rare and reads the account's blocks anyway; the index it
    // used was paid on every write, twice per block a commit added or dropped (about a
    // tenth of the writer's time under load). Blocks since a rev are now found by
    // reading the account's blocks through the primary key.
    r#"
    DROP INDEX repo_block_rev;
    "#,
    // The head commit's block moves into the head's row (see `store::repo::set_head`).
    r#"
    ALTER TABLE repo_root ADD COLUMN commit_bytes BLOB;
    "#,
];

/// Bring the schema up to date.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statements every write runs must find their rows through an index: a
    /// full scan makes each write cost O(size of the repository).
    #[test]
    fn the_write_path_searches_indexes_and_never_scans() {
        let mut c = Connection::open_in_memory().expect("open");
        migrate(&mut c).expect("migrate");
        // Each statement, and how each table in it must be searched: by every column
        // it is constrained on (a search on a prefix of the key, like `did=?` alone,
        // walks all of the account's rows).
        let hot: [(&str, &[&str]); 6] = [
            (
                "DELETE FROM repo_block WHERE did = ?1 AND cid = ?2
                 AND NOT EXISTS (SELECT 1 FROM record WHERE record.did = ?1 AND record.cid = ?2)",
                &[
                    "repo_block USING PRIMARY KEY (did=? AND cid=?)",
                    "record USING COVERING INDEX record_cid (did=? AND cid=?)",
                ],
            ),
            (
                "SELECT bytes FROM repo_block WHERE did = ?1 AND cid = ?2",
                &["(did=? AND cid=?)"],
            ),
            (
                "SELECT commit_cid, rev, data_cid FROM repo_root WHERE did = ?1",
                &["repo_root USING"],
            ),
            (
                "DELETE FROM record WHERE did = ?1 AND collection = ?2 AND rkey = ?3",
                &["(did=? AND collection=? AND rkey=?)"],
            ),
            (
                "DELETE FROM record_blob WHERE did = ?1 AND record_path = ?2",
                &["record_blob USING COVERING INDEX record_blob_path (did=? AND record_path=?)"],
            ),
            (
                "SELECT 1 FROM blob WHERE did = ?1 AND cid = ?2",
                &["(did=? AND cid=?)"],
            ),
        ];
        for (sql, wanted) in hot {
            let mut st = c
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plan");
            let nulls = vec![rusqlite::types::Null; st.parameter_count()];
            let details: Vec<String> = st
                .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("details");
            assert!(
                details.iter().all(|d| !d.starts_with("SCAN")),
                "{sql}\n{details:?}"
            );
            for w in wanted {
                assert!(
                    details.iter().any(|d| d.contains(w)),
                    "{sql}: no {w}\n{details:?}"
                );
            }
        }
    }

    #[test]
    fn migrations_apply_once() {
        let mut c = Connection::open_in_memory().expect("open");
        migrate(&mut c).expect("first");
        migrate(&mut c).expect("second is a no-op");
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, MIGRATIONS.len() as i64);
    }
}
