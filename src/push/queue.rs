//! The delivery queue in the database, on both backends. Notifications that fall due are
//! fanned out into deliveries (in the same transaction that marks them delivered to the
//! inbox), each by one channel: FCM to every live device; LINE to a person with no live
//! device who linked LINE; SMS, for the notices that cost a wasted trip, to a person with
//! neither (`plan`). Deliveries are claimed with a lease, sent after the claim is
//! committed, then recorded. A lease that expires (a worker killed mid-send) is claimed
//! again, so every due delivery is handed to its service at least once; a (notification,
//! address) pair is unique, so success is recorded at most once. When a person's last
//! device or their LINE link turns out dead, the notice falls back to the next channel.
//!
//! The backends differ in the claim: PostgreSQL uses `FOR UPDATE SKIP LOCKED` so many
//! workers share the queue; SQLite takes its write lock up front. And PostgreSQL keeps no
//! foreign key from deliveries to notifications (it cost a query and a row lock per
//! delivery): erasure removes deliveries itself (`forget_person`), and whatever queues a
//! delivery holds a lock on its notification.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use crate::db::{self, DbConn};
use crate::domain::QuietHours;
use crate::domain::{Channel, DeliveryStatus, NotificationStatus, Phone};
use crate::models::devices;
use crate::schema::{devices as devices_t, line_links, notifications, push_deliveries, users};

use super::fcm::Outcome;
use super::messages::SessionNotice;

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

pub(crate) fn quiet_hours_of(
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

/// The channels this process sends by: one without settings (no FCM credentials, no LINE
/// channel) gets no deliveries, and its notices stay in the inbox.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    pub push: bool,
    pub line: bool,
    pub sms: bool,
}

impl Channels {
    /// The inbox only.
    pub const NONE: Channels = Channels {
        push: false,
        line: false,
        sms: false,
    };

    fn any(self) -> bool {
        self.push || self.line || self.sms
    }
}

/// Notices worth a text message to a person no push or LINE reaches: each costs them a
/// wasted trip if missed (their session cancelled or moved, a seat freed for them).
pub const SMS_KINDS: [&str; 3] = [
    SessionNotice::SessionCancelled.kind(),
    SessionNotice::SessionRescheduled.kind(),
    SessionNotice::WaitlistPromoted.kind(),
];

/// A notification to deliver: (id, person, kind).
pub(crate) type Target = (String, String, String);

/// One delivery to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Planned {
    notification_id: String,
    channel: Channel,
    address: String,
}

/// Chooses the channels of each notification by the state of its person now: a push to
/// each live device; else a LINE message when linked; else, for `SMS_KINDS`, a text to a
/// mobile phone. A channel this process cannot send by is skipped, never substituted:
/// the person's channel is the same whichever process fans out.
fn plan(conn: &mut DbConn, targets: &[Target], channels: Channels) -> QueryResult<Vec<Planned>> {
    use std::collections::HashMap;
    let mut people: Vec<&String> = targets.iter().map(|(_, user, _)| user).collect();
    people.sort();
    people.dedup();
    let mut tokens_of: HashMap<String, Vec<String>> = HashMap::new();
    let mut line_of: HashMap<String, String> = HashMap::new();
    let mut phone_of: HashMap<String, String> = HashMap::new();
    for chunk in people.chunks(1000) {
        let rows: Vec<(String, String)> = devices_t::table
            .filter(devices_t::user_id.eq_any(chunk))
            .select((devices_t::user_id, devices_t::token))
            .load(conn)?;
        for (user, token) in rows {
            tokens_of.entry(user).or_default().push(token);
        }
        let unpushed: Vec<&String> = chunk
            .iter()
            .copied()
            .filter(|u| !tokens_of.contains_key(*u))
            .collect();
        if unpushed.is_empty() {
            continue;
        }
        line_of.extend(
            line_links::table
                .filter(line_links::user_id.eq_any(&unpushed))
                .select((line_links::user_id, line_links::line_user_id))
                .load::<(String, String)>(conn)?,
        );
        let texted: Vec<&String> = unpushed
            .into_iter()
            .filter(|u| !line_of.contains_key(*u))
            .collect();
        if texted.is_empty() {
            continue;
        }
        let phones: Vec<(String, Option<String>)> = users::table
            .filter(users::id.eq_any(&texted))
            .select((users::id, users::phone))
            .load(conn)?;
        phone_of.extend(phones.into_iter().filter_map(|(user, phone)| {
            let phone = Phone::parse(phone.as_deref()?).ok()?;
            phone
                .is_mobile()
                .then(|| (user, phone.as_str().to_string()))
        }));
    }
    let mut planned = Vec::new();
    for (id, user, kind) in targets {
        let one = |channel, address: &String| Planned {
            notification_id: id.clone(),
            channel,
            address: address.clone(),
        };
        if let Some(tokens) = tokens_of.get(user) {
            if channels.push {
                planned.extend(tokens.iter().map(|t| one(Channel::Push, t)));
            }
        } else if let Some(line_user) = line_of.get(user) {
            if channels.line {
                planned.push(one(Channel::Line, line_user));
            }
        } else if let Some(phone) = phone_of.get(user) {
            if channels.sms && SMS_KINDS.contains(&kind.as_str()) {
                planned.push(one(Channel::Sms, phone));
            }
        }
    }
    Ok(planned)
}

