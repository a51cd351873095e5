//! Managing the course catalogue (admins).

use crate::db::{self, DbConn};
use crate::domain::CourseId;
use crate::error::ApiError;
use crate::models::audit;
use crate::models::courses::{self, Course, CourseChanges};

use super::Actor;

/// Adds a course (its fields already checked).
pub fn create(conn: &mut DbConn, actor: &Actor, course: Course) -> Result<Course, ApiError> {
    actor.ensure_admin()?;
    db::write_transaction(conn, |conn| {
        courses::insert_many(conn, std::slice::from_ref(&course))?;
        audit::record(conn, &actor.id, "course_created", Some(&course.id), None)?;
        Ok(course)
    })
}

/// Changes a course's fields.
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    course_id: &CourseId,
    changes: CourseChanges,
) -> Result<Course, ApiError> {
    actor.ensure_admin()?;
    db::write_transaction(conn, |conn| {
        let course = courses::update(conn, course_id, changes)?.ok_or(ApiError::NotFound)?;
        audit::record(conn, &actor.id, "course_updated", Some(&course.id), None)?;
        Ok(course)
    })
}
