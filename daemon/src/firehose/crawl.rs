//! Telling relays about this server: `com.atproto.sync.requestCrawl` with `{hostname}` to
//! every relay in `[firehose] relays`, once at start and once more after the first event
//! sequenced since start (a relay that crawled an empty server may not come back by
//! itself). A relay that does not answer 2xx is retried with exponential backoff,
//! capped and jittered, until it does. Every try is recorded in `crawl_status` (time,
//! and the answer: status code and message, or why there was none) so that an operator
//! can see it (`pdsctl status`, read by `store::stats::crawl_statuses`). This module does
//! not serve anything and does not decide which relays exist (configuration does).

use crate::store::{Db, DbError};
use rusqlite::params;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// `last_status` is `"<code>"`, `"<code> <message>"`, or `"error: <why>"`.
fn join_status(status: Option<u16>, message: Option<&str>) -> String {
    match (status, message) {
        (Some(s), Some(m)) => format!("{s} {m}"),
        (Some(s), None) => s.to_string(),
        (None, Some(m)) => format!("error: {m}"),
        (None, None) => "error".into(),
    }
}

/// Exponential backoff between tries: `initial * 2^n`, capped at `max`, then scaled by a
/// random factor in [0.5, 1] so that many servers do not retry in step.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(15 * 60),
        }
    }
}

impl Backoff {
    /// The wait after the `failures`-th failed try in a row (1 for the first).
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(30);
        let base = self
            .initial
            .saturating_mul(1u32 << exp)
            .min(self.max)
            .max(Duration::from_millis(1));
        let r = getrandom::u32().unwrap_or(u32::MAX / 2);
        let factor = 0.5 + 0.5 * (r as f64 / u32::MAX as f64);
        base.mul_f64(factor)
    }
}

/// The base URL of a relay given as a hostname (`bsky.network`, meaning https) or a URL.
pub fn relay_url(relay: &str) -> String {
    let r = relay.trim().trim_end_matches('/');
    if r.starts_with("http://") || r.starts_with("https://") {
        r.to_string()
    } else {
        format!("https://{r}")
    }
}

/// The host (and port) of a URL: what requestCrawl names (`https://pds.example.com` →
/// `pds.example.com`, `http://localhost:2583` → `localhost:2583`).
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_string()
}

/// The announcer; [`Crawler::run`] drives it until shutdown.
#[derive(Debug, Clone)]
pub struct Crawler {
    pub relays: Vec<String>,
    /// Our public hostname, as sent in the request body.
    pub hostname: String,
    pub http: reqwest::Client,
    pub db: Db,
    pub backoff: Backoff,
}

/// How long one requestCrawl may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of a relay's answer is kept.
const MAX_MESSAGE: usize = 500;

