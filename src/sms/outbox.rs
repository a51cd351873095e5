//! Text messages waiting to go out. A request only writes a row (in its own transaction,
//! with whatever caused it); the worker claims due rows with a lease, sends them with no
//! transaction open, and records what the provider said. A worker killed mid-send leaves
//! a lease that another takes over once it runs out, so nothing is lost; only what was in
//! flight at the kill may go twice.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use crate::db::{self, DbConn};
use crate::schema::sms_messages;

/// Why a text is sent (kept for figures and logs). Notices by SMS are deliveries of
/// their notification (`push::queue`), not rows here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A one-time sign-in code.
    Otp,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Otp => "otp",
        }
    }
}

/// Queues a text for `to` (E.164), due now; `expires_at`: not worth sending after.
pub fn enqueue(
    conn: &mut DbConn,
    to: &str,
    body: &str,
    purpose: Purpose,
    expires_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    let now = db::now();
    diesel::insert_into(sms_messages::table)
        .values((
            sms_messages::to_phone.eq(to),
            sms_messages::body.eq(body),
            sms_messages::purpose.eq(purpose.as_str()),
            sms_messages::status.eq("pending"),
            sms_messages::attempts.eq(0),
            sms_messages::due_at.eq(now),
            sms_messages::expires_at.eq(expires_at),
            sms_messages::created_at.eq(now),
            sms_messages::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A text claimed for sending.
#[derive(Debug, Clone, Queryable)]
pub struct ClaimedSms {
    pub id: i64,
    pub attempts: i32,
    pub to_phone: String,
    pub body: String,
    pub purpose: String,
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Puts back texts whose worker stopped mid-send (their lease ran out).
pub fn rescue_expired_leases(conn: &mut DbConn) -> QueryResult<usize> {
    let now = db::now();
    diesel::update(
        sms_messages::table
            .filter(sms_messages::status.eq("leased"))
            .filter(sms_messages::leased_until.lt(now)),
    )
    .set((
        sms_messages::status.eq("pending"),
        sms_messages::leased_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Leases up to `limit` due texts for `lease`.
pub fn claim(conn: &mut DbConn, lease: Duration, limit: i64) -> QueryResult<Vec<ClaimedSms>> {
    let now = db::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let ids: Vec<i64> = match conn {
        DbConn::Postgres(pg) => diesel::sql_query(
            "UPDATE sms_messages SET status = 'leased', leased_until = $1, attempts = attempts + 1, updated_at = $2 \
             WHERE id IN (SELECT id FROM sms_messages WHERE status = 'pending' AND due_at <= $2 \
                          ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id",
        )
        .bind::<Timestamp, _>(until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load::<IdRow>(pg)?
        .into_iter()
        .map(|r| r.id)
        .collect(),
        DbConn::Sqlite(_) => db::write_transaction(conn, |conn| -> QueryResult<Vec<i64>> {
            let ids: Vec<i64> = sms_messages::table
                .filter(sms_messages::status.eq("pending"))
                .filter(sms_messages::due_at.le(now))
                .order(sms_messages::due_at.asc())
                .limit(limit)
                .select(sms_messages::id)
                .load(conn)?;
            diesel::update(sms_messages::table.filter(sms_messages::id.eq_any(&ids)))
                .set((
                    sms_messages::status.eq("leased"),
                    sms_messages::leased_until.eq(until),
                    sms_messages::attempts.eq(sms_messages::attempts + 1),
                    sms_messages::updated_at.eq(now),
                ))
                .execute(conn)?;
            Ok(ids)
        })?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sms_messages::table
        .filter(sms_messages::id.eq_any(&ids))
        .select((
            sms_messages::id,
            sms_messages::attempts,
            sms_messages::to_phone,
            sms_messages::body,
            sms_messages::purpose,
            sms_messages::expires_at,
        ))
        .load(conn)
}

/// What the provider said about one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsOutcome {
    /// Accepted; the provider's ID for it.
    Sent(Option<String>),
    /// Try again no sooner than `after` (429, 5xx, the network).
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Refused for good (a bad number, bad credentials), with the provider's reason.
    Failed(String),
}

/// Records outcomes: sent, failed, or back to pending after a backoff (failed after
/// `max_attempts`). Only rows still leased are changed.
pub fn record(
    conn: &mut DbConn,
    results: &[(ClaimedSms, SmsOutcome)],
    max_attempts: i32,
) -> QueryResult<()> {
    let now = db::now();
    db::write_transaction(conn, |conn| {
        for (sms, outcome) in results {
            let row = sms_messages::table
                .filter(sms_messages::id.eq(sms.id))
                .filter(sms_messages::status.eq("leased"));
            match outcome {
                SmsOutcome::Sent(provider_id) => diesel::update(row)
                    .set((
                        sms_messages::status.eq("sent"),
                        sms_messages::provider_id.eq(provider_id),
                        sms_messages::leased_until.eq(None::<NaiveDateTime>),
                        sms_messages::updated_at.eq(now),
                    ))
                    .execute(conn)?,
                SmsOutcome::Retry { reason, after } if sms.attempts < max_attempts => {
                    let delay = crate::push::queue::retry_delay(sms.attempts, *after);
                    let due = now
                        + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::minutes(1));
                    diesel::update(row)
                        .set((
                            sms_messages::status.eq("pending"),
                            sms_messages::due_at.eq(due),
                            sms_messages::last_error.eq(reason),
                            sms_messages::leased_until.eq(None::<NaiveDateTime>),
                            sms_messages::updated_at.eq(now),
                        ))
                        .execute(conn)?
                }
                SmsOutcome::Retry { reason, .. } | SmsOutcome::Failed(reason) => {
                    diesel::update(row)
                        .set((
                            sms_messages::status.eq("failed"),
                            sms_messages::last_error.eq(reason),
                            sms_messages::leased_until.eq(None::<NaiveDateTime>),
                            sms_messages::updated_at.eq(now),
                        ))
                        .execute(conn)?
                }
            };
        }
        Ok(())
    })
}

/// Forgets texts to `phone` that have not gone out (its owner was erased).
pub fn forget_pending(conn: &mut DbConn, phone: &str) -> QueryResult<usize> {
    diesel::delete(
        sms_messages::table
            .filter(sms_messages::to_phone.eq(phone))
            .filter(sms_messages::status.eq_any(["pending", "leased"])),
    )
    .execute(conn)
}
