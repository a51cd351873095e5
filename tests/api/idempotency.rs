//! Safe retries for every unsafe request: the same `Idempotency-Key` and request replays
//! the first answer, another request with the key is 422, concurrent ones have one effect,
//! keys belong to their caller, and answers that are not final give the key back.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem_code, spawn_app, unique_phone, TestApp};

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
    key: &str,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("Idempotency-Key", key);
    if let Some(body) = body {
        req = req.json(body);
    }
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

async fn answer(res: reqwest::Response) -> (StatusCode, bool, String) {
    let replayed = res.headers().get("idempotent-replayed").is_some();
    (res.status(), replayed, res.text().await.unwrap())
}

fn broadcast(title: &str) -> Value {
    json!({
        "audience": { "kind": "all" },
        "title": { "th": title, "en": title },
        "body": { "th": "ข้อความ", "en": "Message" },
    })
}

async fn broadcasts(app: &TestApp, admin: &str) -> usize {
    let list: Value = app
        .get("/api/v1/admin/broadcasts", Some(admin))
        .await
        .json()
        .await
        .unwrap();
    list["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_broadcast_sent_twice_with_one_key_goes_out_once() {
    let app = spawn_app().await;
    let admin = app.user_with_role("admin").await;
    let body = broadcast("ประกาศ");
    let path = "/api/v1/admin/broadcasts";
    let first = answer(
        send(
            &app,
            Method::POST,
            path,
            Some(&body),
            Some(&admin.access),
            "b-1",
        )
        .await,
    )
    .await;
    let again = answer(
        send(
            &app,
            Method::POST,
            path,
            Some(&body),
            Some(&admin.access),
            "b-1",
        )
        .await,
    )
    .await;
    assert_eq!(first.0, StatusCode::CREATED);
    assert!(!first.1);
    assert_eq!((again.0, again.1), (StatusCode::CREATED, true), "replayed");
    assert_eq!(again.2, first.2, "the same body");
    assert_eq!(broadcasts(&app, &admin.access).await, 1);

    // The key on another request is refused, and changes nothing.
    let other = broadcast("อีกเรื่อง");
    let res = send(
        &app,
        Method::POST,
        path,
        Some(&other),
        Some(&admin.access),
        "b-1",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_code(res).await, "idempotency_key_reused");
    assert_eq!(broadcasts(&app, &admin.access).await, 1);

    // Keys belong to their caller: another admin's same key is their own request.
    let other_admin = app.user_with_role("admin").await;
    let res = send(
        &app,
        Method::POST,
        path,
        Some(&body),
        Some(&other_admin.access),
        "b-1",
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(broadcasts(&app, &admin.access).await, 2);
}

#[tokio::test]
async fn simultaneous_requests_with_one_key_have_one_effect_and_one_answer() {
    let app = spawn_app().await;
    let admin = app.user_with_role("admin").await;
    let body = broadcast("พร้อมกัน");
    let tries = (0..8).map(|_| {
        send(
            &app,
            Method::POST,
            "/api/v1/admin/broadcasts",
            Some(&body),
            Some(&admin.access),
            "same-moment",
        )
    });
    let answers: Vec<(StatusCode, bool, String)> = futures_util::future::join_all(
        futures_util::future::join_all(tries)
            .await
            .into_iter()
            .map(answer),
    )
    .await;
    assert!(
        answers.iter().all(|a| a.0 == StatusCode::CREATED),
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|a| !a.1).count(),
        1,
        "one ran, the rest replayed"
    );
    assert!(answers.iter().all(|a| a.2 == answers[0].2), "one answer");
    assert_eq!(broadcasts(&app, &admin.access).await, 1);
}

#[tokio::test]
async fn a_retried_sign_up_gets_its_account_back_not_409() {
    let app = spawn_app().await;
    let phone = unique_phone();
    let body = json!({ "phone": phone, "password": "password-123", "display_name": "สมหมาย" });
    let path = "/api/v1/auth/register";
    let first = answer(send(&app, Method::POST, path, Some(&body), None, "signup-1").await).await;
    let again = answer(send(&app, Method::POST, path, Some(&body), None, "signup-1").await).await;
    assert_eq!(first.0, StatusCode::CREATED);
    assert_eq!((again.0, again.1), (StatusCode::CREATED, true));
    let (a, b): (Value, Value) = (
        serde_json::from_str(&first.2).unwrap(),
        serde_json::from_str(&again.2).unwrap(),
    );
    assert_eq!(a["user"]["id"], b["user"]["id"]);
    assert_eq!(app.count("users").await, 1);
    // Without the key, the phone is taken, as it should be.
    let res = app.register(body).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_retried_cancel_answers_as_the_first_did() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 3)
        .await;
    let resident = app.resident().await;
    let enrolled: Value = app
        .enroll(&session, &resident.access)
        .await
        .json()
        .await
        .unwrap();
    let path = format!(
        "/api/v1/me/enrollments/{}",
        enrolled["id"].as_str().unwrap()
    );
    let first = answer(
        send(
            &app,
            Method::DELETE,
            &path,
            None,
            Some(&resident.access),
            "cancel-1",
        )
        .await,
    )
    .await;
    let again = answer(
        send(
            &app,
            Method::DELETE,
            &path,
            None,
            Some(&resident.access),
            "cancel-1",
        )
        .await,
    )
    .await;
    assert!(first.0.is_success(), "{first:?}");
    assert_eq!((again.0, again.1, &again.2), (first.0, true, &first.2));
    // A new key is a new request: the enrollment is gone already.
    let res = send(
        &app,
        Method::DELETE,
        &path,
        None,
        Some(&resident.access),
        "cancel-2",
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // PATCH, and a refusal, are replayed the same way.
    let change = json!({ "display_name": "ชื่อใหม่" });
    let first = answer(
        send(
            &app,
            Method::PATCH,
            "/api/v1/me",
            Some(&change),
            Some(&resident.access),
            "me-1",
        )
        .await,
    )
    .await;
    let again = answer(
        send(
            &app,
            Method::PATCH,
            "/api/v1/me",
            Some(&change),
            Some(&resident.access),
            "me-1",
        )
        .await,
    )
    .await;
    assert_eq!(
        (first.0, again.0, again.1),
        (StatusCode::OK, StatusCode::OK, true)
    );
    let bad = json!({ "display_name": "" });
    let first = answer(
        send(
            &app,
            Method::PATCH,
            "/api/v1/me",
            Some(&bad),
            Some(&resident.access),
            "me-2",
        )
        .await,
    )
    .await;
    let again = answer(
        send(
            &app,
            Method::PATCH,
            "/api/v1/me",
            Some(&bad),
            Some(&resident.access),
            "me-2",
        )
        .await,
    )
    .await;
    assert_eq!(first.0, StatusCode::BAD_REQUEST);
    assert_eq!((again.0, again.1, &again.2), (first.0, true, &first.2));
    let problem: Value = serde_json::from_str(&again.2).unwrap();
    assert_eq!(problem["code"], "validation_failed");
}

#[tokio::test]
async fn an_answer_that_is_not_final_gives_the_key_back() {
    let app = spawn_app().await;
    let admin = app.user_with_role("admin").await;
    let body = broadcast("ลองใหม่");
    let path = "/api/v1/admin/broadcasts";
    // Not signed in (an expired token, say): 401, and the key stays free.
    let res = send(
        &app,
        Method::POST,
        path,
        Some(&body),
        Some("not-a-token"),
        "k-401",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = send(&app, Method::POST, path, Some(&body), None, "k-401").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Signed in, the same key runs the request.
    let res = send(
        &app,
        Method::POST,
        path,
        Some(&body),
        Some(&admin.access),
        "k-401",
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers().get("idempotent-replayed").is_none());
    // A key that is not one is refused before anything runs.
    let res = send(
        &app,
        Method::POST,
        path,
        Some(&body),
        Some(&admin.access),
        "bad key ก",
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(broadcasts(&app, &admin.access).await, 1);
    // Reads ignore the header.
    let res = app
        .client
        .get(app.url("/api/v1/centers"))
        .header("Idempotency-Key", "k-401")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
