//! Crypto vectors: signature fixtures (valid, high-S, DER) and W3C did:key fixtures.

use crate::common::{load_failure, read_json_array};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use libtest_mimic::{Failed, Trial};
use pds::crypto::{Curve, Keypair, PublicKey};
use std::path::Path;

/// Standard base64, with or without padding (the fixtures omit it).
const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub fn trials(dir: &Path) -> Vec<Trial> {
    let mut out = Vec::new();
    let d = dir.join("crypto");
    match read_json_array(&d.join("signature-fixtures.json")) {
        Ok(cases) => {
            for (i, case) in cases.into_iter().enumerate() {
                let name = format!("crypto::signature::{i}");
                out.push(Trial::test(name, move || signature_case(&case)));
            }
        }
        Err(e) => out.push(load_failure("crypto::signature", e)),
    }
    for (file, curve) in [
        ("w3c_didkey_K256.json", Curve::Secp256k1),
        ("w3c_didkey_P256.json", Curve::P256),
    ] {
        match read_json_array(&d.join(file)) {
            Ok(cases) => {
                for (i, case) in cases.into_iter().enumerate() {
                    let name = format!("crypto::{file}::{i}");
                    out.push(Trial::test(name, move || didkey_case(curve, &case)));
                }
            }
            Err(e) => out.push(load_failure(&format!("crypto::{file}"), e)),
        }
    }
    out
}

fn field<'a>(case: &'a serde_json::Value, key: &str) -> Result<&'a str, Failed> {
    case[key]
        .as_str()
        .ok_or_else(|| format!("missing {key}").into())
}

fn signature_case(case: &serde_json::Value) -> Result<(), Failed> {
    let msg = STANDARD.decode(field(case, "messageBase64")?)?;
    let sig = STANDARD.decode(field(case, "signatureBase64")?)?;
    let key = PublicKey::from_did_key(field(case, "publicKeyDid")?)?;
    let curve = match field(case, "algorithm")? {
        "ES256" => Curve::P256,
        "ES256K" => Curve::Secp256k1,
        other => return Err(format!("unknown algorithm {other}").into()),
    };
    if key.curve() != curve {
        return Err("did:key curve differs from the algorithm".into());
    }
    let mb = field(case, "publicKeyMultibase")?;
    let from_mb =
        PublicKey::from_legacy_multibase(curve, mb).or_else(|_| PublicKey::from_multikey(mb))?;
    if from_mb != key {
        return Err("publicKeyMultibase gives a different key than publicKeyDid".into());
    }
    let want = case["validSignature"]
        .as_bool()
        .ok_or("missing validSignature")?;
    let got = key.verify(&msg, &sig).is_ok();
    if got != want {
        return Err(format!(
            "verify returned {got}, fixture says {want} ({})",
            case["comment"]
        )
        .into());
    }
    Ok(())
}

fn didkey_case(curve: Curve, case: &serde_json::Value) -> Result<(), Failed> {
    let secret = match curve {
        Curve::Secp256k1 => hex::decode(field(case, "privateKeyBytesHex")?)?,
        Curve::P256 => multibase::Base::Base58Btc.decode(field(case, "privateKeyBytesBase58")?)?,
    };
    let kp = Keypair::from_bytes(curve, &secret)?;
    let want = field(case, "publicDidKey")?;
    if kp.did_key() != want {
        return Err(format!("derived {} != {want}", kp.did_key()).into());
    }
    let parsed = PublicKey::from_did_key(want)?;
    if parsed != kp.public() {
        return Err("parsing the did:key gave another key".into());
    }
    Ok(())
}
