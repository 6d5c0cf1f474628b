//! Outgoing e-mail: messages written as RFC 5322 files into the outbox folder (a pickup
//! folder for a local mail transfer agent, or a place to read codes in development).
//! Codes sent this way are never logged.

use super::ServiceError;
use crate::context::AppState;

/// A short one-time code: `xxxxx-xxxxx` (base32, 50 bits).
pub fn one_time_code() -> Result<String, ServiceError> {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let b = crate::keys::random_bytes::<10>()?;
    let s: String = b
        .iter()
        .map(|x| A[(*x as usize) % A.len()] as char)
        .collect();
    Ok(format!("{}-{}", &s[..5], &s[5..]))
}

/// Send a message to `to`.
pub fn send(state: &AppState, to: &str, subject: &str, body: &str) -> Result<(), ServiceError> {
    let Some(dir) = state.config.outbox_dir() else {
        return Err(ServiceError::Unavailable(
            "EmailNotConfigured",
            "This server cannot send e-mail; ask its operator (pdsctl) to do this for you".into(),
        ));
    };
    std::fs::create_dir_all(&dir).map_err(ServiceError::internal)?;
    let name = format!(
        "{}-{}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
        crate::auth::jwt::random_id().replace(['-', '_'], "")
    );
    let from = format!("noreply@{}", state.config.hostname);
    let msg = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        chrono::Utc::now().to_rfc2822()
    );
    let path = dir.join(name);
    crate::keys::write_private_file(&path, msg.as_bytes()).map_err(ServiceError::internal)?;
    Ok(())
}
