//! PKCE (RFC 7636) as the atproto profile allows it: `S256` only. `plain` and any other
//! method are refused, challenges must have the exact S256 shape (43 base64url
//! characters), and verifiers the RFC's alphabet and length. Remembering challenges so
//! that none is used twice is the PAR endpoint's job (`store.rs`), not this module's.

use super::error::OAuthError;

/// Check the method and the challenge of an authorization request.
pub fn check_challenge(method: Option<&str>, challenge: Option<&str>) -> Result<(), OAuthError> {
    let challenge = challenge.ok_or_else(|| {
        OAuthError::invalid_request("code_challenge is required (PKCE with S256)")
    })?;
    match method {
        Some("S256") => {}
        Some("plain") => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method plain is not allowed; use S256",
            ));
        }
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "code_challenge_method {} is not supported; use S256",
                other.chars().take(32).collect::<String>()
            )));
        }
        None => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method is required and must be S256",
            ));
        }
    }
    if challenge.len() != 43 || !challenge.bytes().all(is_b64url) {
        return Err(OAuthError::invalid_request(
            "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
        ));
    }
    Ok(())
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Whether `verifier` answers `challenge` (S256).
pub fn verify(challenge: &str, verifier: &str) -> Result<(), OAuthError> {
    let ok_chars = verifier
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !(43..=128).contains(&verifier.len()) || !ok_chars {
        return Err(OAuthError::invalid_grant(
            "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]",
        ));
    }
    let computed = super::jose::sha256_b64(verifier);
    if crate::auth::constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_example_verifies() {
        check_challenge(Some("S256"), Some(CHALLENGE)).expect("challenge shape");
        verify(CHALLENGE, VERIFIER).expect("verifier");
        assert!(verify(CHALLENGE, &VERIFIER.replace('d', "e")).is_err());
    }

    #[test]
    fn plain_and_malformed_are_refused() {
        let e = check_challenge(Some("plain"), Some(CHALLENGE)).unwrap_err();
        assert!(e.description.contains("plain"));
        assert!(check_challenge(None, Some(CHALLENGE)).is_err());
        assert!(check_challenge(Some("S512"), Some(CHALLENGE)).is_err());
        assert!(check_challenge(Some("S256"), None).is_err());
        assert!(check_challenge(Some("S256"), Some("short")).is_err());
        assert!(check_challenge(Some("S256"), Some(&format!("{}=", &CHALLENGE[..42]))).is_err());
        // Plain PKCE (verifier == challenge) can never pass S256.
        assert!(verify(VERIFIER, VERIFIER).is_err());
        assert!(verify(CHALLENGE, "short").is_err());
        assert!(verify(CHALLENGE, &"a".repeat(129)).is_err());
        assert!(verify(CHALLENGE, &format!("{VERIFIER} ")).is_err());
    }
}
