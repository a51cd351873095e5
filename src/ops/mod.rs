//! Operations: every change the API (and the console) can make, one function each, so the
//! rules live in one place. An operation takes parsed input and the acting person, checks
//! who may do it, owns its one transaction, writes its audit record, plans its
//! notifications, and returns a typed result or a refusal (`ApiError`, whose code is the
//! same whichever front door asked). Handlers extract, call one operation and render.

pub mod accounts;
pub mod attendance;
pub mod broadcasts;
pub mod centers;
pub mod course_sessions;
pub mod courses;
pub mod enrollments;

use crate::db::DbConn;
use crate::domain::{CenterId, Role, UserId};
use crate::error::ApiError;
use crate::models::centers as center_rows;

/// Who is acting: a signed-in person with a live login and their current role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub role: Role,
}

impl Actor {
    /// Admins only.
    pub fn ensure_admin(&self) -> Result<(), ApiError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Admins manage every center; staff only the centers they are assigned to.
    pub fn ensure_manages(&self, conn: &mut DbConn, center_id: &CenterId) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Staff if center_rows::is_staff_of(conn, &self.id, center_id)? => Ok(()),
            _ => Err(ApiError::Forbidden),
        }
    }
}
