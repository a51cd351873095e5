//! What admins do to accounts: change a person's role, end all of their sign-ins.

use crate::db::{self, DbConn};
use crate::domain::{Role, UserId};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::models::users::{self, User};
use crate::models::{audit, logins};

use super::Actor;

/// Gives a person a new role; it applies at once (their tokens must be refreshed).
pub fn set_role(
    conn: &mut DbConn,
    actor: &Actor,
    user_id: &UserId,
    role: Role,
) -> Result<User, ApiError> {
    actor.ensure_admin()?;
    if *user_id == actor.id {
        // An admin demoting themselves could leave the network with no admin at all.
        return Err(ApiError::Conflict(Code::CannotChangeOwnRole));
    }
    let updated = db::write_transaction(conn, |conn| {
        let updated = users::set_role(conn, user_id, role)?.ok_or(ApiError::NotFound)?;
        audit::record(
            conn,
            &actor.id,
            &format!("role_set_{role}"),
            Some(&updated.id),
            None,
        )?;
        Ok::<_, ApiError>(updated)
    })?;
    tracing::info!(admin = %actor.id, user = %updated.id, role = role.as_str(), "role changed");
    Ok(updated)
}

/// Ends every sign-in of a person (a lost phone, a shared PC left signed in): their app
/// and console sessions stop at once, and they sign in again. Returns how many were live.
pub fn end_sign_ins(conn: &mut DbConn, actor: &Actor, user_id: &UserId) -> Result<usize, ApiError> {
    actor.ensure_admin()?;
    db::write_transaction(conn, |conn| {
        users::find(conn, user_id)?.ok_or(ApiError::NotFound)?;
        let ended = logins::revoke_all(conn, user_id, "revoked_by_admin")?;
        audit::record(conn, &actor.id, "sign_ins_ended", Some(user_id), None)?;
        Ok(ended)
    })
}