/// Queues planned deliveries; one already queued for the same (notification, address) is
/// left as it is.
fn queue(conn: &mut DbConn, planned: &[Planned], now: NaiveDateTime) -> QueryResult<usize> {
    let rows: Vec<_> = planned
        .iter()
        .map(|p| {
            (
                push_deliveries::notification_id.eq(&p.notification_id),
                push_deliveries::channel.eq(p.channel),
                push_deliveries::address.eq(&p.address),
                push_deliveries::status.eq(DeliveryStatus::Pending),
                push_deliveries::due_at.eq(now),
                push_deliveries::created_at.eq(now),
                push_deliveries::updated_at.eq(now),
            )
        })
        .collect();
    let mut queued = 0;
    for chunk in rows.chunks(1000) {
        queued += match conn {
            DbConn::Sqlite(c) => diesel::insert_into(push_deliveries::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(c)?,
            DbConn::Postgres(c) => diesel::insert_into(push_deliveries::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
    }
    Ok(queued)
}

/// Queues the deliveries of notifications already in their people's inboxes, by the
/// channels of each person (`plan`); returns how many were queued.
pub(crate) fn queue_for(
    conn: &mut DbConn,
    targets: &[Target],
    channels: Channels,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    if !channels.any() || targets.is_empty() {
        return Ok(0);
    }
    let planned = plan(conn, targets, channels)?;
    queue(conn, &planned, now)
}

/// Moves up to `limit` due notifications into inboxes and the delivery queue (by
/// `channels`), waiting out quiet hours and dropping what has expired.
pub fn fan_out_due(
    conn: &mut DbConn,
    default_quiet: Option<QuietHours>,
    channels: Channels,
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
                notifications::kind,
                notifications::urgent,
                notifications::expires_at,
                users::quiet_hours_start,
                users::quiet_hours_end,
            ))
            .load(conn)?;
        // Decide each one in memory, then write in bulk: a broadcast fans out thousands.
        let mut delivered: Vec<Target> = Vec::new();
        let mut dropped: Vec<String> = Vec::new();
        for (id, user_id, kind, urgent, expires_at, quiet_start, quiet_end) in due {
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
                delivered.push((id, user_id, kind));
            }
        }
        for chunk in dropped.chunks(1000) {
            diesel::update(notifications::table.filter(notifications::id.eq_any(chunk)))
                .set(notifications::status.eq(NotificationStatus::Dropped))
                .execute(conn)?;
        }
        report.dropped = dropped.len();
        for chunk in delivered.chunks(1000) {
            let ids: Vec<&String> = chunk.iter().map(|(id, _, _)| id).collect();
            diesel::update(notifications::table.filter(notifications::id.eq_any(ids)))
                .set((
                    notifications::status.eq(NotificationStatus::Delivered),
                    notifications::delivered_at.eq(now),
                ))
                .execute(conn)?;
        }
        report.delivered = delivered.len();
        report.deliveries = queue_for(conn, &delivered, channels, now)?;
        Ok(report)
    })
}

/// A delivery claimed for sending, with what to send (fields in the order selected, or
/// by name from PostgreSQL's one-statement claim).
#[derive(Debug, Clone, Queryable, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub channel: Channel,
    /// The device token, LINE user ID or phone.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub address: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub notification_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub title: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub body: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub data: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub collapse_key: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Timestamp>)]
    pub expires_at: Option<NaiveDateTime>,
}

impl Claimed {
    /// The words of a LINE message or a text: the title, then the body.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.title, self.body)
    }
}

