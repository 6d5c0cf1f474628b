//! `pdsctl import DIR [--recovery-key FILE]`: bring an export folder (from `pdsctl
//! export`) into this pdsd, restoring an account it hosts or moving a DID here.
//!
//! Everything is verified on this side before a byte is sent (the CAR as a repository,
//! every blob by CID). When this pdsd does not host the DID yet, it creates the account
//! deactivated and proposes the PLC update that moves the DID here; pdsctl checks that
//! update and signs it with the user's rotation key (`--recovery-key`; a key that is not
//! in the DID's rotationKeys is refused before anything is signed), or has the DID's
//! current host sign it with its own rotation key (`--old-pds URL`: the account password
//! there and the code it e-mails, through com.atproto.identity.signPlcOperation), and
//! checks that the host signed exactly the proposal. The daemon verifies
//! the repository again, re-signs the tree with its own key for the account (so the
//! commit changes, the MST root does not), and activates the account only when every blob
//! the records use is in and the DID names it.

use crate::ctx::{Ctx, existing_password_from_file, password_from_file};
use crate::error::CliError;
use crate::export_dir::ExportDir;
use crate::keyfile;
use crate::plc_sign;
use crate::relay::RelayClient;
use bytes::Bytes;
use clap::Args;
use pds::admin::{ImportIdentityRequest, ImportStartRequest, Password};
use pds::crypto::Keypair;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// `pdsctl import`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl import ./alice-export\n  pdsctl import ./alice-export --recovery-key ~/alice-recovery.json   # move the DID here\n  pdsctl --json --yes import /backup/alice --recovery-key ./k.json --password-file ./pw\n  pdsctl import ./alice-export --old-pds https://old.example --password-file ./pw   # the old host signs\n  pdsctl --json import ./alice-export --old-pds https://old.example --password-file ./pw --request-plc-token\n  pdsctl --json import ./alice-export --old-pds https://old.example --password-file ./pw --plc-token-file ./code"
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
    /// The DID's current host (its URL), to sign the move with its own rotation key when
    /// you have none (com.atproto.identity.signPlcOperation; it e-mails a code first).
    #[arg(long, value_name = "URL", conflicts_with = "recovery_key")]
    pub old_pds: Option<String>,
    /// The account's password on the old host (first line; default: --password-file).
    #[arg(long, value_name = "FILE", requires = "old_pds")]
    pub old_password_file: Option<PathBuf>,
    /// Only ask the old host to e-mail the code, then stop (scripts: run again with
    /// --plc-token-file).
    #[arg(long, requires = "old_pds")]
    pub request_plc_token: bool,
    /// The code the old host e-mailed (first line); without it, it is asked for.
    #[arg(
        long,
        value_name = "FILE",
        requires = "old_pds",
        conflicts_with = "request_plc_token"
    )]
    pub plc_token_file: Option<PathBuf>,
}

/// The DID's current host, signing the move. Debug shows neither password nor code.
pub struct OldHost {
    pub relay: RelayClient,
    pub password: Password,
    /// The e-mailed code, when already known.
    pub token: Option<zeroize::Zeroizing<String>>,
}

impl std::fmt::Debug for OldHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OldHost")
            .field("relay", &self.relay.url())
            .field("password", &self.password)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What `import --request-plc-token` prints.
#[derive(Debug, Serialize)]
struct TokenRequested {
    did: String,
    old_pds: String,
    requested: bool,
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
    /// The old host, to sign a move when there is no key.
    pub old: Option<OldHost>,
}

fn first_line(path: &Path) -> Result<zeroize::Zeroizing<String>, CliError> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(CliError::io(format!("cannot read {}", path.display())))?,
    );
    Ok(zeroize::Zeroizing::new(
        text.lines().next().unwrap_or("").trim().to_string(),
    ))
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
    let old = match &args.old_pds {
        None => None,
        Some(url) => {
            let file = args
                .old_password_file
                .as_deref()
                .or(args.password_file.as_deref());
            let old_password = match file {
                Some(f) => existing_password_from_file(f)?,
                None => ctx.password("the account on the old host", "--old-password-file")?,
            };
            Some(OldHost {
                relay: RelayClient::new(url)?,
                password: old_password,
                token: args.plc_token_file.as_deref().map(first_line).transpose()?,
            })
        }
    };
    if args.request_plc_token
        && let Some(old) = &old
    {
        let did = ExportDir::new(&args.dir).read_manifest()?.did;
        request_token(old, &did).await?;
        let out = TokenRequested {
            did,
            old_pds: old.relay.url().to_string(),
            requested: true,
        };
        return ctx.emit(&out, |t| {
            format!(
                "{} e-mailed a code to the account's address; run the import again with \
                 --plc-token-file FILE holding it",
                t.old_pds
            )
        });
    }
    let out = import_dir(
        ctx,
        Plan {
            dir: &args.dir,
            key: key.as_ref(),
            handle: args.handle.clone(),
            password,
            old,
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
            old_host_signs: plan.key.is_none() && plan.old.is_some(),
        })
        .await?;
    let mut plc_operation = None;
    if let Some(update) = &start.plc_update {
        let signing_key = start.signing_key.as_deref().ok_or_else(|| {
            CliError::Failed("pdsd did not say the account's new signing key".into())
        })?;
        let status = ctx.client.status().await?;
        let expect = plc_sign::Expect {
            did: &manifest.did,
            signing_key,
            endpoint: &status.listen.public_url,
        };
        let signed = match (plan.key, &plan.old) {
            (Some(key), _) => plc_sign::sign_move(update, key, &expect)?,
            (None, Some(old)) => signed_by_old_host(ctx, old, update, &expect).await?,
            (None, None) => {
                return Err(CliError::Usage(format!(
                    "this pdsd does not host {} yet: moving it here needs your rotation key \
                     (--recovery-key FILE) or the old host's signature (--old-pds URL)",
                    manifest.did
                )));
            }
        };
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

/// Ask the old host to e-mail the code that lets it sign one PLC operation.
async fn request_token(old: &OldHost, did: &str) -> Result<(), CliError> {
    let session = old.relay.create_session(did, &old.password).await?;
    old.relay.request_plc_signature(&session).await?;
    Ok(())
}

/// Have the old host sign the proposed move (with the e-mailed code), and check that it
/// signed exactly that.
async fn signed_by_old_host(
    ctx: &Ctx,
    old: &OldHost,
    update: &pds::admin::PlcUpdate,
    expect: &plc_sign::Expect<'_>,
) -> Result<pds::identity::SignedOp, CliError> {
    let fields = plc_sign::proposal_fields(update, expect)?;
    let token = match &old.token {
        Some(t) => t.clone(),
        None if ctx.can_prompt() => {
            request_token(old, expect.did).await?;
            zeroize::Zeroizing::new(
                dialoguer::Input::<String>::new()
                    .with_prompt(format!("The code {} e-mailed", old.relay.url()))
                    .interact_text()
                    .map_err(|e| CliError::Failed(format!("prompt failed: {e}")))?,
            )
        }
        None => {
            return Err(CliError::NeedsAnswer(format!(
                "the old host signs only with the code it e-mails: run this import with \
                 --request-plc-token first, then again with --plc-token-file FILE (the account \
                 {} was created here, deactivated, and waits)",
                expect.did
            )));
        }
    };
    let session = old.relay.create_session(expect.did, &old.password).await?;
    let signed = old
        .relay
        .sign_plc_operation(&session, token.trim(), &fields)
        .await?;
    plc_sign::check_old_host_signature(update, &signed, expect)?;
    Ok(signed)
}
