//! The push worker: fans due notifications out to their channels (FCM, LINE, SMS),
//! claims deliveries with a lease, sends them with many in flight (`senders`), and
//! records the outcomes. It runs inside `ocod serve` (unless `--no-worker`) or alone as
//! `ocod worker`; any number may share one PostgreSQL. `step` is one round, callable from
//! tests.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::QuietHours;
use crate::http::metrics::Metrics;
use crate::line::client::LineClient;
use crate::models::broadcasts;
use crate::sms::SmsSender;

use super::fcm::{FcmClient, Outcome, ServiceAccount};
use super::queue::{self, Channels, Claimed, FanOut, Recorded};
use super::senders::{Pace, Senders};

/// Due notifications fanned out, and broadcast audience added, per transaction.
const FAN_OUT_BATCH: i64 = 5_000;
/// The same for the feeder on SQLite: small enough that the claims waiting for SQLite's
/// one write lock are not held up long (a batch of 5,000 held it ~300 ms, longer than the
/// sends in flight take to drain). PostgreSQL locks rows, and fewer, larger batches suit
/// it better.
const SQLITE_FEED_BATCH: i64 = 1_000;

fn feed_batch(conn: &crate::db::DbConn) -> i64 {
    match conn {
        crate::db::DbConn::Sqlite(_) => SQLITE_FEED_BATCH,
        crate::db::DbConn::Postgres(_) => FAN_OUT_BATCH,
    }
}
/// Most batches of `concurrency` deliveries sent per round.
const BATCHES_PER_STEP: usize = 50;
/// Most batches of broadcasts and due notifications the feeder takes on per round.
const FEED_ROUNDS: usize = 50;
/// How far the feeder may queue deliveries ahead of the claims.
const FEED_AHEAD: usize = 4 * FAN_OUT_BATCH as usize;
/// Most outcomes recorded in one transaction, and how long the recorder gathers them.
const RECORD_BATCH: usize = 2_000;
const RECORD_GATHER: Duration = Duration::from_millis(10);

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// People added from broadcasts.
    pub expanded: usize,
    pub fan_out: FanOut,
    pub claimed: usize,
    pub recorded: Recorded,
    /// Text messages claimed and sent.
    pub texts: usize,
}

impl Step {
    pub fn is_idle(&self) -> bool {
        self.claimed == 0
            && self.expanded == 0
            && self.fan_out == FanOut::default()
            && self.texts == 0
    }
}

#[derive(Clone)]
pub struct PushWorker {
    pool: DbPool,
    fcm: Option<Arc<FcmClient>>,
    quiet_hours: Option<QuietHours>,
    concurrency: usize,
    max_attempts: i32,
    poll: Duration,
    lease: Duration,
    metrics: Option<Arc<Metrics>>,
    /// Where text messages go (the worker sends them too).
    sms: Arc<SmsSender>,
    /// The LINE official account, when connected.
    line: Option<Arc<LineClient>>,
    pace: Arc<Pace>,
}

