//! Managing centers and who staffs them (admins). The in-memory directory that answers
//! searches is reloaded after each committed change.

use crate::db::{self, DbConn};
use crate::directory::CenterDirectory;
use crate::domain::{CenterId, UserId};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::models::audit;
use crate::models::centers::{self, AssignOutcome, Center, CenterChanges, DeleteOutcome};

use super::Actor;

/// A unique-code clash reads as what it is.
fn code_taken(e: diesel::result::Error) -> ApiError {
    match ApiError::from(e) {
        ApiError::Conflict(_) => ApiError::Conflict(Code::CenterCodeTaken),
        other => other,
    }
}

/// Shows a committed change in searches at once. If the reload fails the change stands
/// (it is committed) and the directory catches up at its next periodic refresh, so the
/// caller is not told a stored change failed.
fn refresh_directory(conn: &mut DbConn, directory: &CenterDirectory) {
    if let Err(e) = directory.reload(conn) {
        tracing::warn!(error = %e, "center directory reload failed; the periodic refresh will catch up");
    }
}

/// Adds a center (its fields already checked).
pub fn create(
    conn: &mut DbConn,
    directory: &CenterDirectory,
    actor: &Actor,
    new_center: Center,
) -> Result<Center, ApiError> {
    actor.ensure_admin()?;
    let center = db::write_transaction(conn, |conn| {
        centers::insert_many(conn, std::slice::from_ref(&new_center)).map_err(code_taken)?;
        audit::record(
            conn,
            &actor.id,
            "center_created",
            Some(&new_center.id),
            Some(&new_center.id),
        )?;
        centers::find(conn, &new_center.id)?.ok_or(ApiError::NotFound)
    })?;
    refresh_directory(conn, directory);
    Ok(center)
}

/// Changes a center's fields.
pub fn update(
    conn: &mut DbConn,
    directory: &CenterDirectory,
    actor: &Actor,
    center_id: &CenterId,
    changes: CenterChanges,
) -> Result<Center, ApiError> {
    actor.ensure_admin()?;
    let center = db::write_transaction(conn, |conn| {
        let updated = centers::update(conn, center_id, changes)
            .map_err(code_taken)?
            .ok_or(ApiError::NotFound)?;
        audit::record(
            conn,
            &actor.id,
            "center_updated",
            Some(&updated.id),
            Some(&updated.id),
        )?;
        Ok::<_, ApiError>(updated)
    })?;
    refresh_directory(conn, directory);
    Ok(center)
}

/// Deletes a center that never held a session; others are closed instead, so their
/// history stays.
pub fn delete(
    conn: &mut DbConn,
    directory: &CenterDirectory,
    actor: &Actor,
    center_id: &CenterId,
) -> Result<(), ApiError> {
    actor.ensure_admin()?;
    db::write_transaction(conn, |conn| match centers::delete(conn, center_id)? {
        DeleteOutcome::Deleted => {
            audit::record(
                conn,
                &actor.id,
                "center_deleted",
                Some(center_id),
                Some(center_id),
            )?;
            Ok(())
        }
        DeleteOutcome::NotFound => Err(ApiError::NotFound),
        DeleteOutcome::HasSessions => Err(ApiError::Conflict(Code::CenterHasSessions)),
    })?;
    refresh_directory(conn, directory);
    Ok(())
}

/// Whether an assignment is new or was already in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assigned {
    New,
    Already,
}

/// Makes a staff member (or admin) staff of a center; idempotent.
pub fn assign_staff(
    conn: &mut DbConn,
    actor: &Actor,
    center_id: &CenterId,
    user_id: &UserId,
) -> Result<Assigned, ApiError> {
    actor.ensure_admin()?;
    db::write_transaction(conn, |conn| {
        match centers::assign_staff(conn, center_id, user_id)? {
            AssignOutcome::Assigned => {
                audit::record(
                    conn,
                    &actor.id,
                    "staff_assigned",
                    Some(user_id),
                    Some(center_id),
                )?;
                Ok(Assigned::New)
            }
            AssignOutcome::AlreadyAssigned => Ok(Assigned::Already),
            AssignOutcome::NoSuchCenter | AssignOutcome::NoSuchUser => Err(ApiError::NotFound),
            AssignOutcome::NotStaff => Err(ApiError::Conflict(Code::UserNotStaff)),
        }
    })
}

/// Ends a staff assignment (404 if there was none).
pub fn unassign_staff(
    conn: &mut DbConn,
    actor: &Actor,
    center_id: &CenterId,
    user_id: &UserId,
) -> Result<(), ApiError> {
    actor.ensure_admin()?;
    db::write_transaction(conn, |conn| {
        if !centers::unassign_staff(conn, center_id, user_id)? {
            return Err(ApiError::NotFound);
        }
        audit::record(
            conn,
            &actor.id,
            "staff_unassigned",
            Some(user_id),
            Some(center_id),
        )?;
        Ok(())
    })
}
