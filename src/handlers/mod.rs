//! Request handlers, one small function per route, named like their OpenAPI operationId.
//! They extract, parse into domain types, call model code on a pooled connection off the
//! async workers, and map the result to a response.

pub mod admin_users;
pub mod attendance;
pub mod auth;
pub mod broadcasts;
pub mod center_fields;
pub mod centers;
pub mod certificates;
pub mod course_fields;
pub mod course_sessions;
pub mod courses;
pub mod devices;
pub mod enrollments;
pub mod fields;
pub mod line;
pub mod me;
pub mod otp;
pub mod privacy;
pub mod reports;
pub mod roster;
pub mod system;
pub mod views;

use actix_web::web;

use crate::db::{DbConn, DbPool};
use crate::error::ApiResult;

/// Runs database work on the blocking thread pool with a pooled connection.
pub async fn with_db<T, F>(pool: &web::Data<DbPool>, work: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        work(&mut conn)
    })
    .await?
}
