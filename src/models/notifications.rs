//! Notifications: what is scheduled to be pushed to a user and, once due, their inbox.
//! Each has a dedup key, so the same logical notification is never queued twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::NotificationStatus;
use crate::schema::notifications;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub dedup_key: String,
    pub title: String,
    pub body: String,
    pub data: String,
    pub collapse_key: String,
    pub urgent: bool,
    pub due_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub status: NotificationStatus,
    pub delivered_at: Option<NaiveDateTime>,
    pub read_at: Option<NaiveDateTime>,
    pub broadcast_id: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Schedules `n` unless a notification with its dedup key exists; returns whether it was
/// added. Call inside the transaction of the change that causes it.
pub fn schedule(conn: &mut DbConn, n: &Notification) -> QueryResult<bool> {
    // The only unique value of a new row besides its fresh ID is the dedup key.
    Ok(crate::models::insert_or_keep!(conn, notifications::table, n)? == 1)
}

/// Cancels scheduled (not yet delivered) notifications whose dedup key starts with `prefix`.
pub fn cancel_scheduled(conn: &mut DbConn, prefix: &str) -> QueryResult<usize> {
    let pattern = format!("{}%", crate::models::users::escape_like(prefix));
    diesel::update(
        notifications::table
            // In the words of the partial index `notifications_due` on PostgreSQL.
            .filter(notifications::status.eq(NotificationStatus::Scheduled.in_sql()))
            .filter(notifications::dedup_key.like(pattern).escape('\\')),
    )
    .set(notifications::status.eq(NotificationStatus::Cancelled))
    .execute(conn)
}

/// The inbox: delivered notifications, newest first, after the keyset `before`.
pub fn inbox(
    conn: &mut DbConn,
    user_id: &str,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<Notification>> {
    let mut query = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::status.eq(NotificationStatus::Delivered))
        .select(Notification::as_select())
        .order((notifications::delivered_at.desc(), notifications::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            notifications::delivered_at
                .lt(at)
                .or(notifications::delivered_at
                    .eq(at)
                    .and(notifications::id.lt(id))),
        );
    }
    query.load(conn)
}

pub fn unread_count(conn: &mut DbConn, user_id: &str) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::status.eq(NotificationStatus::Delivered))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
}

/// Marks one of the user's delivered notifications read (once; later calls keep the
/// first time).
pub fn mark_read(conn: &mut DbConn, user_id: &str, id: &str) -> QueryResult<Option<Notification>> {
    let mine = notifications::table
        .find(id)
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::status.eq(NotificationStatus::Delivered));
    diesel::update(mine.filter(notifications::read_at.is_null()))
        .set(notifications::read_at.eq(db::now()))
        .execute(conn)?;
    mine.select(Notification::as_select())
        .first(conn)
        .optional()
}
