//! `pdsctl device enroll|list|promote|remove`: this machine as a *device* of a relay,
//! through the relay's device API (`/v1/devices` -> `daemon/src/v1/devices/`), the way
//! the iPhone and macOS apps use it. Unlike the admin commands these talk HTTPS to a
//! relay that may be elsewhere, with the typed client in `relay.rs`; the device's P-256
//! key lives in pdsctl's data folder (`device_file.rs`).

use super::account_id;
use crate::ctx::{Ctx, existing_password_from_file};
use crate::desktop_repo::LocalRepo;
use crate::device_file::{DataDirArgs, DeviceIdentity, REPO_FILE};
use crate::error::CliError;
use crate::relay::{DeviceInfo, DeviceList, RelayClient};
use clap::{Args, Subcommand};
use pds::crypto::{Curve, Keypair};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `pdsctl device ...`
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Enrol this machine as a device of an account on a relay (a new P-256 key, kept in
    /// pdsctl's data folder with mode 0600).
    ///
    /// With the account's password the device is active at once. With --pair (an account
    /// without a password, e.g. one made on a phone) it waits for approval: the relay
    /// gives a pairing code to confirm on an enrolled device within 15 minutes.
    #[command(
        after_help = "Examples:\n  pdsctl device enroll --relay https://pds.example.com --account alice.pds.example.com \\\n      --password-file ~/.alice-password\n  pdsctl device enroll --relay https://pds.example.com --account alice.pds.example.com --pair --wait 900"
    )]
    Enroll(EnrollArgs),
    /// List the account's devices (pending and active), as this device sees them.
    #[command(after_help = "Example:\n  pdsctl --json device list")]
    List(ListArgs),
    /// Make a desktop the account's repo host (desktop-enrolled mode): it builds the
    /// commits, the relay signs them. Promoting this machine also fetches its copy of
    /// the repo.
    #[command(
        after_help = "Examples:\n  pdsctl device promote\n  pdsctl device promote dev-0a1b2c3d4e5f"
    )]
    Promote(TargetArgs),
    /// De-enrol a device: its key no longer authenticates (and leaves the DID's rotation
    /// keys if it was there). Removing this machine also deletes its key file.
    #[command(
        after_help = "Examples:\n  pdsctl device remove dev-0a1b2c3d4e5f\n  pdsctl --yes device remove"
    )]
    Remove(TargetArgs),
}

/// `pdsctl device enroll`.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The relay's URL (https://...).
    #[arg(long, value_name = "URL")]
    pub relay: String,
    /// The account, by handle or DID.
    #[arg(long, value_name = "HANDLE|DID")]
    pub account: String,
    /// A name for this machine (default: its host name).
    #[arg(long)]
    pub name: Option<String>,
    /// This machine's platform (default: the one pdsctl runs on).
    #[arg(long, value_parser = ["linux", "macos", "windows"])]
    pub platform: Option<String>,
    /// Sign in with the password in FILE (first line); the device is active at once.
    /// Without it and without --pair, pdsctl asks for the password.
    #[arg(long, value_name = "FILE", conflicts_with = "pair")]
    pub password_file: Option<PathBuf>,
    /// Enrol without a password: the device is pending until an enrolled device confirms
    /// the pairing code pdsctl shows.
    #[arg(long)]
    pub pair: bool,
    /// With --pair: wait up to SECS for the approval (0: do not wait).
    #[arg(long, value_name = "SECS", default_value_t = 0, requires = "pair")]
    pub wait: u64,
    #[command(flatten)]
    pub data: DataDirArgs,
}

/// `pdsctl device list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub data: DataDirArgs,
}

/// A device to act on.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The device id (dev-...); default: this machine.
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    #[command(flatten)]
    pub data: DataDirArgs,
}

pub async fn run(cmd: DeviceCommand, ctx: &Ctx) -> Result<(), CliError> {
    match cmd {
        DeviceCommand::Enroll(a) => enroll(a, ctx).await,
        DeviceCommand::List(a) => list(a, ctx).await,
        DeviceCommand::Promote(a) => promote(a, ctx).await,
        DeviceCommand::Remove(a) => remove(a, ctx).await,
    }
}

/// This machine's identity and a client for its relay.
pub fn open(data: &DataDirArgs) -> Result<(PathBuf, DeviceIdentity, RelayClient), CliError> {
    let dir = data.dir()?;
    let id = DeviceIdentity::load(&dir)?;
    let relay = RelayClient::new(&id.relay)?;
    Ok((dir, id, relay))
}

// -- enroll ----------------------------------------------------------------------------

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EnrollOut {
    relay: String,
    did: String,
    device: DeviceInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pairing_code: Option<String>,
    key_file: String,
}

