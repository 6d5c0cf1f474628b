//! Reading a DID's latest operation straight from the PLC directory (never through the
//! relay, which may be gone or not trusted), and the check every command makes before a
//! reconstructed or generated rotation key is used: the key must be one of the DID's
//! current rotationKeys. Nothing here signs.

use crate::error::CliError;
use pds::crypto::Keypair;
use pds::identity::SignedOp;

/// The latest operation of `did` at the PLC directory `plc`.
pub async fn last_op(plc: &str, did: &str) -> Result<SignedOp, CliError> {
    if !did.starts_with("did:plc:") {
        return Err(CliError::Failed(format!(
            "{did} is not a did:plc; only did:plc identities have rotation keys"
        )));
    }
    let url = format!("{}/{did}/log/last", plc.trim_end_matches('/'));
    let http = reqwest::Client::builder()
        .user_agent(concat!("pdsctl/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| CliError::Failed(format!("cannot make an HTTP client: {e}")))?;
    let unreachable = |e: reqwest::Error| {
        CliError::Failed(format!("cannot reach the PLC directory at {plc}: {e}"))
    };
    let res = http.get(&url).send().await.map_err(unreachable)?;
    let status = res.status();
    let bytes = res.bytes().await.map_err(unreachable)?;
    if !status.is_success() {
        return Err(CliError::Failed(format!(
            "the PLC directory at {plc} does not know {did} ({status})"
        )));
    }
    let op = SignedOp::from_json(&bytes).map_err(|e| {
        CliError::Failed(format!("the PLC directory returned a bad operation: {e}"))
    })?;
    if op.is_tombstone() {
        return Err(CliError::Failed(format!(
            "{did} was tombstoned at the PLC directory; it cannot be recovered"
        )));
    }
    Ok(op)
}

/// Where `key` stands in the rotationKeys of `last` (0 = highest priority), or an error
/// that says nothing was signed.
pub fn position(did: &str, last: &SignedOp, key: &Keypair) -> Result<usize, CliError> {
    crate::plc_sign::check_key_can_sign(did, last, key)?;
    Ok(last
        .op
        .rotation_keys()
        .iter()
        .position(|k| *k == key.did_key())
        .unwrap_or(0))
}
