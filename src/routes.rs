//! Every route of the service, in the same order as `openapi.yaml`. The same table also
//! produces `ROUTES`, which a test compares with the spec so the two cannot drift apart.

use actix_web::{web, HttpResponse};

use crate::error::ApiError;
use crate::handlers::{admin_users, auth, me, system};

/// Declares routes once: registers them (one resource per path, so a wrong method is a
/// 405 rather than a 404) and lists them for the spec test.
macro_rules! route_table {
    ($( $path:literal => { $( $method:ident : $handler:path ),+ $(,)? } ),* $(,)?) => {
        /// Every served (method, path, handler), for comparison with `openapi.yaml`, whose
        /// operationIds are the handler names.
        pub const ROUTES: &[(&str, &str, &str)] =
            &[ $( $( (route_table!(@upper $method), $path, stringify!($handler)), )+ )* ];

        fn register(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        $( .route(web::$method().to($handler)) )+
                        .default_service(web::to(method_not_allowed)),
                );
            )*
        }
    };
    (@upper get) => { "GET" };
    (@upper post) => { "POST" };
    (@upper put) => { "PUT" };
    (@upper patch) => { "PATCH" };
    (@upper delete) => { "DELETE" };
}

/// Prefix of the versioned API.
pub const API_PREFIX: &str = "/api/v1";

route_table! {
    "/api/v1/auth/register" => { post: auth::register },
    "/api/v1/auth/login" => { post: auth::login },
    "/api/v1/auth/refresh" => { post: auth::refresh_tokens },
    "/api/v1/auth/logout" => { post: auth::logout },
    "/api/v1/me" => { get: me::get_me, patch: me::update_me },
    "/api/v1/admin/users" => { get: admin_users::list_users },
    "/api/v1/admin/users/{id}" => { patch: admin_users::update_user },
    "/health/live" => { get: system::health_live },
    "/health/ready" => { get: system::health_ready },
    "/metrics" => { get: system::get_metrics },
    "/openapi.yaml" => { get: system::get_openapi },
    "/docs" => { get: system::get_docs },
    "/docs/{file:.*}" => { get: system::get_docs_file },
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// Registers every route and the problem+json answer for unknown paths.
pub fn configure(cfg: &mut web::ServiceConfig) {
    register(cfg);
    cfg.default_service(web::to(route_not_found));
}
