//! Staff at the desk: enrolling walk-ins (by phone or account) and giving seats up for
//! people, through the same operations as the API's other enrollment routes.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{field_errors, problem_code, spawn_app, unique_phone, TestApp};

fn enrollments_path(session: &str) -> String {
    format!("/api/v1/sessions/{session}/enrollments")
}

/// The admin's view of the audit log's actions at a center.
async fn audit_actions(app: &TestApp, admin: &str, center: &str) -> Vec<String> {
    let log: Value = app
        .get(
            &format!("/api/v1/admin/audit?center_id={center}"),
            Some(admin),
        )
        .await
        .json()
        .await
        .unwrap();
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn staff_enroll_a_walk_in_by_phone_as_a_new_phone_only_resident() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    let phone = unique_phone();
    let users_before = app.count("users").await;
    let res = app
        .post_json(
            &enrollments_path(&session),
            &json!({ "phone": phone, "display_name": "ยายมา ใจดี" }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let enrollment: Value = res.json().await.unwrap();
    assert_eq!(enrollment["status"], "confirmed");
    assert_eq!(enrollment["session_id"], session.as_str());

    let roster: Value = app
        .get(&enrollments_path(&session), Some(&net.staff.access))
        .await
        .json()
        .await
        .unwrap();
    let line = &roster["items"][0];
    assert_eq!(line["user"]["display_name"], "ยายมา ใจดี");
    assert_eq!(
        line["user"]["phone"],
        format!("+66{}", &phone[1..]),
        "stored as E.164"
    );
    assert!(line["user"]["email"].is_null());

    // No password was set, so none signs in (a one-time code will).
    for password in ["", "password", "!no-password"] {
        let res = app.login(&phone, password).await;
        assert!(res.status().is_client_error(), "{password:?} signed in");
    }
    assert_eq!(app.count("users").await, users_before + 1);
    let actions = audit_actions(&app, &net.admin.access, &net.center_id).await;
    assert!(
        actions.iter().any(|a| a == "walk_in_enrolled"),
        "{actions:?}"
    );
    let by_staff: Value = app
        .get(
            &format!("/api/v1/admin/audit?actor_id={}", net.staff.user_id),
            Some(&net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        by_staff["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "account_created_at_desk"),
        "{by_staff}"
    );
}

#[tokio::test]
async fn a_known_phone_enrolls_that_account_and_keeps_its_name() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    let phone = unique_phone();
    let resident = TestApp::signed_in_from(
        app.register(json!({ "phone": phone, "password": "password-1", "display_name": "สมชาย" }))
            .await,
    )
    .await;
    let users_before = app.count("users").await;
    let res = app
        .post_json(
            &enrollments_path(&session),
            // The same number as people say it, with another name typed at the desk.
            &json!({ "phone": format!("+66 {}", &phone[1..]), "display_name": "คนอื่น" }),
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.count("users").await, users_before, "no second account");

    let me: Value = app
        .get("/api/v1/me", Some(&resident.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "สมชาย", "the name was not changed");
    let mine: Value = app
        .get("/api/v1/me/enrollments", Some(&resident.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["session"]["id"], session.as_str());
    assert_eq!(mine["items"][0]["status"], "confirmed");
}

#[tokio::test]
async fn walk_ins_are_refused_clearly_and_only_staff_of_the_center_may_add_them() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let resident = app.resident().await;
    let path = enrollments_path(&session);
    let by_id = json!({ "user_id": resident.user_id });

    // Staff of another center, and a resident naming someone else.
    let res = app
        .post_json(&path, &by_id, Some(&net.other_staff.access))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let other = app.resident().await;
    let res = app.post_json(&path, &by_id, Some(&other.access)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Staff must say whom.
    let res = app
        .post_json(&path, &json!({}), Some(&net.staff.access))
        .await;
    assert_eq!(
        field_errors(res).await,
        vec![("phone".into(), "required".into())]
    );
    let res = app
        .post_json(&path, &json!({ "phone": "12345" }), Some(&net.staff.access))
        .await;
    let mut errors = field_errors(res).await;
    errors.sort();
    assert_eq!(
        errors,
        vec![
            ("display_name".into(), "required".into()),
            ("phone".into(), "invalid_phone".into())
        ]
    );
    let res = app
        .post_json(
            &path,
            &json!({ "user_id": "no-such-person" }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(
        field_errors(res).await,
        vec![("user_id".into(), "not_found".into())]
    );
    let res = app
        .post_json(
            &path,
            &json!({ "user_id": resident.user_id, "phone": unique_phone() }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // By account: enrolled once; twice is the same 409 a resident gets.
    let res = app.post_json(&path, &by_id, Some(&net.staff.access)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app.post_json(&path, &by_id, Some(&net.staff.access)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(res).await, "already_enrolled");
    assert!(app.seat_violations(&session).await.is_empty());
}

#[tokio::test]
async fn staff_give_a_seat_up_the_waitlist_moves_up_and_both_people_are_told() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 1)
        .await;
    let (seated, waiting) = (app.resident().await, app.resident().await);
    let seat: Value = app
        .enroll(&session, &seated.access)
        .await
        .json()
        .await
        .unwrap();
    app.enroll(&session, &waiting.access).await;
    let path = format!("/api/v1/enrollments/{}", seat["id"].as_str().unwrap());

    for refused in [&net.other_staff.access, &seated.access, &waiting.access] {
        let res = app.delete(&path, Some(refused)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let res = app.delete(&path, Some(&net.staff.access)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let released: Value = res.json().await.unwrap();
    assert_eq!(released["status"], "cancelled");
    let again = app.delete(&path, Some(&net.staff.access)).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(again).await, "enrollment_cancelled");

    let mine: Value = app
        .get("/api/v1/me/enrollments", Some(&waiting.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["status"], "confirmed", "promoted");
    let inbox = app.delivered_inbox(&seated.access).await;
    let told = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "seat_released")
        .unwrap_or_else(|| panic!("no seat_released notice: {inbox}"));
    assert_eq!(told["data"]["session_id"], session.as_str());
    assert!(app
        .notification_kinds(&waiting.user_id)
        .await
        .contains(&"waitlist_promoted".to_string()));
    assert!(app.seat_violations(&session).await.is_empty());
    let actions = audit_actions(&app, &net.admin.access, &net.center_id).await;
    assert!(actions.iter().any(|a| a == "seat_released"), "{actions:?}");
}

#[tokio::test]
async fn a_double_tapped_walk_in_enrolls_once_and_replays_the_answer() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 3)
        .await;
    let body = json!({ "phone": unique_phone(), "display_name": "ลุงเปี๊ยก" });
    let send = || {
        app.client
            .post(app.url(&enrollments_path(&session)))
            .bearer_auth(&net.staff.access)
            .header("Idempotency-Key", "desk-tap-1")
            .json(&body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let second = send().await.unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    let roster: Value = app
        .get(&enrollments_path(&session), Some(&net.staff.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(roster["items"].as_array().unwrap().len(), 1);
}
