//! Signing, with the user's rotation key, a PLC update that a pdsd prepared: the move of
//! a DID onto that pdsd (`pdsctl import`, `pdsctl recover --to`); or checking that the
//! old host signed exactly that update (`pdsctl import --old-pds`).
//!
//! The daemon proposes; this module checks before it signs: the update follows the
//! operation the daemon says is the latest, the key is one of that operation's rotation
//! keys (a key that is not is refused here, before anything is signed), the key stays
//! first in the new rotationKeys, and the new `#atproto` key and `atproto_pds` endpoint
//! are the ones the daemon announced. It never writes or prints the private key.

use crate::error::CliError;
use pds::admin::PlcUpdate;
use pds::crypto::Keypair;
use pds::identity::plc::{ATPROTO_PDS_SERVICE, ATPROTO_VERIFICATION_METHOD};
use pds::identity::{SignedOp, UnsignedOp};

/// What the signed update must say.
#[derive(Debug, Clone)]
pub struct Expect<'a> {
    pub did: &'a str,
    /// The account's new signing key on the target pdsd (`did:key`).
    pub signing_key: &'a str,
    /// The target pdsd's public URL.
    pub endpoint: &'a str,
}

/// Refuse a key that cannot sign an update of `prev`.
pub fn check_key_can_sign(did: &str, prev: &SignedOp, key: &Keypair) -> Result<(), CliError> {
    let keys = prev.op.rotation_keys();
    if keys.contains(&key.did_key()) {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "the rotation key {} is not one of the rotation keys of {did} ({}); nothing was \
             signed",
            key.did_key(),
            keys.join(", ")
        )))
    }
}

/// Check the daemon's proposed update against `expect`: it follows the operation the
/// daemon says is the latest, and names the new `#atproto` key and `atproto_pds`
/// endpoint. With `first`, that key must stay first in the new rotationKeys. Returns the
/// latest operation and the unsigned update.
fn check_move(
    update: &PlcUpdate,
    expect: &Expect<'_>,
    first: Option<&str>,
) -> Result<(SignedOp, UnsignedOp), CliError> {
    let bad = |m: String| refuse(expect, m);
    let prev_bytes = serde_json::to_vec(&update.prev).map_err(|e| bad(e.to_string()))?;
    let prev = SignedOp::from_json(&prev_bytes).map_err(|e| bad(format!("its prev: {e}")))?;
    // The unsigned form is the signed JSON without `sig`; parse it with an empty one.
    let mut unsigned = update.operation.clone();
    match unsigned.as_object_mut() {
        Some(m) => {
            m.insert("sig".into(), serde_json::Value::String(String::new()));
        }
        None => return Err(bad("the operation is not a JSON object".into())),
    }
    let op_bytes = serde_json::to_vec(&unsigned).map_err(|e| bad(e.to_string()))?;
    let op = SignedOp::from_json(&op_bytes)
        .map_err(|e| bad(e.to_string()))?
        .op;
    let prev_cid = prev.cid().map_err(|e| bad(e.to_string()))?.to_string();
    if op.prev() != Some(prev_cid.as_str()) {
        return Err(bad(format!(
            "it does not follow the latest operation {prev_cid}"
        )));
    }
    let data = op
        .normalized()
        .ok_or_else(|| bad("it is not a plc_operation".into()))?;
    if let Some(first) = first
        && data.rotation_keys.first().map(String::as_str) != Some(first)
    {
        return Err(bad(format!(
            "your key {first} would not be first in rotationKeys ({})",
            data.rotation_keys.join(", ")
        )));
    }
    if data.verification_methods.get(ATPROTO_VERIFICATION_METHOD)
        != Some(&expect.signing_key.to_string())
    {
        return Err(bad(format!(
            "its #atproto key is not {}",
            expect.signing_key
        )));
    }
    let endpoint = data
        .services
        .get(ATPROTO_PDS_SERVICE)
        .map(|s| s.endpoint.trim_end_matches('/'));
    if endpoint != Some(expect.endpoint.trim_end_matches('/')) {
        return Err(bad(format!(
            "its atproto_pds is {endpoint:?}, not {}",
            expect.endpoint
        )));
    }
    Ok((prev, op))
}

fn refuse(expect: &Expect<'_>, m: String) -> CliError {
    CliError::Failed(format!(
        "pdsd proposed a PLC update for {} that pdsctl will not sign: {m}",
        expect.did
    ))
}

/// Check the daemon's proposed update against `expect` and sign it with `key`.
pub fn sign_move(
    update: &PlcUpdate,
    key: &Keypair,
    expect: &Expect<'_>,
) -> Result<SignedOp, CliError> {
    let prev_bytes = serde_json::to_vec(&update.prev).map_err(|e| refuse(expect, e.to_string()))?;
    let prev =
        SignedOp::from_json(&prev_bytes).map_err(|e| refuse(expect, format!("its prev: {e}")))?;
    // Before anything else: a key that cannot sign this DID is refused.
    check_key_can_sign(expect.did, &prev, key)?;
    let (prev, op) = check_move(update, expect, Some(&key.did_key()))?;
    let signed = op.sign(key).map_err(|e| refuse(expect, e.to_string()))?;
    signed
        .verify(&prev.op.rotation_keys())
        .map_err(|e| refuse(expect, format!("the signature does not verify: {e}")))?;
    Ok(signed)
}

