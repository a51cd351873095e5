//! Every route of the service, in the same order as `openapi.yaml`. The same table also
//! produces `ROUTES`, which a test compares with the spec so the two cannot drift apart.

use actix_web::{web, HttpResponse};

use crate::error::ApiError;
use crate::handlers::{
    admin_users, attendance, auth, broadcasts, centers, certificates, course_sessions, courses,
    devices, enrollments, line, me, otp, privacy, reports, system,
};

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
                        $( .route(route_table!(@route $method).to($handler)) )+
                        .default_service(web::to(|| method_not_allowed(
                            concat!($( route_table!(@allow $method), ", " ),+)
                        ))),
                );
            )*
        }
    };
    // Every GET answers HEAD too: the same headers, no body (actix leaves it out).
    (@route get) => { get_or_head() };
    (@route $method:ident) => { web::$method() };
    (@allow get) => { "GET, HEAD" };
    (@allow $method:ident) => { route_table!(@upper $method) };
    (@upper get) => { "GET" };
    (@upper post) => { "POST" };
    (@upper put) => { "PUT" };
    (@upper patch) => { "PATCH" };
    (@upper delete) => { "DELETE" };
}

/// A route answering GET and HEAD.
pub fn get_or_head() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

/// Prefix of the versioned API.
pub const API_PREFIX: &str = "/api/v1";

route_table! {
    "/api/v1/auth/register" => { post: auth::register },
    "/api/v1/auth/login" => { post: auth::login },
    "/api/v1/auth/refresh" => { post: auth::refresh_tokens },
    "/api/v1/auth/logout" => { post: auth::logout },
    "/api/v1/auth/otp/request" => { post: otp::request_otp },
    "/api/v1/auth/otp/verify" => { post: otp::verify_otp },
    "/api/v1/me" => { get: me::get_me, patch: me::update_me, delete: privacy::delete_me },
    "/api/v1/me/export" => { get: privacy::export_me },
    "/api/v1/me/line/link" => { post: line::link_line },
    "/api/v1/me/line" => { delete: line::unlink_line },
    "/api/v1/me/devices" => { post: devices::register_device },
    "/api/v1/me/devices/{token}" => { delete: devices::forget_device },
    "/api/v1/me/notifications" => { get: devices::list_notifications },
    "/api/v1/me/notifications/{id}/read" => { post: devices::read_notification },
    "/api/v1/me/enrollments" => { get: enrollments::list_my_enrollments },
    "/api/v1/me/enrollments/{id}" => { delete: enrollments::cancel_my_enrollment },
    "/api/v1/me/enrollments/{id}/ticket" => { get: attendance::get_ticket },
    "/api/v1/me/enrollments/{id}/confirm" => { post: attendance::confirm_my_enrollment },
    "/api/v1/me/enrollments/{id}/release" => { post: attendance::release_my_enrollment },
    "/api/v1/me/enrollments/{id}/calendar.ics" => { get: attendance::get_enrollment_calendar },
    "/api/v1/me/calendar-feed" => { post: attendance::create_calendar_feed },
    "/api/v1/me/certificates" => { get: attendance::list_my_certificates },
    "/api/v1/centers" => { get: centers::list_centers, post: centers::create_center },
    "/api/v1/centers/{id}" => { get: centers::get_center, patch: centers::update_center, delete: centers::delete_center },
    "/api/v1/centers/{id}/staff/{user_id}" => { put: centers::assign_staff, delete: centers::unassign_staff },
    "/api/v1/centers/{id}/sessions" => { post: course_sessions::create_session },
    "/api/v1/courses" => { get: courses::list_courses, post: courses::create_course },
    "/api/v1/courses/{id}" => { get: courses::get_course, patch: courses::update_course },
    "/api/v1/sessions" => { get: course_sessions::list_sessions },
    "/api/v1/sessions/{id}" => { get: course_sessions::get_session, patch: course_sessions::update_session },
    "/api/v1/sessions/{id}/cancel" => { post: course_sessions::cancel_session },
    "/api/v1/sessions/{id}/enrollments" => { get: enrollments::list_session_enrollments, post: enrollments::enroll },
    "/api/v1/enrollments/{id}" => { patch: enrollments::update_enrollment, delete: enrollments::cancel_enrollment },
    "/api/v1/checkins" => { post: attendance::check_in },
    "/api/v1/admin/broadcasts/preview" => { post: broadcasts::preview_broadcast },
    "/api/v1/admin/broadcasts" => { get: broadcasts::list_broadcasts, post: broadcasts::create_broadcast },
    "/api/v1/admin/broadcasts/{id}" => { get: broadcasts::get_broadcast },
    "/api/v1/admin/broadcasts/{id}/cancel" => { post: broadcasts::cancel_broadcast },
    "/api/v1/admin/push/failures" => { get: broadcasts::list_push_failures },
    "/api/v1/admin/users" => { get: admin_users::list_users },
    "/api/v1/admin/users/{id}" => { patch: admin_users::update_user },
    "/api/v1/admin/users/{id}/end-sign-ins" => { post: admin_users::end_user_sign_ins },
    "/api/v1/admin/audit" => { get: admin_users::list_audit },
    "/api/v1/admin/reports/enrollments" => { get: reports::enrollment_report },
    "/api/v1/admin/reports/reach" => { get: reports::reach_report },
    "/webhooks/line" => { post: line::line_webhook },
    "/calendar/{token}.ics" => { get: attendance::get_calendar_feed },
    "/verify/{code}" => { get: certificates::verify_certificate },
    "/certificates/{code}" => { get: certificates::print_certificate },
    "/fonts/{file}" => { get: certificates::get_font },
    "/health/live" => { get: system::health_live },
    "/health/ready" => { get: system::health_ready },
    "/metrics" => { get: system::get_metrics },
    "/openapi.yaml" => { get: system::get_openapi },
    "/docs" => { get: system::get_docs },
    "/docs/{file:.*}" => { get: system::get_docs_file },
}

/// 405 with the `Allow` header RFC 9110 requires (`methods` as the table lists them, each
/// followed by ", ").
async fn method_not_allowed(methods: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed(
        methods.trim_end_matches([',', ' ']),
    ))
}

async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// Registers every route of the API, the console's pages, and the problem+json answer
/// for unknown paths.
pub fn configure(cfg: &mut web::ServiceConfig) {
    register(cfg);
    crate::console::configure(cfg);
    cfg.default_service(web::to(route_not_found));
}
