//! The caller's PDPA rights: a copy of all their data, and erasure.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::auth::AuthUser;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::error::{ApiError, ApiResult};
use crate::models::{devices, enrollments, users};
use crate::privacy;
use crate::push::notify::PushPolicy;

use super::course_sessions::session_views;
use super::devices::{DeviceView, NotificationView};
use super::views::{rfc3339, EnrollmentView, UserView};
use super::with_db;

/// `GET /me/export`: everything OCOD holds about the caller, and nothing about anyone else.
pub async fn export_me(
    user: AuthUser,
    pool: web::Data<DbPool>,
    settings: web::Data<Settings>,
) -> ApiResult<HttpResponse> {
    let keyer = settings.login_keyer();
    let export = with_db(&pool, move |conn| {
        let me = users::find(conn, &user.id)?.ok_or(ApiError::NotFound)?;
        let logins: Vec<String> = me.phone.iter().chain(me.email.iter()).cloned().collect();
        let mine = enrollments::of_user(conn, &user.id, db::now())?;
        let sessions: Vec<_> = mine.iter().map(|(_, s)| s.clone()).collect();
        let views = session_views(conn, &sessions)?;
        let enrollments: Vec<serde_json::Value> = mine
            .iter()
            .zip(views)
            .map(|((e, _), session)| json!({ "enrollment": EnrollmentView::new(e, None), "session": session }))
            .collect();
        let devices: Vec<DeviceView> = devices::of_user(conn, &user.id)?.into_iter().map(DeviceView::from).collect();
        let inbox = privacy::whole_inbox(conn, &user.id)?;
        let notifications: Vec<serde_json::Value> = inbox
            .into_iter()
            .map(|n| {
                let (status, due_at) = (n.status, rfc3339(n.due_at));
                json!({ "notification": NotificationView::from(n), "status": status, "due_at": due_at })
            })
            .collect();
        let logins_sessions = privacy::login_history(conn, &user.id)?;
        let failed_logins = privacy::failed_login_times(conn, &keyer, &logins)?;
        Ok(json!({
            "exported_at": rfc3339(db::now()),
            "profile": UserView::from(me),
            "enrollments": enrollments,
            "devices": devices,
            "notifications": notifications,
            "login_sessions": logins_sessions.into_iter().map(|(id, created, used, revoked, reason, agent)| json!({
                "id": id, "created_at": rfc3339(created), "last_used_at": rfc3339(used),
                "revoked_at": revoked.map(rfc3339), "revoked_reason": reason, "user_agent": agent,
            })).collect::<Vec<_>>(),
            "login_attempts_recorded": failed_logins.into_iter().map(rfc3339).collect::<Vec<_>>(),
        }))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "content-disposition",
            "attachment; filename=\"ocod-my-data.json\"",
        ))
        .json(export))
}

/// `DELETE /me`: erases the caller's account (see `privacy`); 204.
pub async fn delete_me(
    user: AuthUser,
    pool: web::Data<DbPool>,
    policy: web::Data<PushPolicy>,
    settings: web::Data<Settings>,
) -> ApiResult<HttpResponse> {
    let user_id = user.id.clone();
    let keyer = settings.login_keyer();
    let erased = with_db(&pool, move |conn| {
        Ok(privacy::erase_account(conn, &user_id, &policy, &keyer)?)
    })
    .await?;
    tracing::info!(
        enrollments_cancelled = erased.enrollments_cancelled,
        devices_removed = erased.devices_removed,
        "an account was erased at its owner's request"
    );
    Ok(HttpResponse::NoContent().finish())
}
