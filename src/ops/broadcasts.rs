//! Broadcasts: admins tell an audience something, now or later; staff may tell the people
//! of their own center's sessions.

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::db::{self, DbConn};
use crate::domain::{find_province, BroadcastStatus, CenterId, CourseId, CourseSessionId, Role};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::models::broadcasts::{self, Audience, Broadcast};
use crate::models::idempotency::{self, Earlier, Retry};
use crate::models::users::new_id;
use crate::models::{audit, centers, course_sessions, courses};

use super::Actor;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceInput {
    pub kind: String,
    pub value: Option<String>,
}

/// A broadcast to create, its texts already checked.
#[derive(Debug)]
pub struct NewBroadcast {
    pub audience: AudienceInput,
    pub title_th: String,
    pub title_en: String,
    pub body_th: String,
    pub body_en: String,
    /// When to send it; `None` or a time past means now.
    pub send_at: Option<NaiveDateTime>,
}

/// Parses the audience and checks that what it names exists and that `user` may reach it:
/// admins anyone; staff only a session at a center of theirs.
pub fn resolve_audience(
    conn: &mut DbConn,
    actor: &Actor,
    input: &AudienceInput,
) -> Result<Audience, ApiError> {
    let value = input
        .value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let missing = || ApiError::field("audience.value", Code::Required);
    let unknown = || ApiError::field("audience.value", Code::NotFound);
    let audience = match input.kind.trim() {
        "all" => Audience::All,
        "province" => Audience::Province(
            find_province(value.ok_or_else(missing)?)
                .ok_or_else(|| ApiError::field("audience.value", Code::UnknownProvince))?
                .name_th
                .to_string(),
        ),
        "center" => {
            let id = value.ok_or_else(missing)?;
            let id = CenterId::from_raw(id);
            centers::find(conn, &id)?.ok_or_else(unknown)?;
            Audience::Center(id)
        }
        "course" => {
            let id = value.ok_or_else(missing)?;
            let id = CourseId::from_raw(id);
            courses::find(conn, &id)?.ok_or_else(unknown)?;
            Audience::Course(id)
        }
        "session" => {
            let id = value.ok_or_else(missing)?;
            let id = CourseSessionId::from_raw(id);
            let session = course_sessions::find(conn, &id)?.ok_or_else(unknown)?;
            actor.ensure_manages(conn, &session.center_id)?;
            Audience::Session(id)
        }
        _ => return Err(ApiError::field("audience.kind", Code::InvalidValue)),
    };
    if actor.role != Role::Admin && !matches!(audience, Audience::Session(_)) {
        // Staff reach the people of their own sessions, nobody else.
        return Err(ApiError::Forbidden);
    }
    Ok(audience)
}

/// How many people and devices an audience reaches.
pub fn preview(
    conn: &mut DbConn,
    actor: &Actor,
    audience: &AudienceInput,
) -> Result<(i64, i64), ApiError> {
    let audience = resolve_audience(conn, actor, audience)?;
    Ok(broadcasts::preview(conn, &audience)?)
}

/// Schedules a broadcast (now, or at `send_at`), within the per-person daily limit. With
/// `retry` (a console form's one-time key), the same form sent twice schedules it once:
/// the second answer is the first broadcast.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    per_day: i64,
    new: NewBroadcast,
    retry: Option<&Retry>,
) -> Result<Broadcast, ApiError> {
    let now = db::now();
    let send_at = new.send_at.unwrap_or(now).max(now);
    let answer = db::write_transaction(conn, |conn| {
        if let Some(earlier) = earlier_broadcast(conn, actor, retry)? {
            return Ok(earlier);
        }
        let audience = resolve_audience(conn, actor, &new.audience)?;
        if let Some(allowed) = broadcasts::next_allowed(conn, &actor.id, per_day, now)? {
            return Err(ApiError::TooManyRequests {
                code: Code::BroadcastLimitReached,
                retry_after_secs: (allowed - now).num_seconds().max(1) as u64,
            });
        }
        let broadcast = Broadcast {
            id: new_id(),
            created_by: actor.id.to_string(),
            audience_kind: audience.kind(),
            audience_value: audience.value().map(str::to_string),
            title_th: new.title_th,
            title_en: new.title_en,
            body_th: new.body_th,
            body_en: new.body_en,
            send_at,
            status: BroadcastStatus::Scheduled,
            expanded_until: None,
            targeted_users: 0,
            created_at: now,
            finished_at: None,
        };
        broadcasts::insert(conn, &broadcast)?;
        let center = match &audience {
            Audience::Session(id) => course_sessions::find(conn, id)?.map(|s| s.center_id),
            Audience::Center(id) => Some(id.clone()),
            _ => None,
        };
        audit::record(
            conn,
            &actor.id,
            "broadcast_created",
            Some(&broadcast.id),
            center.as_deref(),
        )?;
        if let Some(retry) = retry {
            idempotency::store(
                conn,
                &actor.id,
                &retry.key,
                &retry.fingerprint,
                201,
                &broadcast.id,
            )?;
        }
        tracing::info!(broadcast = %broadcast.id, by = %actor.id, audience = %audience.kind(), "broadcast created");
        Ok(broadcast)
    });
    match (answer, retry) {
        // The same form sent twice at once (PostgreSQL runs both transactions; the
        // second's key clashes): the first one's broadcast is the answer.
        (Err(e), Some(_)) => earlier_broadcast(conn, actor, retry)?.ok_or(e),
        (answer, _) => answer,
    }
}

/// The broadcast an earlier sending of the same form scheduled.
fn earlier_broadcast(
    conn: &mut DbConn,
    actor: &Actor,
    retry: Option<&Retry>,
) -> Result<Option<Broadcast>, ApiError> {
    let Some(retry) = retry else { return Ok(None) };
    match idempotency::lookup(conn, &actor.id, &retry.key, &retry.fingerprint)? {
        Earlier::Answer { body, .. } => Ok(broadcasts::find(conn, &body)?),
        _ => Ok(None),
    }
}

/// Cancels a broadcast that has not started sending.
pub fn cancel(conn: &mut DbConn, actor: &Actor, broadcast_id: &str) -> Result<Broadcast, ApiError> {
    actor.ensure_admin()?;
    db::write_transaction(conn, |conn| {
        let (broadcast, cancelled) =
            broadcasts::cancel(conn, broadcast_id)?.ok_or(ApiError::NotFound)?;
        if !cancelled {
            return Err(ApiError::Conflict(Code::BroadcastAlreadySent));
        }
        audit::record(
            conn,
            &actor.id,
            "broadcast_cancelled",
            Some(broadcast_id),
            None,
        )?;
        Ok(broadcast)
    })
}
