//! `pdsctl account ...`: create (the DID ceremony, run by the daemon), list, show,
//! deactivate, activate, delete, reset-password, takedown, untakedown.
//!
//! `create --generate-recovery-key FILE` makes the user's rotation key here, on this
//! machine, writes it to FILE (0600) before anything is sent, and sends only its public
//! `did:key`; the daemon puts it first in rotationKeys, and this command checks that it
//! did before it reports success.

use super::account_id;
use crate::ctx::{Ctx, password_from_file};
use crate::error::CliError;
use crate::keyfile;
use clap::{Args, Subcommand};
use pds::admin::{
    AccountCreateRequest, AccountInfo, AccountStatus, ResetPasswordRequest, TakedownRequest, paths,
};
use pds::crypto::{Curve, PublicKey};
use pds::identity::SignedOp;
use serde::Serialize;
use std::fmt::Write;
use std::path::PathBuf;

/// `pdsctl account ...`
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account: the daemon makes its DID (did:plc) and repository.
    #[command(
        after_help = "Examples:\n  pdsctl account create --handle alice.pds.example.com --email alice@example.com \\\n      --generate-recovery-key ~/alice-recovery.json\n  pdsctl --yes --json account create --handle bob.test --email bob@example.com \\\n      --password-file ./bob.pw --recovery-key did:key:zQ3sh..."
    )]
    Create(CreateArgs),
    /// List hosted accounts.
    #[command(after_help = "Examples:\n  pdsctl account list\n  pdsctl --json account list")]
    List,
    /// Show one account.
    #[command(
        after_help = "Examples:\n  pdsctl account show alice.pds.example.com\n  pdsctl --json account show did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    )]
    Show(IdArgs),
    /// Deactivate an account (it stops being served; its data is kept).
    #[command(after_help = "Example:\n  pdsctl account deactivate alice.pds.example.com")]
    Deactivate(IdArgs),
    /// Activate a deactivated account.
    #[command(after_help = "Example:\n  pdsctl account activate alice.pds.example.com")]
    Activate(IdArgs),
    /// Delete an account and all its data (asks first unless --yes).
    #[command(
        after_help = "Examples:\n  pdsctl account delete alice.pds.example.com\n  pdsctl --yes account delete did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    )]
    Delete(IdArgs),
    /// Set a new password (asks for it twice unless --password-file).
    #[command(
        after_help = "Examples:\n  pdsctl account reset-password alice.pds.example.com\n  pdsctl --yes account reset-password alice.pds.example.com --password-file ./new.pw"
    )]
    ResetPassword(ResetPasswordArgs),
    /// Take an account down (moderation): it is no longer served.
    #[command(
        after_help = "Example:\n  pdsctl account takedown spam.pds.example.com --reference ticket-1234"
    )]
    Takedown(TakedownArgs),
    /// Lift a takedown.
    #[command(after_help = "Example:\n  pdsctl account untakedown spam.pds.example.com")]
    Untakedown(IdArgs),
}

/// An account, by handle or DID.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// Handle or DID.
    #[arg(value_name = "HANDLE|DID")]
    pub id: String,
}

/// `pdsctl account create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The handle, e.g. alice.pds.example.com (under one of the server's handle domains).
    #[arg(long, value_name = "HANDLE")]
    pub handle: String,
    /// The account's e-mail address.
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
    /// Read the password from FILE (its first line) instead of asking.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// The user's existing rotation key (did:key), placed first in rotationKeys.
    #[arg(long, value_name = "DIDKEY", conflicts_with = "generate_recovery_key")]
    pub recovery_key: Option<String>,
    /// Make the user's rotation key here, write it to FILE (mode 0600; never overwritten)
    /// and place it first in rotationKeys. Keep FILE offline: it controls the identity.
    #[arg(long, value_name = "FILE")]
    pub generate_recovery_key: Option<PathBuf>,
    /// Curve of the generated recovery key.
    #[arg(long, value_enum, default_value_t = CurveArg::Secp256k1, requires = "generate_recovery_key")]
    pub curve: CurveArg,
}

/// The curves a recovery key may use.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CurveArg {
    Secp256k1,
    P256,
}

impl From<CurveArg> for Curve {
    fn from(c: CurveArg) -> Curve {
        match c {
            CurveArg::Secp256k1 => Curve::Secp256k1,
            CurveArg::P256 => Curve::P256,
        }
    }
}

