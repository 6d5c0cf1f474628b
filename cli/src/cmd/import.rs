//! `pdsctl import DIR [--recovery-key FILE]`: bring an export folder (from `pdsctl
//! export`) into this pdsd, restoring an account it hosts or moving a DID here.
//!
//! Everything is verified on this side before a byte is sent (the CAR as a repository,
//! every blob by CID). When this pdsd does not host the DID yet, it creates the account
//! deactivated and proposes the PLC update that moves the DID here; pdsctl checks that
//! update and signs it with the user's rotation key (`--recovery-key`; a key that is not
//! in the DID's rotationKeys is refused before anything is signed). The daemon verifies
//! the repository again, re-signs the tree with its own key for the account (so the
//! commit changes, the MST root does not), and activates the account only when every blob
//! the records use is in and the DID names it.

use crate::ctx::{Ctx, password_from_file};
use crate::error::CliError;
use crate::export_dir::ExportDir;
use crate::keyfile;
use crate::plc_sign;
use bytes::Bytes;
use clap::Args;
use pds::admin::{ImportIdentityRequest, ImportStartRequest, Password};
use pds::crypto::Keypair;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// `pdsctl import`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl import ./alice-export\n  pdsctl import ./alice-export --recovery-key ~/alice-recovery.json   # move the DID here\n  pdsctl --json --yes import /backup/alice --recovery-key ./k.json --password-file ./pw"
)]
pub struct ImportArgs {
    /// A folder written by `pdsctl export`.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The user's rotation-key file (from `account create --generate-recovery-key`), to
    /// sign the PLC update that moves the DID to this pdsd. Needed when this pdsd does not
    /// host the DID yet.
    #[arg(long, visible_alias = "rotation-key", value_name = "FILE")]
    pub recovery_key: Option<PathBuf>,
    /// Host the account under this handle instead of the exported one.
    #[arg(long, value_name = "HANDLE")]
    pub handle: Option<String>,
    /// A password for the moved account (its first line); without it, set one later with
    /// `pdsctl account reset-password`.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// What `import` prints.
#[derive(Debug, Serialize)]
pub struct Imported {
    pub did: String,
    pub handle: Option<String>,
    /// Whether the account was created here (false: it existed and was migrated over).
    pub created: bool,
    /// The PLC operation that moved the DID here, when one was signed.
    pub plc_operation: Option<serde_json::Value>,
    pub commit: String,
    pub data: String,
    pub records: u64,
    pub blobs: u64,
    pub active: bool,
}

/// How to bring a folder in.
#[derive(Debug)]
pub struct Plan<'a> {
    pub dir: &'a Path,
    /// The user's rotation key, to sign a move.
    pub key: Option<&'a Keypair>,
    pub handle: Option<String>,
    pub password: Option<Password>,
}

pub async fn run(args: ImportArgs, ctx: &Ctx) -> Result<(), CliError> {
    let key = args
        .recovery_key
        .as_deref()
        .map(keyfile::read)
        .transpose()?;
    let password = args
        .password_file
        .as_deref()
        .map(password_from_file)
        .transpose()?;
    let out = import_dir(
        ctx,
        Plan {
            dir: &args.dir,
            key: key.as_ref(),
            handle: args.handle.clone(),
            password,
        },
    )
    .await?;
    ctx.emit(&out, |i| {
        format!(
            "{} {}{}: commit {}, MST root {}, {} records, {} blobs; verified and active",
            if i.plc_operation.is_some() {
                "moved here"
            } else if i.created {
                "imported"
            } else {
                "restored"
            },
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

/// Import the folder of `plan` into the daemon behind `ctx`: start (and sign the move when
/// the daemon asks for it), the repository, the blobs, then finish.
pub async fn import_dir(ctx: &Ctx, plan: Plan<'_>) -> Result<Imported, CliError> {
    let dir = ExportDir::new(plan.dir);
    let manifest = dir.read_manifest()?;
    let local = dir.verify(&manifest)?;

    let start = ctx
        .client
        .import_start(&ImportStartRequest {
            did: manifest.did.clone(),
            handle: plan.handle.clone().or_else(|| manifest.handle.clone()),
            email: manifest.email.clone(),
            rotation_key: plan.key.map(Keypair::did_key),
            password: plan.password.clone(),
        })
        .await?;
    let mut plc_operation = None;
    if let Some(update) = &start.plc_update {
        let key = plan.key.ok_or_else(|| {
            CliError::Usage(format!(
                "this pdsd does not host {} yet: moving it here needs your rotation key \
                 (--recovery-key FILE)",
                manifest.did
            ))
        })?;
        let signing_key = start.signing_key.as_deref().ok_or_else(|| {
            CliError::Failed("pdsd did not say the account's new signing key".into())
        })?;
        let status = ctx.client.status().await?;
        let signed = plc_sign::sign_move(
            update,
            key,
            &plc_sign::Expect {
                did: &manifest.did,
                signing_key,
                endpoint: &status.listen.public_url,
            },
        )?;
        let operation = serde_json::to_value(&signed)
            .map_err(|e| CliError::Failed(format!("cannot encode the operation: {e}")))?;
        let done = ctx
            .client
            .import_identity(&ImportIdentityRequest {
                did: manifest.did.clone(),
                operation,
            })
            .await?;
        plc_operation = Some(done.plc_operation);
    }
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
    Ok(Imported {
        did: done.did,
        handle: start.handle.clone().or_else(|| manifest.handle.clone()),
        created: start.created,
        plc_operation,
        commit: done.commit,
        data: done.data,
        records: done.records,
        blobs: done.blobs,
        active: true,
    })
}
