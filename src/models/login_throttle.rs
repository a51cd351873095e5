//! Failed-login throttling kept in the database, so it holds across every server process.
//! Each attempt is recorded *before* the password is checked, which keeps a burst of
//! parallel guesses from slipping past the limit; a success clears the record.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::schema::login_failures;

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

/// A correct password: the account's failure record is cleared.
pub fn clear(conn: &mut DbConn, login_key: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::login_key.eq(login_key)))
        .execute(conn)?;
    Ok(())
}
