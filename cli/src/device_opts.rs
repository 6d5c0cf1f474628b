//! What `pdsctl backup`, `recover` and `transfer` share as devices of an account: their
//! options (the relay, the PLC directory, where Share 1 lives, pdsctl's data folder) and
//! getting this machine's device for the account, enrolling it with the account password
//! the first time (`relay::RelayClient::enrol`, kept in `device_file::DeviceIdentity`).
//!
//! It decides which relay is meant (`--relay`, else the one this machine is enrolled
//! with, else the local pdsd's public URL) and which PLC directory keys are checked at;
//! it never holds a rotation key.

use crate::ctx::{Ctx, existing_password_from_file};
use crate::device_file::{DataDirArgs, DeviceIdentity};
use crate::error::CliError;
use crate::keychain::{Keychain, Mode};
use crate::relay::RelayClient;
use clap::Args;
use pds::crypto::{Curve, Keypair};
use std::path::{Path, PathBuf};

/// Options of the commands that act as a device.
#[derive(Debug, Args, Clone)]
pub struct DeviceOpts {
    /// The relay's URL (also $PDSCTL_RELAY). Default: the relay this machine is enrolled
    /// with, else the public URL of the local pdsd (--socket).
    #[arg(long, env = "PDSCTL_RELAY", hide_env_values = true, value_name = "URL")]
    pub relay: Option<String>,
    /// The PLC directory that rotation keys are checked at (also $PDSCTL_PLC_URL).
    /// Default: the one the local pdsd uses, else https://plc.directory.
    #[arg(
        long,
        env = "PDSCTL_PLC_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub plc_url: Option<String>,
    /// Where Share 1 lives (also $PDSCTL_KEYCHAIN): `auto` (the OS keychain when pdsctl
    /// was built with the `keychain` feature and one answers, else a 0600 file in the data
    /// folder), `os`, or `file` (`none`: no OS keychain, the file).
    #[arg(
        long,
        env = "PDSCTL_KEYCHAIN",
        value_name = "WHERE",
        default_value = "auto",
        value_parser = ["auto", "os", "file", "none"]
    )]
    pub keychain: String,
    #[command(flatten)]
    pub data: DataDirArgs,
}

/// An account as this machine's device sees it.
#[derive(Debug)]
pub struct AccountDevice {
    pub relay: RelayClient,
    pub did: String,
    pub device: DeviceIdentity,
}

impl DeviceOpts {
    /// pdsctl's data folder.
    pub fn dir(&self) -> Result<PathBuf, CliError> {
        self.data.dir()
    }

    /// Where Share 1 lives on this machine.
    pub fn keychain(&self) -> Result<Keychain, CliError> {
        Ok(Keychain::new(Mode::parse(&self.keychain), &self.dir()?))
    }

    /// This machine's device, if it is enrolled (with any account).
    pub fn identity(&self) -> Result<Option<DeviceIdentity>, CliError> {
        let dir = self.dir()?;
        if DeviceIdentity::exists(&dir) {
            DeviceIdentity::load(&dir).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The relay meant: `--relay`, else this machine's relay, else the local pdsd's.
    pub async fn relay_url(&self, ctx: &Ctx) -> Result<String, CliError> {
        if let Some(r) = &self.relay {
            return Ok(r.trim_end_matches('/').to_string());
        }
        if let Some(id) = self.identity()? {
            return Ok(id.relay);
        }
        match ctx.client.status().await {
            Ok(s) => Ok(s.listen.public_url.trim_end_matches('/').to_string()),
            Err(e) => Err(CliError::Usage(format!(
                "which relay? Give its URL with --relay URL (or $PDSCTL_RELAY); no local pdsd \
                 answered: {e}"
            ))),
        }
    }

    /// A client for the relay meant, when one can be named.
    pub async fn relay(&self, ctx: &Ctx) -> Result<RelayClient, CliError> {
        Ok(RelayClient::new(&self.relay_url(ctx).await?)?)
    }

    /// The PLC directory: `--plc-url`, else the local pdsd's, else the public one.
    pub async fn plc_url(&self, ctx: &Ctx) -> String {
        if let Some(p) = &self.plc_url {
            return p.trim_end_matches('/').to_string();
        }
        match ctx.client.status().await {
            Ok(s) if !s.plc_directory.is_empty() => {
                s.plc_directory.trim_end_matches('/').to_string()
            }
            _ => "https://plc.directory".to_string(),
        }
    }
}

/// Whether pdsctl runs on the relay's own host: the local pdsd is that relay.
pub async fn on_relay_host(ctx: &Ctx, relay: &RelayClient) -> bool {
    ctx.client
        .status()
        .await
        .ok()
        .is_some_and(|s| s.listen.public_url.trim_end_matches('/') == relay.url())
}

/// The account password: from `file` (its first line), else asked.
pub fn password(
    ctx: &Ctx,
    file: Option<&Path>,
    for_whom: &str,
) -> Result<pds::admin::Password, CliError> {
    match file {
        Some(f) => existing_password_from_file(f),
        None => ctx.password(for_whom, "--password-file"),
    }
}

/// This machine's device of `account`, enrolling it first (with the account password)
/// when this data folder has none.
pub async fn account_device(
    ctx: &Ctx,
    opts: &DeviceOpts,
    account: &str,
    password_file: Option<&Path>,
) -> Result<AccountDevice, CliError> {
    let relay = opts.relay(ctx).await?;
    let did = relay.resolve(account).await?;
    let dir = opts.dir()?;
    if let Some(device) = opts.identity()? {
        if device.did != did || device.relay != relay.url() {
            return Err(CliError::Failed(format!(
                "this data folder's device belongs to {} on {}; use another --data-dir for {did} \
                 on {}",
                device.did,
                device.relay,
                relay.url()
            )));
        }
        return Ok(AccountDevice { relay, did, device });
    }
    let password = password(ctx, password_file, account)?;
    let aud = relay.service_did().await?;
    let session = relay.create_session(&did, &password).await?;
    drop(password);
    let key = Keypair::generate(Curve::P256);
    let platform = platform();
    let name = default_name();
    let enrolled = relay
        .enrol(&aud, &key, &did, &name, platform, Some(&session))
        .await?;
    let handle = (!account.starts_with("did:")).then(|| account.to_string());
    let device = DeviceIdentity::new(
        relay.url().to_string(),
        aud,
        enrolled.did.clone(),
        handle,
        enrolled.device.id.clone(),
        name,
        platform.to_string(),
        key,
    );
    device.save(&dir)?;
    if !ctx.json {
        eprintln!(
            "enrolled this machine as device {} of {did} (key in {})",
            device.device_id,
            DeviceIdentity::path(&dir).display()
        );
    }
    Ok(AccountDevice { relay, did, device })
}

/// The platform the relay knows this machine by.
pub fn platform() -> &'static str {
    match std::env::consts::OS {
        "macos" => "macos",
        "windows" => "windows",
        _ => "linux",
    }
}

/// The name a new device gives itself: `pdsctl on <host>`.
pub fn default_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "this machine".into());
    format!("pdsctl on {host}").chars().take(64).collect()
}

/// Write `bytes` to `path` with mode 0600 (in a 0700 folder when it is created).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CliError::Usage(format!("{} is not a file name", path.display())))?;
    crate::device_file::write_private_atomic(&dir, name, bytes)
}
