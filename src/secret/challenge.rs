//! The message a reconstructed rotation key signs to prove itself to a relay during
//! recovery (`POST /v1/recovery/verify-key`), built the same way by the relay (which
//! checks) and by the device (which signs).
//!
//! Owns only the byte layout. The message starts with a fixed ASCII domain tag and
//! names the DID, the recovery session, the relay's random challenge and the relay's
//! audience, so a signature made for it cannot be replayed to another relay, session or
//! account, and can never be mistaken for a PLC operation (those are DAG-CBOR maps; this
//! is plain text). It must not grow a way to sign caller-supplied bytes.

/// The first line of every recovery challenge message.
pub const RECOVERY_DOMAIN: &str = "pds-recovery-challenge-v1";

/// The bytes the rotation key signs: the domain tag, then `did`, `recovery_id`,
/// `challenge` and `audience` (the relay's service DID), one per line. Fields are
/// trimmed and any line break inside them is refused by returning `None`.
pub fn recovery_message(
    did: &str,
    recovery_id: &str,
    challenge: &str,
    audience: &str,
) -> Option<Vec<u8>> {
    let fields = [did, recovery_id, challenge, audience];
    if fields
        .iter()
        .any(|f| f.trim().is_empty() || f.contains(['\n', '\r']))
    {
        return None;
    }
    let mut out = String::with_capacity(RECOVERY_DOMAIN.len() + 256);
    out.push_str(RECOVERY_DOMAIN);
    for f in fields {
        out.push('\n');
        out.push_str(f.trim());
    }
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_bound_and_line_breaks_refused() {
        let a = recovery_message("did:plc:a", "r1", "c1", "did:web:x").expect("message");
        assert!(a.starts_with(RECOVERY_DOMAIN.as_bytes()));
        assert_ne!(
            a,
            recovery_message("did:plc:b", "r1", "c1", "did:web:x").expect("message")
        );
        assert_ne!(
            a,
            recovery_message("did:plc:a", "r1", "c1", "did:web:y").expect("message")
        );
        assert!(recovery_message("did:plc:a\nx", "r1", "c1", "did:web:x").is_none());
        assert!(recovery_message("did:plc:a", "", "c1", "did:web:x").is_none());
    }
}
