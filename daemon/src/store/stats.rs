//! Server-wide counts for `pdsctl status`: accounts, blob storage, and what each relay last
//! answered to requestCrawl. Read-only queries; nothing here changes the database.

use super::{Db, DbError};

/// Counts over the whole server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStats {
    pub accounts: u64,
    pub active_accounts: u64,
    /// Distinct blobs (a blob shared by two accounts counts once: it is stored once).
    pub blobs: u64,
    pub blob_bytes: u64,
}

/// The last requestCrawl of one relay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrawlStatus {
    pub relay: String,
    pub last_try_at: Option<String>,
    pub last_ok_at: Option<String>,
    pub last_status: Option<String>,
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Count accounts and blobs.
pub async fn server_stats(db: &Db) -> Result<ServerStats, DbError> {
    db.read(|c| {
        let (accounts, active): (i64, i64) = c.query_row(
            "SELECT COUNT(*), \
                    COALESCE(SUM(deactivated_at IS NULL AND takedown_ref IS NULL), 0) \
             FROM account",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (blobs, blob_bytes): (i64, i64) = c.query_row(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) \
             FROM (SELECT cid, MAX(size) AS size FROM blob GROUP BY cid)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(ServerStats {
            accounts: count(accounts),
            active_accounts: count(active),
            blobs: count(blobs),
            blob_bytes: count(blob_bytes),
        })
    })
    .await
}

/// Every relay that requestCrawl was ever sent to.
pub async fn crawl_statuses(db: &Db) -> Result<Vec<CrawlStatus>, DbError> {
    db.read(|c| {
        let mut st = c.prepare(
            "SELECT relay, last_try_at, last_ok_at, last_status FROM crawl_status ORDER BY relay",
        )?;
        let rows = st.query_map([], |r| {
            Ok(CrawlStatus {
                relay: r.get(0)?,
                last_try_at: r.get(1)?,
                last_ok_at: r.get(2)?,
                last_status: r.get(3)?,
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>().map_err(DbError::from)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_accounts_by_state_and_blobs_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("t.sqlite")).expect("open");
        assert_eq!(
            server_stats(&db).await.expect("stats"),
            ServerStats::default()
        );
        db.write(|tx| {
            let c = tx.conn();
            for (did, deact, takedown) in [
                ("did:plc:a", None, None),
                ("did:plc:b", Some("2024-01-01T00:00:00.000Z"), None),
                ("did:plc:c", None, Some("ref-1")),
            ] {
                c.execute(
                    "INSERT INTO account (did, created_at, deactivated_at, takedown_ref, signing_key) \
                     VALUES (?1, '2024-01-01T00:00:00.000Z', ?2, ?3, x'00')",
                    rusqlite::params![did, deact, takedown],
                )?;
            }
            for (did, cid, size) in [("did:plc:a", "bafyA", 10), ("did:plc:b", "bafyA", 10), ("did:plc:a", "bafyB", 5)] {
                c.execute(
                    "INSERT INTO blob (did, cid, mime_type, size, created_at) \
                     VALUES (?1, ?2, 'image/png', ?3, '2024-01-01T00:00:00.000Z')",
                    rusqlite::params![did, cid, size],
                )?;
            }
            c.execute(
                "INSERT INTO crawl_status (relay, last_try_at, last_status) VALUES ('bsky.network', 'x', '200 OK')",
                [],
            )?;
            Ok::<_, DbError>(())
        })
        .await
        .expect("seed");
        let s = server_stats(&db).await.expect("stats");
        assert_eq!(
            s,
            ServerStats {
                accounts: 3,
                active_accounts: 1,
                blobs: 2,
                blob_bytes: 15
            }
        );
        let crawls = crawl_statuses(&db).await.expect("crawls");
        assert_eq!(crawls.len(), 1);
        assert_eq!(crawls[0].last_status.as_deref(), Some("200 OK"));
        db.close();
    }
}
