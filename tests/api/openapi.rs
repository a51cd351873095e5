//! `openapi.yaml` and the server must agree: same operations, operationIds named after
//! the handlers, every documented operation answered by a real route.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_yaml_ng::Value as Yaml;

use crate::helpers::spawn_app;

const SPEC: &str = include_str!("../../openapi.yaml");
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// (METHOD, path, operationId) of every operation in the spec.
fn spec_operations() -> BTreeSet<(String, String, String)> {
    let spec: Yaml = serde_yaml_ng::from_str(SPEC).expect("openapi.yaml parses");
    assert_eq!(spec["openapi"].as_str(), Some("3.1.0"));
    let mut operations = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                let id = op["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path:?} lacks an operationId"));
                operations.insert((
                    method.to_uppercase(),
                    path.as_str().unwrap().to_string(),
                    id.to_string(),
                ));
            }
        }
    }
    operations
}

/// (METHOD, path, handler name) of every served route; `{file:.*}` is spelled `{file}`.
fn served_operations() -> BTreeSet<(String, String, String)> {
    ocod::routes::ROUTES
        .iter()
        .map(|(method, path, handler)| {
            let path = path.replace(":.*}", "}");
            let name = handler.rsplit("::").next().unwrap().trim().to_string();
            (method.to_string(), path, name)
        })
        .collect()
}

#[test]
fn the_spec_documents_exactly_the_served_routes() {
    let spec = spec_operations();
    let served = served_operations();
    let undocumented: Vec<_> = served.difference(&spec).collect();
    let unserved: Vec<_> = spec.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not in the spec: {undocumented:?}\nin the spec but not served: {unserved:?}"
    );
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let app = spawn_app().await;
    for (method, path, id) in spec_operations() {
        let concrete = path
            .replace("{id}", "some-id")
            .replace("{file}", "index.html");
        let req = app
            .client
            .request(method.parse().unwrap(), app.url(&concrete));
        let res = req.send().await.unwrap();
        let status = res.status();
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} ({id})"
        );
        if status == StatusCode::NOT_FOUND {
            let body: serde_json::Value = res.json().await.unwrap_or_default();
            assert_ne!(body["code"], "route_not_found", "{method} {path} ({id})");
        }
        assert!(
            !status.is_server_error(),
            "{method} {path} ({id}) answered {status}"
        );
    }
}

#[tokio::test]
async fn the_served_spec_is_the_file_and_the_docs_page_works_offline() {
    let app = spawn_app().await;
    let served = app.get("/openapi.yaml", None).await.text().await.unwrap();
    assert_eq!(served, SPEC);
    let res = app.get("/docs", None).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/docs/");
    let page = app.get("/docs/", None).await.text().await.unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    // Every script and stylesheet comes from this server, not a CDN.
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "{page}"
    );
    let init = app
        .get("/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/openapi.yaml"), "{init}");
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        assert_eq!(
            app.get(&format!("/docs/{asset}"), None).await.status(),
            StatusCode::OK,
            "{asset}"
        );
    }
}

/// A `pattern` of the spec, as a regular expression (JSON Schema patterns are not
/// anchored; ours anchor themselves where they mean the whole value).
fn spec_pattern(schema: &str, property: &str) -> regex::Regex {
    let spec: Yaml = serde_yaml_ng::from_str(SPEC).expect("spec");
    let pattern = spec["components"]["schemas"][schema]["properties"][property]["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema}.{property} has no pattern"));
    regex::Regex::new(pattern).expect("a valid pattern")
}

mod the_spec_states_what_the_server_enforces {
    use ocod::domain::{DisplayName, Phone};
    use ocod::handlers::fields::{optional_text, required_text};
    use proptest::prelude::*;

    use std::sync::LazyLock;

    use super::spec_pattern;

    static PHONE: LazyLock<regex::Regex> =
        LazyLock::new(|| spec_pattern("RegisterRequest", "phone"));
    static MOBILE: LazyLock<regex::Regex> = LazyLock::new(|| spec_pattern("OtpRequest", "phone"));
    static MOBILE_VERIFY: LazyLock<regex::Regex> =
        LazyLock::new(|| spec_pattern("OtpVerify", "phone"));
    static TEXT: LazyLock<regex::Regex> =
        LazyLock::new(|| spec_pattern("CreateCourseRequest", "title_th"));
    static OPTIONAL: LazyLock<regex::Regex> =
        LazyLock::new(|| spec_pattern("CreateSessionRequest", "room"));
    static NAME: LazyLock<regex::Regex> =
        LazyLock::new(|| spec_pattern("RegisterRequest", "display_name"));

    proptest! {
        // Both ways: what the pattern allows is accepted (Schemathesis'
        // positive_data_acceptance), and what it refuses is refused (negative_data_rejection).
        #[test]
        fn phone_numbers(raw in "[0-9๐๖๘+ .()a-]{0,18}", prefix in "(|0|66|\\+66|\\+66 0|0 )", rest in "[0-9 -]{0,14}") {
            let pattern = &*PHONE;
            for candidate in [raw.clone(), format!("{prefix}{rest}")] {
                prop_assert_eq!(
                    pattern.is_match(&candidate),
                    Phone::parse(&candidate).is_ok(),
                    "{:?}", candidate
                );
            }
        }

        /// Codes go to mobile numbers only (06, 08, 09).
        #[test]
        fn mobile_numbers(raw in "[0-9๐๖๘+ .()a-]{0,18}", prefix in "(|0|66|\\+66|\\+66 0|0 )", first in "[0-9]", rest in "[0-9 -]{0,12}") {
            for candidate in [raw.clone(), format!("{prefix}{first}{rest}")] {
                let served = Phone::parse(&candidate).is_ok_and(|p| p.is_mobile());
                prop_assert_eq!(MOBILE.is_match(&candidate), served, "{:?}", candidate);
                prop_assert_eq!(MOBILE_VERIFY.is_match(&candidate), served, "{:?}", candidate);
            }
        }

        #[test]
        fn required_texts(raw in "[ a\\nก\\t\\u{0}\\u{7}\\u{85}\\u{a0}]{0,12}") {
            let pattern = &*TEXT;
            prop_assert_eq!(pattern.is_match(&raw), required_text(&raw, 200).is_ok(), "{:?}", raw);
        }

        #[test]
        fn optional_texts(raw in "[ a\\nก\\t\\u{0}\\u{7}\\u{85}\\u{a0}]{0,12}") {
            let pattern = &*OPTIONAL;
            prop_assert_eq!(pattern.is_match(&raw), optional_text(Some(&raw), 100).is_ok(), "{:?}", raw);
        }

        #[test]
        fn names(raw in "[ a\\nก\\t\\u{0}\\u{7}\\u{85}\\u{a0}]{0,12}") {
            let pattern = &*NAME;
            prop_assert_eq!(pattern.is_match(&raw), DisplayName::parse(&raw).is_ok(), "{:?}", raw);
        }
    }
}
