//! Finding centers: nearest first, by text and province, paging; admin changes show up.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{field_errors, problem_code, spawn_app, spawn_on, TestApp};

async fn items(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/centers?{query}"), None).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Three centers around Chiang Mai's old city at known distances, one in Bangkok.
async fn four_centers(app: &TestApp) -> crate::helpers::SignedIn {
    let admin = app.user_with_role("admin").await;
    app.center(&admin, "CDC-A", 18.7883, 98.9853).await; // the origin
    app.center(&admin, "CDC-B", 18.8800, 98.9853).await; // ~10.2 km north
    app.center(&admin, "CDC-C", 18.7883, 99.1800).await; // ~20.5 km east
    let res = app
        .post_json(
            "/api/v1/centers",
            &json!({
                "code": "cdc-bkk", "name_th": "ศูนย์ดิจิทัลชุมชนบางรัก", "name_en": "Bang Rak Community Digital Center",
                "province": "Bangkok", "district": "บางรัก", "subdistrict": "สีลม", "lat": 13.7563, "lon": 100.5018,
                "status": "under_construction", "phone": "02 123 4567"
            }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "CDC-BKK");
    assert_eq!(body["province"], "กรุงเทพมหานคร");
    assert_eq!(body["phone"], "+6621234567");
    admin
}

#[tokio::test]
async fn nearby_centers_come_nearest_first_with_distances() {
    let app = spawn_app().await;
    four_centers(&app).await;
    let found = items(&app, "lat=18.7883&lon=98.9853&radius_km=25").await;
    let codes: Vec<&str> = found.iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["CDC-A", "CDC-B", "CDC-C"]);
    let distances: Vec<f64> = found
        .iter()
        .map(|c| c["distance_km"].as_f64().unwrap())
        .collect();
    assert_eq!(distances[0], 0.0);
    assert!((10.0..10.4).contains(&distances[1]), "{distances:?}");
    assert!((20.3..20.7).contains(&distances[2]), "{distances:?}");

    let closer = items(&app, "lat=18.7883&lon=98.9853&radius_km=15").await;
    assert_eq!(closer.len(), 2);
    // Without a location, distance is null and the order is by code.
    let all = items(&app, "").await;
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|c| c["distance_km"].is_null()));
}

#[tokio::test]
async fn people_without_location_search_by_text_and_province() {
    let app = spawn_app().await;
    four_centers(&app).await;
    assert_eq!(items(&app, "province=Bangkok").await.len(), 1);
    assert_eq!(items(&app, "province=%E0%B9%80%E0%B8%8A%E0%B8%B5%E0%B8%A2%E0%B8%87%E0%B9%83%E0%B8%AB%E0%B8%A1%E0%B9%88").await.len(), 3);
    assert_eq!(items(&app, "province=chiang%20mai").await.len(), 3);
    // English, any case; Thai; district.
    assert_eq!(items(&app, "q=BANG%20RAK").await[0]["code"], "CDC-BKK");
    assert_eq!(
        items(
            &app,
            "q=%E0%B8%9A%E0%B8%B2%E0%B8%87%E0%B8%A3%E0%B8%B1%E0%B8%81"
        )
        .await
        .len(),
        1
    );
    assert_eq!(items(&app, "q=cdc-b&province=Chiang%20Mai").await.len(), 1);
    assert_eq!(items(&app, "status=under_construction").await.len(), 1);
    assert_eq!(items(&app, "q=nothing-like-this").await.len(), 0);
    let res = app.get("/api/v1/centers?province=Atlantis", None).await;
    assert_eq!(
        field_errors(res).await,
        vec![("province".into(), "unknown_province".into())]
    );
}

#[tokio::test]
async fn paging_through_centers_shows_each_exactly_once_in_order() {
    let app = spawn_app().await;
    four_centers(&app).await;
    for query in ["lat=18.7883&lon=98.9853&radius_km=100", ""] {
        let full = items(&app, &format!("{query}&limit=100")).await;
        let mut paged = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/centers?{query}&limit=1&cursor={c}"),
                None => format!("/api/v1/centers?{query}&limit=1"),
            };
            let page: Value = app.get(&path, None).await.json().await.unwrap();
            paged.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(paged, full, "{query}");
        assert!(!full.is_empty());
    }
    // A cursor from a nearby search is not valid for a plain listing, and vice versa.
    let page: Value = app
        .get("/api/v1/centers?limit=1", None)
        .await
        .json()
        .await
        .unwrap();
    let plain_cursor = page["next_cursor"].as_str().unwrap().to_string();
    let res = app
        .get(
            &format!("/api/v1/centers?lat=18.7&lon=98.9&cursor={plain_cursor}"),
            None,
        )
        .await;
    assert_eq!(
        field_errors(res).await,
        vec![("cursor".into(), "invalid_cursor".into())]
    );
}