impl PushWorker {
    /// Builds the worker; without credentials it delivers to inboxes only, and says so.
    pub fn from_settings(
        pool: DbPool,
        settings: &Settings,
        metrics: Option<Arc<Metrics>>,
    ) -> anyhow::Result<Self> {
        let fcm = match &settings.google_credentials {
            Some(path) => {
                let account = ServiceAccount::load(path)?;
                let client =
                    FcmClient::new(account, &settings.fcm_endpoint, settings.push_concurrency)?;
                tracing::info!(project = client.project_id(), endpoint = %settings.fcm_endpoint, "push: sending through FCM HTTP v1");
                Some(Arc::new(client))
            }
            None => {
                tracing::warn!("push: GOOGLE_APPLICATION_CREDENTIALS is not set; notifications go to the in-app inbox and the log only");
                None
            }
        };
        if matches!(settings.sms, crate::config::SmsProvider::Log) {
            tracing::warn!("sms: OCOD_SMS_PROVIDER=log; text messages (sign-in codes too) are written to the log only");
        }
        let sms = Arc::new(SmsSender::from_settings(&settings.sms)?);
        let line = match &settings.line {
            Some(line) => Some(Arc::new(LineClient::new(line)?)),
            None => {
                tracing::info!("line: no official account is connected (OCOD_LINE_CHANNEL_SECRET, OCOD_LINE_CHANNEL_TOKEN); nothing is sent by LINE");
                None
            }
        };
        Ok(PushWorker {
            pool,
            sms,
            line,
            pace: Arc::new(Pace::new(settings.fcm_max_per_second)),
            fcm,
            quiet_hours: settings.quiet_hours,
            concurrency: settings.push_concurrency,
            max_attempts: settings.push_max_attempts,
            poll: settings.worker_poll,
            lease: settings.push_lease,
            metrics,
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut crate::db::DbConn) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }

    /// One round: send due texts, then, all at once, expand due broadcasts and fan out
    /// due notifications (the feeder), claim what is queued (the producer), send it with
    /// at most `concurrency` in flight, and record the outcomes in batches as they come
    /// (the recorder), so the database work overlaps the wait on FCM instead of adding
    /// to it.
    pub async fn step(&self) -> anyhow::Result<Step> {
        // Texts first: a sign-in code is waited for by someone holding their phone.
        let texts = crate::sms::send_due(
            &self.pool,
            &self.sms,
            self.lease,
            self.max_attempts,
            self.metrics.as_deref(),
        )
        .await?;
        let (quiet, channels) = (self.quiet_hours, self.channels());
        let mut step = Step {
            texts,
            ..Step::default()
        };
        let rescued = self
            .blocking(|conn| Ok(queue::rescue_expired_leases(conn)?))
            .await?;
        if rescued > 0 {
            tracing::warn!(
                rescued,
                "push: took over deliveries whose worker stopped mid-send"
            );
        }

        // Claims are committed before anything is sent: no transaction is open while we
        // talk to FCM. The feeder keeps the queue topped up from broadcasts and due
        // notifications while the producer claims and earlier sends are in flight, so
        // refilling overlaps sending instead of stalling it; rows wait in the database, so
        // memory stays flat whatever the audience. The channel bounds how far claiming runs
        // ahead of sending.
        let progress = Arc::new(Progress::default());
        let feeder = {
            let (worker, progress) = (self.clone(), Arc::clone(&progress));
            tokio::spawn(async move { worker.feed(quiet, channels, &progress).await })
        };
        let (tx, rx) = tokio::sync::mpsc::channel::<Claimed>(2 * self.concurrency);
        let claimer = self.clone();
        let claims = Arc::clone(&progress);
        let producer = tokio::spawn(async move {
            let (limit, lease) = (claimer.concurrency as i64, claimer.lease);
            let mut batches = 0;
            while batches < BATCHES_PER_STEP {
                // Read before the claim: once the feeder is done, what it queued was
                // committed before this claim began, so an empty claim means nothing is
                // left (read after, a claim that just missed the feeder's last batch
                // would end the round without it).
                let feeding = claims.feeding.load(Ordering::Acquire);
                let batch = claimer
                    .blocking(move |conn| Ok(queue::claim(conn, lease, limit)?))
                    .await?;
                if batch.is_empty() {
                    if feeding {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    break;
                }
                batches += 1;
                claims.claimed.fetch_add(batch.len(), Ordering::AcqRel);
                for delivery in batch {
                    if tx.send(delivery).await.is_err() {
                        break;
                    }
                }
            }
            claims.done.store(true, Ordering::Release);
            anyhow::Ok(claims.claimed.load(Ordering::Acquire))
        });
        // Sending never waits on the database: outcomes go to a recorder task that writes
        // them in batches while the next sends are already in flight.
        let (done, mut outcomes) = tokio::sync::mpsc::unbounded_channel::<(Claimed, Outcome)>();
        let writer = self.clone();
        let recorder = tokio::spawn(async move {
            let mut recorded = Recorded::default();
            let mut batch = Vec::new();
            while let Some(first) = outcomes.recv().await {
                batch.push(first);
                // Gather what else finishes in the next few milliseconds: one transaction
                // for many outcomes rather than one each.
                let gather = tokio::time::sleep(RECORD_GATHER);
                tokio::pin!(gather);
                while batch.len() < RECORD_BATCH {
                    tokio::select! {
                        more = outcomes.recv() => match more {
                            Some(more) => batch.push(more),
                            None => break,
                        },
                        _ = &mut gather => break,
                    }
                }
                writer.observe(&batch);
                let (chunk, max_attempts) = (std::mem::take(&mut batch), writer.max_attempts);
                recorded += writer
                    .blocking(move |conn| Ok(queue::record(conn, &chunk, max_attempts, channels)?))
                    .await?;
            }
            anyhow::Ok(recorded)
        });
        let senders = Arc::new(self.senders());
        let queued =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|c| (c, rx)) },
            );
        let mut results = std::pin::pin!(queued
            .map(|c| {
                let senders = Arc::clone(&senders);
                async move {
                    let outcome = senders.send(&c).await;
                    (c, outcome)
                }
            })
            .buffer_unordered(self.concurrency));
        while let Some(result) = results.next().await {
            // The recorder only stops early on a database error, reported below; what it
            // did not record is sent again when its lease runs out.
            let _ = done.send(result);
        }
        drop(done);
        step.recorded = recorder.await??;
        let claimed = producer.await;
        progress.done.store(true, Ordering::Release);
        let (expanded, fan_out) = feeder.await??;
        step.claimed = claimed??;
        step.expanded = expanded;
        step.fan_out = fan_out;
        if (expanded > 0 || fan_out.delivered > 0) && self.fcm.is_none() {
            tracing::info!(
                expanded,
                delivered = fan_out.delivered,
                "push: delivered to inboxes only (no FCM credentials)"
            );
        }
        Ok(step)
    }

    /// The channels this worker can send by: FCM and LINE when configured; SMS always
    /// (with `OCOD_SMS_PROVIDER=log` a text goes to the log).
    fn channels(&self) -> Channels {
        Channels {
            push: self.fcm.is_some(),
            line: self.line.is_some(),
            sms: true,
        }
    }

    /// Expands broadcasts and fans out due notifications until there is nothing more, the
    /// round is over or `FEED_ROUNDS` batches are done, staying at most `FEED_AHEAD` deliveries ahead of the claims.
    async fn feed(
        &self,
        quiet: Option<QuietHours>,
        channels: Channels,
        progress: &Progress,
    ) -> anyhow::Result<(usize, FanOut)> {
        let result = async {
            let (mut expanded, mut fan_out) = (0, FanOut::default());
            for _ in 0..FEED_ROUNDS {
                if progress.done.load(Ordering::Acquire) {
                    break;
                }
                let more_people = self
                    .blocking(move |conn| {
                        let batch = feed_batch(conn);
                        Ok(broadcasts::expand_due(conn, batch, quiet, channels)?)
                    })
                    .await?;
                let more = self
                    .blocking(move |conn| {
                        let batch = feed_batch(conn);
                        Ok(queue::fan_out_due(conn, quiet, channels, batch)?)
                    })
                    .await?;
                expanded += more_people;
                fan_out += more;
                progress.fed.fetch_add(more.deliveries, Ordering::AcqRel);
                if more_people == 0 && more == FanOut::default() {
                    break;
                }
                while !progress.done.load(Ordering::Acquire)
                    && progress.fed.load(Ordering::Acquire)
                        > progress.claimed.load(Ordering::Acquire) + FEED_AHEAD
                {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            anyhow::Ok((expanded, fan_out))
        }
        .await;
        progress.feeding.store(false, Ordering::Release);
        result
    }

    fn senders(&self) -> Senders {
        Senders {
            fcm: self.fcm.clone(),
            line: self.line.clone(),
            sms: Arc::clone(&self.sms),
            pace: self.pace.clone(),
        }
    }

    fn observe(&self, results: &[(Claimed, Outcome)]) {
        for (c, outcome) in results {
            let channel = c.channel.as_str();
            if let Some(m) = &self.metrics {
                // Never let a metric take the worker down.
                if let Ok(counter) = m.deliveries.get_metric_with_label_values(&[
                    channel,
                    outcome_label(outcome),
                    reason_label(outcome),
                ]) {
                    counter.inc();
                }
            }
            match outcome {
                Outcome::Sent => {}
                Outcome::InvalidToken(reason) => {
                    tracing::info!(delivery = c.id, %channel, %reason, "delivery: the address is dead (token unregistered, LINE blocked); forgetting it")
                }
                Outcome::Retry { reason, .. } => {
                    tracing::warn!(delivery = c.id, %channel, attempt = c.attempts, %reason, "delivery: will retry")
                }
                Outcome::Failed(reason) => {
                    tracing::error!(delivery = c.id, %channel, %reason, "delivery: failed for good")
                }
            }
        }
    }

    /// Runs rounds until `stop` is set; the round in progress is finished and recorded, so
    /// nothing is left leased.
    pub async fn run(self, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Relaxed) {
            // Each round runs as its own task, so even a panic in it is reported and the
            // worker carries on instead of silently stopping.
            let round = self.clone();
            match tokio::spawn(async move { round.step().await }).await {
                Ok(Ok(step)) if step.is_idle() => self.pause(&stop, self.poll).await,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(
                        error = format!("{e:#}"),
                        "push worker round failed; trying again shortly"
                    );
                    self.pause(&stop, self.poll.max(Duration::from_secs(1)))
                        .await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "push worker round panicked; trying again shortly");
                    self.pause(&stop, self.poll.max(Duration::from_secs(1)))
                        .await;
                }
            }
        }
        tracing::info!("push worker stopped");
    }

    async fn pause(&self, stop: &AtomicBool, total: Duration) {
        let slice = Duration::from_millis(50);
        let mut waited = Duration::ZERO;
        while waited < total && !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(slice).await;
            waited += slice;
        }
    }
}

