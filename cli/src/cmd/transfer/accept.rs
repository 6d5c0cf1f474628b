//! `pdsctl transfer accept H|DID CODE`: on the new device, enter the code shown on the
//! old one (or the `pdsxfer:` QR payload, which also names the relay). A new P-256 device
//! key is made and saved here; the device stays pending until the old device completes
//! the transfer, then it works like any enrolled device.

use crate::ctx::Ctx;
use crate::device::{self, Device};
use crate::error::CliError;
use crate::relay::{Auth, Relay};
use clap::Args;
use pds::secret::{TransferCode, TransferPayload};
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

/// `pdsctl transfer accept`
#[derive(Debug, Args)]
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
    let (code, relay_url) = if typed.trim().to_ascii_lowercase().starts_with("pdsxfer:") {
        let p = TransferPayload::parse(&typed)
            .map_err(|e| CliError::Usage(format!("the transfer payload: {e}")))?;
        (p.code().clone(), p.relay_url().to_string())
    } else {
        let code = TransferCode::parse(&typed)
            .map_err(|e| CliError::Usage(format!("the transfer code: {e}")))?;
        (code, ctx.relay_url().await?)
    };
    let relay = Relay::new(&relay_url)?;
    let did = relay.resolve(&account).await?;
    let key = device::new_key();
    let path = "/v1/transfer/accept";
    let proof = relay.proof(&key, "POST", path).await?;
    let name = device::default_name();
    let v = relay
        .json(
            reqwest::Method::POST,
            path,
            Some(&json!({
                "account": did,
                "code": code.reveal().as_str(),
                "deviceKey": key.did_key(),
                "deviceName": name,
                "platform": device::platform(),
                "proof": proof,
            })),
            Auth::None,
        )
        .await?;
    let device_id = v["deviceId"]
        .as_str()
        .ok_or_else(|| CliError::Failed("the relay did not name the new device".into()))?
        .to_string();
    let device = Device {
        did: did.clone(),
        relay: relay.url.clone(),
        id: device_id.clone(),
        name,
        platform: device::platform().into(),
        status: "pending".into(),
        key,
    };
    device.save(&ctx.data_dir)?;
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
