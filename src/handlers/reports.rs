//! Admin reports.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::AdminUser;
use crate::db::DbPool;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::QueryParams;
use crate::i18n::Code;
use crate::models::reports::{self, GroupBy};

use super::fields::{accept, parse_time};
use super::with_db;

#[derive(Debug, Deserialize)]
pub struct EnrollmentReportQuery {
    group_by: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /admin/reports/enrollments?group_by=province|center|course&from&to`: counts for
/// sessions starting in `[from, to)`.
pub async fn enrollment_report(
    _admin: AdminUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<EnrollmentReportQuery>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let group_by = accept(
        &mut errors,
        "group_by",
        GroupBy::parse(query.group_by.as_deref().unwrap_or("province")).ok_or(Code::InvalidValue),
    );
    let from = query
        .from
        .as_deref()
        .map(|t| accept(&mut errors, "from", parse_time(t)));
    let to = query
        .to
        .as_deref()
        .map(|t| accept(&mut errors, "to", parse_time(t)));
    let (Some(group_by), true) = (group_by, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let (from, to) = (from.flatten(), to.flatten());
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err(ApiError::field("to", Code::EndsBeforeStart));
        }
    }
    let items = with_db(&pool, move |conn| {
        Ok(reports::enrollment_rows(conn, group_by, from, to)?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({ "group_by": group_by.as_str(), "items": items })))
}

#[derive(Debug, Deserialize)]
pub struct ReachReportQuery {
    group_by: Option<String>,
}

/// `GET /admin/reports/reach?group_by=province|center`: per group, the residents with a
/// confirmed upcoming seat reachable by push, by LINE only, by SMS only, and not at all.
pub async fn reach_report(
    _admin: AdminUser,
    pool: web::Data<DbPool>,
    QueryParams(query): QueryParams<ReachReportQuery>,
) -> ApiResult<HttpResponse> {
    let group_by = match GroupBy::parse(query.group_by.as_deref().unwrap_or("province")) {
        Some(g @ (GroupBy::Province | GroupBy::Center)) => g,
        _ => return Err(ApiError::field("group_by", Code::InvalidValue)),
    };
    let items = with_db(&pool, move |conn| {
        Ok(reports::reach_rows(conn, group_by, crate::db::now())?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({ "group_by": group_by.as_str(), "items": items })))
}
