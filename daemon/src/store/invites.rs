//! Invite-code queries: storing new codes. (Consuming a code at account creation belongs
//! with the account queries, inside the same transaction as the new account.)

use super::{DbError, WriteTx};

/// Store `codes`, each good for `uses` accounts. Fails (and the caller's job rolls back)
/// if a code already exists.
pub fn insert_codes(
    tx: &mut WriteTx<'_>,
    codes: &[String],
    uses: u32,
    for_account: &str,
    created_by: &str,
    created_at: &str,
) -> Result<(), DbError> {
    let mut st = tx.conn().prepare_cached(
        "INSERT INTO invite_code (code, available, disabled, for_account, created_by, created_at) \
         VALUES (?1, ?2, 0, ?3, ?4, ?5)",
    )?;
    for code in codes {
        st.execute(rusqlite::params![
            code,
            uses,
            for_account,
            created_by,
            created_at
        ])?;
    }
    Ok(())
}
