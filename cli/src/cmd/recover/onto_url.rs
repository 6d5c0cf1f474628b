//! `pdsctl recover ... --to URL --from-export DIR`: move the DID onto a PDS by its public
//! URL when the old relay is gone, the way atproto account migration works, with the
//! user's rotation key standing in for the old host:
//!
//! 1. `describeServer`: the new server's DID (the audience of the proof).
//! 2. `createAccount` with `did`, proven by a service token signed by the rotation key:
//!    the account is made deactivated, with a signing key the new server holds.
//! 3. `importRepo` the export's CAR (the server verifies it against a key the DID has
//!    had), `uploadBlob` every blob, then check `listMissingBlobs` is empty and that
//!    `checkAccountStatus` counts the export's records and blobs.
//! 4. `getRecommendedDidCredentials`, and a PLC update signed by the rotation key: that
//!    key first in rotationKeys, the server's keys after it, its signing key, endpoint and
//!    the handle; `submitPlcOperation` sends it to the directory.
//! 5. `activateAccount`: the new server emits `#identity`, `#account` and `#sync`; its
//!    head must hold the export's MST root.
//!
//! Nothing changes at the PLC directory until the repository and blobs are in place. The
//! key signs only the proof (for that server, for createAccount, for five minutes) and
//! the update; it is never sent anywhere.

use crate::cmd::import::Imported;
use crate::ctx::Ctx;
use crate::error::CliError;
use crate::export_dir::ExportDir;
use crate::relay::RelayClient;
use pds::admin::Password;
use pds::crypto::{Keypair, PublicKey};
use pds::identity::{SignedOp, UpdateBuilder};
use serde_json::{Value, json};
use std::path::Path;

/// How long the createAccount proof lives.
const PROOF_LIFETIME_SECS: i64 = 300;

/// What the move needs besides the key and the export.
#[derive(Debug)]
pub struct Arrival<'a> {
    pub url: &'a str,
    pub dir: &'a Path,
    /// The DID's latest PLC operation, which the move builds on.
    pub last: &'a SignedOp,
    pub handle: Option<String>,
    pub email: Option<String>,
    pub password: Password,
    pub invite_code: Option<String>,
}

/// Move the DID of the export in `a.dir` onto the PDS at `a.url` with `key`.
pub async fn move_by_url(ctx: &Ctx, key: &Keypair, a: Arrival<'_>) -> Result<Imported, CliError> {
    let folder = ExportDir::new(a.dir);
    let manifest = folder.read_manifest()?;
    let local = folder.verify(&manifest)?;
    let did = manifest.did.clone();
    let handle = a
        .handle
        .or_else(|| manifest.handle.clone())
        .ok_or_else(|| {
            CliError::Usage("the export names no handle: choose one with --handle".into())
        })?;
    let email = a.email.or_else(|| manifest.email.clone()).ok_or_else(|| {
        CliError::Usage("the export holds no e-mail address: give one with --email".into())
    })?;
    let server = RelayClient::new(a.url)?;
    let audience = server.service_did().await?;

    let now = chrono::Utc::now().timestamp();
    let proof = pds::crypto::jws::sign(
        key,
        &json!({ "typ": "JWT" }),
        &json!({
            "iss": did,
            "aud": audience,
            "lxm": "com.atproto.server.createAccount",
            "iat": now,
            "exp": now + PROOF_LIFETIME_SECS,
        }),
    );
    let session = server
        .create_account_for_did(
            &proof,
            &did,
            &handle,
            &email,
            &a.password,
            a.invite_code.as_deref(),
        )
        .await?;

    let car = std::fs::read(folder.car_path()).map_err(CliError::io(format!(
        "cannot read {}",
        folder.car_path().display()
    )))?;
    server.import_repo(&session, car).await?;
    let total: u64 = manifest.blobs.iter().map(|b| b.size).sum();
    let bar = ctx.progress(total, "blobs");
    for blob in &manifest.blobs {
        let path = folder.blob_path(&blob.cid)?;
        let bytes = std::fs::read(&path)
            .map_err(CliError::io(format!("cannot read {}", path.display())))?;
        let cid = server.upload_blob(&session, bytes, &blob.mime_type).await?;
        if cid != blob.cid {
            return Err(CliError::Failed(format!(
                "{} stored blob {} as {cid}; the DID was not moved",
                a.url, blob.cid
            )));
        }
        bar.inc(blob.size);
    }
    bar.finish_and_clear();
    let missing = server.missing_blobs(&session).await?;
    if let Some(cid) = missing.first() {
        return Err(CliError::Failed(format!(
            "{} still misses {} blob(s) the records name (first {cid}); the DID was not moved",
            a.url,
            missing.len()
        )));
    }
    let status = server.account_status(&session).await?;
    let count = |name: &str| status.get(name).and_then(Value::as_u64);
    if count("indexedRecords") != Some(local.records) || count("importedBlobs") != Some(local.blobs)
    {
        return Err(CliError::Failed(format!(
            "{} holds {:?} records and {:?} blobs, the export {} and {}; the DID was not moved",
            a.url,
            count("indexedRecords"),
            count("importedBlobs"),
            local.records,
            local.blobs
        )));
    }

    let recommended = server.recommended_credentials(&session).await?;
    let op = move_operation(a.last, key, &recommended)?;
    server.submit_plc_operation(&session, &op).await?;
    server.activate_account(&session).await?;
    // The server re-signs the imported tree with its own key, so the commit changes; the
    // tree (MST root) must not.
    let (commit, head) = server.head_commit(&did).await?;
    if head.data.to_string() != manifest.data {
        return Err(CliError::Failed(format!(
            "{} now hosts {did} with MST root {}, but the export's is {}: check the account \
             there before using it",
            a.url, head.data, manifest.data
        )));
    }
    Ok(Imported {
        did,
        handle: Some(handle),
        created: true,
        plc_operation: serde_json::to_value(&op).ok(),
        commit: commit.to_string(),
        data: head.data.to_string(),
        records: local.records,
        blobs: local.blobs,
        active: true,
    })
}

