//! `pdsctl transfer accept H|DID CODE`: on the new device, enter the code shown on the
//! old one (or the `pdsxfer:` QR payload, which also names the relay). A new P-256 device
//! key is made and saved here; the device stays pending until the old device completes
//! the transfer, then it works like any enrolled device.

use crate::ctx::Ctx;
use crate::device_file::DeviceIdentity;
use crate::device_opts::{self, DeviceOpts};
use crate::error::CliError;
use crate::relay::RelayClient;
use clap::Args;
use pds::crypto::{Curve, Keypair};
use pds::secret::{TransferCode, TransferPayload};
use serde::Serialize;
use zeroize::Zeroizing;

/// `pdsctl transfer accept` (Debug hides the code)
#[derive(Args)]
#[command(
    after_help = "Examples:\n  pdsctl --relay https://pds.example.com transfer accept alice.example.com 'word-word-word-word-word-word'\n  pdsctl transfer accept alice.test 'pdsxfer:word-word-word-word-word-word@https://pds.example.com'"
)]
pub struct AcceptArgs {
    /// The account (handle or DID) this device joins.
    #[arg(value_name = "HANDLE|DID")]
    pub account: String,
    /// The code (six words) or the QR payload. Without it, it is asked for.
    #[arg(value_name = "CODE")]
    pub code: Option<String>,
    #[command(flatten)]
    pub opts: DeviceOpts,
}

impl std::fmt::Debug for AcceptArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptArgs")
            .field("account", &self.account)
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field("opts", &self.opts)
            .finish()
    }
}

/// What `transfer accept` prints.
#[derive(Debug, Serialize)]
pub struct Accepted {
    pub did: String,
    pub transfer_id: String,
    pub device_id: String,
    pub status: String,
}

pub async fn run(args: AcceptArgs, ctx: &Ctx) -> Result<(), CliError> {
    let account = crate::cmd::account_id(&args.account)?;
    let dir = args.opts.dir()?;
    if let Some(existing) = args.opts.identity()? {
        return Err(CliError::Failed(format!(
            "{} already holds this machine's device {} of {}; accept into another --data-dir",
            DeviceIdentity::path(&dir).display(),
            existing.device_id,
            existing.did
        )));
    }
    let typed = Zeroizing::new(match args.code {
        Some(c) => c,
        None if ctx.can_prompt() => dialoguer::Input::<String>::new()
            .with_prompt("Transfer code")
            .interact_text()
            .map_err(|e| CliError::Failed(format!("prompt failed: {e}")))?,
        None => {
            return Err(CliError::NeedsAnswer(
                "give the transfer code as an argument".into(),
            ));
        }
    });
    // A QR payload names the relay; typed words use --relay (or the local pdsd).
    let (code, relay) = if typed.trim().to_ascii_lowercase().starts_with("pdsxfer:") {
        let p = TransferPayload::parse(&typed)
            .map_err(|e| CliError::Usage(format!("the transfer payload: {e}")))?;
        (p.code().clone(), RelayClient::new(p.relay_url())?)
    } else {
        let code = TransferCode::parse(&typed)
            .map_err(|e| CliError::Usage(format!("the transfer code: {e}")))?;
        (code, args.opts.relay(ctx).await?)
    };
    let did = relay.resolve(&account).await?;
    let aud = relay.service_did().await?;
    let key = Keypair::generate(Curve::P256);
    let name = device_opts::default_name();
    let platform = device_opts::platform();
    let v = relay
        .transfer_accept(&aud, &did, &code.reveal(), &key, &name, platform)
        .await?;
    let device_id = v["deviceId"]
        .as_str()
        .ok_or_else(|| CliError::Failed("the relay did not name the new device".into()))?
        .to_string();
    let handle = (!account.starts_with("did:")).then(|| account.clone());
    DeviceIdentity::new(
        relay.url().to_string(),
        aud,
        did.clone(),
        handle,
        device_id.clone(),
        name,
        platform.to_string(),
        key,
    )
    .save(&dir)?;
    let out = Accepted {
        did,
        transfer_id: v["transfer"]["id"].as_str().unwrap_or_default().to_string(),
        device_id,
        status: "pending".into(),
    };
    ctx.emit(&out, |a| {
        format!(
            "code accepted: this machine is device {} of {} once the old device confirms with\n  pdsctl transfer complete {} {}",
            a.device_id, a.did, a.did, a.transfer_id
        )
    })
}
