//! Enrolling, the waitlist, cancelling, rosters, attendance, idempotent retries, reports.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem_code, spawn_app};

#[tokio::test]
async fn a_full_session_waitlists_and_a_cancellation_promotes_the_head() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    let people = app.many_residents(5).await;
    let mut enrollments = Vec::new();
    for (i, p) in people.iter().enumerate() {
        let res = app.enroll(&session, &p.access).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        if i < 2 {
            assert_eq!(
                (body["status"].as_str(), body["waitlist_position"].as_i64()),
                (Some("confirmed"), None)
            );
        } else {
            assert_eq!(
                (body["status"].as_str(), body["waitlist_position"].as_i64()),
                (Some("waitlisted"), Some(i as i64 - 1))
            );
        }
        enrollments.push(body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(
        problem_code(app.enroll(&session, &people[0].access).await).await,
        "already_enrolled"
    );

    // The second person cancels: the first on the waitlist (people[2]) gets the seat.
    let res = app
        .delete(
            &format!("/api/v1/me/enrollments/{}", enrollments[1]),
            Some(&people[1].access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "cancelled");
    let status_of = |i: usize| {
        let app = &app;
        let token = people[i].access.clone();
        async move {
            app.get("/api/v1/me/enrollments", Some(&token))
                .await
                .json::<Value>()
                .await
                .unwrap()["items"][0]
                .clone()
        }
    };
    assert_eq!(status_of(2).await["status"], "confirmed");
    assert_eq!(status_of(3).await["waitlist_position"], 1);
    assert_eq!(status_of(4).await["waitlist_position"], 2);

    // A waitlisted person leaving moves those behind them up.
    app.delete(
        &format!("/api/v1/me/enrollments/{}", enrollments[3]),
        Some(&people[3].access),
    )
    .await;
    assert_eq!(status_of(4).await["waitlist_position"], 1);
    let res = app
        .delete(
            &format!("/api/v1/me/enrollments/{}", enrollments[3]),
            Some(&people[3].access),
        )
        .await;
    assert_eq!(problem_code(res).await, "enrollment_cancelled");

    // Someone who cancelled may enroll again, at the back of the queue.
    let res = app.enroll(&session, &people[1].access).await;
    assert_eq!(res.json::<Value>().await.unwrap()["waitlist_position"], 2);
    let session_view: Value = app
        .get(&format!("/api/v1/sessions/{session}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            session_view["seats_left"].as_i64(),
            session_view["waitlist_count"].as_i64()
        ),
        (Some(0), Some(2))
    );
    assert!(app.seat_violations(&session).await.is_empty());
}

#[tokio::test]
async fn residents_see_only_their_own_enrollments_upcoming_first() {
    let app = spawn_app().await;
    let net = app.network().await;
    let far = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let near_res = app
        .post_json(
            &format!("/api/v1/centers/{}/sessions", net.center_id),
            &json!({ "course_id": net.course_id, "starts_at": crate::helpers::hours_from_now(3), "ends_at": crate::helpers::hours_from_now(5), "capacity": 5 }),
            Some(&net.staff.access),
        )
        .await;
    let near = near_res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let alice = app.resident().await;
    let bob = app.resident().await;
    app.enroll(&far, &alice.access).await;
    app.enroll(&near, &alice.access).await;
    let bobs: Value = app.enroll(&far, &bob.access).await.json().await.unwrap();

    let mine: Value = app
        .get("/api/v1/me/enrollments", Some(&alice.access))
        .await
        .json()
        .await
        .unwrap();
    let sessions: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["session"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(sessions, [near.as_str(), far.as_str()]);
    assert_eq!(
        mine["items"][0]["session"]["center"]["id"],
        net.center_id.as_str()
    );
    let page: Value = app
        .get("/api/v1/me/enrollments?limit=1", Some(&alice.access))
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get(
            &format!("/api/v1/me/enrollments?limit=1&cursor={cursor}"),
            Some(&alice.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"][0]["session"]["id"], far.as_str());
    assert_eq!(rest["next_cursor"], Value::Null);

    // Alice cannot cancel Bob's enrollment; it is as if it did not exist.
    let res = app
        .delete(
            &format!("/api/v1/me/enrollments/{}", bobs["id"].as_str().unwrap()),
            Some(&alice.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "not_found");
    let bob_mine: Value = app
        .get("/api/v1/me/enrollments", Some(&bob.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bob_mine["items"][0]["status"], "confirmed");
    assert_eq!(bob_mine["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn staff_read_the_roster_as_json_or_csv_and_record_attendance() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 1)
        .await;
    let first = app
        .register(json!({ "phone": "0811111111", "password": "password-1", "display_name": "=HYPERLINK(\"x\"), ยายมา" }))
        .await;
    let first = crate::helpers::TestApp::signed_in_from(first).await;
    let second = app.resident().await;
    let e1: Value = app
        .enroll(&session, &first.access)
        .await
        .json()
        .await
        .unwrap();
    let e2: Value = app
        .enroll(&session, &second.access)
        .await
        .json()
        .await
        .unwrap();

    let roster: Value = app
        .get(
            &format!("/api/v1/sessions/{session}/enrollments"),
            Some(&net.staff.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let lines = roster["items"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["user"]["phone"], "+66811111111");
    assert_eq!(lines[0]["status"], "confirmed");
    assert_eq!(
        (
            lines[1]["status"].as_str(),
            lines[1]["waitlist_position"].as_i64()
        ),
        (Some("waitlisted"), Some(1))
    );

    let res = app
        .client
        .get(app.url(&format!("/api/v1/sessions/{session}/enrollments")))
        .bearer_auth(&net.staff.access)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let bytes = res.bytes().await.unwrap();
    assert!(
        bytes.starts_with("\u{feff}no,name,phone,email,status".as_bytes()),
        "a byte-order mark, then the header"
    );
    let csv = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"x\"\"), ยายมา\""),
        "formula defused and quoted: {csv}"
    );
    assert_eq!(csv.lines().count(), 3);

    let path = |e: &Value| format!("/api/v1/enrollments/{}", e["id"].as_str().unwrap());
    let res = app
        .patch_json(
            &path(&e1),
            &json!({ "status": "attended" }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "attended");
    let res = app
        .patch_json(
            &path(&e1),
            &json!({ "status": "no_show" }),
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "no_show");
    let res = app
        .patch_json(
            &path(&e2),
            &json!({ "status": "attended" }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "enrollment_not_confirmed");
    let res = app
        .patch_json(
            &path(&e1),
            &json!({ "status": "confirmed" }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Once attendance is recorded, the resident can no longer cancel.
    let res = app
        .delete(
            &format!("/api/v1/me/enrollments/{}", e1["id"].as_str().unwrap()),
            Some(&first.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "enrollment_closed");
    assert!(app.seat_violations(&session).await.is_empty());
}

#[tokio::test]
async fn a_retried_enrollment_with_the_same_key_is_answered_once() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let other_session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let resident = app.resident().await;
    let send = |session: String, key: &'static str| {
        let app = &app;
        let token = resident.access.clone();
        async move {
            app.client
                .post(app.url(&format!("/api/v1/sessions/{session}/enrollments")))
                .bearer_auth(token)
                .header("idempotency-key", key)
                .send()
                .await
                .unwrap()
        }
    };
    let first = send(session.clone(), "retry-key-1").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = send(session.clone(), "retry-key-1").await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);

    let reused = send(other_session.clone(), "retry-key-1").await;
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_code(reused).await, "idempotency_key_reused");
    // Without the key, a second try is a second enrollment attempt.
    assert_eq!(
        problem_code(app.enroll(&session, &resident.access).await).await,
        "already_enrolled"
    );
    let bad = app
        .client
        .post(app.url(&format!("/api/v1/sessions/{other_session}/enrollments")))
        .bearer_auth(&resident.access)
        .header("idempotency-key", "")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // Several copies of one request racing each other: one enrollment, the same answer.
    let racing =
        futures_util::future::join_all((0..6).map(|_| send(other_session.clone(), "retry-key-2")))
            .await;
    let mut ids = Vec::new();
    for res in racing {
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let mine: Value = app
        .get("/api/v1/me/enrollments", Some(&resident.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_enrollment_report_counts_by_province_center_and_course() {
    let app = spawn_app().await;
    let net = app.network().await;
    let here = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    let there = app
        .session(
            &net.other_staff.access,
            &net.other_center_id,
            &net.course_id,
            5,
        )
        .await;
    let people = app.many_residents(4).await;
    let mut ids = Vec::new();
    for p in &people {
        let e: Value = app.enroll(&here, &p.access).await.json().await.unwrap();
        ids.push(e["id"].as_str().unwrap().to_string());
    }
    app.enroll(&there, &people[0].access).await;
    app.patch_json(
        &format!("/api/v1/enrollments/{}", ids[0]),
        &json!({ "status": "attended" }),
        Some(&net.staff.access),
    )
    .await;
    app.patch_json(
        &format!("/api/v1/enrollments/{}", ids[1]),
        &json!({ "status": "no_show" }),
        Some(&net.staff.access),
    )
    .await;

    let report: Value = app
        .get(
            "/api/v1/admin/reports/enrollments?group_by=center",
            Some(&net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let row = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == net.center_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            row["enrolled"].as_i64(),
            row["attended"].as_i64(),
            row["no_show"].as_i64(),
            row["waitlisted"].as_i64()
        ),
        (Some(2), Some(1), Some(1), Some(2))
    );
    let report: Value = app
        .get(
            "/api/v1/admin/reports/enrollments?group_by=province",
            Some(&net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["items"][0]["key"], "เชียงใหม่");
    assert_eq!(report["items"][0]["enrolled"], 3);
    let report: Value = app
        .get(
            "/api/v1/admin/reports/enrollments?group_by=course",
            Some(&net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["items"][0]["label"], "รู้ทันภัยออนไลน์");
    let report: Value = app
        .get(
            "/api/v1/admin/reports/enrollments?from=2099-01-01T00:00:00Z",
            Some(&net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["items"].as_array().unwrap().len(), 0);
    for query in ["group_by=district", "from=soon"] {
        let res = app
            .get(
                &format!("/api/v1/admin/reports/enrollments?{query}"),
                Some(&net.admin.access),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}
