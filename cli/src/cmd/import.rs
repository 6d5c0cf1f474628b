//! `pdsctl import DIR`: bring an export folder (from `pdsctl export`) into this pdsd,
//! creating the account or migrating it here. Everything is verified on this side before
//! a byte is sent (the CAR as a repository, every blob by CID); the daemon verifies again,
//! re-signs the tree with its own key for the account (so the commit changes, the MST root
//! does not), and activates the account only when every blob the records use is in.

use crate::ctx::Ctx;
use crate::error::CliError;
use crate::export_dir::ExportDir;
use bytes::Bytes;
use clap::Args;
use pds::admin::ImportStartRequest;
use serde::Serialize;
use std::path::PathBuf;

/// `pdsctl import`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl import ./alice-export\n  pdsctl --json --yes import /backup/alice"
)]
pub struct ImportArgs {
    /// A folder written by `pdsctl export`.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// What `import` prints.
#[derive(Debug, Serialize)]
struct Imported {
    did: String,
    handle: Option<String>,
    /// Whether the account was created here (false: it existed and was migrated over).
    created: bool,
    commit: String,
    data: String,
    records: u64,
    blobs: u64,
    active: bool,
}

pub async fn run(args: ImportArgs, ctx: &Ctx) -> Result<(), CliError> {
    let dir = ExportDir::new(&args.dir);
    let manifest = dir.read_manifest()?;
    let local = dir.verify(&manifest)?;

    let start = ctx
        .client
        .import_start(&ImportStartRequest {
            did: manifest.did.clone(),
            handle: manifest.handle.clone(),
            email: manifest.email.clone(),
        })
        .await?;
    let car = std::fs::read(dir.car_path()).map_err(CliError::io(format!(
        "cannot read {}",
        dir.car_path().display()
    )))?;
    let repo = ctx
        .client
        .import_repo(&manifest.did, Bytes::from(car))
        .await?;
    // pdsd re-signs the imported tree with its own key for the account, so the commit
    // changes; the tree (MST root) and the records must not.
    if repo.data != manifest.data || repo.records != local.records {
        return Err(CliError::Failed(format!(
            "pdsd imported MST root {} with {} records, but the export holds {} with {}; the \
             account was not activated",
            repo.data, repo.records, manifest.data, local.records
        )));
    }
    let total: u64 = manifest.blobs.iter().map(|b| b.size).sum();
    let bar = ctx.progress(total, "blobs");
    for blob in &manifest.blobs {
        let path = dir.blob_path(&blob.cid)?;
        let bytes = std::fs::read(&path)
            .map_err(CliError::io(format!("cannot read {}", path.display())))?;
        let res = ctx
            .client
            .import_blob(&manifest.did, blob, Bytes::from(bytes))
            .await?;
        if res.cid != blob.cid {
            return Err(CliError::Failed(format!(
                "pdsd stored blob {} as {}",
                blob.cid, res.cid
            )));
        }
        bar.inc(blob.size);
    }
    bar.finish_and_clear();
    let done = ctx.client.import_finish(&manifest.did).await?;
    let out = Imported {
        did: done.did,
        handle: manifest.handle.clone(),
        created: start.created,
        commit: done.commit,
        data: done.data,
        records: done.records,
        blobs: done.blobs,
        active: true,
    };
    ctx.emit(&out, |i| {
        format!(
            "{} {}{}: commit {}, MST root {}, {} records, {} blobs; verified and active",
            if i.created { "imported" } else { "restored" },
            i.did,
            i.handle
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default(),
            i.commit,
            i.data,
            i.records,
            i.blobs
        )
    })
}
