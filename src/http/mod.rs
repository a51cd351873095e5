//! HTTP plumbing shared by every route: extractors, middleware and metrics.

pub mod client_address;
pub mod conditional;
pub mod extract;
pub mod idempotency;
pub mod metrics;
pub mod middleware;
pub mod pagination;
