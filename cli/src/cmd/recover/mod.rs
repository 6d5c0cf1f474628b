//! `pdsctl recover H|DID`: take an account back with any two of its three shares.
//!
//! 1. Gather two shares (`--share keychain|relay|FILE`, `--words` / `--words-file` for
//!    the sheet) and put the rotation key together in memory (`crate::shares`).
//! 2. Check the key against the DID's rotationKeys at the PLC directory before it signs
//!    anything (`--verify-only` stops here: the check works while the relay is down).
//! 3. With the relay: `POST /v1/recovery/initiate`, sign the challenge with the key,
//!    `POST /v1/recovery/verify-key` to enrol a new device key of this machine, then
//!    `GET /v1/recovery/restore` into an export folder (`--out`), verified block by block
//!    and against the signing key the PLC directory names.
//! 4. Without it (`--to URL_OR_SOCKET --from-export DIR`): move the DID to another pdsd
//!    with a PLC update signed by the key, importing the export folder: through that
//!    pdsd's admin socket (`cmd::import`, on its host), or by its public URL like an
//!    account migration ([`onto_url`]).
//!
//! The key is never written to disk and never printed; only its did:key is.

mod onto_url;

use crate::ctx::Ctx;
use crate::device_file::DeviceIdentity;
use crate::device_opts::{self, DeviceOpts};
use crate::error::CliError;
use crate::export_dir::{self, ExportDir};
use crate::relay::RelayClient;
use crate::shares::{self, Request, Source, Words};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Args;
use futures::StreamExt;
use pds::admin::ExportManifest;
use pds::crypto::Keypair;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `pdsctl recover`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl recover alice.test --share relay --words              # relay escrow + typed sheet\n  pdsctl recover alice.test --share keychain --words-file ./words.txt --verify-only\n  pdsctl --json --yes recover did:plc:abc --share relay --words-file ./words.txt --password-file ./pw --out ./alice\n  pdsctl recover did:plc:abc --share keychain --words-file ./words.txt --to /run/pdsd/admin.sock --from-export ./alice   # the old relay is gone\n  pdsctl recover did:plc:abc --share keychain --words-file ./words.txt --to https://pds.example.com --from-export ./alice --password-file ./pw"
)]
pub struct RecoverArgs {
    /// The account (handle or DID).
    #[arg(value_name = "HANDLE|DID")]
    pub account: String,
    /// A share: keychain, relay (its escrow; needs the account password) or a share FILE.
    /// Repeat for a second one. Default: keychain, plus relay unless words are given.
    #[arg(long = "share", value_name = "keychain|relay|FILE")]
    pub shares: Vec<Source>,
    /// Type the 24 words of the recovery sheet (Tab completes a word).
    #[arg(long, conflicts_with = "words_file")]
    pub words: bool,
    /// Read the sheet's 24 words from a file (numbers and line breaks are fine).
    #[arg(long, value_name = "FILE")]
    pub words_file: Option<PathBuf>,
    /// The share number the words are (the sheet says it; 3 from `backup create`).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub words_share: u8,
    /// The account password (first line): for the relay's share, and for the account on
    /// the new pdsd with --to.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Only put the key together and check it against the PLC directory (works while the
    /// relay is down); sign nothing.
    #[arg(long)]
    pub verify_only: bool,
    /// Where to download the account (an export folder). Default: ./<handle>-recovered.
    #[arg(long, value_name = "DIR", conflicts_with = "to")]
    pub out: Option<PathBuf>,
    /// Move the DID to this pdsd when the old relay is gone: its admin socket (on its
    /// host), or its public URL (an account there is created with the key's proof).
    #[arg(long, value_name = "URL_OR_SOCKET", requires = "from_export")]
    pub to: Option<String>,
    /// The export folder (`pdsctl export`, or an earlier recovery's --out) to import with
    /// --to.
    #[arg(long, value_name = "DIR", requires = "to")]
    pub from_export: Option<PathBuf>,
    /// With --to: host the account under this handle instead of the exported one.
    #[arg(long, value_name = "HANDLE", requires = "to")]
    pub handle: Option<String>,
    /// With --to URL: the account's e-mail address there (default: the export's).
    #[arg(long, value_name = "ADDRESS", requires = "to")]
    pub email: Option<String>,
    /// With --to URL: an invite code, when that server asks for one.
    #[arg(long, value_name = "CODE", requires = "to")]
    pub invite_code: Option<String>,
    #[command(flatten)]
    pub opts: DeviceOpts,
}