#[tokio::test]
async fn bad_search_parameters_are_400() {
    let app = spawn_app().await;
    for (query, field, code) in [
        ("lat=91&lon=100", "lat", "out_of_range"),
        ("lat=13&lon=-181", "lon", "out_of_range"),
        ("lat=13", "lon", "required"),
        ("lat=13&lon=100&radius_km=101", "radius_km", "out_of_range"),
        ("lat=13&lon=100&radius_km=0", "radius_km", "out_of_range"),
        ("lat=abc&lon=100", "lat", "invalid_value"),
        ("limit=101", "limit", "out_of_range"),
        ("cursor=%%%", "cursor", "invalid_cursor"),
        ("status=open", "status", "invalid_value"),
    ] {
        let res = app.get(&format!("/api/v1/centers?{query}"), None).await;
        assert_eq!(
            field_errors(res).await,
            vec![(field.to_string(), code.to_string())],
            "{query}"
        );
    }
    let res = app.get("/api/v1/centers?lat=NaN&lon=100", None).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn admin_changes_show_at_once_here_and_soon_on_other_servers() {
    let app = spawn_app().await;
    let other = spawn_on(Arc::clone(&app.db), &[]).await;
    let admin = four_centers(&app).await;
    let id = items(&app, "q=cdc-a").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let res = app
        .patch_json(
            &format!("/api/v1/centers/{id}"),
            &json!({ "name_en": "Renamed Center", "status": "closed" }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        items(&app, "q=renamed").await.len(),
        1,
        "the server that made the change shows it at once"
    );

    // The other process notices the new data version within its refresh interval.
    let mut seen = false;
    for _ in 0..50 {
        if items(&other, "q=renamed").await.len() == 1 {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the other server never showed the change");
    let one: Value = other
        .get(&format!("/api/v1/centers/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["status"], "closed");
    assert_eq!(one["upcoming_sessions_count"], 0);
}

#[tokio::test]
async fn admins_manage_centers_with_validation() {
    let app = spawn_app().await;
    let admin = four_centers(&app).await;
    let res = app
        .post_json(
            "/api/v1/centers",
            &json!({ "code": "bad code!", "name_th": "", "name_en": "X", "province": "Narnia", "district": "d", "subdistrict": "s", "lat": 95, "lon": 100 }),
            Some(&admin.access),
        )
        .await;
    let mut errors = field_errors(res).await;
    errors.sort();
    assert_eq!(
        errors,
        vec![
            ("code".into(), "invalid_center_code".into()),
            ("lat".into(), "out_of_range".into()),
            ("name_th".into(), "required".into()),
            ("province".into(), "unknown_province".into()),
        ]
    );
    let res = app
        .post_json(
            "/api/v1/centers",
            &json!({ "code": "CDC-A", "name_th": "x", "name_en": "x", "province": "Loei", "district": "d", "subdistrict": "s", "lat": 17.5, "lon": 101.7 }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "center_code_taken");

    let id = items(&app, "q=cdc-c").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/api/v1/centers/{id}"), Some(&admin.access))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(items(&app, "q=cdc-c").await.len(), 0);
    assert_eq!(
        problem_code(app.get(&format!("/api/v1/centers/{id}"), None).await).await,
        "not_found"
    );
    assert_eq!(
        problem_code(
            app.delete(&format!("/api/v1/centers/{id}"), Some(&admin.access))
                .await
        )
        .await,
        "not_found"
    );
}

#[tokio::test]
async fn only_staff_can_be_assigned_and_centers_with_sessions_are_closed_not_deleted() {
    let app = spawn_app().await;
    let net = app.network().await;
    let resident = app.resident().await;
    let res = app
        .put(
            &format!(
                "/api/v1/centers/{}/staff/{}",
                net.center_id, resident.user_id
            ),
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "user_not_staff");
    let res = app
        .put(
            &format!(
                "/api/v1/centers/{}/staff/{}",
                net.center_id, net.staff.user_id
            ),
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "assigning twice is harmless");
    let res = app
        .put(
            &format!("/api/v1/centers/{}/staff/no-such-user", net.center_id),
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    app.session(&net.staff.access, &net.center_id, &net.course_id, 10)
        .await;
    let one: Value = app
        .get(&format!("/api/v1/centers/{}", net.center_id), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["upcoming_sessions_count"], 1);
    let res = app
        .delete(
            &format!("/api/v1/centers/{}", net.center_id),
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(problem_code(res).await, "center_has_sessions");

    // Unassigned staff lose the center at once.
    let res = app
        .delete(
            &format!(
                "/api/v1/centers/{}/staff/{}",
                net.center_id, net.staff.user_id
            ),
            Some(&net.admin.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post_json(
            &format!("/api/v1/centers/{}/sessions", net.center_id),
            &json!({ "course_id": net.course_id, "starts_at": crate::helpers::hours_from_now(30), "ends_at": crate::helpers::hours_from_now(31), "capacity": 5 }),
            Some(&net.staff.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
