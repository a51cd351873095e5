//! OCOD: the backend of Thailand's Community Digital Centers. Residents find centers and
//! enroll in course sessions, staff run their centers, admins run the network.

pub mod auth;
pub mod backup;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod directory;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod http;
pub mod i18n;
pub mod import;
pub mod line;
pub mod maintenance;
pub mod models;
pub mod ops;
pub mod privacy;
pub mod push;
pub mod qr;
pub mod routes;
pub mod schema;
pub mod sms;
pub mod startup;
pub mod telemetry;
