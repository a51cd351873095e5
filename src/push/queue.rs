//! The delivery queue in the database, on both backends. Notifications that fall due are
//! fanned out into one delivery per device (in the same transaction that marks them
//! delivered to the inbox); deliveries are claimed with a lease, sent after the claim is
//! committed, then recorded. A lease that expires (a worker killed mid-send) is claimed
//! again, so every due push is handed to FCM at least once; a (notification, device) pair
//! is unique, so success is recorded at most once.
//!
//! The claim is the one place the backends differ: PostgreSQL uses `FOR UPDATE SKIP
//! LOCKED` so many workers share the queue; SQLite takes its write lock up front.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use crate::db::{self, DbConn};
use crate::domain::QuietHours;
use crate::domain::{DeliveryStatus, NotificationStatus};
use crate::models::devices;
use crate::schema::{devices as devices_t, notifications, push_deliveries, users};

use super::fcm::Outcome;

/// What one fan-out pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FanOut {
    pub delivered: usize,
    pub postponed: usize,
    pub dropped: usize,
    pub deliveries: usize,
}

impl std::ops::AddAssign for FanOut {
    fn add_assign(&mut self, other: FanOut) {
        self.delivered += other.delivered;
        self.postponed += other.postponed;
        self.dropped += other.dropped;
        self.deliveries += other.deliveries;
    }
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

#[derive(QueryableByName)]
struct DeliveryIdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

fn quiet_hours_of(
    start: Option<String>,
    end: Option<String>,
    default: Option<QuietHours>,
) -> Option<QuietHours> {
    let parse = |t: &str| chrono::NaiveTime::parse_from_str(t, "%H:%M").ok();
    match (
        start.as_deref().and_then(parse),
        end.as_deref().and_then(parse),
    ) {
        (Some(s), Some(e)) => QuietHours::new(s, e),
        _ => default,
    }
}

/// An urgent notice held by quiet hours would arrive less than this before its session
/// starts: it goes at once instead.
pub const URGENT_LEAD: chrono::Duration = chrono::Duration::hours(2);

/// When a due notification may go out: at once, or at the end of the person's quiet
/// hours. An urgent one (a cancellation, a move) is held too, unless holding it would
/// bring it within `URGENT_LEAD` of the session's start (`expires_at`).
pub fn release_time(
    now: NaiveDateTime,
    quiet: Option<QuietHours>,
    urgent: bool,
    expires_at: Option<NaiveDateTime>,
) -> NaiveDateTime {
    let Some(quiet) = quiet else { return now };
    let held_until = quiet.release_time(now);
    let too_late = expires_at.is_some_and(|start| held_until > start - URGENT_LEAD);
    if urgent && too_late {
        now
    } else {
        held_until
    }
}

/// Moves up to `limit` due notifications into inboxes and (with `to_devices`) the
/// delivery queue, waiting out quiet hours and dropping what has expired.
pub fn fan_out_due(
    conn: &mut DbConn,
    default_quiet: Option<QuietHours>,
    to_devices: bool,
    limit: i64,
) -> QueryResult<FanOut> {
    db::write_transaction(conn, |conn| {
        let now = db::now();
        let ids: Vec<String> = match conn {
            DbConn::Postgres(pg) => diesel::sql_query(
                "SELECT id FROM notifications WHERE status = 'scheduled' AND due_at <= $1 \
                 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load::<IdRow>(pg)?
            .into_iter()
            .map(|r| r.id)
            .collect(),
            DbConn::Sqlite(_) => notifications::table
                .filter(notifications::status.eq(NotificationStatus::Scheduled))
                .filter(notifications::due_at.le(now))
                .order(notifications::due_at.asc())
                .limit(limit)
                .select(notifications::id)
                .load(conn)?,
        };
        let mut report = FanOut::default();
        if ids.is_empty() {
            return Ok(report);
        }
        type Due = (
            String,
            String,
            bool,
            Option<NaiveDateTime>,
            Option<String>,
            Option<String>,
        );
        let due: Vec<Due> = notifications::table
            .inner_join(users::table)
            .filter(notifications::id.eq_any(&ids))
            .select((
                notifications::id,
                notifications::user_id,
                notifications::urgent,
                notifications::expires_at,
                users::quiet_hours_start,
                users::quiet_hours_end,
            ))
            .load(conn)?;
        // Decide each one in memory, then write in bulk: a broadcast fans out thousands.
        let mut delivered: Vec<(String, String)> = Vec::new();
        let mut dropped: Vec<String> = Vec::new();
        for (id, user_id, urgent, expires_at, quiet_start, quiet_end) in due {
            let quiet = quiet_hours_of(quiet_start, quiet_end, default_quiet);
            let release = release_time(now, quiet, urgent, expires_at);
            if expires_at.is_some_and(|e| release >= e) {
                dropped.push(id);
            } else if release > now {
                diesel::update(notifications::table.find(&id))
                    .set(notifications::due_at.eq(release))
                    .execute(conn)?;
                report.postponed += 1;
            } else {
                delivered.push((id, user_id));
            }
        }
        for chunk in dropped.chunks(1000) {
            diesel::update(notifications::table.filter(notifications::id.eq_any(chunk)))
                .set(notifications::status.eq(NotificationStatus::Dropped))
                .execute(conn)?;
        }
        report.dropped = dropped.len();
        for chunk in delivered.chunks(1000) {
            let ids: Vec<&String> = chunk.iter().map(|(id, _)| id).collect();
            diesel::update(notifications::table.filter(notifications::id.eq_any(ids)))
                .set((
                    notifications::status.eq(NotificationStatus::Delivered),
                    notifications::delivered_at.eq(now),
                ))
                .execute(conn)?;
        }
        report.delivered = delivered.len();
        if !to_devices {
            return Ok(report);
        }
        let mut tokens_of: std::collections::HashMap<String, Vec<String>> =
            std::collections::HashMap::new();
        let mut user_ids: Vec<&String> = delivered.iter().map(|(_, user)| user).collect();
        user_ids.sort();
        user_ids.dedup();
        for chunk in user_ids.chunks(1000) {
            let rows: Vec<(String, String)> = devices_t::table
                .filter(devices_t::user_id.eq_any(chunk))
                .select((devices_t::user_id, devices_t::token))
                .load(conn)?;
            for (user, token) in rows {
                tokens_of.entry(user).or_default().push(token);
            }
        }
        let new_deliveries: Vec<_> = delivered
            .iter()
            .flat_map(|(id, user)| {
                tokens_of.get(user).into_iter().flatten().map(move |token| {
                    (
                        push_deliveries::notification_id.eq(id.clone()),
                        push_deliveries::device_token.eq(token.clone()),
                        push_deliveries::status.eq(DeliveryStatus::Pending),
                        push_deliveries::due_at.eq(now),
                        push_deliveries::created_at.eq(now),
                        push_deliveries::updated_at.eq(now),
                    )
                })
            })
            .collect();
        for chunk in new_deliveries.chunks(1000) {
            report.deliveries += crate::insert_batch!(conn, push_deliveries::table, chunk)?;
        }
        Ok(report)
    })
}

/// A delivery claimed for sending, with what to send (fields in the order selected).
#[derive(Debug, Clone, Queryable)]
pub struct Claimed {
    pub id: i64,
    pub attempts: i32,
    pub token: String,
    pub title: String,
    pub body: String,
    pub data: String,
    pub collapse_key: String,
    pub expires_at: Option<NaiveDateTime>,
}

/// Puts deliveries whose lease ran out (their worker died mid-send) back in the queue.
/// Kept apart from `claim` so the claim reads the (status, due_at) index alone.
pub fn rescue_expired_leases(conn: &mut DbConn) -> QueryResult<usize> {
    let now = db::now();
    diesel::update(
        push_deliveries::table
            .filter(push_deliveries::status.eq(DeliveryStatus::Leased))
            .filter(push_deliveries::leased_until.lt(now)),
    )
    .set((
        push_deliveries::status.eq(DeliveryStatus::Pending),
        push_deliveries::leased_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Leases up to `limit` due deliveries for `lease`.
pub fn claim(conn: &mut DbConn, lease: Duration, limit: i64) -> QueryResult<Vec<Claimed>> {
    let now = db::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let ids: Vec<i64> = match conn {
        DbConn::Postgres(pg) => diesel::sql_query(
            "UPDATE push_deliveries SET status = 'leased', leased_until = $1, attempts = attempts + 1, updated_at = $2 \
             WHERE id IN (SELECT id FROM push_deliveries WHERE status = 'pending' AND due_at <= $2 \
                          ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id",
        )
        .bind::<Timestamp, _>(until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load::<DeliveryIdRow>(pg)?
        .into_iter()
        .map(|r| r.id)
        .collect(),
        DbConn::Sqlite(_) => db::write_transaction(conn, |conn| -> QueryResult<Vec<i64>> {
            let ids: Vec<i64> = push_deliveries::table
                .filter(push_deliveries::status.eq(DeliveryStatus::Pending))
                .filter(push_deliveries::due_at.le(now))
                .order(push_deliveries::due_at.asc())
                .limit(limit)
                .select(push_deliveries::id)
                .load(conn)?;
            diesel::update(push_deliveries::table.filter(push_deliveries::id.eq_any(&ids)))
                .set((
                    push_deliveries::status.eq(DeliveryStatus::Leased),
                    push_deliveries::leased_until.eq(until),
                    push_deliveries::attempts.eq(push_deliveries::attempts + 1),
                    push_deliveries::updated_at.eq(now),
                ))
                .execute(conn)?;
            Ok(ids)
        })?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut claimed = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let rows: Vec<Claimed> = push_deliveries::table
            .inner_join(notifications::table)
            .filter(push_deliveries::id.eq_any(chunk))
            .select((
                push_deliveries::id,
                push_deliveries::attempts,
                push_deliveries::device_token,
                notifications::title,
                notifications::body,
                notifications::data,
                notifications::collapse_key,
                notifications::expires_at,
            ))
            .load(conn)?;
        claimed.extend(rows);
    }
    Ok(claimed)
}

/// The longest `Retry-After` honoured: Google asks for seconds or minutes; a larger value
/// is a broken answer and must not park a reminder past its session (or overflow the
/// clock arithmetic that schedules the retry).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Exponential backoff with jitter: about 2 s, 4 s, 8 s … up to 10 minutes, never sooner
/// than FCM's `Retry-After` (up to `MAX_RETRY_AFTER`).
pub fn retry_delay(attempts: i32, retry_after: Option<Duration>) -> Duration {
    let exponent = attempts.clamp(1, 20) as u32 - 1;
    let base = Duration::from_secs(2)
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(Duration::from_secs(600));
    let mut jitter = [0u8; 2];
    let _ = getrandom::fill(&mut jitter);
    // Between half and all of the base, so retries from many workers spread out.
    let fraction = 0.5 + f64::from(u16::from_le_bytes(jitter)) / f64::from(u16::MAX) / 2.0;
    base.mul_f64(fraction)
        .max(retry_after.unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

/// How many deliveries ended which way in one recording.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub sent: usize,
    pub invalid_tokens: usize,
    pub retried: usize,
    pub failed: usize,
}

impl std::ops::AddAssign for Recorded {
    fn add_assign(&mut self, other: Recorded) {
        self.sent += other.sent;
        self.invalid_tokens += other.invalid_tokens;
        self.retried += other.retried;
        self.failed += other.failed;
    }
}

/// Records what became of claimed deliveries, in one transaction.
pub fn record(
    conn: &mut DbConn,
    results: &[(Claimed, Outcome)],
    max_attempts: i32,
) -> QueryResult<Recorded> {
    db::write_transaction(conn, |conn| {
        let now = db::now();
        let mut report = Recorded::default();
        let sent: Vec<i64> = results
            .iter()
            .filter(|(_, o)| *o == Outcome::Sent)
            .map(|(c, _)| c.id)
            .collect();
        for chunk in sent.chunks(1000) {
            diesel::update(push_deliveries::table.filter(push_deliveries::id.eq_any(chunk)))
                .set((
                    push_deliveries::status.eq(DeliveryStatus::Sent),
                    push_deliveries::leased_until.eq(None::<NaiveDateTime>),
                    push_deliveries::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        report.sent = sent.len();
        for (claimed, outcome) in results {
            let row = push_deliveries::table.find(claimed.id);
            match outcome {
                Outcome::Sent => {}
                Outcome::InvalidToken(reason) => {
                    // The token is dead: forget the device and stop its other pushes.
                    devices::delete_token(conn, &claimed.token)?;
                    diesel::update(
                        push_deliveries::table
                            .filter(push_deliveries::device_token.eq(&claimed.token))
                            .filter(
                                push_deliveries::status
                                    .eq_any([DeliveryStatus::Pending, DeliveryStatus::Leased])
                                    .or(push_deliveries::id.eq(claimed.id)),
                            ),
                    )
                    .set((
                        push_deliveries::status.eq(DeliveryStatus::InvalidToken),
                        push_deliveries::last_error.eq(reason),
                        push_deliveries::leased_until.eq(None::<NaiveDateTime>),
                        push_deliveries::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                    report.invalid_tokens += 1;
                }
                Outcome::Retry { reason, after } if claimed.attempts < max_attempts => {
                    let delay = chrono::Duration::from_std(retry_delay(claimed.attempts, *after))
                        .unwrap_or_default();
                    diesel::update(row)
                        .set((
                            push_deliveries::status.eq(DeliveryStatus::Pending),
                            push_deliveries::due_at.eq(now + delay),
                            push_deliveries::last_error.eq(reason),
                            push_deliveries::leased_until.eq(None::<NaiveDateTime>),
                            push_deliveries::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    report.retried += 1;
                }
                Outcome::Retry { reason, .. } | Outcome::Failed(reason) => {
                    diesel::update(row)
                        .set((
                            push_deliveries::status.eq(DeliveryStatus::Failed),
                            push_deliveries::last_error.eq(reason),
                            push_deliveries::leased_until.eq(None::<NaiveDateTime>),
                            push_deliveries::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    })
}

/// A delivery given up on, for admins to see.
#[derive(Debug, Clone, Queryable)]
pub struct FailedDelivery {
    pub id: i64,
    pub notification_id: String,
    pub kind: String,
    pub user_id: String,
    pub device_token: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub updated_at: NaiveDateTime,
}

impl FailedDelivery {
    /// The end of the device token only: enough to recognise it, not to use it.
    pub fn device_tail(&self) -> String {
        let tail: Vec<char> = self.device_token.chars().rev().take(6).collect();
        format!("…{}", tail.into_iter().rev().collect::<String>())
    }
}

/// Failed deliveries, most recent first, before the keyset `before_id`.
pub fn failed(
    conn: &mut DbConn,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<FailedDelivery>> {
    let mut query = push_deliveries::table
        .inner_join(notifications::table)
        .filter(push_deliveries::status.eq(DeliveryStatus::Failed))
        .select((
            push_deliveries::id,
            push_deliveries::notification_id,
            notifications::kind,
            notifications::user_id,
            push_deliveries::device_token,
            push_deliveries::attempts,
            push_deliveries::last_error,
            push_deliveries::updated_at,
        ))
        .order(push_deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before_id {
        query = query.filter(push_deliveries::id.lt(before));
    }
    query.load(conn)
}

/// Deliveries waiting (pending or leased) and the age in seconds of the oldest due one.
pub fn depth(conn: &mut DbConn) -> QueryResult<(i64, f64)> {
    let now = db::now();
    let waiting: i64 = push_deliveries::table
        .filter(push_deliveries::status.eq_any([DeliveryStatus::Pending, DeliveryStatus::Leased]))
        .count()
        .get_result(conn)?;
    let oldest: Option<NaiveDateTime> = push_deliveries::table
        .filter(push_deliveries::status.eq_any([DeliveryStatus::Pending, DeliveryStatus::Leased]))
        .filter(push_deliveries::due_at.le(now))
        .select(diesel::dsl::min(push_deliveries::due_at))
        .first(conn)?;
    Ok((
        waiting,
        oldest
            .map(|t| (now - t).num_milliseconds() as f64 / 1000.0)
            .unwrap_or(0.0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_honour_retry_after() {
        for attempts in 1..=12 {
            let base = Duration::from_secs(2 * 2u64.pow(attempts as u32 - 1))
                .min(Duration::from_secs(600));
            let d = retry_delay(attempts, None);
            assert!(d >= base / 2 && d <= base, "attempt {attempts}: {d:?}");
        }
        assert!(retry_delay(1, Some(Duration::from_secs(120))) >= Duration::from_secs(120));
        for absurd in [Duration::from_secs(10_000_000_000), Duration::MAX] {
            assert_eq!(retry_delay(1, Some(absurd)), MAX_RETRY_AFTER);
        }
    }
}
