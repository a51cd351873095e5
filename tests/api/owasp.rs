//! The OWASP API Security Top 10 (2023), item by item, against the running server. Each
//! test is named after its item; the wider matrices live in `authorization.rs`,
//! `bad_input.rs`, `tokens.rs` and `limits.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use ocod::push::fake::{service_account, Control, Fault};
use ocod::push::fcm::{FcmClient, Outcome, Push};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    field_errors, problem_code, running_fake_fcm, spawn_app, spawn_app_with, spawn_push_app,
    unique_phone,
};

const SOME_ID: &str = "0192f1d2-0000-7000-8000-00000000abcd";

// --- API1:2023 Broken Object Level Authorization -------------------------------------

#[tokio::test]
async fn api1_bola_a_resident_cannot_touch_another_residents_enrollment_device_or_inbox() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session_id = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 1)
        .await;
    let (alice, bob, carol) = (
        app.resident().await,
        app.resident().await,
        app.resident().await,
    );
    // Alice's seat goes to Carol, who gets a "you got a seat" notice in her inbox.
    app.give_up_seat_to(&session_id, &alice, &carol).await;
    let carols: Value = app
        .get("/api/v1/me/enrollments", Some(&carol.access))
        .await
        .json()
        .await
        .unwrap();
    let carols_seat = carols["items"][0]["id"].as_str().unwrap().to_string();
    // The server's worker (inbox only, no FCM here) delivers the notice shortly.
    let inbox = app.delivered_inbox(&carol.access).await;
    let notice = inbox["items"][0]["id"].as_str().unwrap().to_string();
    let res = app
        .post_json(
            "/api/v1/me/devices",
            &json!({ "token": "carols-phone-token", "platform": "android" }),
            Some(&carol.access),
        )
        .await;
    assert!(res.status().is_success());

    // Bob tries each of Carol's objects by ID: each answers as if it did not exist.
    let tries = [
        (
            Method::DELETE,
            format!("/api/v1/me/enrollments/{carols_seat}"),
        ),
        (
            Method::POST,
            format!("/api/v1/me/notifications/{notice}/read"),
        ),
        (
            Method::DELETE,
            "/api/v1/me/devices/carols-phone-token".to_string(),
        ),
    ];
    for (method, path) in tries {
        let res = app.send(method.clone(), &path, Some(&bob.access)).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Nothing of Carol's changed.
    let export: Value = app
        .get("/api/v1/me/export", Some(&carol.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        export["enrollments"][0]["enrollment"]["status"],
        "confirmed"
    );
    assert_eq!(export["devices"].as_array().unwrap().len(), 1);
    let notice_json = &export["notifications"][0]["notification"];
    assert_eq!(notice_json["id"], notice.as_str());
    assert!(notice_json["read_at"].is_null());
    // And Bob's own export holds nothing of hers.
    let bobs = app
        .get("/api/v1/me/export", Some(&bob.access))
        .await
        .text()
        .await
        .unwrap();
    assert!(!bobs.contains(&carol.user_id) && !bobs.contains(&carols_seat));
}

#[tokio::test]
async fn api1_bola_staff_cannot_read_or_mark_another_centers_roster() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session_id = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let resident = app.resident().await;
    let seat: Value = app
        .enroll(&session_id, &resident.access)
        .await
        .json()
        .await
        .unwrap();
    let roster = format!("/api/v1/sessions/{session_id}/enrollments");
    let attendance = format!("/api/v1/enrollments/{}", seat["id"].as_str().unwrap());

    let res = app.get(&roster, Some(&net.other_staff.access)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .patch_json(
            &attendance,
            &json!({ "status": "no_show" }),
            Some(&net.other_staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The center's own staff may (the control that shows the paths are right).
    assert_eq!(
        app.get(&roster, Some(&net.staff.access)).await.status(),
        StatusCode::OK
    );
    let res = app
        .patch_json(
            &attendance,
            &json!({ "status": "attended" }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

// --- API2:2023 Broken Authentication -------------------------------------------------

#[tokio::test]
async fn api2_broken_authentication_a_refresh_token_is_not_an_access_token_nor_the_reverse() {
    let app = spawn_app().await;
    let resident = app.resident().await;
    let res = app.get("/api/v1/me", Some(&resident.refresh)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": resident.access }),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Credentials in the query string are not read (they would end up in logs).
    let res = app
        .client
        .get(app.url(&format!("/api/v1/me?access_token={}", resident.access)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The right token in the right place works.
    assert_eq!(
        app.get("/api/v1/me", Some(&resident.access)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn api2_broken_authentication_login_does_not_reveal_which_accounts_exist_and_guessing_is_throttled(
) {
    let app = spawn_app_with(&[("OCOD_LOGIN_MAX_FAILURES", "3")]).await;
    let phone = unique_phone();
    let res = app
        .register(
            json!({ "phone": phone, "password": "right-password-1", "display_name": "สมชาย" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("request_id");
        v
    };
    let wrong: Value = app
        .login(&phone, "wrong-password")
        .await
        .json()
        .await
        .unwrap();
    let unknown: Value = app
        .login(&unique_phone(), "wrong-password")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(strip(wrong), strip(unknown));
    app.login(&phone, "wrong-password").await;
    app.login(&phone, "wrong-password").await;
    // Locked now, even for the right password, until the window passes.
    let res = app.login(&phone, "right-password-1").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
}

// --- API3:2023 Broken Object Property Level Authorization ----------------------------

#[tokio::test]
async fn api3_property_level_no_one_sets_fields_they_do_not_own() {
    let app = spawn_app().await;
    let net = app.network().await;
    let resident = app.resident().await;
    let session_id = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let attempts = [
        ("/api/v1/me", json!({ "role": "admin" }), &resident.access),
        ("/api/v1/me", json!({ "id": SOME_ID }), &resident.access),
        (
            "/api/v1/me",
            json!({ "phone": "0899999999" }),
            &resident.access,
        ),
        (
            &*format!("/api/v1/sessions/{session_id}"),
            json!({ "center_id": net.other_center_id }),
            &net.staff.access,
        ),
        (
            &*format!("/api/v1/sessions/{session_id}"),
            json!({ "seats_taken": 0 }),
            &net.staff.access,
        ),
    ];
    for (path, body, token) in &attempts {
        let res = app.patch_json(path, body, Some(token)).await;
        let field = body.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(
            field_errors(res).await,
            vec![(field, "unknown_field".to_string())],
            "{path} {body}"
        );
    }
    let me: Value = app
        .get("/api/v1/me", Some(&resident.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "resident");
}

#[tokio::test]
async fn api3_property_level_answers_never_carry_secrets_or_other_peoples_details() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session_id = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    let phone = unique_phone();
    let login: Value = app
        .register(json!({ "phone": phone, "password": "resident-pass-1", "display_name": "ยายมา" }))
        .await
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap();
    app.enroll(&session_id, token).await;
    let mut answers = vec![login.to_string()];
    for (path, who) in [
        ("/api/v1/me".to_string(), token),
        ("/api/v1/me/export".to_string(), token),
        ("/api/v1/admin/users".to_string(), net.admin.access.as_str()),
        (
            format!("/api/v1/sessions/{session_id}/enrollments"),
            net.staff.access.as_str(),
        ),
        (
            format!("/api/v1/sessions/{session_id}"),
            net.staff.access.as_str(),
        ),
    ] {
        let res = app.get(&path, Some(who)).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        answers.push(res.text().await.unwrap());
    }
    for answer in &answers {
        for secret in ["$argon2", "password", "token_hash", "jwt_secret"] {
            assert!(
                !answer.contains(secret),
                "an answer holds {secret}: {answer}"
            );
        }
    }
    // What anyone may read of a session says how full it is, not who is in it.
    let public = app
        .get(&format!("/api/v1/sessions/{session_id}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(!public.contains("ยายมา") && !public.contains(&phone[1..]));
    assert!(public.contains("seats_left"));
}

// --- API4:2023 Unrestricted Resource Consumption -------------------------------------

#[tokio::test]
async fn api4_resource_consumption_bodies_pages_radii_strings_and_nesting_are_bounded() {
    let app = spawn_app().await;
    let resident = app.resident().await;
    let big = "ก".repeat(30_000); // 90 KB of UTF-8
    let res = app
        .patch_json(
            "/api/v1/me",
            &json!({ "display_name": big }),
            Some(&resident.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = app
        .patch_json(
            "/api/v1/me",
            &json!({ "display_name": "ก".repeat(101) }),
            Some(&resident.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    for query in [
        "/api/v1/centers?limit=101",
        "/api/v1/centers?lat=13.75&lon=100.5&radius_km=101",
        "/api/v1/sessions?limit=1000000",
    ] {
        let res = app.get(query, None).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
    }
    let res = app
        .get(&format!("/api/v1/centers?q={}", "a".repeat(5_000)), None)
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // JSON nested far deeper than any real request is refused, not followed.
    let nested = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(nested)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/health/live", None).await.status(), StatusCode::OK);
}

// --- API5:2023 Broken Function Level Authorization -----------------------------------

/// Every admin function, from the route table itself, refused to residents and (except
/// broadcasting, which staff may do for their own sessions) to staff.
#[tokio::test]
async fn api5_function_level_admin_functions_are_refused_to_residents_and_staff() {
    let app = spawn_app().await;
    let resident = app.resident().await;
    let staff = app.user_with_role("staff").await;
    let admin_only: Vec<(&str, &str, &str)> = ocod::routes::ROUTES
        .iter()
        .copied()
        .filter(|(method, path, handler)| {
            path.starts_with("/api/v1/admin/")
                || handler.starts_with("centers::") && *method != "GET"
                || handler.starts_with("courses::") && *method != "GET"
        })
        .collect();
    assert!(admin_only.len() >= 15, "{admin_only:?}");
    let staff_may = [
        "broadcasts::preview_broadcast",
        "broadcasts::create_broadcast",
    ];
    for (method, path, handler) in admin_only {
        let path = path.replace("{id}", SOME_ID).replace("{user_id}", SOME_ID);
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        for (who, token) in [("resident", &resident.access), ("staff", &staff.access)] {
            let res = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            if who == "staff" && staff_may.contains(&handler) {
                assert_ne!(res.status(), StatusCode::FORBIDDEN, "{who} {method} {path}");
            } else {
                assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who} {method} {path}");
            }
        }
    }
}

// --- API6:2023 Unrestricted Access to Sensitive Business Flows -----------------------

#[tokio::test]
async fn api6_business_flows_one_account_cannot_hoard_seats_and_retries_take_one_seat() {
    let app = spawn_app_with(&[("OCOD_MAX_UPCOMING_ENROLLMENTS", "2")]).await;
    let net = app.network().await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(
            app.session(&net.staff.access, &net.center_id, &net.course_id, 3)
                .await,
        );
    }
    let bot = app.resident().await;
    // A phone on a bad network retries the same request five times: one seat.
    let mut ids = Vec::new();
    for _ in 0..5 {
        let res = app
            .client
            .post(app.url(&format!("/api/v1/sessions/{}/enrollments", sessions[0])))
            .bearer_auth(&bot.access)
            .header("Idempotency-Key", "retry-7f3a")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(res.json::<Value>().await.unwrap()["id"].clone());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(app.count("enrollments").await, 1);
    // A script going through the sessions stops at the limit.
    assert_eq!(
        app.enroll(&sessions[1], &bot.access).await.status(),
        StatusCode::CREATED
    );
    let res = app.enroll(&sessions[2], &bot.access).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(problem_code(res).await, "enrollment_limit_reached");
}

// --- API7:2023 Server Side Request Forgery -------------------------------------------

/// URLs pointing at a listener of ours go into every field a client writes; the whole
/// journey runs, including the push worker sending a broadcast that carries the URL.
/// OCOD must store and forward them as text, never fetch them.
#[tokio::test]
async fn api7_ssrf_no_field_makes_the_server_fetch_a_url() {
    let canary = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    canary.set_nonblocking(true).unwrap();
    let url = format!(
        "http://127.0.0.1:{}/canary",
        canary.local_addr().unwrap().port()
    );
    let rig = spawn_push_app(&[]).await;
    let app = &rig.app;
    let admin = app.user_with_role("admin").await;
    let resident = app.resident().await;
    rig.device(&resident, "resident-phone-1").await;

    let res = app
        .patch_json(
            "/api/v1/me",
            &json!({ "display_name": url }),
            Some(&resident.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_json(
            "/api/v1/me/devices",
            &json!({ "token": url, "platform": "android" }),
            Some(&resident.access),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "a device token is never a URL"
    );
    let res = app
        .post_json(
            "/api/v1/centers",
            &json!({
                "code": "CDC-SSRF-1", "name_th": url, "name_en": url, "province": "เชียงใหม่",
                "district": "เมือง", "subdistrict": "สุเทพ", "lat": 18.79, "lon": 98.98,
                "opening_hours": url
            }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post_json(
            "/api/v1/admin/broadcasts",
            &json!({
                "audience": { "kind": "all" },
                "title": { "th": "ลิงก์", "en": "Link" },
                "body": { "th": url, "en": url }
            }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    rig.step_until("the broadcast", |r| r.fake.state.received_count() == 1)
        .await;
    assert_eq!(rig.fake.state.received()[0].body, url, "sent as text");
    tokio::time::sleep(Duration::from_millis(200)).await;
    match canary.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("something connected to the canary: {other:?}"),
    }
}

// --- API8:2023 Security Misconfiguration ---------------------------------------------

#[tokio::test]
async fn api8_misconfiguration_answers_are_hardened_and_errors_reveal_nothing_inside() {
    let app = spawn_app().await;
    let resident = app.resident().await;
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&resident.access)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(
        h["cache-control"], "no-store",
        "personal data is not cached"
    );
    assert!(
        h.get("access-control-allow-origin").is_none(),
        "no CORS for strangers"
    );
    assert!(h.get("server").is_none(), "no server banner");

    let broken = [
        (Method::GET, "/api/v1/no-such-thing", None),
        (Method::PUT, "/api/v1/me", None),
        (Method::POST, "/api/v1/auth/login", Some("{\"login\": ")),
        (
            Method::POST,
            "/api/v1/auth/login",
            Some("{\"login\": 5, \"password\": []}"),
        ),
    ];
    for (method, path, body) in broken {
        let mut req = app.client.request(method.clone(), app.url(path));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let res = req.send().await.unwrap();
        assert!(res.status().is_client_error(), "{method} {path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let text = res.text().await.unwrap();
        for internal in [
            "diesel", "sqlite", "postgres", "panicked", "src/", "actix", "serde",
        ] {
            assert!(
                !text.to_lowercase().contains(internal),
                "{path} reveals {internal}: {text}"
            );
        }
    }
}

#[test]
fn api8_misconfiguration_the_server_refuses_to_start_without_a_real_secret() {
    let dir = tempfile::tempdir().unwrap();
    for secret in [None, Some("short")] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ocod"));
        cmd.arg("serve")
            .env_clear()
            .env("DATABASE_URL", dir.path().join("x.db"))
            .env("OCOD_BIND", "127.0.0.1:0");
        if let Some(s) = secret {
            cmd.env("OCOD_JWT_SECRET", s);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("OCOD_JWT_SECRET"));
    }
}

// --- API9:2023 Improper Inventory Management -----------------------------------------

#[tokio::test]
async fn api9_inventory_only_the_documented_version_answers_and_the_spec_names_this_build() {
    let app = spawn_app().await;
    for path in [
        "/api/v0/centers",
        "/api/v2/centers",
        "/api/centers",
        "/api/v1/debug",
        "/api/v1/admin",
        "/api/v1/internal/users",
        "/.env",
        "/admin",
    ] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(problem_code(res).await, "route_not_found", "{path}");
    }
    let spec: Value =
        serde_yaml_ng::from_str(&app.get("/openapi.yaml", None).await.text().await.unwrap())
            .unwrap();
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.keys().all(|p| p.starts_with("/api/v1/")
        || [
            "/health/live",
            "/health/ready",
            "/metrics",
            "/openapi.yaml",
            "/docs",
            // PRODUCT.md fixes LINE's webhook, calendar feeds and certificate pages
            // outside the versioned API; the certificates' font goes with them.
            "/webhooks/line",
            "/calendar/{token}.ics",
            "/verify/{code}",
            "/certificates/{code}",
            "/fonts/{file}",
        ]
        .contains(&p.as_str())
        || p.starts_with("/docs/")));
}

// --- API10:2023 Unsafe Consumption of APIs -------------------------------------------

fn push(token: &str) -> Push {
    Push {
        token: token.into(),
        title: "เตือน".into(),
        body: "พรุ่งนี้ 09:00 น.".into(),
        data: BTreeMap::from([("kind".into(), "reminder".into())]),
        collapse_key: "reminder-x".into(),
        expires_at: None,
    }
}

/// What answers in Google's place is not trusted: an 8 MB error page is read no
/// further than a few KB, an absurd Retry-After is not obeyed beyond an hour, and the
/// reason kept for admins stays short.
#[tokio::test]
async fn api10_unsafe_consumption_junk_from_fcm_is_bounded_and_retried() {
    let fake = running_fake_fcm();
    let client = FcmClient::new(service_account(&fake.base_url), &fake.base_url, 4).unwrap();
    fake.state.control(Control {
        fail_next: vec![Fault {
            status: 502,
            retry_after: Some(10_000_000_000),
            junk_bytes: Some(8 * 1024 * 1024),
        }],
        ..Control::default()
    });
    let outcome = client.send(&push("device-1")).await;
    let Outcome::Retry { reason, after } = &outcome else {
        panic!("a 502 is worth retrying: {outcome:?}");
    };
    assert!(
        reason.len() < 400,
        "reason kept short: {} bytes",
        reason.len()
    );
    let delay = ocod::push::queue::retry_delay(1, *after);
    assert_eq!(delay, ocod::push::queue::MAX_RETRY_AFTER);
    // The next try goes through.
    assert_eq!(client.send(&push("device-1")).await, Outcome::Sent);
}

#[tokio::test]
async fn api10_unsafe_consumption_an_absurd_token_lifetime_is_not_believed() {
    let fake = running_fake_fcm();
    fake.state.control(Control {
        token_expires_in: Some(u64::MAX),
        ..Control::default()
    });
    let client = FcmClient::new(service_account(&fake.base_url), &fake.base_url, 4).unwrap();
    assert_eq!(client.send(&push("device-1")).await, Outcome::Sent);
    assert_eq!(client.send(&push("device-1")).await, Outcome::Sent);
    assert_eq!(fake.state.token_requests(), 1);
}
