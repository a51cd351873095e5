//! The console in real Chromium (`tests/browser/console.mjs`, driven by playwright-core):
//! a staff member's day and an admin's on the demo data, each effect checked through the
//! API (the admin's broadcast delivered to a fake FCM), axe-core
//! on every page, 360 px without sideways scrolling, page weights and screenshots (under
//! `target/tmp/browser/<database>`). Missing Node, packages or Chromium fail the test:
//! it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crate::helpers::{spawn_configured, start_fake_fcm, TestDb};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Installs the test's npm packages (pinned by the committed lock file) if they are not.
fn ensure_packages() {
    let dir = browser_dir();
    if dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
        && dir
            .join("node_modules/@axe-core/playwright/package.json")
            .is_file()
    {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm must be installed to run the browser tests (Node 20 or later)");
    assert!(status.success(), "npm ci in tests/browser failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_members_and_an_admins_day_in_chromium() {
    let chromium = std::env::var("OCOD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).is_file(),
        "Chromium is needed at {chromium} for the console's browser tests \
         (apt-get install chromium fonts-thai-tlwg, or set OCOD_CHROMIUM)"
    );
    ensure_packages();

    let db = Arc::new(TestDb::create());
    let backend = match db.as_ref() {
        TestDb::Sqlite { .. } => "sqlite",
        TestDb::Postgres { .. } => "postgres",
    };
    // Pushes go to a fake FCM, delivered by the server's own worker, so the admin sees a
    // broadcast's figures move. Plain http on loopback, as `serve --dev`: the cookie
    // cannot be Secure here.
    let (fake, _credentials, key_path) = start_fake_fcm();
    let push = [
        ("GOOGLE_APPLICATION_CREDENTIALS", key_path.as_str()),
        ("OCOD_FCM_ENDPOINT", fake.base_url.as_str()),
    ];
    let app = spawn_configured(db, &push, |s| s.secure_cookies = false).await;
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        ocod::cli::seed_demo(&mut pool.get().expect("conn"), ocod::demo::DEFAULT_SEED)
    })
    .await
    .expect("join")
    .expect("demo data");

    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("browser")
        .join(backend);
    let base = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("console.mjs")
            .current_dir(browser_dir())
            .env("OCOD_BASE_URL", base)
            .env("OCOD_OUT_DIR", &out)
            .env("OCOD_CHROMIUM", chromium)
            .output()
            .expect("node must be installed to run the browser tests")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "the browser journey failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("browser journey passed"), "{stdout}");
    // The admin's broadcast reached the demo resident's phone through FCM's protocol.
    let delivered: Vec<_> = fake
        .state
        .received()
        .into_iter()
        .filter(|m| m.token == "demo-resident-phone-0001")
        .collect();
    assert!(
        delivered.iter().any(|m| m.title == "ศูนย์เปิดรอบใหม่"),
        "{delivered:?}"
    );
}
