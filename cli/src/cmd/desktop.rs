//! `pdsctl desktop sync`: this machine as the repo-host desktop (desktop-enrolled mode).
//! It tells the relay it is online (heartbeat), brings its copy of the repo in step with
//! the relay's head (a verified snapshot when they differ), builds a commit from the
//! changes given on the command line with the `pds` library, sends it unsigned to
//! `POST /v1/relay/commits/sign`, checks that the relay signed exactly that commit with
//! the account's key, and keeps it. A stale head (the relay moved) is pulled and the
//! commit rebuilt once.
//!
//! The MST work is `desktop_repo.rs`, the wire work `relay.rs`; this file only decides
//! the order of things and what to print.

use super::device::{RepoCopy, open, pull, repo_copy};
use crate::ctx::Ctx;
use crate::desktop_repo::{Change, LocalRepo, check_path};
use crate::device_file::{DataDirArgs, REPO_FILE};
use crate::error::CliError;
use crate::relay::{CommitOp, CommitRequest};
use clap::{Args, Subcommand};
use pds::syntax::TidClock;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// Largest record file read from disk.
const MAX_RECORD_FILE: u64 = 1024 * 1024;

/// `pdsctl desktop ...`
#[derive(Debug, Subcommand)]
pub enum DesktopCommand {
    /// Bring this machine's copy of the repo in step with the relay and send local
    /// changes (built here, signed by the relay).
    ///
    /// Run it whenever this machine wakes up or has something to write: while the repo
    /// host is offline (no contact within the relay's timeout, or after --sleep) the
    /// relay answers XRPC writes with 503; reads keep working.
    #[command(
        after_help = "Examples:\n  pdsctl desktop sync\n  pdsctl desktop sync --create app.bsky.feed.post=post.json\n  pdsctl desktop sync --put app.bsky.actor.profile/self=profile.json --delete app.bsky.feed.post/3l2xyzabcde22\n  pdsctl desktop sync --sleep"
    )]
    Sync(SyncArgs),
}

/// `pdsctl desktop sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Create or replace the record COLLECTION/RKEY with the JSON record in FILE (it
    /// carries its `$type`). Repeatable; all changes go in one commit.
    #[arg(long = "put", value_name = "COLLECTION/RKEY=FILE")]
    pub put: Vec<String>,
    /// Create a record in COLLECTION under a new TID key, from the JSON in FILE.
    #[arg(long = "create", value_name = "COLLECTION=FILE")]
    pub create: Vec<String>,
    /// Delete the record COLLECTION/RKEY.
    #[arg(long = "delete", value_name = "COLLECTION/RKEY")]
    pub delete: Vec<String>,
    /// Afterwards tell the relay this machine goes offline: XRPC writes answer 503 at
    /// once, until it syncs again.
    #[arg(long)]
    pub sleep: bool,
    #[command(flatten)]
    pub data: DataDirArgs,
}

pub async fn run(cmd: DesktopCommand, ctx: &Ctx) -> Result<(), CliError> {
    match cmd {
        DesktopCommand::Sync(a) => sync(a, ctx).await,
    }
}

/// The commit the relay signed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Committed {
    cid: String,
    rev: String,
    seq: i64,
    ops: Vec<CommitOp>,
    /// How many times the relay had moved on and the commit was rebuilt.
    rebuilt: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncOut {
    did: String,
    device_id: String,
    repo_host: bool,
    mode: String,
    /// Whether the relay's copy was fetched (the local one was missing or behind).
    pulled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    committed: Option<Committed>,
    local_repo: RepoCopy,
    /// Whether the relay counts this machine online now (false after --sleep).
    online: bool,
}

fn split_arg<'a>(arg: &'a str, option: &str) -> Result<(&'a str, &'a str), CliError> {
    arg.split_once('=')
        .filter(|(l, r)| !l.is_empty() && !r.is_empty())
        .ok_or_else(|| CliError::Usage(format!("{option} takes LEFT=FILE, not {arg:?}")))
}

fn read_record(file: &str) -> Result<pds::data::Value, CliError> {
    let path = Path::new(file);
    let len = std::fs::metadata(path)
        .map_err(CliError::io(format!("cannot read {file}")))?
        .len();
    if len > MAX_RECORD_FILE {
        return Err(CliError::Usage(format!(
            "{file} is {len} bytes; a record file may hold at most {MAX_RECORD_FILE}"
        )));
    }
    let text =
        std::fs::read_to_string(path).map_err(CliError::io(format!("cannot read {file}")))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{file} is not JSON: {e}")))?;
    pds::data::json::from_json(&json)
        .map_err(|e| CliError::Usage(format!("{file} is not an atproto record: {e}")))
}

/// The changes the command line asks for, checked, with TID keys chosen for --create.
fn changes(a: &SyncArgs, clock: &TidClock) -> Result<Vec<Change>, CliError> {
    let mut out = Vec::new();
    for p in &a.put {
        let (path, file) = split_arg(p, "--put")?;
        check_path(path)?;
        out.push(Change::Put {
            path: path.to_string(),
            record: read_record(file)?,
        });
    }
    for c in &a.create {
        let (collection, file) = split_arg(c, "--create")?;
        let path = format!("{collection}/{}", clock.next());
        check_path(&path)?;
        out.push(Change::Put {
            path,
            record: read_record(file)?,
        });
    }
    for d in &a.delete {
        check_path(d)?;
        out.push(Change::Delete { path: d.clone() });
    }
    Ok(out)
}

