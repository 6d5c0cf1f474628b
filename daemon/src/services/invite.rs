//! Invite codes: make them and store them. Called by the admin socket (`pdsctl invite
//! create`) and by the XRPC admin methods (createInviteCode/createInviteCodes), so both
//! produce the same codes. Codes read `<hostname-with-dashes>-xxxxx-xxxxx` (lowercase
//! base32, 50 random bits). They are shown to the operator who asked, never logged.

use crate::keys::{KeyError, random_bytes};
use crate::store::{Db, DbError, invites};

/// The most codes one call makes.
pub const MAX_COUNT: u32 = 100;
/// The most uses one code may have.
pub const MAX_USES: u32 = 10_000;

/// The alphabet of the random part (RFC 4648 base32, lowercase; 32 symbols, so a random
/// byte masked to 5 bits picks each one equally often).
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Why codes could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Random(#[from] KeyError),
}

/// What to make.
#[derive(Debug, Clone)]
pub struct InviteSpec<'a> {
    /// Accounts each code may create.
    pub uses: u32,
    /// How many codes.
    pub count: u32,
    /// Whom the codes are attributed to (`admin` for the server itself).
    pub for_account: &'a str,
    /// Who asked (`admin` for the operator).
    pub created_by: &'a str,
}

/// Make and store codes; returns them in the order made.
pub async fn create_invite_codes(
    db: &Db,
    hostname: &str,
    spec: InviteSpec<'_>,
) -> Result<Vec<String>, InviteError> {
    if spec.uses == 0 || spec.uses > MAX_USES {
        return Err(InviteError::Invalid(format!(
            "uses must be between 1 and {MAX_USES}"
        )));
    }
    if spec.count == 0 || spec.count > MAX_COUNT {
        return Err(InviteError::Invalid(format!(
            "count must be between 1 and {MAX_COUNT}"
        )));
    }
    let prefix = code_prefix(hostname);
    let codes = (0..spec.count)
        .map(|_| random_bytes::<10>().map(|r| format_code(&prefix, &r)))
        .collect::<Result<Vec<_>, _>>()?;
    let (uses, for_account, created_by) = (
        spec.uses,
        spec.for_account.to_string(),
        spec.created_by.to_string(),
    );
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let stored = codes.clone();
    db.write(move |tx| {
        invites::insert_codes(tx, &stored, uses, &for_account, &created_by, &now)
            .map_err(InviteError::from)
    })
    .await?;
    Ok(codes)
}

/// `pds.example.com` -> `pds-example-com`; anything but letters and digits becomes a dash.
fn code_prefix(hostname: &str) -> String {
    let p: String = hostname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let p = p.trim_matches('-');
    if p.is_empty() { "pds".into() } else { p.into() }
}

fn format_code(prefix: &str, random: &[u8; 10]) -> String {
    let sym = |b: &u8| char::from(ALPHABET[usize::from(b & 31)]);
    let (a, b) = random.split_at(5);
    let first: String = a.iter().map(sym).collect();
    let second: String = b.iter().map(sym).collect();
    format!("{prefix}-{first}-{second}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_look_like_the_reference_pds_codes() {
        assert_eq!(code_prefix("pds.example.com"), "pds-example-com");
        assert_eq!(code_prefix("Localhost"), "localhost");
        assert_eq!(code_prefix("..."), "pds");
        let code = format_code("pds-example-com", &[0, 1, 2, 31, 32, 255, 26, 27, 3, 4]);
        assert_eq!(code, "pds-example-com-abc7a-723de");
    }

    #[tokio::test]
    async fn codes_are_stored_unique_and_limits_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(&dir.path().join("t.sqlite")).expect("open");
        let spec = InviteSpec {
            uses: 2,
            count: 3,
            for_account: "admin",
            created_by: "admin",
        };
        let codes = create_invite_codes(&db, "pds.example.com", spec.clone())
            .await
            .expect("create");
        assert_eq!(codes.len(), 3);
        for c in &codes {
            let rest = c.strip_prefix("pds-example-com-").expect("prefix");
            assert_eq!(rest.len(), 11, "{c}");
            assert!(
                rest.bytes().all(|b| b == b'-' || ALPHABET.contains(&b)),
                "{c}"
            );
        }
        let stored: Vec<(String, i64)> = db
            .read(|c| {
                let mut st = c.prepare("SELECT code, available FROM invite_code ORDER BY code")?;
                let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<Vec<_>, _>>().map_err(DbError::from)
            })
            .await
            .expect("read");
        let mut expected = codes.clone();
        expected.sort();
        assert_eq!(
            stored.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
            expected
        );
        assert!(stored.iter().all(|(_, n)| *n == 2));
        for bad in [
            InviteSpec {
                uses: 0,
                ..spec.clone()
            },
            InviteSpec {
                count: 0,
                ..spec.clone()
            },
            InviteSpec {
                count: MAX_COUNT + 1,
                ..spec.clone()
            },
        ] {
            assert!(matches!(
                create_invite_codes(&db, "x", bad).await,
                Err(InviteError::Invalid(_))
            ));
        }
        db.close();
    }
}
