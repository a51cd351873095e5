//! Fan-out benchmark: a broadcast to N devices through the real worker (database queue,
//! FCM client over HTTP/2) against the fake FCM answering each send after 50 ms. Prints
//! messages per second, the ratio to the fake's own ceiling measured in the same run (the
//! client alone, no database), and the peak memory of each run, for two audience sizes so
//! it shows whether memory grows with the audience, with `OCOD_FCM_MAX_PER_SECOND` lifted
//! (what the worker can do); then once more under the default limit (10,000, Google's
//! quota), printing the busiest second the fake saw; and last with one token in ten
//! unregistered (uninstalled apps), timed until every outcome is recorded.
//!
//! `cargo bench --bench fanout [-- N]` (default 100000); SQLite, or PostgreSQL when
//! `OCOD_BENCH_POSTGRES_URL` names a server where it may create a database.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use futures_util::StreamExt;
use ocod::config::Settings;
use ocod::db::{self, DbConn, DbPool, DbUrl};
use ocod::push::fake::{service_account, Control, FakeFcm};
use ocod::push::fcm::{FcmClient, Push};
use ocod::push::worker::PushWorker;

const LATENCY_MS: u64 = 50;

/// The allocator the `ocod` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Samples the resident set every 20 ms while alive; `peak` is the largest seen.
struct MemoryWatch {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl MemoryWatch {
    fn start() -> Self {
        let peak = Arc::new(AtomicU64::new(rss_kib()));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (Arc::clone(&peak), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        MemoryWatch { peak, stop }
    }

    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.peak.load(Ordering::Relaxed).max(rss_kib())
    }
}

fn settings(
    url: &str,
    fake: &str,
    credentials: &std::path::Path,
    max_per_second: Option<u32>,
) -> anyhow::Result<Settings> {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url.to_string()),
        (
            "OCOD_JWT_SECRET",
            "bench-secret-bench-secret-bench-secret-01".to_string(),
        ),
        (
            "GOOGLE_APPLICATION_CREDENTIALS",
            credentials.to_string_lossy().into_owned(),
        ),
        ("OCOD_FCM_ENDPOINT", fake.to_string()),
        ("OCOD_QUIET_HOURS", String::new()),
        ("OCOD_DB_POOL_SIZE", "8".to_string()),
    ]);
    if let Ok(concurrency) = std::env::var("OCOD_PUSH_CONCURRENCY") {
        vars.insert("OCOD_PUSH_CONCURRENCY", concurrency);
    }
    if let Some(limit) = max_per_second {
        vars.insert("OCOD_FCM_MAX_PER_SECOND", limit.to_string());
    }
    Settings::from_lookup(|k| vars.get(k).cloned(), false).map_err(|e| anyhow::anyhow!("{e}"))
}

/// `n` users with one device each and an admin, written in bulk.
fn audience(conn: &mut DbConn, n: usize) -> anyhow::Result<String> {
    use diesel::RunQueryDsl;
    let now = db::now();
    let hash = ocod::auth::password::hash_password("bench-password")?;
    let users: Vec<ocod::models::users::NewUser> = (0..=n)
        .map(|i| ocod::models::users::NewUser {
            id: ocod::domain::UserId::from_raw(format!("{i:08}-0000-7000-8000-000000000000")),
            phone: None,
            email: Some(format!("u{i}@bench.ocod.th")),
            password_hash: hash.clone(),
            display_name: format!("ผู้ใช้ {i}"),
            role: if i == 0 {
                ocod::domain::Role::Admin
            } else {
                ocod::domain::Role::Resident
            },
            locale: if i % 3 == 0 {
                ocod::domain::Locale::En
            } else {
                ocod::domain::Locale::Th
            },
            created_at: now,
            updated_at: now,
        })
        .collect();
    let devices: Vec<ocod::models::devices::Device> = (1..=n)
        .map(|i| ocod::models::devices::Device {
            token: format!("bench-device-{i}"),
            user_id: format!("{i:08}-0000-7000-8000-000000000000"),
            platform: ocod::domain::Platform::Android,
            locale: None,
            created_at: now,
            last_seen_at: now,
        })
        .collect();
    db::write_transaction(conn, |conn| -> anyhow::Result<()> {
        for chunk in users.chunks(1000) {
            ocod::insert_batch!(conn, ocod::schema::users::table, chunk)?;
        }
        for chunk in devices.chunks(1000) {
            ocod::insert_batch!(conn, ocod::schema::devices::table, chunk)?;
        }
        Ok(())
    })?;
    Ok(users[0].id.to_string())
}