/// Puts deliveries whose lease ran out (their worker died mid-send) back in the queue.
/// Kept apart from `claim` so the claim reads the index of pending deliveries alone.
pub fn rescue_expired_leases(conn: &mut DbConn) -> QueryResult<usize> {
    let now = db::now();
    diesel::update(
        push_deliveries::table
            .filter(push_deliveries::status.eq(DeliveryStatus::Leased.in_sql()))
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
        // One statement: pick, lease and read what to send, without a second pass over
        // the claimed IDs.
        DbConn::Postgres(pg) => {
            return diesel::sql_query(
                "WITH picked AS (SELECT id FROM push_deliveries \
                                 WHERE status = 'pending' AND due_at <= $2 \
                                 ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED), \
                      leased AS (UPDATE push_deliveries d SET status = 'leased', leased_until = $1, \
                                        attempts = d.attempts + 1, updated_at = $2 \
                                 FROM picked WHERE d.id = picked.id \
                                 RETURNING d.id, d.attempts, d.channel, d.address, d.notification_id) \
                 SELECT l.id, l.attempts, l.channel, l.address, l.notification_id, n.kind, n.title, \
                        n.body, n.data, n.collapse_key, n.expires_at \
                 FROM leased l JOIN notifications n ON n.id = l.notification_id",
            )
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load::<Claimed>(pg);
        }
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
                push_deliveries::channel,
                push_deliveries::address,
                push_deliveries::notification_id,
                notifications::kind,
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
    /// Dead addresses: unregistered device tokens, LINE accounts that blocked us.
    pub invalid_tokens: usize,
    pub retried: usize,
    pub failed: usize,
    /// Deliveries queued by the next channel for what dead addresses carried.
    pub fallbacks: usize,
}

impl std::ops::AddAssign for Recorded {
    fn add_assign(&mut self, other: Recorded) {
        self.sent += other.sent;
        self.invalid_tokens += other.invalid_tokens;
        self.retried += other.retried;
        self.failed += other.failed;
        self.fallbacks += other.fallbacks;
    }
}

/// Queues the notifications a dead address carried by their people's channels as they
/// now are (the dead device or link is gone); a delivery already queued stays as it is.
fn fall_back(
    conn: &mut DbConn,
    notification_ids: &[String],
    channels: Channels,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut queued = 0;
    for chunk in notification_ids.chunks(1000) {
        let carried = notifications::table
            .filter(notifications::id.eq_any(chunk))
            .filter(notifications::status.eq(NotificationStatus::Delivered))
            .filter(
                notifications::expires_at
                    .is_null()
                    .or(notifications::expires_at.gt(now)),
            )
            .select((
                notifications::id,
                notifications::user_id,
                notifications::kind,
            ));
        // Locked on PostgreSQL until the new deliveries are committed, so an erasure
        // (`forget_person`) waits for them or has removed the notification before.
        let targets: Vec<Target> = match conn {
            DbConn::Postgres(pg) => carried.for_key_share().load(pg)?,
            DbConn::Sqlite(_) => carried.load(conn)?,
        };
        queued += queue_for(conn, &targets, channels, now)?;
    }
    Ok(queued)
}

/// Removes a person's notifications and all their deliveries, sent or not (erasure).
/// Nothing cascades from a notification to its deliveries on PostgreSQL (the migration
/// `lean_delivery_queue` says why): the notifications are locked first, as whatever
/// queues a delivery locks its notification (`fan_out_due`, `fall_back`), so whichever
/// comes second sees the other's work done.
pub fn forget_person(conn: &mut DbConn, user_id: &str) -> QueryResult<usize> {
    let theirs = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .select(notifications::id);
    let ids: Vec<String> = match conn {
        DbConn::Postgres(pg) => theirs.for_update().load(pg)?,
        DbConn::Sqlite(_) => theirs.load(conn)?,
    };
    for chunk in ids.chunks(1000) {
        diesel::delete(
            push_deliveries::table.filter(push_deliveries::notification_id.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    diesel::delete(notifications::table.filter(notifications::user_id.eq(user_id))).execute(conn)
}

/// Records what became of claimed deliveries, in one transaction.
pub fn record(
    conn: &mut DbConn,
    results: &[(Claimed, Outcome)],
    max_attempts: i32,
    channels: Channels,
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
                // Gathered and settled together below: a broadcast meets many.
                Outcome::InvalidToken(_) => {}
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
        let dead: Vec<(&Claimed, &str)> = results
            .iter()
            .filter_map(|(c, o)| match o {
                Outcome::InvalidToken(reason) => Some((c, reason.as_str())),
                _ => None,
            })
            .collect();
        if !dead.is_empty() {
            report.invalid_tokens += dead.len();
            report.fallbacks += settle_dead_addresses(conn, &dead, channels, now)?;
        }
        Ok(report)
    })
}

/// Dead addresses (unregistered tokens, LINE accounts that blocked us), a batch at a
/// time, in a few statements whatever their number: each is forgotten, what else waits
/// for it is stopped, and what they carried goes by the person's next channel (returns
/// how many deliveries that queued).
fn settle_dead_addresses(
    conn: &mut DbConn,
    dead: &[(&Claimed, &str)],
    channels: Channels,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use std::collections::{BTreeSet, HashMap};
    let of = |channel| -> Vec<&str> {
        dead.iter()
            .filter(|(c, _)| c.channel == channel)
            .map(|(c, _)| c.address.as_str())
            .collect()
    };
    let (tokens, line_users) = (of(Channel::Push), of(Channel::Line));
    devices::delete_tokens(conn, &tokens)?;
    for line_user in line_users {
        crate::line::unlink_line_user(conn, line_user)?;
    }
    // The waiting deliveries to the same addresses, found through their people's
    // notifications with the (notification, address) index: no index leads from an
    // address alone.
    let mut people: BTreeSet<String> = BTreeSet::new();
    let carried_ids: Vec<&String> = dead.iter().map(|(c, _)| &c.notification_id).collect();
    for chunk in carried_ids.chunks(1000) {
        people.extend(
            notifications::table
                .filter(notifications::id.eq_any(chunk))
                .select(notifications::user_id)
                .load::<String>(conn)?,
        );
    }
    let people: Vec<String> = people.into_iter().collect();
    let mut theirs: Vec<String> = Vec::new();
    for chunk in people.chunks(1000) {
        theirs.extend(
            notifications::table
                .filter(notifications::user_id.eq_any(chunk))
                .select(notifications::id)
                .load::<String>(conn)?,
        );
    }
    let reason_of: HashMap<(Channel, &str), &str> = dead
        .iter()
        .map(|(c, reason)| ((c.channel, c.address.as_str()), *reason))
        .collect();
    let claimed: std::collections::HashSet<i64> = dead.iter().map(|(c, _)| c.id).collect();
    // Each stopped delivery gets the reason its address was found dead with.
    let mut stopped: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut carried: BTreeSet<String> = BTreeSet::new();
    for notes in theirs.chunks(1000) {
        // Only the notification is tested in SQL, the address and status here: with a
        // list of addresses too, SQLite looks up every pair of the two lists.
        let rows: Vec<(i64, String, Channel, String, DeliveryStatus)> = push_deliveries::table
            .filter(push_deliveries::notification_id.eq_any(notes))
            .select((
                push_deliveries::id,
                push_deliveries::notification_id,
                push_deliveries::channel,
                push_deliveries::address,
                push_deliveries::status,
            ))
            .load(conn)?;
        for (id, notification, channel, address, status) in rows {
            let waiting = matches!(status, DeliveryStatus::Pending | DeliveryStatus::Leased);
            if !(waiting || claimed.contains(&id)) {
                continue;
            }
            if let Some(reason) = reason_of.get(&(channel, address.as_str())) {
                stopped.entry(reason).or_default().push(id);
                carried.insert(notification);
            }
        }
    }
    for (reason, ids) in stopped {
        for chunk in ids.chunks(1000) {
            diesel::update(push_deliveries::table.filter(push_deliveries::id.eq_any(chunk)))
                .set((
                    push_deliveries::status.eq(DeliveryStatus::InvalidToken),
                    push_deliveries::last_error.eq(reason),
                    push_deliveries::leased_until.eq(None::<NaiveDateTime>),
                    push_deliveries::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    let carried: Vec<String> = carried.into_iter().collect();
    fall_back(conn, &carried, channels, now)
}

/// A delivery given up on, for admins to see.
#[derive(Debug, Clone, Queryable)]
pub struct FailedDelivery {
    pub id: i64,
    pub notification_id: String,
    pub kind: String,
    pub user_id: String,
    pub channel: Channel,
    pub address: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub updated_at: NaiveDateTime,
}

impl FailedDelivery {
    /// The end of the address only (six characters of a token or LINE ID, four digits of
    /// a phone): enough to recognise it, not to use it.
    pub fn address_tail(&self) -> String {
        let keep = if self.channel == Channel::Sms { 4 } else { 6 };
        let tail: Vec<char> = self.address.chars().rev().take(keep).collect();
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
        .filter(push_deliveries::status.eq(DeliveryStatus::Failed.in_sql()))
        .select((
            push_deliveries::id,
            push_deliveries::notification_id,
            notifications::kind,
            notifications::user_id,
            push_deliveries::channel,
            push_deliveries::address,
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

type StatusIs = diesel::dsl::Eq<push_deliveries::status, crate::domain::SqlWord>;

/// Waiting to be sent: pending or leased. Two tests joined by OR, each in the words of its
/// partial index on PostgreSQL (`push_deliveries_pending`, `_leased`), so the planner
/// reads those two indexes instead of the whole queue.
fn waiting_to_send() -> diesel::dsl::Or<StatusIs, StatusIs> {
    push_deliveries::status
        .eq(DeliveryStatus::Pending.in_sql())
        .or(push_deliveries::status.eq(DeliveryStatus::Leased.in_sql()))
}

/// Deliveries waiting (pending or leased) and the age in seconds of the oldest due one.
pub fn depth(conn: &mut DbConn) -> QueryResult<(i64, f64)> {
    let now = db::now();
    let waiting: i64 = push_deliveries::table
        .filter(waiting_to_send())
        .count()
        .get_result(conn)?;
    let oldest: Option<NaiveDateTime> = push_deliveries::table
        .filter(waiting_to_send())
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
