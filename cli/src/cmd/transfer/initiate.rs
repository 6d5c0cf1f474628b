//! `pdsctl transfer initiate H|DID`: this (enrolled) device starts a transfer; the code is
//! shown once, as words and as a QR code drawn in the terminal (stderr, so `--json` stays
//! one document). It expires after 10 minutes and works once.

use crate::ctx::Ctx;
use crate::device_opts::{DeviceOpts, account_device};
use crate::error::CliError;
use clap::Args;
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use serde::Serialize;
use std::path::PathBuf;

/// `pdsctl transfer initiate`
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pdsctl transfer initiate alice.test\n  pdsctl --json transfer initiate did:plc:abc --no-qr"
)]
pub struct InitiateArgs {
    /// The account (handle or DID).
    #[arg(value_name = "HANDLE|DID")]
    pub account: String,
    /// Do not draw the QR code.
    #[arg(long)]
    pub no_qr: bool,
    /// The account password (first line), if this machine must enrol first.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub opts: DeviceOpts,
}

/// What `transfer initiate` prints (the code once; Debug hides it).
#[derive(Serialize)]
pub struct Initiated {
    pub did: String,
    pub transfer_id: String,
    pub code: String,
    pub qr_payload: String,
    pub expires_at: String,
}

impl std::fmt::Debug for Initiated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Initiated")
            .field("did", &self.did)
            .field("transfer_id", &self.transfer_id)
            .field("code", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The QR code of `payload` for a terminal.
pub fn qr(payload: &str) -> Result<String, CliError> {
    let code = QrCode::new(payload.as_bytes())
        .map_err(|e| CliError::Failed(format!("cannot draw the QR code: {e}")))?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

pub async fn run(args: InitiateArgs, ctx: &Ctx) -> Result<(), CliError> {
    let account = crate::cmd::account_id(&args.account)?;
    let a = account_device(ctx, &args.opts, &account, args.password_file.as_deref()).await?;
    let v = a.relay.transfer_initiate(&a.device).await?;
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    let out = Initiated {
        did: a.did.clone(),
        transfer_id: v["transfer"]["id"].as_str().unwrap_or_default().to_string(),
        code: s("code"),
        qr_payload: s("qrPayload"),
        expires_at: s("expiresAt"),
    };
    if !args.no_qr && !ctx.json {
        eprintln!("{}", qr(&out.qr_payload)?);
    }
    ctx.emit(&out, |i| {
        format!(
            "transfer {} of {}: on the new device run\n  pdsctl --relay {} transfer accept {} '{}'\n(or scan the QR code). The code works once, until {}. Then confirm here:\n  pdsctl transfer complete {} {}",
            i.transfer_id,
            i.did,
            a.relay.url(),
            i.did,
            i.code,
            i.expires_at,
            i.did,
            i.transfer_id
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_drawn_with_half_blocks() {
        let drawn = qr("pdsxfer:abandon-ability-able-about-above-absent@https://pds.example.com")
            .expect("qr");
        assert!(drawn.lines().count() > 10);
        assert!(
            drawn.contains('\u{2580}') || drawn.contains('\u{2584}') || drawn.contains('\u{2588}')
        );
    }
}