/// What `recover` prints.
#[derive(Debug, Serialize)]
pub struct Recovered {
    pub did: String,
    pub rotation_key: String,
    /// Where the key stands in rotationKeys (0 = first).
    pub rotation_key_position: usize,
    pub shares_from: Vec<String>,
    /// `verified`, `recovered` (device enrolled and data restored) or `moved`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored: Option<Restored>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved: Option<crate::cmd::import::Imported>,
}

/// What a restore downloaded.
#[derive(Debug, Serialize)]
pub struct Restored {
    pub dir: PathBuf,
    pub handle: Option<String>,
    pub commit: String,
    pub data: String,
    pub records: u64,
    pub blobs: u64,
}

fn words_of(args: &RecoverArgs) -> Words {
    match (&args.words_file, args.words) {
        (Some(f), _) => Words::File(f.clone()),
        (None, true) => Words::Prompt,
        (None, false) => Words::None,
    }
}

pub async fn run(args: RecoverArgs, ctx: &Ctx) -> Result<(), CliError> {
    let account = crate::cmd::account_id(&args.account)?;
    let words = words_of(&args);
    let mut sources = args.shares.clone();
    if sources.is_empty() {
        sources.push(Source::Keychain);
        if words == Words::None {
            sources.push(Source::Relay);
        }
    }
    let needs_relay = (!args.verify_only && args.to.is_none()) || sources.contains(&Source::Relay);
    let relay = if needs_relay {
        Some(args.opts.relay(ctx).await?)
    } else {
        match &args.opts.relay {
            Some(url) => Some(RelayClient::new(url)?),
            None => None,
        }
    };
    let dir = args.opts.dir()?;
    let keychain = args.opts.keychain()?;
    let did = resolve_did(&account, relay.as_ref(), args.from_export.as_deref()).await?;
    let gathered = shares::gather(
        ctx,
        &keychain,
        relay.as_ref(),
        &Request {
            did: did.clone(),
            sources,
            words,
            words_share: args.words_share,
            password_file: args.password_file.clone(),
        },
    )
    .await?;
    let key = shares::combine(&gathered)?;
    let shares_from: Vec<String> = gathered.iter().map(|g| g.from.clone()).collect();
    drop(gathered);
    // Before anything is signed: the key must be one of the DID's rotation keys.
    let plc = args.opts.plc_url(ctx).await;
    let last = crate::plc::last_op(&plc, &did).await?;
    let position = crate::plc::position(&did, &last, &key)?;
    let mut out = Recovered {
        did: did.clone(),
        rotation_key: key.did_key(),
        rotation_key_position: position,
        shares_from,
        outcome: "verified".into(),
        device_id: None,
        restored: None,
        moved: None,
    };
    if args.verify_only {
        return emit(ctx, &out);
    }
    if let Some(to) = &args.to {
        let dir = args
            .from_export
            .as_deref()
            .ok_or_else(|| CliError::Usage("--to needs --from-export DIR".into()))?;
        out.moved = Some(move_to(ctx, to, dir, &key, &last, &args).await?);
        out.outcome = "moved".into();
        return emit(ctx, &out);
    }
    let relay = relay.ok_or_else(|| CliError::Usage("which relay? give --relay URL".into()))?;
    // The new device key is kept in this data folder, which holds one device.
    if let Some(existing) = args.opts.identity()? {
        return Err(CliError::Failed(format!(
            "{} already holds this machine's device {} of {}; recover into another --data-dir \
             (or remove that device first with `pdsctl device remove`); nothing was signed",
            DeviceIdentity::path(&dir).display(),
            existing.device_id,
            existing.did
        )));
    }
    let handle = crate::cmd::backup::handle_of(&last);
    let device = ceremony(&relay, &did, handle.clone(), &key).await?;
    drop(key);
    device.save(&dir)?;
    out.device_id = Some(device.device_id.clone());
    let dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "{}-recovered",
            handle
                .as_deref()
                .unwrap_or(&did)
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '.', "_")
        ))
    });
    let expected_signing = last
        .op
        .normalized()
        .and_then(|d| d.verification_methods.get("atproto").cloned());
    out.restored = Some(restore(ctx, &relay, &device, &dir, expected_signing.as_deref()).await?);
    out.outcome = "recovered".into();
    emit(ctx, &out)
}

fn emit(ctx: &Ctx, out: &Recovered) -> Result<(), CliError> {
    ctx.emit(out, |r| {
        let mut s = format!(
            "the shares rebuilt {}, rotation key #{} of {} at the PLC directory",
            r.rotation_key,
            r.rotation_key_position + 1,
            r.did
        );
        if let Some(id) = &r.device_id {
            s.push_str(&format!("\nthis machine is device {id} of {} again", r.did));
        }
        if let Some(x) = &r.restored {
            s.push_str(&format!(
                "\nrestored into {}: commit {}, MST root {}, {} records, {} blobs (verified)\nmake new shares with `pdsctl backup rotate` if a share was lost",
                x.dir.display(),
                x.commit,
                x.data,
                x.records,
                x.blobs
            ));
        }
        if let Some(m) = &r.moved {
            s.push_str(&format!(
                "\nmoved {} to the new pdsd: commit {}, {} records, {} blobs; active",
                m.did, m.commit, m.records, m.blobs
            ));
        }
        s
    })
}

