//! Authentication: password hashing, access and refresh tokens, and the role guards
//! handlers put in their signatures.

mod guards;
pub mod hashers;
pub mod otp;
pub mod password;
pub mod sign_in;
pub mod tokens;

pub use guards::{AdminUser, AuthUser, StaffUser};
pub use tokens::{AccessClaims, TokenKeys};
