//! Broadcasts: who may send to whom, previews, scheduling, cancelling, delivery figures.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{field_errors, problem_code, spawn_push_app};

fn broadcast(kind: &str, value: Option<&str>) -> Value {
    json!({
        "audience": { "kind": kind, "value": value },
        "title": { "th": "ระวังมิจฉาชีพ", "en": "Beware of scams" },
        "body": { "th": "อย่าโอนเงินให้คนแปลกหน้า", "en": "Never send money to strangers." }
    })
}

#[tokio::test]
async fn an_admin_reaches_a_province_in_each_persons_language_and_reads_the_figures() {
    let rig = spawn_push_app(&[]).await;
    let app = &rig.app;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 10)
        .await;
    // In Chiang Mai: one by profile (English), one by enrollment at a center there.
    let by_profile = app.resident().await;
    app.patch_json(
        "/api/v1/me",
        &json!({ "province": "เชียงใหม่", "locale": "en" }),
        Some(&by_profile.access),
    )
    .await;
    rig.device(&by_profile, "profile-phone").await;
    let by_enrollment = app.resident().await;
    rig.device(&by_enrollment, "learner-phone").await;
    rig.device(&by_enrollment, "learner-tablet").await;
    app.enroll(&session, &by_enrollment.access).await;
    // Elsewhere.
    let outsider = app.resident().await;
    app.patch_json(
        "/api/v1/me",
        &json!({ "province": "Loei" }),
        Some(&outsider.access),
    )
    .await;
    rig.device(&outsider, "outsider-phone").await;

    let preview: Value = app
        .post_json(
            "/api/v1/admin/broadcasts/preview",
            &json!({ "audience": { "kind": "province", "value": "Chiang Mai" } }),
            Some(&net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview, json!({ "users": 2, "devices": 3 }));

    let res = app
        .post_json(
            "/api/v1/admin/broadcasts",
            &broadcast("province", Some("chiang mai")),
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(
        created["audience"],
        json!({ "kind": "province", "value": "เชียงใหม่" })
    );
    let id = created["id"].as_str().unwrap().to_string();

    rig.step_until("the broadcast", |r| {
        r.fake
            .state
            .received()
            .iter()
            .filter(|m| m.data["kind"] == "broadcast")
            .count()
            == 3
    })
    .await;
    let received = rig.fake.state.received();
    let to = |token: &str| received.iter().find(|m| m.token == token).cloned().unwrap();
    assert_eq!(to("profile-phone").title, "Beware of scams");
    assert_eq!(to("learner-phone").title, "ระวังมิจฉาชีพ");
    assert!(received.iter().all(|m| m.token != "outsider-phone"));

    rig.step().await;
    let one: Value = app
        .get(
            &format!("/api/v1/admin/broadcasts/{id}"),
            Some(&net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            one["targeted"].as_i64(),
            one["devices"].as_i64(),
            one["sent"].as_i64(),
            one["pending"].as_i64(),
            one["failed"].as_i64()
        ),
        (Some(2), Some(3), Some(3), Some(0), Some(0))
    );
    assert_eq!(one["status"], "sent");
    let inbox: Value = app
        .get("/api/v1/me/notifications", Some(&by_enrollment.access))
        .await
        .json()
        .await
        .unwrap();
    assert!(inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["kind"] == "broadcast"));
    let list: Value = app
        .get("/api/v1/admin/broadcasts", Some(&net.admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["id"], id.as_str());
}

#[tokio::test]
async fn a_scheduled_broadcast_waits_and_can_be_cancelled_until_it_starts() {
    let rig = spawn_push_app(&[]).await;
    let app = &rig.app;
    let admin = app.user_with_role("admin").await;
    let resident = app.resident().await;
    rig.device(&resident, "phone").await;
    let mut later = broadcast("all", None);
    later["send_at"] = json!(crate::helpers::hours_from_now(5));
    let created: Value = app
        .post_json("/api/v1/admin/broadcasts", &later, Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["status"], "scheduled");
    let step = rig.step().await;
    assert_eq!(step.expanded, 0, "not due yet");

    let res = app
        .post(
            &format!("/api/v1/admin/broadcasts/{id}/cancel"),
            Some(&admin.access),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "cancelled");
    let res = app
        .post(
            &format!("/api/v1/admin/broadcasts/{id}/cancel"),
            Some(&admin.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "broadcast_already_sent");

    // One sent now cannot be cancelled once it has started.
    let now: Value = app
        .post_json(
            "/api/v1/admin/broadcasts",
            &broadcast("all", None),
            Some(&admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    rig.step_until("the broadcast", |r| r.fake.state.received_count() == 1)
        .await;
    let res = app
        .post(
            &format!(
                "/api/v1/admin/broadcasts/{}/cancel",
                now["id"].as_str().unwrap()
            ),
            Some(&admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn staff_reach_only_their_own_sessions_and_residents_nobody() {
    let rig = spawn_push_app(&[]).await;
    let app = &rig.app;
    let net = app.network().await;
    let mine = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 10)
        .await;
    let theirs = app
        .session(
            &net.other_staff.access,
            &net.other_center_id,
            &net.course_id,
            10,
        )
        .await;
    let resident = app.resident().await;
    app.enroll(&mine, &resident.access).await;

    let send = |token: &str, body: Value| {
        let app = &rig.app;
        let token = token.to_string();
        async move {
            app.post_json("/api/v1/admin/broadcasts", &body, Some(&token))
                .await
                .status()
        }
    };
    assert_eq!(
        send(&net.staff.access, broadcast("session", Some(&mine))).await,
        StatusCode::CREATED
    );
    assert_eq!(
        send(&net.staff.access, broadcast("session", Some(&theirs))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&net.staff.access, broadcast("center", Some(&net.center_id))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&net.staff.access, broadcast("all", None)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&resident.access, broadcast("session", Some(&mine))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json("/api/v1/admin/broadcasts", &broadcast("all", None), None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    for path in ["/api/v1/admin/broadcasts".to_string()] {
        assert_eq!(
            app.get(&path, Some(&net.staff.access)).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get(&path, Some(&resident.access)).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    let preview = app
        .post_json(
            "/api/v1/admin/broadcasts/preview",
            &json!({ "audience": { "kind": "session", "value": mine } }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(preview.json::<Value>().await.unwrap()["users"], 1);
}

#[tokio::test]
async fn broadcasts_are_validated() {
    let rig = spawn_push_app(&[]).await;
    let app = &rig.app;
    let admin = app.user_with_role("admin").await;
    let cases = [
        (broadcast("province", None), "audience.value", "required"),
        (
            broadcast("province", Some("Atlantis")),
            "audience.value",
            "unknown_province",
        ),
        (
            broadcast("session", Some("nope")),
            "audience.value",
            "not_found",
        ),
        (broadcast("planet", None), "audience.kind", "invalid_value"),
    ];
    for (body, field, code) in cases {
        let res = app
            .post_json("/api/v1/admin/broadcasts", &body, Some(&admin.access))
            .await;
        assert_eq!(
            field_errors(res).await,
            vec![(field.to_string(), code.to_string())],
            "{body}"
        );
    }
    let mut long = broadcast("all", None);
    long["title"]["th"] = json!("ก".repeat(66));
    let res = app
        .post_json("/api/v1/admin/broadcasts", &long, Some(&admin.access))
        .await;
    assert_eq!(
        field_errors(res).await,
        vec![("title.th".to_string(), "too_long".to_string())]
    );
}

#[tokio::test]
async fn a_broadcast_held_by_quiet_hours_is_still_sending_with_the_people_waiting_and_until_when() {
    let rig = spawn_push_app(&[]).await;
    let app = &rig.app;
    let admin = app.user_with_role("admin").await;
    let awake = app.resident().await;
    rig.device(&awake, "awake-phone").await;
    let asleep = app.resident().await;
    rig.device(&asleep, "asleep-phone").await;
    app.quiet_until(&asleep, 2).await;
    let created: Value = app
        .post_json(
            "/api/v1/admin/broadcasts",
            &broadcast("all", None),
            Some(&admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    rig.step_until("the awake phone's push", |r| {
        r.fake
            .state
            .received()
            .iter()
            .any(|m| m.token == "awake-phone")
    })
    .await;
    rig.step().await;
    let one: Value = app
        .get(
            &format!("/api/v1/admin/broadcasts/{id}"),
            Some(&admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["status"], "sending", "{one}");
    assert_eq!(one["sent"], 1);
    assert_eq!(one["held"], 1);
    assert_eq!(one["pending"], 1, "the person asleep still waits");
    let until = chrono::DateTime::parse_from_rfc3339(one["held_until"].as_str().unwrap()).unwrap();
    let expected = chrono::Utc::now() + chrono::Duration::hours(2);
    assert!(
        (until.with_timezone(&chrono::Utc) - expected)
            .num_minutes()
            .abs()
            <= 1,
        "{one}"
    );
    let list: Value = app
        .get("/api/v1/admin/broadcasts", Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["status"], "sending");
    assert!(rig
        .fake
        .state
        .received()
        .iter()
        .all(|m| m.token != "asleep-phone"));
}