async fn sync(a: SyncArgs, ctx: &Ctx) -> Result<(), CliError> {
    let clock = TidClock::new();
    let changes = changes(&a, &clock)?;
    let (dir, id, relay) = open(&a.data)?;
    let beat = relay.heartbeat(&id, false).await?;
    if !changes.is_empty() && !beat.repo_host {
        return Err(CliError::Failed(format!(
            "this machine ({}) is not the repo host of {}, so it cannot send commits; \
             promote it with `pdsctl device promote` (the account is in {} mode)",
            id.device_id, id.did, beat.mode
        )));
    }
    let local = LocalRepo::load(&dir.join(REPO_FILE))?.filter(|r| r.did() == id.did);
    let (mut repo, mut pulled) = match local {
        Some(r) if r.head().commit == beat.head.commit => (r, false),
        _ => (pull(&dir, &id, &relay).await?, true),
    };
    let mut committed = None;
    if !changes.is_empty() {
        let key = relay.signing_key(&id.did).await?;
        let mut rebuilt = 0;
        loop {
            let built = repo.build(&changes, &clock)?;
            let car = built.blocks_car()?;
            let req = CommitRequest {
                commit: &built.commit,
                blocks_car: &car,
            };
            match relay.sign_commit(&id, &req).await {
                Ok(signed) => {
                    let bytes = signed.commit_bytes()?;
                    repo.adopt(&built, &signed.cid, bytes, &key)?;
                    repo.save(&dir, REPO_FILE)?;
                    committed = Some(Committed {
                        cid: signed.cid,
                        rev: signed.rev,
                        seq: signed.seq,
                        ops: signed.ops,
                        rebuilt,
                    });
                    break;
                }
                // The relay moved on (or its key did): catch up once, rebuild, resend.
                Err(e) if e.api_error() == Some("StaleCommit") && rebuilt == 0 => {
                    rebuilt += 1;
                    repo = pull(&dir, &id, &relay).await?;
                    pulled = true;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let online = if a.sleep {
        relay.heartbeat(&id, true).await?.online
    } else {
        true
    };
    let out = SyncOut {
        did: id.did.clone(),
        device_id: id.device_id.clone(),
        repo_host: beat.repo_host,
        mode: beat.mode,
        pulled,
        committed,
        local_repo: repo_copy(&dir, &repo)?,
        online,
    };
    ctx.emit(&out, render)
}

fn render(o: &SyncOut) -> String {
    let mut s = format!(
        "{} ({} mode; this machine, {}, is {})\n",
        o.did,
        o.mode,
        o.device_id,
        if o.repo_host {
            "the repo host"
        } else {
            "not the repo host"
        }
    );
    if o.pulled {
        s.push_str("Fetched and verified the relay's copy of the repo.\n");
    }
    if let Some(c) = &o.committed {
        let _ = writeln!(
            s,
            "Committed rev {} ({}), signed by the relay, firehose seq {}:",
            c.rev, c.cid, c.seq
        );
        for op in &c.ops {
            let _ = writeln!(s, "  {:<7} {}", op.action, op.path);
        }
    }
    let _ = writeln!(
        s,
        "Local copy: {} (rev {}, {} records)",
        o.local_repo.path, o.local_repo.head.rev, o.local_repo.records
    );
    if !o.online {
        s.push_str(
            "Signed off: the relay answers writes with 503 until this machine syncs again.\n",
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(put: &[&str], create: &[&str], delete: &[&str]) -> SyncArgs {
        SyncArgs {
            put: put.iter().map(|s| s.to_string()).collect(),
            create: create.iter().map(|s| s.to_string()).collect(),
            delete: delete.iter().map(|s| s.to_string()).collect(),
            sleep: false,
            data: DataDirArgs { data_dir: None },
        }
    }

    #[test]
    fn command_line_changes_are_checked() {
        let tmp = tempfile::tempdir().expect("tmp");
        let f = tmp.path().join("post.json");
        std::fs::write(
            &f,
            r#"{"$type":"app.bsky.feed.post","text":"hi","createdAt":"2024-05-01T12:00:00.000Z"}"#,
        )
        .expect("write");
        let file = f.to_str().expect("utf-8");
        let clock = TidClock::new();
        let put = format!("app.bsky.feed.post/3jzfcijpj2z2a={file}");
        let create = format!("app.bsky.feed.post={file}");
        let got = changes(
            &args(&[&put], &[&create], &["app.bsky.feed.post/3jzfcijpj2z2b"]),
            &clock,
        )
        .expect("changes");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].path(), "app.bsky.feed.post/3jzfcijpj2z2a");
        assert!(got[1].path().starts_with("app.bsky.feed.post/"));
        assert!(matches!(got[2], Change::Delete { .. }));
        for bad in [
            args(&["app.bsky.feed.post/3jzfcijpj2z2a"], &[], &[]),
            args(&[&format!("not a path={file}")], &[], &[]),
            args(&[], &["app.bsky.feed.post=/nonexistent.json"], &[]),
            args(&[], &[], &["app.bsky.feed.post"]),
        ] {
            assert!(changes(&bad, &clock).is_err(), "{bad:?}");
        }
        std::fs::write(&f, "not json").expect("write");
        assert!(changes(&args(&[&put], &[], &[]), &clock).is_err());
    }
}