impl Crawler {
    /// Announce to every relay (each on its own schedule) until shutdown.
    /// `first_write` turns true once something was sequenced since start.
    pub async fn run(self, first_write: watch::Receiver<bool>, shutdown: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        for relay in self.relays.clone() {
            let me = self.clone();
            let fw = first_write.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move { me.relay_loop(relay, fw, stop).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn relay_loop(
        &self,
        relay: String,
        mut first_write: watch::Receiver<bool>,
        shutdown: CancellationToken,
    ) {
        // At start.
        let wrote_before = *first_write.borrow_and_update();
        if !self.announce_until_ok(&relay, &shutdown).await {
            return;
        }
        // After the first write since start, unless the announcement above already
        // happened after it.
        if !wrote_before {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                r = first_write.wait_for(|w| *w) => if r.is_err() { return },
            }
            self.announce_until_ok(&relay, &shutdown).await;
        }
    }

    /// Try until a 2xx answer; false if shut down first.
    async fn announce_until_ok(&self, relay: &str, shutdown: &CancellationToken) -> bool {
        let mut failures = 0u32;
        loop {
            let ok = tokio::select! {
                _ = shutdown.cancelled() => return false,
                ok = self.announce_once(relay) => ok,
            };
            if ok {
                return true;
            }
            failures += 1;
            let wait = self.backoff.delay(failures);
            tracing::info!(
                relay,
                retry_in_ms = wait.as_millis() as u64,
                "requestCrawl will be retried"
            );
            tokio::select! {
                _ = shutdown.cancelled() => return false,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One requestCrawl; records the answer and says whether it was 2xx.
    async fn announce_once(&self, relay: &str) -> bool {
        let url = format!("{}/xrpc/com.atproto.sync.requestCrawl", relay_url(relay));
        let tried_at = crate::store::now();
        let res = self
            .http
            .post(&url)
            .timeout(REQUEST_TIMEOUT)
            .json(&serde_json::json!({ "hostname": self.hostname }))
            .send()
            .await;
        let (status, message) = match res {
            Ok(r) => {
                let code = r.status().as_u16();
                let body = r.text().await.unwrap_or_default();
                (Some(code), answer_message(&body))
            }
            Err(e) => (None, Some(error_chain(&e))),
        };
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        if ok {
            tracing::info!(relay, status, "requestCrawl accepted");
        } else {
            tracing::warn!(
                relay,
                status,
                message = message.as_deref().unwrap_or(""),
                "requestCrawl failed"
            );
        }
        let line = join_status(status, message.as_deref());
        let relay = relay.to_string();
        let recorded = self
            .db
            .write(move |tx| {
                tx.conn()
                    .execute(
                        "INSERT INTO crawl_status (relay, last_try_at, last_ok_at, last_status) \
                         VALUES (?1, ?2, CASE WHEN ?3 THEN ?2 END, ?4) \
                         ON CONFLICT (relay) DO UPDATE SET last_try_at = excluded.last_try_at, \
                         last_ok_at = COALESCE(excluded.last_ok_at, crawl_status.last_ok_at), \
                         last_status = excluded.last_status",
                        params![relay, tried_at, ok, line],
                    )
                    .map(|_| ())
                    .map_err(DbError::from)
            })
            .await;
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "cannot record a requestCrawl answer");
        }
        ok
    }
}

/// The useful part of a relay's answer: `error: message` of an XRPC error body, else
/// the start of the text; nothing for an empty or `{}` body.
fn answer_message(body: &str) -> Option<String> {
    let body = body.trim();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        let e = v.get("error").and_then(|e| e.as_str());
        let m = v.get("message").and_then(|m| m.as_str());
        return match (e, m) {
            (Some(e), Some(m)) => Some(clip(&format!("{e}: {m}"))),
            (Some(x), None) | (None, Some(x)) => Some(clip(x)),
            (None, None) => None,
        };
    }
    (!body.is_empty()).then(|| clip(body))
}

fn clip(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_MESSAGE)
        .collect();
    one_line
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    clip(&s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Json;
    use axum::extract::State;
    use axum::http::StatusCode;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    #[test]
    fn relay_urls_from_hostnames_and_urls() {
        assert_eq!(relay_url("bsky.network"), "https://bsky.network");
        assert_eq!(relay_url("https://relay.example/"), "https://relay.example");
        assert_eq!(relay_url("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(host_of("https://pds.example.com"), "pds.example.com");
        assert_eq!(host_of("http://localhost:2583/"), "localhost:2583");
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let b = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        for n in 1..40 {
            let d = b.delay(n);
            let base = Duration::from_secs(1u64 << (n - 1).min(6)).min(b.max);
            assert!(d <= base && d >= base / 2, "try {n}: {d:?} vs {base:?}");
        }
    }

    #[test]
    fn status_lines_and_relay_messages() {
        assert_eq!(join_status(Some(200), None), "200");
        assert_eq!(
            join_status(Some(503), Some("NotReady: later")),
            "503 NotReady: later"
        );
        assert_eq!(
            join_status(None, Some("connection refused")),
            "error: connection refused"
        );
        assert_eq!(
            answer_message(r#"{"error":"HostBanned","message":"no"}"#),
            Some("HostBanned: no".into())
        );
        assert_eq!(answer_message("{}"), None);
        assert_eq!(answer_message(""), None);
        assert_eq!(answer_message("bad\ngateway"), Some("bad gateway".into()));
    }

    /// A relay stand-in: answers 503 to the first request and 200 afterwards, and keeps
    /// every body it got.
    #[derive(Clone, Default)]
    struct Relay {
        got: Arc<Mutex<Vec<serde_json::Value>>>,
    }

    async fn request_crawl(
        State(r): State<Relay>,
        Json(body): Json<serde_json::Value>,
    ) -> (StatusCode, Json<serde_json::Value>) {
        let n = {
            let mut got = r.got.lock().expect("lock");
            got.push(body);
            got.len()
        };
        if n == 1 {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"error": "NotReady", "message": "come back later"})),
            )
        } else {
            (StatusCode::OK, Json(serde_json::json!({})))
        }
    }

    async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !f() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn last_status(db: &Db, relay: &str) -> Option<(Option<String>, String)> {
        db.read_blocking(|c| {
            c.query_row(
                "SELECT last_ok_at, last_status FROM crawl_status WHERE relay = ?1",
                [relay],
                |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?)),
            )
            .map_err(DbError::from)
        })
        .ok()
    }

    #[tokio::test]
    async fn announces_at_start_retries_and_again_after_the_first_write() {
        let relay = Relay::default();
        let app = axum::Router::new()
            .route(
                "/xrpc/com.atproto.sync.requestCrawl",
                axum::routing::post(request_crawl),
            )
            .with_state(relay.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("t.sqlite")).expect("db");
        let good = format!("http://{addr}");
        // A relay that never answers: its failure is recorded and does not hold up the other.
        let dead = "http://127.0.0.1:1".to_string();
        let crawler = Crawler {
            relays: vec![good.clone(), dead.clone()],
            hostname: "pds.example.com".into(),
            http: reqwest::Client::new(),
            db: db.clone(),
            backoff: Backoff {
                initial: Duration::from_millis(5),
                max: Duration::from_millis(20),
            },
        };
        let (first_write, fw_rx) = watch::channel(false);
        let stop = CancellationToken::new();
        let task = tokio::spawn(crawler.run(fw_rx, stop.clone()));

        let count = || relay.got.lock().map(|g| g.len()).unwrap_or(0);
        wait_until("the retry after 503 to be answered 200", || {
            last_status(&db, &good).is_some_and(|(_, l)| l.starts_with("200"))
        })
        .await;
        assert_eq!(count(), 2, "one 503, then one 200");
        // What the admin API (pdsctl status) reads.
        let listed = crate::store::stats::crawl_statuses(&db)
            .await
            .expect("list");
        let ok = listed.iter().find(|r| r.relay == good).expect("good relay");
        assert!(
            ok.last_status
                .as_deref()
                .is_some_and(|s| s.starts_with("200")),
            "{ok:?}"
        );
        assert!(
            ok.last_ok_at.is_some() && ok.last_try_at.is_some(),
            "{ok:?}"
        );

        first_write.send_replace(true);
        wait_until("the announcement after the first write", || count() >= 3).await;
        let bodies = relay.got.lock().expect("lock").clone();
        for b in &bodies {
            assert_eq!(b, &serde_json::json!({"hostname": "pds.example.com"}));
        }

        // The dead relay: tried, never ok, with the reason kept.
        wait_until("the dead relay's failure", || {
            last_status(&db, &dead).is_some()
        })
        .await;
        let (ok_at, line) = last_status(&db, &dead).expect("row");
        assert!(ok_at.is_none());
        assert!(line.starts_with("error: "), "{line}");

        stop.cancel();
        task.await.expect("crawler ends on shutdown");
        assert_eq!(
            count(),
            3,
            "nothing more after the first write's announcement"
        );
        let (ok_at, line) = last_status(&db, &good).expect("row");
        assert!(ok_at.is_some() && line.starts_with("200"), "{line}");
    }
}
