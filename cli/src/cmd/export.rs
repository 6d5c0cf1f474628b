//! `pdsctl export HANDLE|DID --out DIR`: the account's repository (`repo.car`), every blob
//! (`blobs/<cid>`) and `manifest.json`, downloaded through the admin socket.
//!
//! Resumable: files already present are kept when they verify (a blob whose bytes hash to
//! its CID; the CAR when the commit is unchanged), partial downloads are written beside
//! the final name and renamed only when complete, and the manifest is written last. After
//! writing, everything is verified again from disk: the CAR as a whole repository (its
//! commit, MST and signature) and each blob against its CID.

use super::account_id;
use crate::ctx::Ctx;
use crate::error::CliError;
use crate::export_dir::{self, ExportDir};
use clap::Args;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use indicatif::ProgressBar;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `pdsctl export`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl export alice.pds.example.com --out ./alice-export\n  pdsctl --json export did:plc:ewvi7nxzyoun6zhxrhs64oiz --out /backup/alice   # run again to resume"
)]
pub struct ExportArgs {
    /// Handle or DID.
    #[arg(value_name = "HANDLE|DID")]
    pub id: String,
    /// Folder to write into (created if needed; an earlier export of the same account
    /// there is resumed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// What `export` prints.
#[derive(Debug, Serialize)]
struct Exported {
    did: String,
    dir: String,
    commit: String,
    rev: String,
    data: String,
    records: u64,
    blobs: u64,
    blob_bytes: u64,
    /// Blobs (and the CAR) found complete from an earlier run and kept.
    reused_blobs: u64,
    reused_repo: bool,
    verified: bool,
}

pub async fn run(args: ExportArgs, ctx: &Ctx) -> Result<(), CliError> {
    let id = account_id(&args.id)?;
    let manifest = ctx.client.export_manifest(&id).await?;
    let dir = ExportDir::new(&args.out);
    dir.prepare(&manifest.did)?;
    let earlier = dir.read_manifest().ok();

    // The repository: keep an earlier CAR of the same commit if it still verifies.
    let reused_repo = earlier
        .as_ref()
        .is_some_and(|m| m.commit == manifest.commit)
        && export_dir::verify_repo(&dir.car_path(), &manifest).is_ok();
    if !reused_repo {
        let res = ctx.client.export_repo(&manifest.did).await?;
        let len = content_length(&res);
        let bar = ctx.progress(len, "repo.car");
        download(res, &dir.car_path(), &bar).await?;
        bar.finish_and_clear();
    }

    // Blobs: skip those already complete.
    let total: u64 = manifest.blobs.iter().map(|b| b.size).sum();
    let bar = ctx.progress(total, "blobs");
    let mut reused_blobs = 0;
    for blob in &manifest.blobs {
        let path = dir.blob_path(&blob.cid)?;
        if export_dir::verify_blob(&path, &blob.cid).is_ok() {
            reused_blobs += 1;
            bar.inc(blob.size);
            continue;
        }
        let res = ctx.client.export_blob(&manifest.did, &blob.cid).await?;
        download(res, &path, &bar).await?;
        export_dir::verify_blob(&path, &blob.cid)?;
    }
    bar.finish_and_clear();

    dir.write_manifest(&manifest)?;
    let summary = dir.verify(&manifest)?;
    let out = Exported {
        did: manifest.did.clone(),
        dir: args.out.display().to_string(),
        commit: manifest.commit.clone(),
        rev: manifest.rev.clone(),
        data: manifest.data.clone(),
        records: summary.records,
        blobs: manifest.blobs.len() as u64,
        blob_bytes: total,
        reused_blobs,
        reused_repo,
        verified: true,
    };
    ctx.emit(&out, |e| {
        format!(
            "exported {} to {}: commit {} (rev {}), {} records, {} blobs ({}); verified{}",
            e.did,
            e.dir,
            e.commit,
            e.rev,
            e.records,
            e.blobs,
            super::human_bytes(e.blob_bytes),
            if e.reused_blobs > 0 || e.reused_repo {
                format!(" (resumed: {} blobs already there)", e.reused_blobs)
            } else {
                String::new()
            }
        )
    })
}

fn content_length(res: &hyper::Response<Incoming>) -> u64 {
    res.headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Stream a response body into `<path>.partial`, then rename it to `path`.
async fn download(
    res: hyper::Response<Incoming>,
    path: &Path,
    bar: &ProgressBar,
) -> Result<(), CliError> {
    let partial = export_dir::partial_path(path);
    let mut file = std::fs::File::create(&partial)
        .map_err(CliError::io(format!("cannot create {}", partial.display())))?;
    let mut body = res.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            CliError::Failed(format!("the download of {} broke off: {e}", path.display()))
        })?;
        if let Ok(data) = frame.into_data() {
            file.write_all(&data)
                .map_err(CliError::io(format!("cannot write {}", partial.display())))?;
            bar.inc(data.len() as u64);
        }
    }
    file.sync_all()
        .map_err(CliError::io(format!("cannot write {}", partial.display())))?;
    std::fs::rename(&partial, path)
        .map_err(CliError::io(format!("cannot rename {}", partial.display())))
}
