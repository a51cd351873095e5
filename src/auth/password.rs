//! Argon2id password hashing with OWASP's parameters (m = 19 MiB, t = 2, p = 1).
//! Hashing is CPU-bound (tens of milliseconds): callers run it on the blocking pool.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher() -> Argon2<'static> {
    // The parameters are constants inside the library's accepted range; `Params::new`
    // cannot refuse them, but fall back to the library default (also argon2id) anyway.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (algorithm, parameters and salt included).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt_bytes = [0u8; 16];
    getrandom::fill(&mut salt_bytes)
        .map_err(|e| anyhow::anyhow!("no randomness for a salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| anyhow::anyhow!("salt encoding failed: {e}"))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// True when `password` matches `stored`. A malformed stored hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => hasher().verify_password(password.as_bytes(), &hash).is_ok(),
        // No password at all (an account made at a center's desk, or erased): as slow as
        // a wrong one, so the answer does not tell which accounts have none.
        Err(_) => {
            verify_against_dummy(password);
            false
        }
    }
}

/// Spends the same time as checking a real account, so that an unknown login cannot be
/// told apart from a wrong password by how long the answer takes.
pub fn verify_against_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy =
        DUMMY.get_or_init(|| hash_password("not-a-real-password-for-timing").unwrap_or_default());
    let _always_false = verify_password(password, dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_own_password() {
        let hash = hash_password("รหัสผ่านยาวพอ").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("รหัสผ่านยาวพอ", &hash));
        assert!(!verify_password("รหัสผ่านยาวพอ!", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }
}
