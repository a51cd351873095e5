//! Builds the running service from settings: pool, migrations, app data, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::directory::CenterDirectory;
use crate::http::conditional::conditional;
use crate::http::idempotency::idempotent;
use crate::http::metrics::Metrics;
use crate::http::middleware::observe;
use crate::maintenance::{self, Housekeeper};
use crate::push::notify::PushPolicy;
use crate::push::worker::{PushWorker, WorkerHandle};
use crate::routes;

/// A bound, ready-to-run server. Binding to port 0 picks a free port (tests do this).
pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    housekeeper: Housekeeper,
    worker: Option<WorkerHandle>,
}

impl Application {
    /// Opens the database, applies migrations, binds the listener and (unless
    /// `settings.run_worker` is off) starts the push worker.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = db::build_pool(&settings.database_url, settings.db_pool_size)?;
        let applied = db::run_migrations(&mut *pool.get()?)?;
        if !applied.is_empty() {
            tracing::info!(?applied, "database migrated");
        }
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let metrics = Arc::new(Metrics::new()?);
        let worker = if settings.run_worker {
            let worker =
                PushWorker::from_settings(pool.clone(), &settings, Some(Arc::clone(&metrics)))?;
            Some(WorkerHandle::spawn(worker)?)
        } else {
            None
        };
        let server = serve(listener, pool.clone(), settings, metrics)?;
        let housekeeper = maintenance::start(pool.clone(), Duration::from_secs(600))?;
        Ok(Application {
            port,
            server,
            pool,
            housekeeper,
            worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// Serves until SIGINT/SIGTERM; in-flight requests are allowed to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let _housekeeping_ends_with_the_server = self.housekeeper;
        let result = self.server.await;
        // The server has drained; let the worker finish and record its round.
        if let Some(worker) = self.worker {
            tokio::task::spawn_blocking(move || worker.stop())
                .await
                .ok();
        }
        result
    }
}

fn serve(
    listener: TcpListener,
    pool: DbPool,
    settings: Settings,
    metrics: Arc<Metrics>,
) -> anyhow::Result<Server> {
    let keys = web::Data::new(Arc::new(TokenKeys::new(&settings)?));
    let directory = web::Data::new(CenterDirectory::start(
        pool.clone(),
        settings.directory_refresh,
    )?);
    let policy = web::Data::new(PushPolicy {
        reminder_offsets: settings.reminder_offsets.clone(),
    });
    let metrics = web::Data::from(metrics);
    let line = web::Data::new(crate::handlers::line::LineChannel::from_settings(
        &settings,
    )?);
    let writer = web::Data::new(db::Writer::start(pool.clone(), &settings.database_url)?);
    let hashers = web::Data::new(crate::auth::hashers::Hashers::start(
        settings.password_hashers,
        settings.password_queue,
    )?);
    let pool = web::Data::new(pool);
    let workers = settings.http_workers;
    let settings = web::Data::new(settings);
    let server = HttpServer::new(move || {
        App::new()
            // Closest to the handlers: answers are kept and replayed as handlers gave them.
            .wrap(from_fn(idempotent))
            // Slow rural networks: every byte saved on a list of centers counts.
            .wrap(Compress::default())
            // Outside compression, so each encoding has its own strong tag.
            .wrap(from_fn(conditional))
            .wrap(from_fn(observe))
            .app_data(pool.clone())
            .app_data(writer.clone())
            .app_data(hashers.clone())
            .app_data(keys.clone())
            .app_data(directory.clone())
            .app_data(policy.clone())
            .app_data(settings.clone())
            .app_data(metrics.clone())
            .app_data(line.clone())
            .configure(routes::configure)
    })
    .workers(workers)
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}