fn default_platform() -> Result<String, CliError> {
    match std::env::consts::OS {
        os @ ("linux" | "macos" | "windows") => Ok(os.to_string()),
        other => Err(CliError::Usage(format!(
            "pdsctl runs on {other}, which the relay does not list; pass --platform linux|macos|windows"
        ))),
    }
}

fn default_name(platform: &str) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    let name = host.unwrap_or_else(|| format!("pdsctl on {platform}"));
    name.chars().take(64).collect()
}

async fn enroll(a: EnrollArgs, ctx: &Ctx) -> Result<(), CliError> {
    let dir = a.data.dir()?;
    if DeviceIdentity::exists(&dir) {
        let path = DeviceIdentity::path(&dir);
        return Err(CliError::Failed(format!(
            "this machine is already enrolled ({}); run `pdsctl device remove` first, or use another --data-dir",
            path.display()
        )));
    }
    let account = account_id(&a.account)?;
    let platform = match a.platform {
        Some(p) => p,
        None => default_platform()?,
    };
    let name = a.name.unwrap_or_else(|| default_name(&platform));
    let password = match (&a.password_file, a.pair) {
        (Some(f), _) => Some(existing_password_from_file(f)?),
        (None, true) => None,
        (None, false) => Some(ctx.password(&account, "--password-file")?),
    };
    let relay = RelayClient::new(&a.relay)?;
    let aud = relay.service_did().await?;
    let session = match &password {
        Some(p) => Some(relay.create_session(&account, p).await?),
        None => None,
    };
    let key = Keypair::generate(Curve::P256);
    let enrolled = relay
        .enrol(&aud, &key, &account, &name, &platform, session.as_deref())
        .await?;
    let handle = (!account.starts_with("did:")).then(|| account.clone());
    let identity = DeviceIdentity::new(
        relay.url().to_string(),
        aud,
        enrolled.did.clone(),
        handle,
        enrolled.device.id.clone(),
        name,
        platform,
        key,
    );
    identity.save(&dir)?;
    let mut out = EnrollOut {
        relay: relay.url().to_string(),
        did: enrolled.did,
        device: enrolled.device,
        pairing_code: enrolled.pairing_code,
        key_file: DeviceIdentity::path(&dir).display().to_string(),
    };
    if let Some(code) = &out.pairing_code
        && a.wait > 0
    {
        eprintln!(
            "Pairing code: {code}\nConfirm it on an enrolled device of {account}; waiting up to {}s...",
            a.wait
        );
        out.device = wait_for_approval(&relay, &identity, a.wait).await?;
    }
    ctx.emit(&out, render_enroll)
}

