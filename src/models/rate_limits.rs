//! Sliding-window limits on what callers may do, kept in the database so they hold across
//! every server process: sign-ups per client address now, one-time codes later. An event
//! is recorded before it is counted, in statements of their own, so parallel requests can
//! only ever be refused at the boundary, never let past it.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::schema::rate_events;

/// What a limited event came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// Over the limit: try again in this many seconds (when the oldest counted event
    /// leaves the window).
    Limited {
        retry_after_secs: u64,
    },
}

/// Records one `bucket` event for `key_hash` and says whether it is within `limit` per
/// `window`. A refused event is not kept (it does not push the window out).
pub fn admit(
    conn: &mut DbConn,
    bucket: &str,
    key_hash: &str,
    limit: u32,
    window: Duration,
) -> QueryResult<Admission> {
    let now = db::now();
    let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::hours(1));
    let since = now - window;
    diesel::delete(
        rate_events::table
            .filter(rate_events::bucket.eq(bucket))
            .filter(rate_events::key_hash.eq(key_hash))
            .filter(rate_events::at.lt(since)),
    )
    .execute(conn)?;
    let id: i64 = diesel::insert_into(rate_events::table)
        .values((
            rate_events::bucket.eq(bucket),
            rate_events::key_hash.eq(key_hash),
            rate_events::at.eq(now),
        ))
        .returning(rate_events::id)
        .get_result(conn)?;
    let recent: Vec<NaiveDateTime> = rate_events::table
        .filter(rate_events::bucket.eq(bucket))
        .filter(rate_events::key_hash.eq(key_hash))
        .filter(rate_events::at.ge(since))
        .select(rate_events::at)
        .order(rate_events::at.asc())
        .load(conn)?;
    if recent.len() as u64 <= u64::from(limit) {
        return Ok(Admission::Allowed);
    }
    diesel::delete(rate_events::table.find(id)).execute(conn)?;
    let oldest = recent.first().copied().unwrap_or(now);
    let retry_after_secs = (oldest + window - now).num_seconds().max(1) as u64;
    Ok(Admission::Limited { retry_after_secs })
}

/// Forgets events older than `older_than` (housekeeping).
pub fn prune(conn: &mut DbConn, older_than: Duration) -> QueryResult<usize> {
    let cutoff =
        db::now() - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::days(1));
    diesel::delete(rate_events::table.filter(rate_events::at.lt(cutoff))).execute(conn)
}