/// The PLC update that hands the DID to the server whose recommended credentials are
/// `rec`, signed by `key`, which stays first in rotationKeys.
fn move_operation(last: &SignedOp, key: &Keypair, rec: &Value) -> Result<SignedOp, CliError> {
    let bad = |m: &str| {
        CliError::Failed(format!(
            "the new server's recommended DID credentials {m}; nothing was signed"
        ))
    };
    let parse =
        |k: &str| PublicKey::from_did_key(k).map_err(|e| bad(&format!("name a bad key {k}: {e}")));
    let mut rotation = vec![key.public()];
    for k in rec
        .get("rotationKeys")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("have no rotationKeys"))?
    {
        let k = parse(
            k.as_str()
                .ok_or_else(|| bad("have a rotation key that is not text"))?,
        )?;
        if !rotation.contains(&k) {
            rotation.push(k);
        }
    }
    let signing = parse(
        rec.pointer("/verificationMethods/atproto")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("have no atproto signing key"))?,
    )?;
    let endpoint = rec
        .pointer("/services/atproto_pds/endpoint")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("have no atproto_pds endpoint"))?;
    let mut builder = UpdateBuilder::after(last)
        .map_err(|e| CliError::Failed(format!("the DID's latest operation: {e}")))?
        .rotation_keys(&rotation)
        .atproto_signing_key(&signing)
        .pds_endpoint(endpoint)
        .map_err(|e| bad(&e.to_string()))?;
    if let Some(h) = rec
        .get("alsoKnownAs")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find_map(|u| u.as_str()?.strip_prefix("at://")))
    {
        builder = builder.handle(h).map_err(|e| bad(&e.to_string()))?;
    }
    builder
        .sign(key)
        .map_err(|e| CliError::Failed(format!("cannot sign the move: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pds::crypto::Curve;
    use pds::identity::AtprotoGenesis;

    #[test]
    fn the_move_keeps_the_user_key_first_and_takes_the_server_credentials() {
        let user = Keypair::generate(Curve::Secp256k1);
        let old_relay = Keypair::generate(Curve::Secp256k1);
        let old_signing = Keypair::generate(Curve::Secp256k1);
        let (_, genesis) = AtprotoGenesis {
            rotation_keys: vec![user.public(), old_relay.public()],
            signing_key: old_signing.public(),
            handle: "alice.old.test".into(),
            pds_endpoint: "https://old.example".into(),
        }
        .sign(&old_relay)
        .expect("genesis");
        let new_relay = Keypair::generate(Curve::P256);
        let new_signing = Keypair::generate(Curve::Secp256k1);
        let rec = json!({
            "rotationKeys": [new_relay.did_key()],
            "verificationMethods": {"atproto": new_signing.did_key()},
            "services": {"atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": "https://new.example"}},
            "alsoKnownAs": ["at://alice.new.test"],
        });
        let op = move_operation(&genesis, &user, &rec).expect("op");
        assert_eq!(op.verify(&genesis.op.rotation_keys()).expect("signed"), 0);
        let data = op.op.normalized().expect("operation");
        assert_eq!(
            data.rotation_keys,
            vec![user.did_key(), new_relay.did_key()]
        );
        assert_eq!(data.verification_methods["atproto"], new_signing.did_key());
        assert_eq!(data.services["atproto_pds"].endpoint, "https://new.example");
        assert_eq!(data.also_known_as, vec!["at://alice.new.test".to_string()]);
        // A server that recommends nothing usable gets nothing signed.
        let err =
            move_operation(&genesis, &user, &json!({"rotationKeys": []})).expect_err("no key");
        assert!(err.to_string().contains("nothing was signed"), "{err}");
    }
}
