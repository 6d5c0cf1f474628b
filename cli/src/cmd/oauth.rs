//! `pdsctl oauth list|revoke`: the third-party apps an account has signed in to with
//! OAuth, and ending an app's access (all its sessions, or one session). Revoking ends
//! the app's refresh tokens at once; its access token stops working when it next asks
//! for a new one (within minutes). The app can ask the user to authorize it again.

use super::account_id;
use crate::ctx::Ctx;
use crate::error::CliError;
use clap::{Args, Subcommand};
use pds::admin::{OAuthListResponse, OAuthRevokeRequest};
use std::fmt::Write as _;

/// `pdsctl oauth ...`
#[derive(Debug, Subcommand)]
pub enum OAuthCommand {
    /// Show the apps an account has authorized, with their live sessions.
    #[command(
        after_help = "Examples:\n  pdsctl oauth list alice.example.com\n  pdsctl --json oauth list did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    )]
    List(ListArgs),
    /// End an app's access: every session of a client_id, or one session by its id.
    #[command(
        after_help = "Examples:\n  pdsctl oauth revoke alice.example.com https://app.example.com/client-metadata.json\n  pdsctl oauth revoke alice.example.com 5f0c9a1e2b7d4c38   # one session, from `oauth list`"
    )]
    Revoke(RevokeArgs),
}

/// `pdsctl oauth list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The account: handle or DID.
    pub id: String,
}

/// `pdsctl oauth revoke`
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The account: handle or DID.
    pub id: String,
    /// The app's client_id, or a session id shown by `pdsctl oauth list`.
    pub target: String,
}

pub async fn run(cmd: OAuthCommand, ctx: &Ctx) -> Result<(), CliError> {
    match cmd {
        OAuthCommand::List(a) => {
            let id = account_id(&a.id)?;
            let res = ctx.client.oauth_list(&id).await?;
            ctx.emit(&res, render_list)
        }
        OAuthCommand::Revoke(a) => {
            let id = account_id(&a.id)?;
            let target = a.target.trim().to_string();
            if target.is_empty() {
                return Err(CliError::Usage(
                    "name the app: its client_id or a session id from `pdsctl oauth list`".into(),
                ));
            }
            let res = ctx
                .client
                .oauth_revoke(&OAuthRevokeRequest { id, target })
                .await?;
            ctx.emit(&res, |r| {
                let s = if r.revoked == 1 { "" } else { "s" };
                format!(
                    "revoked {} session{s} of {} for {}",
                    r.revoked, r.target, r.did
                )
            })
        }
    }
}

fn render_list(r: &OAuthListResponse) -> String {
    let who = match &r.handle {
        Some(h) => format!("{h} ({})", r.did),
        None => r.did.clone(),
    };
    if r.apps.is_empty() {
        return format!("{who} has not authorized any app");
    }
    let mut out = format!("{who}\n");
    for app in &r.apps {
        let name = app.client_name.as_deref().unwrap_or("(no name)");
        let _ = writeln!(out, "\n{name}\n  client_id   {}", app.client_id);
        let _ = writeln!(out, "  scope       {}", app.scope);
        let _ = writeln!(out, "  authorized  {}", app.authorized_at);
        let _ = writeln!(out, "  last used   {}", app.last_used_at);
        for s in &app.sessions {
            let _ = writeln!(
                out,
                "  session {}  since {}, refreshed {}, expires {}",
                s.token_id, s.created_at, s.refreshed_at, s.expires_at
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pds::admin::{OAuthApp, OAuthSession};

    #[test]
    fn list_names_each_app_and_session() {
        let r = OAuthListResponse {
            did: "did:plc:abc".into(),
            handle: Some("alice.test".into()),
            apps: vec![OAuthApp {
                client_id: "https://app.example.com/client-metadata.json".into(),
                client_name: Some("Example".into()),
                scope: "atproto transition:generic".into(),
                authorized_at: "2026-01-01T00:00:00Z".into(),
                last_used_at: "2026-01-02T00:00:00Z".into(),
                sessions: vec![OAuthSession {
                    token_id: "tok1".into(),
                    scope: "atproto".into(),
                    created_at: "2026-01-01T00:00:00Z".into(),
                    refreshed_at: "2026-01-02T00:00:00Z".into(),
                    expires_at: "2026-01-16T00:00:00Z".into(),
                }],
            }],
        };
        let text = render_list(&r);
        assert!(text.contains("Example"), "{text}");
        assert!(text.contains("https://app.example.com/client-metadata.json"));
        assert!(text.contains("session tok1"));
        let empty = OAuthListResponse {
            apps: Vec::new(),
            ..r
        };
        assert!(render_list(&empty).contains("has not authorized any app"));
    }
}