fn broadcast(conn: &mut DbConn, admin: &str) -> anyhow::Result<()> {
    let now = db::now();
    ocod::models::broadcasts::insert(
        conn,
        &ocod::models::broadcasts::Broadcast {
            id: ocod::models::users::new_id(),
            created_by: admin.to_string(),
            audience_kind: ocod::domain::AudienceKind::All,
            audience_value: None,
            title_th: "ระวังมิจฉาชีพ".into(),
            title_en: "Beware of scams".into(),
            body_th: "อย่าโอนเงินให้คนแปลกหน้า".into(),
            body_en: "Never send money to strangers.".into(),
            send_at: now,
            status: ocod::domain::BroadcastStatus::Scheduled,
            expanded_until: None,
            targeted_users: 0,
            created_at: now,
            finished_at: None,
        },
    )?;
    Ok(())
}

/// A fresh database: a temporary SQLite file, or a new PostgreSQL database.
fn fresh_database(dir: &std::path::Path, name: &str) -> anyhow::Result<String> {
    match std::env::var("OCOD_BENCH_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(admin) => {
            let mut conn = ocod::db::establish_postgres(&admin)?;
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
            conn.batch_execute(&format!("CREATE DATABASE {name}"))?;
            Ok(format!(
                "{}/{name}",
                admin
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .unwrap_or(&admin)
            ))
        }
        None => Ok(dir
            .join(format!("{name}.db"))
            .to_string_lossy()
            .into_owned()),
    }
}

/// What one broadcast run measured.
struct Run {
    rate: f64,
    rss_before: u64,
    rss_peak: u64,
    /// The most sends that arrived at the fake within one second (sampled every 20 ms).
    busiest_second: u64,
}

/// A broadcast to `n` devices through the worker. With `dead_every`, that share of the
/// tokens is unregistered at the fake (apps uninstalled since), and the run lasts until
/// every outcome is recorded, the dead ones too, not only until the last push arrives.
async fn worker_run(
    n: usize,
    fake: &FakeFcm,
    credentials: &std::path::Path,
    dir: &std::path::Path,
    max_per_second: Option<u32>,
    dead_every: Option<usize>,
) -> anyhow::Result<Run> {
    let tag = match (max_per_second, dead_every) {
        (_, Some(every)) => format!("dead{every}"),
        (Some(limit), None) => limit.to_string(),
        (None, None) => "default".to_string(),
    };
    let url = fresh_database(dir, &format!("ocod_fanout_{n}_{tag}"))?;
    let settings = settings(&url, &fake.base_url, credentials, max_per_second)?;
    let pool: DbPool = db::build_pool(&DbUrl::parse(&url).map_err(anyhow::Error::msg)?, 8)?;
    let admin = {
        let mut conn = pool.get()?;
        db::run_migrations(&mut conn)?;
        audience(&mut conn, n)?
    };
    let worker = PushWorker::from_settings(pool.clone(), &settings, None)?;
    fake.state.clear_received();
    let dead: Vec<String> = dead_every
        .map(|every| {
            (1..=n)
                .filter(|i| i % every == 0)
                .map(|i| format!("bench-device-{i}"))
                .collect()
        })
        .unwrap_or_default();
    let alive = n - dead.len();
    fake.state.control(Control {
        dead_tokens: dead,
        ..Control::default()
    });
    let before = rss_kib();
    let memory = MemoryWatch::start();
    let started = Instant::now();
    broadcast(&mut *pool.get()?, &admin)?;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (state, stop) = (Arc::clone(&fake.state), Arc::clone(&stop));
        tokio::spawn(async move {
            // (time, count) every 20 ms or so; the busiest second is the largest rise
            // between two samples at most one second apart.
            let mut samples = std::collections::VecDeque::new();
            let mut busiest = 0;
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                // Arrivals at the fake, as Google's quota counts them.
                let count = state.send_requests();
                while samples
                    .front()
                    .is_some_and(|(t, _): &(Instant, u64)| now - *t > Duration::from_secs(1))
                {
                    samples.pop_front();
                }
                if let Some((_, first)) = samples.front() {
                    busiest = busiest.max(count - first);
                }
                samples.push_back((now, count));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            busiest
        })
    };
    let settled = |pool: &DbPool| -> anyhow::Result<bool> {
        Ok(dead_every.is_none() || ocod::push::queue::depth(&mut *pool.get()?)?.0 == 0)
    };
    while fake.state.received_count() < alive || !settled(&pool)? {
        let step = worker.step().await?;
        if step.is_idle() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(900),
            "gave up after 15 minutes"
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    Ok(Run {
        rate: n as f64 / elapsed,
        rss_before: before,
        rss_peak: memory.finish(),
        busiest_second: sampler.await?,
    })
}