/// Poll this device's status until it is approved, or `secs` pass.
async fn wait_for_approval(
    relay: &RelayClient,
    id: &DeviceIdentity,
    secs: u64,
) -> Result<DeviceInfo, CliError> {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match relay.devices(id).await {
            Ok(list) => {
                if let Some(me) = list.devices.into_iter().find(|d| d.id == id.device_id) {
                    return Ok(me);
                }
            }
            Err(e) if e.api_error() == Some("DevicePending") => {}
            Err(e) => return Err(e.into()),
        }
        if std::time::Instant::now() >= until {
            return Err(CliError::Failed(format!(
                "device {} was not approved within {secs}s; it stays pending for up to 15 minutes \
                 after enrolment (check with `pdsctl device list` once it is approved)",
                id.device_id
            )));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn render_enroll(o: &EnrollOut) -> String {
    let mut s = String::new();
    if o.device.status == "pending" {
        let _ = writeln!(
            s,
            "This machine is enrolled as device {} of {}, waiting for approval.",
            o.device.id, o.did
        );
        if let Some(code) = &o.pairing_code {
            let _ = writeln!(
                s,
                "Pairing code: {code}\nConfirm it on an enrolled device of the account within 15 minutes."
            );
        }
    } else {
        let _ = writeln!(
            s,
            "This machine is device {} (\"{}\", {}) of {} on {}.",
            o.device.id, o.device.name, o.device.platform, o.did, o.relay
        );
    }
    let _ = writeln!(s, "Device key: {} (mode 0600)", o.key_file);
    s
}

// -- list ------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListOut {
    #[serde(flatten)]
    list: DeviceList,
    this_device: String,
}

async fn list(a: ListArgs, ctx: &Ctx) -> Result<(), CliError> {
    let (_, id, relay) = open(&a.data)?;
    let list = relay.devices(&id).await?;
    let out = ListOut {
        list,
        this_device: id.device_id.clone(),
    };
    ctx.emit(&out, render_list)
}

fn render_list(o: &ListOut) -> String {
    let mut s = format!("{}\n", o.list.did);
    let _ = writeln!(
        s,
        "{:<26} {:<20} {:<8} {:<8} {:<9} {:<7} LAST SEEN",
        "ID", "NAME", "PLATFORM", "STATUS", "ROLE", "ONLINE"
    );
    for d in &o.list.devices {
        let me = if d.id == o.this_device {
            "  (this machine)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{:<26} {:<20} {:<8} {:<8} {:<9} {:<7} {}{me}",
            d.id,
            d.name.chars().take(20).collect::<String>(),
            d.platform,
            d.status,
            d.role,
            if d.online { "yes" } else { "no" },
            d.last_seen_at.as_deref().unwrap_or("-"),
        );
    }
    s
}

// -- promote ---------------------------------------------------------------------------

/// The local copy of the repo, as commands report it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoCopy {
    pub path: String,
    pub head: crate::desktop_repo::LocalHead,
    pub records: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PromoteOut {
    device: DeviceInfo,
    mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_repo: Option<RepoCopy>,
}

/// Fetch the relay's snapshot, verify it against the account's signing key and save it
/// as this machine's copy.
pub async fn pull(
    dir: &Path,
    id: &DeviceIdentity,
    relay: &RelayClient,
) -> Result<LocalRepo, CliError> {
    let key = relay.signing_key(&id.did).await?;
    let car = relay.snapshot(id).await?;
    let repo = LocalRepo::from_snapshot(&car, &id.did, &key)?;
    repo.save(dir, REPO_FILE)?;
    Ok(repo)
}

/// Report the local copy.
pub fn repo_copy(dir: &Path, repo: &LocalRepo) -> Result<RepoCopy, CliError> {
    Ok(RepoCopy {
        path: dir.join(REPO_FILE).display().to_string(),
        head: repo.head(),
        records: repo.record_count()?,
    })
}

async fn promote(a: TargetArgs, ctx: &Ctx) -> Result<(), CliError> {
    let (dir, id, relay) = open(&a.data)?;
    let target = a.id.unwrap_or_else(|| id.device_id.clone());
    let promoted = relay.promote(&id, &target).await?;
    let local_repo = if target == id.device_id {
        let repo = pull(&dir, &id, &relay).await?;
        Some(repo_copy(&dir, &repo)?)
    } else {
        None
    };
    let out = PromoteOut {
        device: promoted.device,
        mode: promoted.mode,
        local_repo,
    };
    ctx.emit(&out, |o| {
        let mut s = format!(
            "{} (\"{}\") is now the repo host: the account is in {} mode.\n",
            o.device.id, o.device.name, o.mode
        );
        if let Some(r) = &o.local_repo {
            let _ = writeln!(
                s,
                "This machine keeps the repo in {} (rev {}, {} records).\n\
                 Send changes with `pdsctl desktop sync`; while this machine is offline the relay \
                 answers writes with 503.",
                r.path, r.head.rev, r.records
            );
        }
        s
    })
}

// -- remove ----------------------------------------------------------------------------

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RemoveOut {
    #[serde(flatten)]
    removed: crate::relay::Removed,
    /// Whether this machine's key file was deleted (it removed itself).
    key_file_deleted: bool,
}

async fn remove(a: TargetArgs, ctx: &Ctx) -> Result<(), CliError> {
    let (dir, id, relay) = open(&a.data)?;
    let target = a.id.unwrap_or_else(|| id.device_id.clone());
    let itself = target == id.device_id;
    let question = if itself {
        format!(
            "Remove this machine ({target}) from {}? Its key stops working and is deleted.",
            id.did
        )
    } else {
        format!(
            "Remove device {target} from {}? Its key stops working.",
            id.did
        )
    };
    if !ctx.confirm(&question)? {
        return Err(CliError::Failed("nothing removed".into()));
    }
    let removed = relay.remove(&id, &target).await?;
    if itself {
        DeviceIdentity::forget(&dir)?;
    }
    let out = RemoveOut {
        removed,
        key_file_deleted: itself,
    };
    ctx.emit(&out, |o| {
        let d = &o.removed.device;
        let mut s = format!("Removed device {} (\"{}\").\n", d.id, d.name);
        if o.removed.was_repo_host {
            s.push_str("It was the repo host: the account is back in mobile-only mode.\n");
        }
        match o
            .removed
            .rotation_keys
            .get("status")
            .and_then(|v| v.as_str())
        {
            Some("removed") => s.push_str("Its key was removed from the DID's rotation keys.\n"),
            Some("needsUserSignature") => {
                let m = o
                    .removed
                    .rotation_keys
                    .get("message")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                let _ = writeln!(s, "Its key is still a rotation key: {m}");
            }
            _ => {}
        }
        if o.key_file_deleted {
            s.push_str("This machine's device key was deleted.\n");
        }
        s
    })
}