async fn resolve_did(
    account: &str,
    relay: Option<&RelayClient>,
    export: Option<&Path>,
) -> Result<String, CliError> {
    if account.starts_with("did:") {
        return Ok(account.to_string());
    }
    if let Some(dir) = export {
        let m = ExportDir::new(dir).read_manifest()?;
        if m.handle.as_deref() == Some(account) {
            return Ok(m.did);
        }
    }
    match relay {
        Some(r) => Ok(r.resolve(account).await?),
        None => Err(CliError::Usage(format!(
            "cannot tell the DID of {account} without a relay: give the DID instead"
        ))),
    }
}

/// Prove the key to the relay and enrol a new device key of this machine.
async fn ceremony(
    relay: &RelayClient,
    did: &str,
    handle: Option<String>,
    key: &Keypair,
) -> Result<DeviceIdentity, CliError> {
    let started = relay.recovery_initiate(did, &key.did_key()).await?;
    let field = |name: &str| -> Result<String, CliError> {
        started[name]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| CliError::Failed(format!("the relay's challenge has no {name}")))
    };
    let (id, challenge, audience) = (
        field("recoveryId")?,
        field("challenge")?,
        field("audience")?,
    );
    if field("did")? != did {
        return Err(CliError::Failed(
            "the relay started a recovery of another account".into(),
        ));
    }
    // The audience must be the relay we talk to, so the signature cannot serve elsewhere.
    let service = relay.service_did().await?;
    if audience != service {
        return Err(CliError::Failed(format!(
            "the challenge names {audience}, but this relay is {service}; nothing was signed"
        )));
    }
    let message = pds::secret::challenge::recovery_message(did, &id, &challenge, &audience)
        .ok_or_else(|| CliError::Failed("the relay's challenge is malformed".into()))?;
    let signature = URL_SAFE_NO_PAD.encode(key.sign(&message));
    let device_key = Keypair::generate(pds::crypto::Curve::P256);
    let name = device_opts::default_name();
    let platform = device_opts::platform();
    let v = relay
        .recovery_verify_key(&service, &id, &signature, &device_key, &name, platform)
        .await?;
    let device_id = v["deviceId"]
        .as_str()
        .ok_or_else(|| CliError::Failed("the relay did not name the new device".into()))?
        .to_string();
    Ok(DeviceIdentity::new(
        relay.url().to_string(),
        service,
        did.to_string(),
        handle,
        device_id,
        name,
        platform.to_string(),
        device_key,
    ))
}

/// Download the account (`GET /v1/recovery/restore`) into an export folder, checking
/// every block, the repository, and the signing key against the PLC directory's.
async fn restore(
    ctx: &Ctx,
    relay: &RelayClient,
    device: &DeviceIdentity,
    dir: &Path,
    expected_signing: Option<&str>,
) -> Result<Restored, CliError> {
    let res = relay.restore(device).await?;
    let total = res
        .headers()
        .get("x-blob-bytes")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    std::fs::create_dir_all(dir)
        .map_err(CliError::io(format!("cannot create {}", dir.display())))?;
    let partial = dir.join("restore.car.partial");
    let mut file = std::fs::File::create(&partial)
        .map_err(CliError::io(format!("cannot write {}", partial.display())))?;
    let bar = ctx.progress(total, "restoring");
    let mut body = res.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            CliError::Failed(format!("the download from {} broke off: {e}", relay.url()))
        })?;
        file.write_all(&chunk)
            .map_err(CliError::io(format!("cannot write {}", partial.display())))?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    file.sync_all()
        .map_err(CliError::io(format!("cannot write {}", partial.display())))?;
    drop(file);
    let restored = unpack(&partial, dir, expected_signing)?;
    let _ = std::fs::remove_file(&partial);
    Ok(restored)
}

