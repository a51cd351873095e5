//! Accounts: creation, lookup by login, profile changes, role changes, admin listing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::domain::{Locale, Role, UserId};
use crate::schema::users;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub locale: Locale,
    pub home_lat: Option<f64>,
    pub home_lon: Option<f64>,
    pub province: Option<String>,
    pub quiet_hours_start: Option<String>,
    pub quiet_hours_end: Option<String>,
    pub reminders_enabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: UserId,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub locale: Locale,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Profile fields a user may change about themselves. `None` leaves a field alone;
/// `Some(None)` clears a nullable one. There is deliberately no `role` here.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub locale: Option<Locale>,
    pub home_lat: Option<Option<f64>>,
    pub home_lon: Option<Option<f64>>,
    pub province: Option<Option<String>>,
    pub quiet_hours_start: Option<Option<String>>,
    pub quiet_hours_end: Option<Option<String>>,
    pub reminders_enabled: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Why a new account could not be created.
#[derive(Debug, PartialEq, Eq)]
pub enum CreateUserError {
    PhoneTaken,
    EmailTaken,
}

/// The password hash of an account that has none (made at a center's desk): no password
/// matches it, and the person signs in with a one-time code instead.
pub const NO_PASSWORD: &str = "!no-password";

/// Locks a person's row until the transaction ends, so counts of what they hold or sent
/// (and the insert that follows) cannot interleave with another of their requests.
/// PostgreSQL blocks the second request here (`FOR NO KEY UPDATE`, which rows referring to
/// the person may still be inserted under); on SQLite the caller's `write_transaction`
/// already holds the database's only write lock, so there is nothing to take.
pub fn lock(conn: &mut DbConn, user_id: &UserId) -> QueryResult<()> {
    if crate::db::writer::batch_holds_lock_of(user_id.as_str()) {
        return Ok(());
    }
    if let DbConn::Postgres(pg) = conn {
        users::table
            .find(user_id)
            .select(users::id)
            .for_no_key_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// Locks several people at once, in the order of their IDs (PostgreSQL; nothing to do on
/// SQLite): a transaction that will act for many (a batch of enrollments) takes them all
/// first, in the one order any two such transactions share, so they cannot deadlock.
pub fn lock_all(conn: &mut DbConn, user_ids: &[&str]) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        users::table
            .filter(users::id.eq_any(user_ids))
            .order(users::id)
            .select(users::id)
            .for_no_key_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// A new, time-ordered, opaque ID (UUID v7 as text).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn create_user(conn: &mut DbConn, new: &NewUser) -> QueryResult<Result<User, CreateUserError>> {
    db::write_transaction(conn, |conn| {
        if let Some(taken) = identity_taken(conn, new.phone.as_deref(), new.email.as_deref())? {
            return Ok(Err(taken));
        }
        diesel::insert_into(users::table)
            .values(new)
            .execute(conn)?;
        users::table
            .find(&new.id)
            .select(User::as_select())
            .first(conn)
            .map(Ok)
    })
    .or_else(|e| match e {
        // Two sign-ups racing for one number on PostgreSQL: the loser lands here.
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => Ok(Err(identity_taken(
            conn,
            new.phone.as_deref(),
            new.email.as_deref(),
        )?
        .unwrap_or(CreateUserError::PhoneTaken))),
        other => Err(other),
    })
}

fn identity_taken(
    conn: &mut DbConn,
    phone: Option<&str>,
    email: Option<&str>,
) -> QueryResult<Option<CreateUserError>> {
    if let Some(phone) = phone {
        let exists: i64 = users::table
            .filter(users::phone.eq(phone))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok(Some(CreateUserError::PhoneTaken));
        }
    }
    if let Some(email) = email {
        let exists: i64 = users::table
            .filter(users::email.eq(email))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok(Some(CreateUserError::EmailTaken));
        }
    }
    Ok(None)
}

/// Finds the account a normalised login (E.164 phone or lower-cased e-mail) names.
pub fn find_by_login(conn: &mut DbConn, login_key: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::phone.eq(login_key).or(users::email.eq(login_key)))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: &UserId) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn update_profile(
    conn: &mut DbConn,
    id: &UserId,
    mut changes: ProfileChanges,
) -> QueryResult<User> {
    changes.updated_at = Some(db::now());
    diesel::update(users::table.find(id))
        .set(&changes)
        .execute(conn)?;
    users::table.find(id).select(User::as_select()).first(conn)
}

pub fn set_role(conn: &mut DbConn, id: &UserId, role: Role) -> QueryResult<Option<User>> {
    let changed = diesel::update(users::table.find(id))
        .set((users::role.eq(role), users::updated_at.eq(db::now())))
        .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    find(conn, id)
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Filters for the admin user list.
#[derive(Debug, Default)]
pub struct UserFilter {
    /// Part of a phone number, e-mail or name, case-insensitive.
    pub q: Option<String>,
    pub role: Option<String>,
    /// Keyset pagination: only users with a greater ID.
    pub after_id: Option<String>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConn, filter: &UserFilter) -> QueryResult<Vec<User>> {
    let mut query = users::table
        .select(User::as_select())
        .order(users::id.asc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(q) = &filter.q {
        let pattern = format!("%{}%", escape_like(&q.to_lowercase()));
        query = query.filter(
            lower(users::display_name)
                .like(pattern.clone())
                .escape('\\')
                .or(users::phone.like(pattern.clone()).escape('\\'))
                .or(users::email.like(pattern).escape('\\')),
        );
    }
    if let Some(role) = &filter.role {
        query = query.filter(users::role.eq(role));
    }
    if let Some(after) = &filter.after_id {
        query = query.filter(users::id.gt(after));
    }
    query.load(conn)
}

/// Escapes LIKE wildcards so a search for `50%` finds exactly that.
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The display names of `ids` (erased people included, under their erased name).
pub fn names(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
