//! `pdsctl did show` and `pdsctl did rotate-signing-key`: an account's did:plc identity as
//! the PLC directory holds it, with every key labelled by whose it is (the user's, the
//! relay's, a device's), and the routine rotation of the relay-held signing key.

use super::account_id;
use crate::ctx::Ctx;
use crate::error::CliError;
use clap::{Args, Subcommand};
use pds::admin::{DidKeyInfo, DidShowResponse, KeyOwner};
use std::fmt::Write;

/// `pdsctl did ...`
#[derive(Debug, Subcommand)]
pub enum DidCommand {
    /// Show the DID document, its keys (whose each is) and the PLC audit log.
    #[command(
        after_help = "Examples:\n  pdsctl did show alice.pds.example.com\n  pdsctl --json did show did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    )]
    Show(DidArgs),
    /// Give the account a new signing key (the relay signs the PLC update with its
    /// rotation key; the user's key can still override it for 72 hours).
    #[command(after_help = "Example:\n  pdsctl did rotate-signing-key alice.pds.example.com")]
    RotateSigningKey(DidArgs),
}

/// An account, by handle or DID.
#[derive(Debug, Args)]
pub struct DidArgs {
    /// Handle or DID.
    #[arg(value_name = "HANDLE|DID")]
    pub id: String,
}

pub async fn run(cmd: DidCommand, ctx: &Ctx) -> Result<(), CliError> {
    match cmd {
        DidCommand::Show(a) => {
            let res = ctx.client.did_show(&account_id(&a.id)?).await?;
            ctx.emit(&res, render_show)
        }
        DidCommand::RotateSigningKey(a) => {
            let res = ctx
                .client
                .did_rotate_signing_key(&account_id(&a.id)?)
                .await?;
            ctx.emit(&res, |r| {
                format!(
                    "{}: new signing key {}\nPLC operation submitted:\n{}",
                    r.did,
                    r.signing_key,
                    serde_json::to_string_pretty(&r.plc_operation).unwrap_or_default()
                )
            })
        }
    }
}

fn owner_word(o: KeyOwner) -> &'static str {
    match o {
        KeyOwner::User => "the user's (not held by the relay)",
        KeyOwner::Relay => "the relay's",
        KeyOwner::Device => "a device's",
        KeyOwner::Unknown => "unknown to this pdsd",
    }
}

fn key_line(k: &DidKeyInfo) -> String {
    let role = match (k.role.as_str(), k.index) {
        ("rotation", Some(i)) => format!("rotation #{i}"),
        (r, _) => r.to_string(),
    };
    format!("  {role:12} {}  {}", k.key, owner_word(k.owner))
}

fn render_show(r: &DidShowResponse) -> String {
    let mut o = match &r.handle {
        Some(h) => format!("{} ({h})\n", r.did),
        None => format!("{}\n", r.did),
    };
    let _ = writeln!(o, "keys:");
    for k in &r.keys {
        let _ = writeln!(o, "{}", key_line(k));
    }
    let _ = writeln!(
        o,
        "document:\n{}",
        serde_json::to_string_pretty(&r.document).unwrap_or_default()
    );
    let ops = r.audit_log.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let _ = writeln!(
        o,
        "audit log ({} operation{}):",
        ops.len(),
        if ops.len() == 1 { "" } else { "s" }
    );
    for entry in ops {
        let s = |k: &str| {
            entry
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("-")
                .to_string()
        };
        let kind = entry
            .get("operation")
            .and_then(|op| op.get("type"))
            .and_then(|v| v.as_str())
            .unwrap_or("-");
        let nullified = if entry.get("nullified").and_then(|v| v.as_bool()) == Some(true) {
            "  (nullified)"
        } else {
            ""
        };
        let _ = writeln!(o, "  {}  {}  {kind}{nullified}", s("createdAt"), s("cid"));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn show_labels_every_key_and_lists_the_log() {
        let r = DidShowResponse {
            did: "did:plc:abc".into(),
            handle: Some("alice.test".into()),
            document: json!({"id": "did:plc:abc"}),
            audit_log: json!([
                {"cid": "bafyop1", "createdAt": "2025-01-01T00:00:00Z", "nullified": false,
                 "operation": {"type": "plc_operation"}},
                {"cid": "bafyop2", "createdAt": "2025-01-02T00:00:00Z", "nullified": true,
                 "operation": {"type": "plc_operation"}}
            ]),
            keys: vec![
                DidKeyInfo {
                    key: "did:key:u".into(),
                    role: "rotation".into(),
                    index: Some(0),
                    owner: KeyOwner::User,
                },
                DidKeyInfo {
                    key: "did:key:d".into(),
                    role: "rotation".into(),
                    index: Some(1),
                    owner: KeyOwner::Device,
                },
                DidKeyInfo {
                    key: "did:key:r".into(),
                    role: "rotation".into(),
                    index: Some(2),
                    owner: KeyOwner::Relay,
                },
                DidKeyInfo {
                    key: "did:key:s".into(),
                    role: "signing".into(),
                    index: None,
                    owner: KeyOwner::Relay,
                },
            ],
        };
        let t = render_show(&r);
        for part in [
            "did:plc:abc (alice.test)",
            "rotation #0  did:key:u  the user's",
            "rotation #1  did:key:d  a device's",
            "rotation #2  did:key:r  the relay's",
            "signing      did:key:s  the relay's",
            "audit log (2 operations)",
            "bafyop2  plc_operation  (nullified)",
        ] {
            assert!(t.contains(part), "missing {part:?} in\n{t}");
        }
    }
}
