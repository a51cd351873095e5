//! Pushes delivered end to end through the worker to the fake FCM: at the right time, to
//! the inbox, with dead tokens forgotten, faults retried, quiet hours respected.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_push_app, PushRig};

/// A session at `center` starting `seconds` from now, an hour long.
async fn session_in(
    rig: &PushRig,
    token: &str,
    center: &str,
    course: &str,
    seconds: i64,
    capacity: i64,
) -> String {
    let starts_at = chrono::Utc::now() + chrono::Duration::seconds(seconds);
    let ends_at = starts_at + chrono::Duration::hours(1);
    rig.app
        .session_at(token, center, course, capacity, starts_at, ends_at)
        .await
}

#[tokio::test]
async fn a_reminder_goes_out_at_its_offset_and_not_before() {
    let rig = spawn_push_app(&[("OCOD_REMINDER_OFFSETS", "60s")]).await;
    let net = rig.app.network().await;
    let resident = rig.app.resident().await;
    rig.device(&resident, "phone-token-1").await;
    // Starts in 66 s: the 60 s reminder is due in about 6 s.
    let session = session_in(
        &rig,
        &net.staff.access,
        &net.center_id,
        &net.course_id,
        66,
        5,
    )
    .await;
    let enrollment: Value = rig
        .app
        .enroll(&session, &resident.access)
        .await
        .json()
        .await
        .unwrap();

    let first = rig.step().await;
    assert_eq!(first.fan_out.delivered, 0, "nothing is due yet");
    assert_eq!(rig.fake.state.received_count(), 0);

    rig.step_until("the reminder", |r| r.fake.state.received_count() == 1)
        .await;
    let push = &rig.fake.state.received()[0];
    assert_eq!(push.token, "phone-token-1");
    assert_eq!(push.data["kind"], "reminder");
    assert_eq!(push.data["session_id"], session.as_str());
    assert_eq!(push.data["offset"], "60s");
    let collapse = format!("reminder-{}-60s", enrollment["id"].as_str().unwrap());
    assert_eq!(push.collapse_key.as_deref(), Some(collapse.as_str()));
    assert!(push.title.starts_with("เตือน:"), "{}", push.title);

    let inbox: Value = rig
        .app
        .get("/api/v1/me/notifications", Some(&resident.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["unread"], 1);
    assert_eq!(inbox["items"][0]["kind"], "reminder");
    assert_eq!(inbox["items"][0]["data"]["session_id"], session.as_str());
}

#[tokio::test]
async fn promotion_is_pushed_and_kept_in_the_inbox() {
    let rig = spawn_push_app(&[]).await;
    let net = rig.app.network().await;
    let session = rig
        .app
        .session(&net.staff.access, &net.center_id, &net.course_id, 1)
        .await;
    let seated = rig.app.resident().await;
    let waiting = rig.app.resident().await;
    rig.device(&waiting, "waiting-phone").await;
    rig.app.give_up_seat_to(&session, &seated, &waiting).await;

    rig.step_until("the promotion push", |r| {
        r.fake
            .state
            .received()
            .iter()
            .any(|m| m.data["kind"] == "waitlist_promoted")
    })
    .await;
    let inbox: Value = rig
        .app
        .get("/api/v1/me/notifications", Some(&waiting.access))
        .await
        .json()
        .await
        .unwrap();
    let item = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "waitlist_promoted")
        .unwrap()
        .clone();
    assert_eq!(inbox["unread"], 1);
    let id = item["id"].as_str().unwrap();

    // Only the owner can mark it read.
    let res = rig
        .app
        .post(
            &format!("/api/v1/me/notifications/{id}/read"),
            Some(&seated.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = rig
        .app
        .post(
            &format!("/api/v1/me/notifications/{id}/read"),
            Some(&waiting.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.json::<Value>().await.unwrap()["read_at"].is_string());
    let inbox: Value = rig
        .app
        .get("/api/v1/me/notifications", Some(&waiting.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["unread"], 0);
}

#[tokio::test]
async fn a_token_fcm_calls_dead_is_forgotten_and_not_retried() {
    let rig = spawn_push_app(&[]).await;
    let net = rig.app.network().await;
    let session = rig
        .app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let resident = rig.app.resident().await;
    rig.device(&resident, "uninstalled-app-token").await;
    rig.device(&resident, "live-token").await;
    rig.fake.state.control(ocod::push::fake::Control {
        dead_tokens: vec!["uninstalled-app-token".into()],
        ..Default::default()
    });
    rig.app.enroll(&session, &resident.access).await;
    rig.app
        .post(
            &format!("/api/v1/sessions/{session}/cancel"),
            Some(&net.staff.access),
        )
        .await;

    rig.step_until("the cancellation push", |r| {
        r.fake.state.received_count() == 1
    })
    .await;
    // One more round settles everything; the dead token was tried once only.
    rig.step().await;
    assert_eq!(rig.fake.state.received()[0].token, "live-token");
    assert_eq!(rig.fake.state.send_requests(), 2);
    assert_eq!(
        rig.app.count("devices").await,
        1,
        "the dead device was forgotten"
    );
}

#[tokio::test]
async fn overloaded_fcm_is_retried_after_its_retry_after() {
    let rig = spawn_push_app(&[]).await;
    let net = rig.app.network().await;
    let session = rig
        .app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let resident = rig.app.resident().await;
    rig.device(&resident, "phone").await;
    rig.fake.state.control(ocod::push::fake::Control {
        fail_next: vec![
            ocod::push::fake::Fault::new(503, Some(1)),
            ocod::push::fake::Fault::new(429, Some(1)),
        ],
        ..Default::default()
    });
    rig.app.enroll(&session, &resident.access).await;
    rig.app
        .post(
            &format!("/api/v1/sessions/{session}/cancel"),
            Some(&net.staff.access),
        )
        .await;

    let first = rig.step().await;
    assert_eq!((first.claimed, first.recorded.retried), (1, 1));
    // Not sooner than Retry-After: an immediate round finds nothing due.
    let second = rig.step().await;
    assert_eq!(second.claimed, 0);
    rig.step_until("the retried push", |r| r.fake.state.received_count() == 1)
        .await;
    assert_eq!(rig.fake.state.send_requests(), 3);
}

#[tokio::test]
async fn quiet_hours_hold_back_pushes_until_they_end() {
    let rig = spawn_push_app(&[]).await;
    let net = rig.app.network().await;
    let session = rig
        .app
        .session(&net.staff.access, &net.center_id, &net.course_id, 1)
        .await;
    let seated = rig.app.resident().await;
    let waiting = rig.app.resident().await;
    rig.device(&waiting, "night-phone").await;
    rig.app.quiet_until(&waiting, 2).await;
    rig.app.give_up_seat_to(&session, &seated, &waiting).await;

    let step = rig.step().await;
    assert!(step.fan_out.postponed >= 1, "{step:?}");
    assert_eq!(rig.fake.state.received_count(), 0);
    let promoted = rig
        .app
        .notifications_of(&waiting.user_id)
        .await
        .into_iter()
        .find(|(k, _, _)| k == "waitlist_promoted")
        .unwrap();
    assert_eq!(promoted.1, "scheduled");
    let expected = (chrono::Utc::now() + chrono::Duration::hours(2)).naive_utc();
    assert!(
        (promoted.2 - expected).num_minutes().abs() <= 1,
        "released at the end of quiet hours: {promoted:?}"
    );
}

#[tokio::test]
async fn without_fcm_credentials_pushes_still_reach_the_inbox() {
    let app = spawn_app().await;
    let resident = app.resident_told_of_a_cancellation("t1").await;
    // The server's own worker runs in inbox-only mode.
    let inbox = app.delivered_inbox(&resident.access).await;
    assert_eq!(inbox["items"][0]["kind"], "session_cancelled");
    assert_eq!(app.count("push_deliveries").await, 0);
}

#[tokio::test]
async fn two_workers_never_send_the_same_push_twice() {
    let rig = spawn_push_app(&[]).await;
    let net = rig.app.network().await;
    let session = rig
        .app
        .session(&net.staff.access, &net.center_id, &net.course_id, 200)
        .await;
    let people = rig.app.many_residents(40).await;
    for (i, p) in people.iter().enumerate() {
        rig.device(p, &format!("token-{i}")).await;
        rig.app.enroll(&session, &p.access).await;
    }
    rig.app
        .post(
            &format!("/api/v1/sessions/{session}/cancel"),
            Some(&net.staff.access),
        )
        .await;
    let other = rig.worker.clone();
    let started = std::time::Instant::now();
    while rig.fake.state.received_count() < 40
        && started.elapsed() < std::time::Duration::from_secs(20)
    {
        let (a, b) = tokio::join!(rig.worker.step(), other.step());
        a.unwrap();
        b.unwrap();
    }
    let mut tokens: Vec<String> = rig
        .fake
        .state
        .received()
        .into_iter()
        .map(|m| m.token)
        .collect();
    assert_eq!(tokens.len(), 40);
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 40, "someone got the cancellation twice");
}

#[tokio::test]
async fn a_push_refused_too_often_is_given_up_and_shown_to_admins() {
    let rig = spawn_push_app(&[("OCOD_PUSH_MAX_ATTEMPTS", "2")]).await;
    let net = rig.app.network().await;
    let session = rig
        .app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let resident = rig.app.resident().await;
    rig.device(&resident, "flaky-phone-123456").await;
    rig.fake.state.control(ocod::push::fake::Control {
        fail_next: vec![
            ocod::push::fake::Fault::new(500, None),
            ocod::push::fake::Fault::new(503, None),
        ],
        ..Default::default()
    });
    rig.app.enroll(&session, &resident.access).await;
    rig.app
        .post(
            &format!("/api/v1/sessions/{session}/cancel"),
            Some(&net.staff.access),
        )
        .await;

    let mut failures = Value::Null;
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(20) {
        rig.step().await;
        failures = rig
            .app
            .get("/api/v1/admin/push/failures", Some(&net.admin.access))
            .await
            .json()
            .await
            .unwrap();
        if !failures["items"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let failure = &failures["items"][0];
    assert_eq!(failure["attempts"], 2);
    assert_eq!(failure["kind"], "session_cancelled");
    assert_eq!(failure["device"], "…123456");
    assert!(
        failure["reason"].as_str().unwrap().contains("503"),
        "{failure}"
    );
    assert_eq!(rig.fake.state.received_count(), 0);
    let res = rig
        .app
        .get("/api/v1/admin/push/failures", Some(&net.staff.access))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_servers_own_worker_delivers_and_counts_pushes_in_metrics() {
    let (fake, _key_dir, key) = crate::helpers::start_fake_fcm();
    let app = crate::helpers::spawn_app_with(&[
        ("GOOGLE_APPLICATION_CREDENTIALS", &key),
        ("OCOD_FCM_ENDPOINT", &fake.base_url),
    ])
    .await;
    app.resident_told_of_a_cancellation("metrics-phone").await;
    let started = std::time::Instant::now();
    while fake.state.received_count() == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the server's worker never sent"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut text = String::new();
    for _ in 0..50 {
        text = app.get("/metrics", None).await.text().await.unwrap();
        // The count goes up as the outcome is recorded; the depth once it is committed.
        if text.contains(r#"ocod_deliveries_total{channel="push",outcome="sent",reason="ok"} 1"#)
            && text.contains("ocod_push_queue_depth 0")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        text.contains(r#"ocod_deliveries_total{channel="push",outcome="sent",reason="ok"} 1"#),
        "{text}"
    );
    assert!(text.contains("ocod_push_queue_depth 0"), "{text}");
}

#[tokio::test]
async fn a_push_that_quiet_hours_would_hold_past_the_session_start_is_dropped() {
    let rig = spawn_push_app(&[]).await;
    let net = rig.app.network().await;
    // The session starts in 30 minutes; quiet hours last two more hours.
    let session = session_in(
        &rig,
        &net.staff.access,
        &net.center_id,
        &net.course_id,
        1_800,
        1,
    )
    .await;
    let seated = rig.app.resident().await;
    let waiting = rig.app.resident().await;
    rig.device(&waiting, "late-phone").await;
    rig.app.quiet_until(&waiting, 2).await;
    rig.app.give_up_seat_to(&session, &seated, &waiting).await;

    let step = rig.step().await;
    assert_eq!(step.fan_out.dropped, 1, "{step:?}");
    let promoted = rig.app.notifications_of(&waiting.user_id).await;
    assert_eq!(
        promoted
            .iter()
            .find(|(k, _, _)| k == "waitlist_promoted")
            .map(|(_, s, _)| s.as_str()),
        Some("dropped")
    );
    assert_eq!(rig.fake.state.received_count(), 0);
}

#[tokio::test]
async fn a_cancellation_that_quiet_hours_would_hold_too_close_to_the_start_goes_at_once() {
    let rig = spawn_push_app(&[]).await;
    let net = rig.app.network().await;
    // Quiet for two more hours. One session starts in three hours (held, the notice would
    // come one hour before: too late), one in ten (held, it comes eight hours before).
    let soon = session_in(
        &rig,
        &net.staff.access,
        &net.center_id,
        &net.course_id,
        3 * 3600,
        5,
    )
    .await;
    let later = session_in(
        &rig,
        &net.staff.access,
        &net.center_id,
        &net.course_id,
        10 * 3600,
        5,
    )
    .await;
    let resident = rig.app.resident().await;
    rig.device(&resident, "sleeping-phone").await;
    rig.app.quiet_until(&resident, 2).await;
    for session in [&soon, &later] {
        assert_eq!(
            rig.app.enroll(session, &resident.access).await.status(),
            StatusCode::CREATED
        );
    }
    for session in [&soon, &later] {
        let res = rig
            .app
            .post(
                &format!("/api/v1/sessions/{session}/cancel"),
                Some(&net.staff.access),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    rig.step().await;
    rig.step().await;
    let cancelled: Vec<_> = rig
        .fake
        .state
        .received()
        .into_iter()
        .filter(|m| m.data["kind"] == "session_cancelled")
        .collect();
    assert_eq!(
        cancelled.len(),
        1,
        "only the urgent one went out: {cancelled:?}"
    );
    assert_eq!(cancelled[0].data["session_id"], soon.as_str());
    let held = rig
        .app
        .notifications_of(&resident.user_id)
        .await
        .into_iter()
        .filter(|(k, s, _)| k == "session_cancelled" && s == "scheduled")
        .count();
    assert_eq!(
        held, 1,
        "the one for the later session waits for the morning"
    );
    // Reminders are not urgent: none broke quiet hours.
    assert!(rig
        .fake
        .state
        .received()
        .iter()
        .all(|m| m.data["kind"] == "session_cancelled"));
}

/// Erasure removes every delivery of the person's notifications, sent or still waiting (on
/// PostgreSQL nothing cascades from a notification to its deliveries), leaves other
/// people's alone, and the worker sends nothing more to the erased person's phone.
#[tokio::test]
async fn erasure_removes_the_persons_deliveries_sent_and_waiting() {
    let rig = spawn_push_app(&[]).await;
    let net = rig.app.network().await;
    let (leaving, staying) = (rig.app.resident().await, rig.app.resident().await);
    rig.device(&leaving, "leaving-phone").await;
    rig.device(&staying, "staying-phone").await;
    let both = rig
        .app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    rig.app.enroll(&both, &leaving.access).await;
    rig.app.enroll(&both, &staying.access).await;
    let cancel = |session: &str| format!("/api/v1/sessions/{session}/cancel");
    rig.app.post(&cancel(&both), Some(&net.staff.access)).await;
    rig.step_until("both told of the cancellation", |r| {
        r.fake.state.received_count() == 2
    })
    .await;
    // A second notice for the leaving person waits an hour after FCM asked us to.
    let alone = rig
        .app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    rig.app.enroll(&alone, &leaving.access).await;
    rig.fake.state.control(ocod::push::fake::Control {
        fail_next: vec![ocod::push::fake::Fault::new(503, Some(3600))],
        ..Default::default()
    });
    rig.app.post(&cancel(&alone), Some(&net.staff.access)).await;
    let step = rig.step().await;
    assert_eq!((step.claimed, step.recorded.retried), (1, 1), "{step:?}");
    let leaving_rows = "push_deliveries WHERE address = 'leaving-phone'";
    assert_eq!(rig.app.count(leaving_rows).await, 2);

    let res = rig.app.delete("/api/v1/me", Some(&leaving.access)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    assert_eq!(rig.app.count(leaving_rows).await, 0);
    assert_eq!(
        rig.app
            .count("push_deliveries WHERE address = 'staying-phone' AND status = 'sent'")
            .await,
        1
    );
    assert_eq!(rig.step().await.claimed, 0);
    assert_eq!(rig.fake.state.received_count(), 2);
}

/// When FCM calls a token dead, what else waits for that token (here a push held back by
/// an earlier 503) is stopped at once rather than tried again later, and a person's live
/// device still gets everything.
#[tokio::test]
async fn a_dead_token_stops_what_else_waits_for_it() {
    let rig = spawn_push_app(&[]).await;
    let net = rig.app.network().await;
    let resident = rig.app.resident().await;
    rig.device(&resident, "gone-phone").await;
    let cancel = |session: &str| format!("/api/v1/sessions/{session}/cancel");
    let first = rig
        .app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    rig.app.enroll(&first, &resident.access).await;
    rig.fake.state.control(ocod::push::fake::Control {
        fail_next: vec![ocod::push::fake::Fault::new(503, Some(3600))],
        ..Default::default()
    });
    rig.app.post(&cancel(&first), Some(&net.staff.access)).await;
    let step = rig.step().await;
    assert_eq!((step.claimed, step.recorded.retried), (1, 1), "{step:?}");

    // The app was uninstalled; the person has a new phone.
    rig.fake.state.control(ocod::push::fake::Control {
        dead_tokens: vec!["gone-phone".into()],
        ..Default::default()
    });
    rig.device(&resident, "new-phone").await;
    let second = rig
        .app
        .session(&net.staff.access, &net.center_id, &net.course_id, 2)
        .await;
    rig.app.enroll(&second, &resident.access).await;
    rig.app
        .post(&cancel(&second), Some(&net.staff.access))
        .await;
    rig.step_until("both notices on the new phone", |r| {
        r.fake.state.received_count() == 2
    })
    .await;
    rig.step().await;
    let dead = "push_deliveries WHERE address = 'gone-phone' AND status = 'invalid_token'";
    assert_eq!(rig.app.count(dead).await, 2, "the held one was stopped too");
    // 503, then UNREGISTERED once, then the two on the new phone.
    assert_eq!(rig.fake.state.send_requests(), 4);
    assert_eq!(
        rig.app
            .count("push_deliveries WHERE address = 'new-phone' AND status = 'sent'")
            .await,
        2
    );
}
