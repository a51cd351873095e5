//! Whatever a client sends, the answer is a clear 4xx problem, never a 500, and nothing
//! already stored is lost.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{field_errors, problem_code, spawn_app};

async fn post_raw(
    app: &crate::helpers::TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn unreadable_bodies_get_their_own_codes() {
    let app = spawn_app().await;
    let path = "/api/v1/auth/register";
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "application/json",
            b"{\"phone\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "application/json",
            b"".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "application/json",
            b"{\"display_name\": \"\xff\xfe\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
        ),
        (
            "text/plain",
            b"{}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "application/x-www-form-urlencoded",
            b"phone=1".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "application/json",
            vec![b' '; 64 * 1024 + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let res = post_raw(&app, path, content_type, body).await;
        assert_eq!(res.status(), status, "{code}");
        assert_eq!(problem_code(res).await, code);
    }
    // JSON with a charset parameter is still JSON.
    let res = post_raw(
        &app,
        path,
        "application/json; charset=utf-8",
        br#"{"phone":"0812345678","password":"password-1","display_name":"X"}"#.to_vec(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_huge_body_sent_in_chunks_without_length_is_refused() {
    let app = spawn_app().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..100).map(|_| Ok(vec![b' '; 8 * 1024])).collect();
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(problem_code(res).await, "payload_too_large");
}

#[tokio::test]
async fn wrong_types_missing_and_unknown_fields_name_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "phone": 812345678, "password": "password-1", "display_name": "X" }),
            "phone",
            "invalid_type",
        ),
        (
            json!({ "phone": "0812345678", "display_name": "X" }),
            "password",
            "required",
        ),
        (
            json!({ "phone": "0812345678", "password": "password-1", "display_name": "X", "role": "admin" }),
            "role",
            "unknown_field",
        ),
        (
            json!({ "phone": "0812345678", "password": ["a"], "display_name": "X" }),
            "password",
            "invalid_type",
        ),
        (json!([1, 2, 3]), "body", "invalid_type"),
        (json!("hello"), "body", "invalid_type"),
    ];
    for (body, field, code) in cases {
        let res = app.register(body.clone()).await;
        let errors = field_errors(res).await;
        assert_eq!(
            errors,
            vec![(field.to_string(), code.to_string())],
            "{body}"
        );
    }
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn bad_input_loses_nothing_already_stored() {
    let app = spawn_app().await;
    let session = app.resident().await;
    app.patch_json(
        "/api/v1/me",
        &json!({ "display_name": "ก่อน" }),
        Some(&session.access),
    )
    .await;
    let before: Value = app
        .get("/api/v1/me", Some(&session.access))
        .await
        .json()
        .await
        .unwrap();
    let bodies: Vec<Vec<u8>> = vec![
        b"{\"display_name\": ".to_vec(),
        b"{\"display_name\": \"\xc3\x28\"}".to_vec(),
        br#"{"display_name": "after", "home_lat": 200, "home_lon": 0}"#.to_vec(),
        br#"{"display_name": "after", "role": "admin"}"#.to_vec(),
        vec![b'{'; 70_000],
    ];
    for body in bodies {
        let res = app
            .client
            .patch(app.url("/api/v1/me"))
            .bearer_auth(&session.access)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    let after: Value = app
        .get("/api/v1/me", Some(&session.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn messages_follow_accept_language_and_default_to_thai() {
    let app = spawn_app().await;
    let thai: Value = app
        .login("0800000000", "password-1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(thai["title"], "เบอร์โทร อีเมล หรือรหัสผ่านไม่ถูกต้อง");
    let res = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("accept-language", "en-GB,en;q=0.9")
        .json(&json!({ "phone": "abc", "password": "password-1", "display_name": "X" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-language"], "en");
    let english: Value = res.json().await.unwrap();
    assert_eq!(
        english["errors"][0]["message"],
        "Not a valid phone number, e.g. 0812345678."
    );
    assert_eq!(english["title"], "Some fields are not valid.");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem_code(res).await, "route_not_found");
    let res = app
        .client
        .delete(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        res.headers()["allow"],
        "POST",
        "RFC 9110: a 405 says what is allowed"
    );
    assert_eq!(problem_code(res).await, "method_not_allowed");
    let res = app.client.put(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD, PATCH, DELETE");
    // A path with bytes that are not UTF-8 once decoded.
    let res = app.get("/api/v1/admin/users/%FF%FE", None).await;
    assert!(res.status().is_client_error());
}

/// `null` is not "left out": a field the spec does not mark nullable refuses it, so a
/// client bug that sends `null` is told rather than silently ignored.
#[tokio::test]
async fn null_for_a_field_that_cannot_be_null_is_refused() {
    let app = spawn_app().await;
    let resident = app.resident().await;
    for field in ["display_name", "locale", "reminders_enabled"] {
        let res = app
            .patch_json(
                "/api/v1/me",
                &json!({ field: null }),
                Some(&resident.access),
            )
            .await;
        assert_eq!(
            crate::helpers::field_errors(res).await,
            vec![(field.to_string(), "invalid_type".to_string())]
        );
    }
    // Nullable fields still clear with null.
    let res = app
        .patch_json(
            "/api/v1/me",
            &json!({ "province": null }),
            Some(&resident.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_empty_cursor_is_the_first_page_on_every_list() {
    let app = spawn_app().await;
    let net = app.network().await;
    app.session(&net.staff.access, &net.center_id, &net.course_id, 3)
        .await;
    let resident = app.resident().await;
    for (path, token) in [
        ("/api/v1/centers", None),
        ("/api/v1/courses", None),
        ("/api/v1/sessions", None),
        ("/api/v1/me/enrollments", Some(resident.access.as_str())),
        ("/api/v1/me/notifications", Some(resident.access.as_str())),
        ("/api/v1/admin/users", Some(net.admin.access.as_str())),
        ("/api/v1/admin/broadcasts", Some(net.admin.access.as_str())),
        ("/api/v1/admin/audit", Some(net.admin.access.as_str())),
    ] {
        let first: serde_json::Value = app.get(path, token).await.json().await.unwrap();
        for empty in ["cursor=", "cursor=&limit=50", "limit=50&cursor=%20"] {
            let res = app.get(&format!("{path}?{empty}"), token).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}?{empty}");
            let page: serde_json::Value = res.json().await.unwrap();
            assert_eq!(page["items"], first["items"], "{path}?{empty}");
        }
    }
    // A cursor that is not one is still refused.
    let res = app.get("/api/v1/centers?cursor=garbage!", None).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
