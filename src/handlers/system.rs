//! Health checks, metrics, and the API's own documentation.

use std::sync::{Arc, OnceLock};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa_swagger_ui::Config;

use crate::db::{self, DbPool};
use crate::error::{ApiError, ApiResult};
use crate::http::metrics::Metrics;

use super::with_db;

/// The contract, compiled into the binary so what is served is what was tested.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// `GET /health/live`: the process is up and answering.
pub async fn health_live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// `GET /health/ready`: the database answers, within two seconds.
pub async fn health_ready(pool: web::Data<DbPool>) -> ApiResult<HttpResponse> {
    let check = with_db(&pool, |conn| {
        db::ping(conn).map_err(|e| ApiError::Unavailable(format!("database: {e}")))
    });
    match tokio::time::timeout(std::time::Duration::from_secs(2), check).await {
        Ok(Ok(())) => {
            Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ok", "database": "ok" })))
        }
        Ok(Err(e)) => Err(ApiError::Unavailable(e.to_string())),
        Err(_) => Err(ApiError::Unavailable(
            "database did not answer within 2 s".into(),
        )),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn get_metrics(
    metrics: web::Data<Metrics>,
    pool: web::Data<DbPool>,
) -> ApiResult<HttpResponse> {
    let (depth, oldest) = with_db(&pool, |conn| Ok(crate::push::queue::depth(conn)?)).await?;
    metrics.set_queue(depth, oldest);
    let text = metrics.render(&pool)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

/// `GET /openapi.yaml`
pub async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI_YAML)
}

/// `GET /docs`: Swagger UI, served from files compiled into the binary (works offline).
pub async fn get_docs() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// `GET /docs/{file}`: the Swagger UI page and its assets.
pub async fn get_docs_file(path: web::Path<String>) -> ApiResult<HttpResponse> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    // No validator: Swagger UI would otherwise call validator.swagger.io from the browser.
    let config =
        CONFIG.get_or_init(|| Arc::new(Config::new(["/openapi.yaml"]).validator_url("none")));
    match utoipa_swagger_ui::serve(&path, config.clone()) {
        Ok(Some(file)) => {
            let mut response = HttpResponse::Ok();
            response.content_type(file.content_type);
            response.insert_header((header::CACHE_CONTROL, "public, max-age=3600"));
            if file.gzpipped {
                response.insert_header((header::CONTENT_ENCODING, "gzip"));
            }
            Ok(response.body(file.bytes.into_owned()))
        }
        Ok(None) => Err(ApiError::RouteNotFound),
        Err(e) => Err(ApiError::Internal(anyhow::anyhow!("swagger ui: {e}"))),
    }
}
