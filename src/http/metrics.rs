//! Prometheus metrics: requests by route and status, latency, and database pool usage.

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::db::DbPool;

/// The process's metrics, registered in their own registry (no global state).
pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub in_flight: IntGauge,
    /// Notifications handed to a service, by channel (push, line, sms), outcome (sent,
    /// invalid_token, retry, failed) and reason (FCM's error code, the HTTP status, or
    /// `network`).
    pub deliveries: IntCounterVec,
    /// Sign-in codes handed to the SMS provider, by purpose (otp) and outcome (sent,
    /// retry, failed); notices by SMS count in `deliveries`.
    pub texts: IntCounterVec,
    push_queue_depth: Gauge,
    push_oldest_due_seconds: Gauge,
    pool_size: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("ocod".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by method, route pattern and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests, by method and route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ]),
            &["method", "route"],
        )?;
        let in_flight = IntGauge::new(
            "http_requests_in_flight",
            "HTTP requests being answered now",
        )?;
        let deliveries = IntCounterVec::new(
            Opts::new(
                "deliveries_total",
                "Notifications handed to FCM, LINE or the SMS provider by this process, by channel, outcome and the service's reason",
            ),
            &["channel", "outcome", "reason"],
        )?;
        let texts = IntCounterVec::new(
            Opts::new(
                "sms_total",
                "Text messages handed to the SMS provider by this process, by purpose and outcome",
            ),
            &["purpose", "outcome"],
        )?;
        let push_queue_depth = Gauge::new(
            "push_queue_depth",
            "Deliveries waiting to be sent (all processes)",
        )?;
        let push_oldest_due_seconds = Gauge::new(
            "push_oldest_due_seconds",
            "How long the oldest due delivery has waited",
        )?;
        let pool_size = Gauge::new(
            "db_pool_connections",
            "Open database connections in the pool",
        )?;
        let pool_idle = Gauge::new(
            "db_pool_idle_connections",
            "Idle database connections in the pool",
        )?;
        let pool_max = Gauge::new(
            "db_pool_max_connections",
            "Largest size the database pool may grow to",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(texts.clone()))?;
        registry.register(Box::new(push_queue_depth.clone()))?;
        registry.register(Box::new(push_oldest_due_seconds.clone()))?;
        registry.register(Box::new(pool_size.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            in_flight,
            deliveries,
            texts,
            push_queue_depth,
            push_oldest_due_seconds,
            pool_size,
            pool_idle,
            pool_max,
        })
    }

    /// The Prometheus text exposition, with pool figures read at this moment.
    /// Sets the queue figures read from the database.
    pub fn set_queue(&self, depth: i64, oldest_due_seconds: f64) {
        self.push_queue_depth.set(depth as f64);
        self.push_oldest_due_seconds.set(oldest_due_seconds);
    }

    pub fn render(&self, pool: &DbPool) -> anyhow::Result<String> {
        let state = pool.state();
        self.pool_size.set(f64::from(state.connections));
        self.pool_idle.set(f64::from(state.idle_connections));
        self.pool_max.set(f64::from(pool.max_size()));
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(String::from_utf8(buffer)?)
    }
}