/// The fake's ceiling: the FCM client alone pushing as fast as it can, no database.
async fn ceiling(fake: &FakeFcm, concurrency: usize, n: usize) -> anyhow::Result<f64> {
    let client = Arc::new(FcmClient::new(
        service_account(&fake.base_url),
        &fake.base_url,
        concurrency,
    )?);
    fake.state.clear_received();
    let started = Instant::now();
    futures_util::stream::iter(0..n)
        .map(|i| {
            let client = Arc::clone(&client);
            async move {
                let push = Push {
                    token: format!("ceiling-{i}"),
                    title: "ระวังมิจฉาชีพ".into(),
                    body: "อย่าโอนเงินให้คนแปลกหน้า".into(),
                    data: BTreeMap::from([("kind".to_string(), "broadcast".to_string())]),
                    collapse_key: "broadcast-ceiling".into(),
                    expires_at: None,
                };
                client.send(&push).await
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let (fake, server) = FakeFcm::start("127.0.0.1:0")?;
    tokio::spawn(server);
    fake.state.control(Control {
        latency_ms: Some(LATENCY_MS),
        keep_messages: Some(false),
        ..Control::default()
    });
    let credentials = dir.path().join("sa.json");
    std::fs::write(
        &credentials,
        serde_json::to_string(&service_account(&fake.base_url))?,
    )?;
    let defaults = settings("x.db", &fake.base_url, &credentials, None)?;
    let (concurrency, limit) = (defaults.push_concurrency, defaults.fcm_max_per_second);
    let backend = if std::env::var("OCOD_BENCH_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        "PostgreSQL"
    } else {
        "SQLite"
    };

    println!("fan-out: fake FCM answering after {LATENCY_MS} ms, {concurrency} sends in flight, {backend}");
    let fake_ceiling = ceiling(&fake, concurrency, 20_000).await?;
    println!("  fake's ceiling (client alone, no database): {fake_ceiling:9.0} messages/s");
    let small = (n / 4).max(1);
    let show = |label: String, run: &Run| {
        println!(
            "  {label}: {:9.0} messages/s  ratio to ceiling {:.2}  busiest second {:6}  memory {:.1} MiB before, peak {:.1} MiB (+{:.1})",
            run.rate,
            run.rate / fake_ceiling,
            run.busiest_second,
            run.rss_before as f64 / 1024.0,
            run.rss_peak as f64 / 1024.0,
            run.rss_peak.saturating_sub(run.rss_before) as f64 / 1024.0
        );
    };
    println!("  with OCOD_FCM_MAX_PER_SECOND lifted (what the worker can do):");
    for size in [small, n] {
        let run = worker_run(size, &fake, &credentials, dir.path(), Some(1_000_000), None).await?;
        show(format!("  broadcast to {size:>7} devices"), &run);
    }
    println!("  with OCOD_FCM_MAX_PER_SECOND={limit} (the default):");
    let run = worker_run(n, &fake, &credentials, dir.path(), None, None).await?;
    show(format!("  broadcast to {n:>7} devices"), &run);
    // Last: the fake keeps its dead tokens.
    println!("  with the limit lifted again and 1 token in 10 unregistered, until every outcome is recorded:");
    let run = worker_run(
        n,
        &fake,
        &credentials,
        dir.path(),
        Some(1_000_000),
        Some(10),
    )
    .await?;
    show(format!("  broadcast to {n:>7} devices"), &run);
    Ok(())
}