/// Split a restore stream into an export folder and verify it.
fn unpack(car: &Path, dir: &Path, expected_signing: Option<&str>) -> Result<Restored, CliError> {
    let bad = |m: String| CliError::Failed(format!("the relay's restore stream: {m}"));
    let input =
        std::fs::File::open(car).map_err(CliError::io(format!("cannot read {}", car.display())))?;
    let limits = pds::car::CarLimits {
        max_block_bytes: 1 << 32,
        max_total_bytes: u64::MAX,
        ..Default::default()
    };
    let mut reader = pds::car::CarReader::new(std::io::BufReader::new(input), limits)
        .map_err(|e| bad(e.to_string()))?;
    let (commit, manifest_cid) = match reader.roots() {
        [c, m] => (*c, *m),
        _ => {
            return Err(bad(
                "it does not have the two roots (commit, manifest)".into()
            ));
        }
    };
    let (first, bytes) = reader
        .next_block()
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad("it is empty".into()))?;
    if first != manifest_cid {
        return Err(bad("the manifest does not come first".into()));
    }
    let manifest: ExportManifest =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("the manifest: {e}")))?;
    if manifest.commit != commit.to_string() {
        return Err(bad("the manifest names another commit than the root".into()));
    }
    if let Some(want) = expected_signing
        && manifest.signing_key.as_deref() != Some(want)
    {
        return Err(bad(format!(
            "the repository is signed with {:?}, but the PLC directory names {want}",
            manifest.signing_key
        )));
    }
    let folder = ExportDir::new(dir);
    folder.prepare(&manifest.did)?;
    let repo_path = folder.car_path();
    let repo_partial = export_dir::partial_path(&repo_path);
    let repo_file = std::fs::File::create(&repo_partial).map_err(CliError::io(format!(
        "cannot write {}",
        repo_partial.display()
    )))?;
    let mut repo = pds::car::CarWriter::new(std::io::BufWriter::new(repo_file), &[commit])
        .map_err(|e| bad(e.to_string()))?;
    let blobs: std::collections::BTreeSet<&str> =
        manifest.blobs.iter().map(|b| b.cid.as_str()).collect();
    let mut seen = 0u64;
    // Every block was checked against its CID by the reader.
    while let Some((cid, bytes)) = reader.next_block().map_err(|e| bad(e.to_string()))? {
        if cid.codec() == pds::data::cid::RAW {
            let name = cid.to_string();
            if !blobs.contains(name.as_str()) {
                return Err(bad(format!(
                    "raw block {name} is not a blob of the manifest"
                )));
            }
            let path = folder.blob_path(&name)?;
            std::fs::write(&path, &bytes)
                .map_err(CliError::io(format!("cannot write {}", path.display())))?;
            seen += 1;
        } else {
            repo.write_block(&cid, &bytes)
                .map_err(|e| bad(e.to_string()))?;
        }
    }
    let mut w = repo.finish().map_err(|e| bad(e.to_string()))?;
    w.flush().map_err(CliError::io(format!(
        "cannot write {}",
        repo_partial.display()
    )))?;
    drop(w);
    std::fs::rename(&repo_partial, &repo_path).map_err(CliError::io(format!(
        "cannot write {}",
        repo_path.display()
    )))?;
    if seen != manifest.blobs.len() as u64 {
        return Err(bad(format!(
            "{seen} blobs arrived, the manifest lists {}",
            manifest.blobs.len()
        )));
    }
    let verified = folder.verify(&manifest)?;
    folder.write_manifest(&manifest)?;
    Ok(Restored {
        dir: dir.to_path_buf(),
        handle: manifest.handle.clone(),
        commit: manifest.commit.clone(),
        data: manifest.data.clone(),
        records: verified.records,
        blobs: verified.blobs,
    })
}

/// Move the DID to the pdsd behind `to` with `key`, importing `dir`.
async fn move_to(
    ctx: &Ctx,
    to: &str,
    dir: &Path,
    key: &Keypair,
    last: &pds::identity::SignedOp,
    args: &RecoverArgs,
) -> Result<crate::cmd::import::Imported, CliError> {
    if to.starts_with("http://") || to.starts_with("https://") {
        let password = match args.password_file.as_deref() {
            Some(f) => crate::ctx::password_from_file(f)?,
            None => ctx.password(&format!("the account on {to}"), "--password-file")?,
        };
        return onto_url::move_by_url(
            ctx,
            key,
            onto_url::Arrival {
                url: to,
                dir,
                last,
                handle: args.handle.clone(),
                email: args.email.clone(),
                password,
                invite_code: args.invite_code.clone(),
            },
        )
        .await;
    }
    let target = Ctx {
        client: crate::client::Client::new(PathBuf::from(to)),
        json: ctx.json,
        yes: ctx.yes,
    };
    let password = args
        .password_file
        .as_deref()
        .map(crate::ctx::password_from_file)
        .transpose()?;
    crate::cmd::import::import_dir(
        &target,
        crate::cmd::import::Plan {
            dir,
            key: Some(key),
            handle: args.handle.clone(),
            password,
            old: None,
        },
    )
    .await
}