/// How a round's feeder and producer keep pace with each other.
struct Progress {
    /// Deliveries queued by the feeder this round.
    fed: AtomicUsize,
    /// Deliveries claimed by the producer this round.
    claimed: AtomicUsize,
    /// The feeder may still queue more.
    feeding: AtomicBool,
    /// The producer has finished the round.
    done: AtomicBool,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            fed: AtomicUsize::new(0),
            claimed: AtomicUsize::new(0),
            feeding: AtomicBool::new(true),
            done: AtomicBool::new(false),
        }
    }
}

/// FCM's error code (`UNREGISTERED`, `QUOTA_EXCEEDED`, …), the HTTP status, or
/// `network`: a small, bounded set of metric labels.
fn reason_label(outcome: &Outcome) -> &str {
    let reason = match outcome {
        Outcome::Sent => return "ok",
        Outcome::InvalidToken(r) | Outcome::Failed(r) | Outcome::Retry { reason: r, .. } => {
            r.as_str()
        }
    };
    if reason.starts_with("network") {
        return "network";
    }
    let mut words = reason.split_whitespace();
    let status = words.next().unwrap_or("other");
    match words.next().map(|w| w.trim_end_matches(':')) {
        Some(code)
            if code.len() > 2 && code.chars().all(|c| c.is_ascii_uppercase() || c == '_') =>
        {
            code
        }
        _ if status.len() == 3 && status.chars().all(|c| c.is_ascii_digit()) => status,
        _ => "other",
    }
}

fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Sent => "sent",
        Outcome::InvalidToken(_) => "invalid_token",
        Outcome::Retry { .. } => "retry",
        Outcome::Failed(_) => "failed",
    }
}

/// The worker on a thread of its own (with its own runtime), so sending never competes
/// with answering requests. Dropping the handle stops it after its current round.
pub struct WorkerHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WorkerHandle {
    pub fn spawn(worker: PushWorker) -> anyhow::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("push-worker")
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("push-worker".into())
            .spawn(move || runtime.block_on(worker.run(flag)))?;
        Ok(WorkerHandle {
            stop,
            thread: Some(thread),
        })
    }

    /// Asks the worker to stop and waits for its round to finish.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_reasons_are_fcm_codes_statuses_or_network() {
        assert_eq!(reason_label(&Outcome::Sent), "ok");
        assert_eq!(
            reason_label(&Outcome::InvalidToken(
                "404 UNREGISTERED: Requested entity was not found.".into()
            )),
            "UNREGISTERED"
        );
        assert_eq!(
            reason_label(&Outcome::Retry {
                reason: "429 QUOTA_EXCEEDED: Quota".into(),
                after: None
            }),
            "QUOTA_EXCEEDED"
        );
        assert_eq!(
            reason_label(&Outcome::Retry {
                reason: "503 The service".into(),
                after: None
            }),
            "503"
        );
        assert_eq!(
            reason_label(&Outcome::Retry {
                reason: "network: connection refused".into(),
                after: None
            }),
            "network"
        );
        assert_eq!(
            reason_label(&Outcome::Failed("expired before it could be sent".into())),
            "other"
        );
    }
}
