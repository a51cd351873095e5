//! Devices that receive pushes: one row per FCM registration token, owned by the user who
//! registered it most recently (a shared phone follows whoever logged in last).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::{Locale, Platform};
use crate::schema::devices;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = devices)]
pub struct Device {
    pub token: String,
    pub user_id: String,
    pub platform: Platform,
    pub locale: Option<Locale>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

/// Registers `token` for `user_id`, or refreshes it; returns the device and whether it is
/// new to this user.
pub fn register(
    conn: &mut DbConn,
    user_id: &str,
    token: &str,
    platform: Platform,
    locale: Option<Locale>,
) -> QueryResult<(Device, bool)> {
    let attempt = |conn: &mut DbConn| {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            let existing: Option<Device> = devices::table
                .find(token)
                .select(Device::as_select())
                .first(conn)
                .optional()?;
            let new_to_user = existing.as_ref().is_none_or(|d| d.user_id != user_id);
            match existing {
                Some(_) => {
                    diesel::update(devices::table.find(token))
                        .set((
                            devices::user_id.eq(user_id),
                            devices::platform.eq(platform),
                            devices::locale.eq(locale),
                            devices::last_seen_at.eq(now),
                        ))
                        .execute(conn)?;
                }
                None => {
                    let device = Device {
                        token: token.to_string(),
                        user_id: user_id.to_string(),
                        platform,
                        locale,
                        created_at: now,
                        last_seen_at: now,
                    };
                    diesel::insert_into(devices::table)
                        .values(&device)
                        .execute(conn)?;
                }
            }
            let device = devices::table
                .find(token)
                .select(Device::as_select())
                .first(conn)?;
            Ok((device, new_to_user))
        })
    };
    match attempt(conn) {
        // Two registrations of one new token racing on PostgreSQL: the second updates.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => attempt(conn),
        other => other,
    }
}

/// Forgets a token of `user_id`'s; returns whether there was one.
pub fn forget(conn: &mut DbConn, user_id: &str, token: &str) -> QueryResult<bool> {
    let removed = diesel::delete(
        devices::table
            .find(token)
            .filter(devices::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}

/// Forgets tokens FCM says are dead, whoever holds them.
pub fn delete_tokens(conn: &mut DbConn, tokens: &[&str]) -> QueryResult<usize> {
    let mut removed = 0;
    for chunk in tokens.chunks(1000) {
        removed +=
            diesel::delete(devices::table.filter(devices::token.eq_any(chunk))).execute(conn)?;
    }
    Ok(removed)
}

pub fn of_user(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<Device>> {
    devices::table
        .filter(devices::user_id.eq(user_id))
        .select(Device::as_select())
        .order(devices::created_at.asc())
        .load(conn)
}
