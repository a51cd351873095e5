//! Notifications and their delivery: what to tell people and when (`notify`), the texts
//! (`messages`), the delivery queue and its channel choice (`queue`), the worker
//! (`worker`) and its senders (`senders`: FCM, LINE, SMS), and the FCM HTTP v1 client
//! (`fcm`) with a fake of it for tests and app developers (`fake`).

pub mod fake;
pub mod fcm;
pub mod messages;
pub mod notify;
pub mod queue;
pub mod senders;
pub mod worker;
