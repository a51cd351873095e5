//! Failed-login throttling kept in the database, so it holds across every server process.
//! Each attempt is recorded *before* the password is checked, which keeps a burst of
//! parallel guesses from slipping past the limit; a success clears the record.
//!
//! Records are keyed by an HMAC-SHA256 of the normalised login under the server's secret,
//! never by the login itself: a phone number or e-mail someone merely typed (a stranger's,
//! or an erased account's) is not kept in clear text.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::schema::login_failures;

/// Turns what someone typed as a login into the key its attempts are recorded under.
#[derive(Clone)]
pub struct LoginKeyer {
    key: Vec<u8>,
}

impl LoginKeyer {
    pub fn new(secret: &[u8]) -> Self {
        LoginKeyer {
            key: secret.to_vec(),
        }
    }

    /// The record key of `login` (normalised first, so `081-234-5678` and `+66812345678`
    /// are one login): 64 hex digits.
    pub fn key(&self, login: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(b"ocod-login-throttle\0");
        mac.update(crate::domain::normalise_login(login).as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Whether an attempt may go ahead.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead (the attempt is recorded).
    Allowed,
    /// Locked out; try again after this many seconds.
    Locked { retry_after_secs: u64 },
}

/// Records an attempt for `login_key` and decides whether it may proceed: at most
/// `max_failures` attempts in any `window`.
pub fn admit(
    conn: &mut DbConn,
    login_key: &str,
    max_failures: u32,
    window: Duration,
) -> QueryResult<Admission> {
    let now = db::now();
    let since = now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::minutes(15));
    diesel::delete(
        login_failures::table
            .filter(login_failures::login_key.eq(login_key))
            .filter(login_failures::failed_at.lt(since)),
    )
    .execute(conn)?;
    let attempt_id: i64 = diesel::insert_into(login_failures::table)
        .values((
            login_failures::login_key.eq(login_key),
            login_failures::failed_at.eq(now),
        ))
        .returning(login_failures::id)
        .get_result(conn)?;
    let recent: Vec<NaiveDateTime> = login_failures::table
        .filter(login_failures::login_key.eq(login_key))
        .filter(login_failures::failed_at.ge(since))
        .select(login_failures::failed_at)
        .order(login_failures::failed_at.asc())
        .load(conn)?;
    if recent.len() as u64 <= u64::from(max_failures) {
        return Ok(Admission::Allowed);
    }
    // Over the limit: this attempt does not count, it is refused.
    diesel::delete(login_failures::table.find(attempt_id)).execute(conn)?;
    let oldest = recent.first().copied().unwrap_or(now);
    let unlock_at = oldest + chrono::Duration::from_std(window).unwrap_or_default();
    let retry_after_secs = (unlock_at - now).num_seconds().max(1) as u64;
    Ok(Admission::Locked { retry_after_secs })
}

/// A correct password: the login's failure record is cleared.
pub fn clear(conn: &mut DbConn, login_key: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::login_key.eq(login_key)))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_keyed_by_a_keyed_hash_of_its_normal_form() {
        let keyer = LoginKeyer::new(b"server-secret-server-secret-0123");
        let key = keyer.key("081-234-5678");
        assert_eq!(key, keyer.key("+66 81 234 5678"), "one login, one key");
        assert_eq!(key.len(), 64);
        assert!(!key.contains("812345678"));
        assert_ne!(key, keyer.key("0812345679"));
        assert_eq!(
            keyer.key("Somchai@Example.com"),
            keyer.key("somchai@example.com")
        );
        // Another server secret gives unrelated keys (nothing to compare across databases).
        assert_ne!(
            key,
            LoginKeyer::new(b"another-secret-another-secret-01").key("0812345678")
        );
    }
}
