//! Answers to requests that carried an `Idempotency-Key`, so a phone that retries on a bad
//! network gets the first answer again instead of a second effect.
//!
//! A key belongs to an owner (a user's ID, or a keyed hash of an anonymous caller's
//! address). Its row is reserved (`status_code` 0) before the request runs, so a second
//! request with the key waits instead of running too, then holds the answer. A request
//! that could not finish (a server error, an expired token) gives its reservation back.

use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::schema::idempotency_keys;

/// What marks a reserved key whose request has not answered yet.
const IN_PROGRESS: i32 = 0;

/// A retried request's identity: the caller's `Idempotency-Key` and a fingerprint of the
/// request it was first used on (method, path, query and body).
#[derive(Debug, Clone)]
pub struct Retry {
    pub key: String,
    pub fingerprint: String,
}

/// What an earlier request with the same key left behind.
#[derive(Debug, PartialEq, Eq)]
pub enum Earlier {
    None,
    /// The same request is running (or was, until `reserved_at`).
    InProgress {
        reserved_at: chrono::NaiveDateTime,
    },
    /// The same request: replay this answer.
    Answer {
        status: u16,
        body: String,
    },
    /// The key was used for a different request.
    OtherRequest,
}

pub fn lookup(
    conn: &mut DbConn,
    owner: &str,
    key: &str,
    request_hash: &str,
) -> QueryResult<Earlier> {
    let row: Option<(String, i32, String, chrono::NaiveDateTime)> = idempotency_keys::table
        .find((owner, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status_code,
            idempotency_keys::body,
            idempotency_keys::created_at,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        None => Earlier::None,
        Some((hash, _, _, _)) if hash != request_hash => Earlier::OtherRequest,
        Some((_, IN_PROGRESS, _, reserved_at)) => Earlier::InProgress { reserved_at },
        Some((_, status, body, _)) => Earlier::Answer {
            status: status as u16,
            body,
        },
    })
}

/// Reserves `key` for this request; false if another request holds it already.
pub fn reserve(conn: &mut DbConn, owner: &str, key: &str, request_hash: &str) -> QueryResult<bool> {
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::owner.eq(owner),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::status_code.eq(IN_PROGRESS),
            idempotency_keys::body.eq(""),
            idempotency_keys::created_at.eq(db::now()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Takes over a reservation whose request died (reserved before `stale_before`).
pub fn take_over(
    conn: &mut DbConn,
    owner: &str,
    key: &str,
    stale_before: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        idempotency_keys::table
            .find((owner, key))
            .filter(idempotency_keys::status_code.eq(IN_PROGRESS))
            .filter(idempotency_keys::created_at.lt(stale_before)),
    )
    .set(idempotency_keys::created_at.eq(db::now()))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Keeps the answer to the request holding `key` (its reservation, or a new row for a
/// caller that reserved nothing). Called inside the request's own transaction where it
/// can be, so the effect and its answer are stored together.
pub fn store(
    conn: &mut DbConn,
    owner: &str,
    key: &str,
    request_hash: &str,
    status: u16,
    body: &str,
) -> QueryResult<()> {
    let completed = complete(conn, owner, key, request_hash, status, body)?;
    if !completed {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::owner.eq(owner),
                idempotency_keys::key.eq(key),
                idempotency_keys::request_hash.eq(request_hash),
                idempotency_keys::status_code.eq(i32::from(status)),
                idempotency_keys::body.eq(body),
                idempotency_keys::created_at.eq(db::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Keeps the answer in the key's reservation, unless an answer is stored already (by the
/// request's own transaction); returns whether it did.
pub fn complete(
    conn: &mut DbConn,
    owner: &str,
    key: &str,
    request_hash: &str,
    status: u16,
    body: &str,
) -> QueryResult<bool> {
    let completed = diesel::update(
        idempotency_keys::table
            .find((owner, key))
            .filter(idempotency_keys::status_code.eq(IN_PROGRESS))
            .filter(idempotency_keys::request_hash.eq(request_hash)),
    )
    .set((
        idempotency_keys::status_code.eq(i32::from(status)),
        idempotency_keys::body.eq(body),
    ))
    .execute(conn)?;
    Ok(completed == 1)
}

/// Gives a reservation back: the request could not be answered for good, and a retry
/// should run it.
pub fn release(conn: &mut DbConn, owner: &str, key: &str) -> QueryResult<()> {
    diesel::delete(
        idempotency_keys::table
            .find((owner, key))
            .filter(idempotency_keys::status_code.eq(IN_PROGRESS)),
    )
    .execute(conn)?;
    Ok(())
}

/// Forgets answers older than a day: retries come within minutes.
pub fn prune(conn: &mut DbConn) -> QueryResult<usize> {
    let cutoff = db::now() - chrono::Duration::hours(24);
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff)))
        .execute(conn)
}