/// The fields of the proposed update, for the old host's `signPlcOperation`, after the
/// proposal was checked against `expect`.
pub fn proposal_fields(
    update: &PlcUpdate,
    expect: &Expect<'_>,
) -> Result<pds::identity::PlcOperation, CliError> {
    let (_, op) = check_move(update, expect, None)?;
    op.normalized()
        .ok_or_else(|| refuse(expect, "it is not a plc_operation".into()))
}

/// Check what the old host signed: exactly the proposed update, signed by one of the
/// DID's current rotation keys.
pub fn check_old_host_signature(
    update: &PlcUpdate,
    signed: &SignedOp,
    expect: &Expect<'_>,
) -> Result<(), CliError> {
    let (prev, op) = check_move(update, expect, None)?;
    let bad = |m: String| {
        CliError::Failed(format!(
            "the old host signed another PLC update than the one proposed for {}: {m}",
            expect.did
        ))
    };
    let ours = op.unsigned_bytes().map_err(|e| bad(e.to_string()))?;
    let theirs = signed.op.unsigned_bytes().map_err(|e| bad(e.to_string()))?;
    if ours != theirs {
        return Err(bad("its fields differ".into()));
    }
    signed
        .verify(&prev.op.rotation_keys())
        .map_err(|e| bad(format!("the signature does not verify: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pds::crypto::Curve;
    use pds::identity::{AtprotoGenesis, UpdateBuilder};

    fn setup() -> (Keypair, Keypair, SignedOp, String) {
        let user = Keypair::generate(Curve::Secp256k1);
        let old_relay = Keypair::generate(Curve::Secp256k1);
        let genesis = AtprotoGenesis {
            rotation_keys: vec![user.public(), old_relay.public()],
            signing_key: Keypair::generate(Curve::Secp256k1).public(),
            handle: "alice.test".into(),
            pds_endpoint: "https://old.example".into(),
        };
        let (did, op) = genesis.sign(&old_relay).expect("genesis");
        (user, old_relay, op, did)
    }

    fn proposal(prev: &SignedOp, first: &Keypair, signing: &Keypair, url: &str) -> PlcUpdate {
        let op = UpdateBuilder::after(prev)
            .expect("after")
            .rotation_keys(&[first.public()])
            .atproto_signing_key(&signing.public())
            .pds_endpoint(url)
            .expect("endpoint")
            .build()
            .expect("build");
        let mut json = serde_json::to_value(SignedOp {
            op,
            sig: String::new(),
        })
        .expect("json");
        json.as_object_mut().expect("object").remove("sig");
        PlcUpdate {
            operation: json,
            prev: serde_json::to_value(prev).expect("prev"),
        }
    }

    #[test]
    fn a_correct_move_is_signed_and_verifies() {
        let (user, _, genesis, did) = setup();
        let new_signing = Keypair::generate(Curve::Secp256k1);
        let update = proposal(&genesis, &user, &new_signing, "https://new.example");
        let expect = Expect {
            did: &did,
            signing_key: &new_signing.did_key(),
            endpoint: "https://new.example",
        };
        let signed = sign_move(&update, &user, &expect).expect("sign");
        assert_eq!(
            signed.verify(&genesis.op.rotation_keys()).expect("verify"),
            0
        );
    }

    #[test]
    fn a_key_not_in_rotation_keys_is_refused_before_signing() {
        let (_, _, genesis, did) = setup();
        let stranger = Keypair::generate(Curve::Secp256k1);
        let new_signing = Keypair::generate(Curve::Secp256k1);
        let update = proposal(&genesis, &stranger, &new_signing, "https://new.example");
        let expect = Expect {
            did: &did,
            signing_key: &new_signing.did_key(),
            endpoint: "https://new.example",
        };
        let err = sign_move(&update, &stranger, &expect).expect_err("refused");
        assert!(
            err.to_string().contains("is not one of the rotation keys"),
            "{err}"
        );
    }

    #[test]
    fn a_proposal_that_moves_elsewhere_or_demotes_the_user_is_refused() {
        let (user, old_relay, genesis, did) = setup();
        let new_signing = Keypair::generate(Curve::Secp256k1);
        let expect = Expect {
            did: &did,
            signing_key: &new_signing.did_key(),
            endpoint: "https://new.example",
        };
        let elsewhere = proposal(&genesis, &user, &new_signing, "https://evil.example");
        assert!(sign_move(&elsewhere, &user, &expect).is_err());
        let demoted = proposal(&genesis, &old_relay, &new_signing, "https://new.example");
        assert!(sign_move(&demoted, &user, &expect).is_err());
        let other_key = proposal(
            &genesis,
            &user,
            &Keypair::generate(Curve::Secp256k1),
            "https://new.example",
        );
        assert!(sign_move(&other_key, &user, &expect).is_err());
    }
}
