//! Housekeeping each server does in the background: forgetting idempotency answers older
//! than a day and refresh tokens past their expiry. Idempotent, so any number of
//! servers may run it at once.

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

/// Runs `run_once` every `every`, starting after the first interval.
pub fn start(pool: DbPool, every: Duration) -> anyhow::Result<Housekeeper> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    std::thread::Builder::new()
        .name("housekeeping".into())
        .spawn(move || {
            let mut last = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
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