/// `pdsctl account reset-password`
#[derive(Debug, Args)]
pub struct ResetPasswordArgs {
    /// Handle or DID.
    #[arg(value_name = "HANDLE|DID")]
    pub id: String,
    /// Read the new password from FILE (its first line) instead of asking.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// `pdsctl account takedown`
#[derive(Debug, Args)]
pub struct TakedownArgs {
    /// Handle or DID.
    #[arg(value_name = "HANDLE|DID")]
    pub id: String,
    /// A reference for your moderation records (default: made by pdsd).
    #[arg(long, value_name = "REF")]
    pub reference: Option<String>,
}

/// What `account create` prints.
#[derive(Debug, Serialize)]
struct Created {
    did: String,
    handle: String,
    /// The user's rotation key (did:key), when one was given or generated.
    recovery_key: Option<String>,
    /// Where the generated key was written.
    recovery_key_file: Option<String>,
    plc_operation: serde_json::Value,
}

pub async fn run(cmd: AccountCommand, ctx: &Ctx) -> Result<(), CliError> {
    match cmd {
        AccountCommand::Create(a) => create(a, ctx).await,
        AccountCommand::List => {
            let res = ctx.client.account_list().await?;
            ctx.emit(&res, |r| render_list(&r.accounts))
        }
        AccountCommand::Show(a) => {
            let res = ctx.client.account_show(&account_id(&a.id)?).await?;
            ctx.emit(&res, render_one)
        }
        AccountCommand::Deactivate(a) => {
            state_change(ctx, paths::ACCOUNT_DEACTIVATE, &a.id, "deactivated").await
        }
        AccountCommand::Activate(a) => {
            state_change(ctx, paths::ACCOUNT_ACTIVATE, &a.id, "activated").await
        }
        AccountCommand::Untakedown(a) => {
            state_change(ctx, paths::ACCOUNT_UNTAKEDOWN, &a.id, "takedown lifted for").await
        }
        AccountCommand::Delete(a) => {
            let id = account_id(&a.id)?;
            if !ctx.confirm(&format!(
                "Delete {id} and all its data (repository, blobs)? This cannot be undone"
            ))? {
                return Err(CliError::Failed("not deleted".into()));
            }
            let res = ctx.client.account_delete(&id).await?;
            ctx.emit(&res, |r| format!("deleted {}", r.did))
        }
        AccountCommand::ResetPassword(a) => {
            let id = account_id(&a.id)?;
            let password = match &a.password_file {
                Some(f) => password_from_file(f)?,
                None => ctx.new_password(&id, "--password-file")?,
            };
            let res = ctx
                .client
                .account_reset_password(&ResetPasswordRequest { id, password })
                .await?;
            ctx.emit(&res, |r| format!("password changed for {}", label(r)))
        }
        AccountCommand::Takedown(a) => {
            let id = account_id(&a.id)?;
            let res = ctx
                .client
                .account_takedown(&TakedownRequest {
                    id,
                    reference: a.reference,
                })
                .await?;
            ctx.emit(&res, |r| {
                format!(
                    "taken down: {} (reference {})",
                    label(r),
                    r.takedown_ref.as_deref().unwrap_or("-")
                )
            })
        }
    }
}

async fn state_change(ctx: &Ctx, path: &'static str, id: &str, done: &str) -> Result<(), CliError> {
    let res = ctx.client.account_action(path, &account_id(id)?).await?;
    ctx.emit(&res, |r| format!("{done} {}", label(r)))
}

async fn create(a: CreateArgs, ctx: &Ctx) -> Result<(), CliError> {
    let handle = pds::syntax::Handle::new(&a.handle)
        .map_err(|e| CliError::Usage(format!("--handle: {e}")))?;
    let handle = handle.as_str().to_string();
    if !a.email.contains('@') {
        return Err(CliError::Usage(format!(
            "--email: {:?} is not an e-mail address",
            a.email
        )));
    }
    if let Some(k) = &a.recovery_key {
        PublicKey::from_did_key(k).map_err(|e| CliError::Usage(format!("--recovery-key: {e}")))?;
    }
    if let Some(f) = &a.generate_recovery_key
        && f.exists()
    {
        return Err(CliError::Failed(format!(
            "{} already exists; pdsctl never overwrites a key file (choose another name)",
            f.display()
        )));
    }
    // Everything that can stop the command comes before the key is made.
    let password = match &a.password_file {
        Some(f) => password_from_file(f)?,
        None => ctx.new_password(&handle, "--password-file")?,
    };
    let recovery_key = match &a.generate_recovery_key {
        Some(file) => {
            let note = format!(
                "The did:plc rotation key of {handle}: it can move or recover this identity. \
                 Keep it offline and secret."
            );
            Some(keyfile::generate(file, a.curve.into(), &note)?.did_key())
        }
        None => a.recovery_key.clone(),
    };
    let res = ctx
        .client
        .account_create(&AccountCreateRequest {
            handle: handle.clone(),
            email: a.email.clone(),
            password,
            recovery_key: recovery_key.clone(),
        })
        .await
        .map_err(|e| match &a.generate_recovery_key {
            Some(f) => CliError::Failed(format!(
                "{e}\n(the recovery key written to {} was not used; remove it before retrying)",
                f.display()
            )),
            None => CliError::from(e),
        })?;
    check_operation(
        &res.plc_operation,
        &res.did,
        &res.handle,
        recovery_key.as_deref(),
    )?;
    let out = Created {
        did: res.did,
        handle: res.handle,
        recovery_key,
        recovery_key_file: a
            .generate_recovery_key
            .as_ref()
            .map(|p| p.display().to_string()),
        plc_operation: res.plc_operation,
    };
    ctx.emit(&out, |c| {
        let mut o = format!("created {} ({})\n", c.did, c.handle);
        if let Some(k) = &c.recovery_key {
            let _ = writeln!(o, "recovery key (first in rotationKeys): {k}");
        }
        if let Some(f) = &c.recovery_key_file {
            let _ = writeln!(
                o,
                "its private key is in {f} (mode 0600): keep it offline; it controls this identity"
            );
        }
        let op = serde_json::to_string_pretty(&c.plc_operation).unwrap_or_default();
        let _ = writeln!(o, "PLC operation submitted:\n{op}");
        o
    })
}

/// Check the operation the daemon submitted before trusting it: a valid PLC genesis
/// whose hash is the DID we were given, signed by one of its own rotation keys, with the
/// user's key first in rotationKeys and the handle asked for in alsoKnownAs.
fn check_operation(
    op: &serde_json::Value,
    did: &str,
    handle: &str,
    recovery_key: Option<&str>,
) -> Result<(), CliError> {
    let bad = |m: String| {
        CliError::Failed(format!(
            "the daemon's PLC operation for {did} is not what was asked for: {m}"
        ))
    };
    let bytes = serde_json::to_vec(op).map_err(|e| bad(e.to_string()))?;
    let signed = SignedOp::from_json(&bytes).map_err(|e| bad(e.to_string()))?;
    signed.check_constraints().map_err(|e| bad(e.to_string()))?;
    if !signed.is_genesis() {
        return Err(bad("it is not a genesis operation".into()));
    }
    let derived = signed.genesis_did().map_err(|e| bad(e.to_string()))?;
    if derived != did {
        return Err(bad(format!("it hashes to {derived}")));
    }
    let rotation = signed.op.rotation_keys();
    signed
        .verify(&rotation)
        .map_err(|e| bad(format!("its signature: {e}")))?;
    if let Some(key) = recovery_key
        && rotation.first().map(String::as_str) != Some(key)
    {
        return Err(bad(format!(
            "the recovery key {key} is not first in rotationKeys {rotation:?}"
        )));
    }
    let aka = format!("at://{handle}");
    let has_handle = signed
        .op
        .normalized()
        .is_some_and(|o| o.also_known_as.contains(&aka));
    if !has_handle {
        return Err(bad(format!("alsoKnownAs does not hold {aka}")));
    }
    Ok(())
}

fn label(a: &AccountInfo) -> String {
    match &a.handle {
        Some(h) => format!("{} ({h})", a.did),
        None => a.did.clone(),
    }
}

fn status_word(s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Active => "active",
        AccountStatus::Deactivated => "deactivated",
        AccountStatus::Takendown => "taken down",
    }
}

