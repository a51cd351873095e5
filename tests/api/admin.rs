//! Admin user management and who may reach it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{field_errors, problem_code, spawn_app};

#[tokio::test]
async fn only_admins_reach_admin_routes() {
    let app = spawn_app().await;
    let resident = app.resident().await;
    let staff = app.user_with_role("staff").await;
    let admin = app.user_with_role("admin").await;
    let target = format!("/api/v1/admin/users/{}", resident.user_id);

    for (who, token, expected) in [
        ("anonymous", None, StatusCode::UNAUTHORIZED),
        (
            "resident",
            Some(resident.access.as_str()),
            StatusCode::FORBIDDEN,
        ),
        ("staff", Some(staff.access.as_str()), StatusCode::FORBIDDEN),
        ("admin", Some(admin.access.as_str()), StatusCode::OK),
    ] {
        assert_eq!(
            app.get("/api/v1/admin/users", token).await.status(),
            expected,
            "list as {who}"
        );
        let res = app
            .patch_json(&target, &json!({ "role": "resident" }), token)
            .await;
        assert_eq!(res.status(), expected, "update as {who}");
        if expected == StatusCode::FORBIDDEN {
            assert_eq!(problem_code(res).await, "forbidden");
        }
    }
    // Nothing was changed by the refused attempts (the admin's "resident" was a no-op).
    let me: Value = app
        .get("/api/v1/me", Some(&staff.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "staff");
}

#[tokio::test]
async fn admins_page_through_and_search_users() {
    let app = spawn_app().await;
    let admin = app.user_with_role("admin").await;
    for _ in 0..5 {
        app.resident().await;
    }
    app.register(json!({ "email": "Wanchai.K@example.co.th", "password": "password-1", "display_name": "วันชัย ขยัน" })).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/users?limit=2&cursor={c}"),
            None => "/api/v1/admin/users?limit=2".to_string(),
        };
        let page: Value = app
            .get(&path, Some(&admin.access))
            .await
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "every user exactly once: {seen:?}");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7);

    let found: Value = app
        .get("/api/v1/admin/users?q=WANCHAI", Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let found: Value = app
        .get(
            "/api/v1/admin/users?q=%E0%B8%A7%E0%B8%B1%E0%B8%99",
            Some(&admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["display_name"], "วันชัย ขยัน");
    let wildcard: Value = app
        .get("/api/v1/admin/users?q=%25", Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        wildcard["items"].as_array().unwrap().len(),
        0,
        "% is searched literally"
    );
    let admins: Value = app
        .get("/api/v1/admin/users?role=admin", Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admins["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_list_parameters_are_400() {
    let app = spawn_app().await;
    let admin = app.user_with_role("admin").await;
    for (query, field, code) in [
        ("limit=101", "limit", "out_of_range"),
        ("limit=0", "limit", "out_of_range"),
        ("limit=ten", "limit", "invalid_value"),
        ("cursor=garbage!", "cursor", "invalid_cursor"),
        ("role=king", "role", "invalid_role"),
    ] {
        let res = app
            .get(&format!("/api/v1/admin/users?{query}"), Some(&admin.access))
            .await;
        assert_eq!(
            field_errors(res).await,
            vec![(field.to_string(), code.to_string())],
            "{query}"
        );
    }
}

#[tokio::test]
async fn role_changes_are_validated() {
    let app = spawn_app().await;
    let admin = app.user_with_role("admin").await;
    let resident = app.resident().await;
    let res = app
        .patch_json(
            &format!("/api/v1/admin/users/{}", resident.user_id),
            &json!({ "role": "king" }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(
        field_errors(res).await,
        vec![("role".into(), "invalid_role".into())]
    );
    let res = app
        .patch_json(
            "/api/v1/admin/users/no-such-user",
            &json!({ "role": "staff" }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "not_found");
    let res = app
        .patch_json(
            &format!("/api/v1/admin/users/{}", admin.user_id),
            &json!({ "role": "resident" }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "cannot_change_own_role");
    let res = app
        .patch_json(
            &format!("/api/v1/admin/users/{}", resident.user_id),
            &json!({ "role": "staff", "phone": "0811111111" }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(
        field_errors(res).await,
        vec![("phone".into(), "unknown_field".into())]
    );
}

#[tokio::test]
async fn staff_and_admin_actions_are_audited_for_admins_only() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 5)
        .await;
    app.post(
        &format!("/api/v1/sessions/{session}/cancel"),
        Some(&net.staff.access),
    )
    .await;

    let log: Value = app
        .get(
            &format!("/api/v1/admin/audit?center_id={}", net.center_id),
            Some(&net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<(String, String)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Newest first: the staff member's cancel and create, then the admin's set-up.
    assert_eq!(
        actions[0],
        ("session_cancelled".to_string(), net.staff.user_id.clone())
    );
    assert_eq!(
        actions[1],
        ("session_created".to_string(), net.staff.user_id.clone())
    );
    assert!(actions.contains(&("staff_assigned".to_string(), net.admin.user_id.clone())));
    assert!(actions.contains(&("center_created".to_string(), net.admin.user_id.clone())));
    let by_admin: Value = app
        .get(
            &format!("/api/v1/admin/audit?actor_id={}", net.admin.user_id),
            Some(&net.admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(by_admin["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "course_created"));
    assert!(
        !log.to_string().contains('@'),
        "no e-mail addresses in the log"
    );

    assert_eq!(
        app.get("/api/v1/admin/audit", Some(&net.staff.access))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/admin/audit", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_admin_ends_every_sign_in_of_a_person_and_no_one_else_may() {
    let app = spawn_app().await;
    let admin = app.user_with_role("admin").await;
    let staff = app.user_with_role("staff").await;
    let resident = app.resident().await;
    let path = format!("/api/v1/admin/users/{}/end-sign-ins", resident.user_id);
    for (token, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(resident.access.as_str()), StatusCode::FORBIDDEN),
        (Some(staff.access.as_str()), StatusCode::FORBIDDEN),
    ] {
        assert_eq!(app.post(&path, token).await.status(), expected);
    }
    assert_eq!(
        app.get("/api/v1/me", Some(&resident.access)).await.status(),
        StatusCode::OK
    );

    let res = app.post(&path, Some(&admin.access)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["ended"], 1);
    let res = app.get("/api/v1/me", Some(&resident.access)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem_code(res).await, "session_revoked");
    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": resident.refresh }),
            None,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the refresh token is dead too"
    );
    // Nothing left to end; an unknown person is 404.
    let again: Value = app
        .post(&path, Some(&admin.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["ended"], 0);
    let res = app
        .post(
            "/api/v1/admin/users/no-such-user/end-sign-ins",
            Some(&admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let log: Value = app
        .get(
            &format!("/api/v1/admin/audit?actor_id={}", admin.user_id),
            Some(&admin.access),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(log["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "sign_ins_ended" && e["target_id"] == resident.user_id.as_str()));
}
