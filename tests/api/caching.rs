//! Cheap re-reads: strong ETags, 304 with no body, Cache-Control by who may keep an
//! answer, and HEAD on every GET route.

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_LENGTH, ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;

use crate::helpers::{spawn_app, TestApp};

async fn etag_of(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    encoding: &str,
) -> (String, String) {
    let mut req = app
        .client
        .get(app.url(path))
        .header(ACCEPT_ENCODING, encoding);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let tag = res.headers()[ETAG].to_str().unwrap().to_string();
    let caching = res.headers()[CACHE_CONTROL].to_str().unwrap().to_string();
    assert!(
        tag.starts_with('"') && !tag.starts_with("W/"),
        "a strong tag: {tag}"
    );
    (tag, caching)
}

async fn revalidate(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    tag: &str,
) -> reqwest::Response {
    let mut req = app
        .client
        .get(app.url(path))
        .header(ACCEPT_ENCODING, "identity")
        .header(IF_NONE_MATCH, tag);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn public_reads_and_my_lists_answer_304_while_unchanged() {
    let app = spawn_app().await;
    let net = app.network().await;
    let session = app
        .session(&net.staff.access, &net.center_id, &net.course_id, 3)
        .await;
    let resident = app.resident().await;
    let me = Some(resident.access.as_str());
    let cases: Vec<(String, Option<&str>, &str)> = vec![
        ("/api/v1/centers".into(), None, "public, max-age=60"),
        (
            format!("/api/v1/centers/{}", net.center_id),
            None,
            "public, max-age=60",
        ),
        ("/api/v1/courses".into(), None, "public, max-age=60"),
        (
            format!("/api/v1/courses/{}", net.course_id),
            None,
            "public, max-age=60",
        ),
        ("/api/v1/sessions".into(), None, "public, no-cache"),
        (
            format!("/api/v1/sessions/{session}"),
            None,
            "public, no-cache",
        ),
        ("/api/v1/me/enrollments".into(), me, "private, no-cache"),
        ("/api/v1/me/notifications".into(), me, "private, no-cache"),
    ];
    for (path, token, caching) in &cases {
        let (tag, got) = etag_of(&app, path, *token, "identity").await;
        assert_eq!(got, *caching, "{path}");
        let res = revalidate(&app, path, *token, &tag).await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(res.headers()[ETAG], tag.as_str());
        assert_eq!(res.headers()[CACHE_CONTROL], *caching);
        assert!(res.bytes().await.unwrap().is_empty(), "a 304 has no body");
        // Another tag (a changed answer) gets the whole answer.
        let res = revalidate(&app, path, *token, "\"something-else\"").await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        // The gzip answer is another representation, with its own tag.
        let (gzip_tag, _) = etag_of(&app, path, *token, "gzip").await;
        assert_ne!(gzip_tag, tag, "{path}: one tag for two encodings");
    }

    // A change changes the tag: enrolling moves the session's seats and my list.
    let (session_tag, _) = etag_of(
        &app,
        &format!("/api/v1/sessions/{session}"),
        None,
        "identity",
    )
    .await;
    let (mine_tag, _) = etag_of(&app, "/api/v1/me/enrollments", me, "identity").await;
    assert_eq!(
        app.enroll(&session, &resident.access).await.status(),
        StatusCode::CREATED
    );
    let res = revalidate(
        &app,
        &format!("/api/v1/sessions/{session}"),
        None,
        &session_tag,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "seats changed");
    let res = revalidate(&app, "/api/v1/me/enrollments", me, &mine_tag).await;
    assert_eq!(res.status(), StatusCode::OK, "my enrollments changed");

    // Another person's list is not mine: same path, other tag.
    let (mine_now, _) = etag_of(&app, "/api/v1/me/enrollments", me, "identity").await;
    let other = app.resident().await;
    let res = revalidate(
        &app,
        "/api/v1/me/enrollments",
        Some(&other.access),
        &mine_now,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Answers to no one in particular (errors, other routes) carry no tag and stay unstored.
    let res = app.get("/api/v1/me", me).await;
    assert!(res.headers().get(ETAG).is_none());
    assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
    let res = app.get("/api/v1/sessions/no-such-session", None).await;
    assert!(res.headers().get(ETAG).is_none());
}

#[tokio::test]
async fn head_answers_every_get_route_with_its_headers_and_no_body() {
    let app = spawn_app().await;
    let net = app.network().await;
    for (path, token) in [
        ("/api/v1/centers".to_string(), None),
        (format!("/api/v1/centers/{}", net.center_id), None),
        ("/api/v1/courses".to_string(), None),
        ("/api/v1/sessions".to_string(), None),
        ("/api/v1/me".to_string(), Some(net.staff.access.clone())),
        ("/health/live".to_string(), None),
        ("/openapi.yaml".to_string(), None),
        ("/console/login".to_string(), None),
    ] {
        let mut get = app
            .client
            .get(app.url(&path))
            .header(ACCEPT_ENCODING, "identity");
        let mut head = app
            .client
            .head(app.url(&path))
            .header(ACCEPT_ENCODING, "identity");
        if let Some(t) = &token {
            get = get.bearer_auth(t);
            head = head.bearer_auth(t);
        }
        let got = get.send().await.unwrap();
        let headed = head.send().await.unwrap();
        assert_eq!(headed.status(), got.status(), "{path}");
        assert_eq!(
            headed.headers().get("content-type"),
            got.headers().get("content-type"),
            "{path}"
        );
        if let Some(tag) = got.headers().get(ETAG) {
            assert_eq!(headed.headers().get(ETAG), Some(tag), "{path}");
        }
        let body = got.bytes().await.unwrap();
        assert!(!body.is_empty(), "{path}");
        // HEAD says how long the GET body is, when it says it.
        if let Some(length) = headed.headers().get(CONTENT_LENGTH) {
            assert_eq!(length.to_str().unwrap(), body.len().to_string(), "{path}");
        }
        assert!(
            headed.bytes().await.unwrap().is_empty(),
            "HEAD has no body: {path}"
        );
    }
    // HEAD on a route without GET is still 405.
    let res = app
        .client
        .head(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}