fn render_list(accounts: &[AccountInfo]) -> String {
    if accounts.is_empty() {
        return "no accounts yet (create one with `pdsctl account create`)".into();
    }
    let w = accounts
        .iter()
        .map(|a| a.handle.as_deref().unwrap_or("-").len())
        .max()
        .unwrap_or(0)
        .max("HANDLE".len());
    let dw = accounts
        .iter()
        .map(|a| a.did.len())
        .max()
        .unwrap_or(0)
        .max(3);
    let mut o = format!("{:dw$}  {:w$}  {:11}  CREATED\n", "DID", "HANDLE", "STATUS");
    for a in accounts {
        let _ = writeln!(
            o,
            "{:dw$}  {:w$}  {:11}  {}",
            a.did,
            a.handle.as_deref().unwrap_or("-"),
            status_word(a.status),
            a.created_at
        );
    }
    o
}

fn render_one(a: &AccountInfo) -> String {
    let mut o = String::new();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let _ = writeln!(o, "did:         {}", a.did);
    let _ = writeln!(o, "handle:      {}", opt(&a.handle));
    let _ = writeln!(o, "email:       {}", opt(&a.email));
    let _ = writeln!(o, "status:      {}", status_word(a.status));
    let _ = writeln!(o, "created:     {}", a.created_at);
    if a.deactivated_at.is_some() {
        let _ = writeln!(o, "deactivated: {}", opt(&a.deactivated_at));
    }
    if a.takedown_ref.is_some() {
        let _ = writeln!(o, "takedown:    {}", opt(&a.takedown_ref));
    }
    let _ = writeln!(o, "tier:        {}", a.tier);
    let _ = writeln!(o, "repo rev:    {}", opt(&a.repo_rev));
    let _ = writeln!(o, "commit:      {}", opt(&a.repo_commit));
    let _ = writeln!(o, "records:     {}", a.records);
    let _ = writeln!(
        o,
        "blobs:       {} ({})",
        a.blobs,
        super::human_bytes(a.blob_bytes)
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use pds::crypto::Keypair;
    use pds::identity::AtprotoGenesis;

    fn genesis(
        user: Option<&Keypair>,
        relay: &Keypair,
        handle: &str,
    ) -> (String, serde_json::Value) {
        let mut rotation_keys: Vec<PublicKey> = user.map(|u| u.public()).into_iter().collect();
        rotation_keys.push(relay.public());
        let (did, op) = AtprotoGenesis {
            rotation_keys,
            signing_key: Keypair::generate(Curve::Secp256k1).public(),
            handle: handle.into(),
            pds_endpoint: "https://pds.example.com".into(),
        }
        .sign(relay)
        .expect("sign");
        (did, serde_json::to_value(&op).expect("json"))
    }

    #[test]
    fn operation_check_wants_the_user_key_first_the_did_and_the_handle() {
        let user = Keypair::generate(Curve::Secp256k1);
        let relay = Keypair::generate(Curve::P256);
        let (did, op) = genesis(Some(&user), &relay, "alice.test");
        let user_key = user.did_key();
        check_operation(&op, &did, "alice.test", Some(&user_key)).expect("fine");
        check_operation(&op, &did, "alice.test", None).expect("fine without a user key");
        // The relay's key is not the user's; another DID, handle or a tampered op fail.
        assert!(check_operation(&op, &did, "alice.test", Some(&relay.did_key())).is_err());
        assert!(
            check_operation(&op, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "alice.test", None).is_err()
        );
        assert!(check_operation(&op, &did, "bob.test", Some(&user_key)).is_err());
        let mut tampered = op.clone();
        tampered["services"]["atproto_pds"]["endpoint"] = "https://evil.example.com".into();
        assert!(check_operation(&tampered, &did, "alice.test", None).is_err());
        // Without a user key, the relay's key comes first and a user key is not there.
        let (did2, op2) = genesis(None, &relay, "bob.test");
        check_operation(&op2, &did2, "bob.test", None).expect("fine");
        assert!(check_operation(&op2, &did2, "bob.test", Some(&user_key)).is_err());
        assert!(check_operation(&serde_json::json!({}), &did, "alice.test", None).is_err());
    }

    #[test]
    fn list_renders_a_table_or_a_hint() {
        assert!(render_list(&[]).contains("pdsctl account create"));
        let a = AccountInfo {
            did: "did:plc:abc".into(),
            handle: Some("alice.test".into()),
            email: None,
            status: AccountStatus::Deactivated,
            created_at: "2025-01-01T00:00:00.000Z".into(),
            deactivated_at: None,
            takedown_ref: None,
            tier: "free".into(),
            repo_rev: None,
            repo_commit: None,
            records: 0,
            blobs: 0,
            blob_bytes: 0,
        };
        let t = render_list(std::slice::from_ref(&a));
        assert!(t.starts_with("DID"), "{t}");
        assert!(t.contains("alice.test") && t.contains("deactivated"), "{t}");
        assert!(render_one(&a).contains("status:      deactivated"));
    }
}
