//! Housekeeping each server does in the background: forgetting idempotency answers older
//! than a day and refresh tokens past their expiry, and on SQLite emptying the
//! write-ahead log every `CHECKPOINT_EVERY`. Idempotent, so any number of servers may run
//! it at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::db::{self, DbConn, DbPool};
use crate::models::idempotency;
use crate::schema::refresh_tokens;

/// Stops the housekeeping thread when dropped (with the server that owns it).
pub struct Housekeeper {
    stop: Arc<AtomicBool>,
}

impl Drop for Housekeeper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// How often the housekeeping thread checkpoints SQLite's write-ahead log: often enough
/// that a minute of enrollments at full speed stays well under the 64 MiB
/// `journal_size_limit`.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

/// Runs `run_once` every `every`, starting after the first interval, and checkpoints the
/// WAL every `CHECKPOINT_EVERY`.
pub fn start(pool: DbPool, every: Duration) -> anyhow::Result<Housekeeper> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    std::thread::Builder::new()
        .name("housekeeping".into())
        .spawn(move || {
            let mut last = Instant::now();
            let mut last_checkpoint = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                if last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
                    last_checkpoint = Instant::now();
                    checkpoint(&pool);
                }
                if last.elapsed() < every {
                    continue;
                }
                last = Instant::now();
                match pool
                    .get()
                    .map_err(anyhow::Error::from)
                    .and_then(|mut conn| run_once(&mut conn))
                {
                    Ok((keys, tokens)) if keys + tokens > 0 => {
                        tracing::info!(
                            idempotency_keys = keys,
                            refresh_tokens = tokens,
                            "housekeeping removed expired rows"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(
                        error = format!("{e:#}"),
                        "housekeeping failed; will try again"
                    ),
                }
            }
        })?;
    Ok(Housekeeper { stop })
}

/// One checkpoint of SQLite's WAL (nothing on PostgreSQL); a failure is logged and
/// tried again next time.
fn checkpoint(pool: &DbPool) {
    match pool
        .get()
        .map_err(anyhow::Error::from)
        .and_then(|mut conn| Ok(db::checkpoint_wal(&mut conn)?))
    {
        Ok(Some(done)) if !done.truncated => tracing::debug!(
            log_pages = done.log_pages,
            checkpointed = done.checkpointed,
            "WAL checkpoint copied what readers allowed"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(
            error = format!("{e:#}"),
            "WAL checkpoint failed; will try again"
        ),
    }
}

/// Deletes what has expired; returns (idempotency answers, refresh tokens) removed.
pub fn run_once(conn: &mut DbConn) -> anyhow::Result<(usize, usize)> {
    let keys = idempotency::prune(conn)?;
    // Every limit counts within a day at most.
    crate::models::rate_limits::prune(conn, std::time::Duration::from_secs(86_400))?;
    let tokens =
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(db::now())))
            .execute(conn)?;
    Ok((keys, tokens))
}
