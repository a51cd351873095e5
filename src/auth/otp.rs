//! One-time sign-in codes by SMS (PRODUCT.md section 7): six digits from the operating
//! system's CSPRNG, valid `OCOD_OTP_TTL` (10 minutes), single use, burned by the fifth
//! wrong try, replaced by a newer one; a new code no sooner than `OCOD_OTP_RESEND_AFTER`
//! after the last, and at most so many per phone, per client address and per day. Only an
//! HMAC of the code, bound to its phone, is stored. Known and unknown phones get the same
//! answer, so nobody learns who has an account.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::config::OtpSettings;
use crate::db::{self, DbConn};
use crate::domain::{Locale, Phone};
use crate::error::ApiError;
use crate::i18n::Code;
use crate::models::rate_limits::{self, Admission};
use crate::models::users::{self, User};
use crate::schema::otp_codes;
use crate::sms::outbox::{self, Purpose};

/// Wrong tries that burn a code (the fifth).
pub const MAX_WRONG_TRIES: i32 = 5;

/// A fresh six-digit code, uniform over 000000–999999.
pub fn new_code() -> Result<String, ApiError> {
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
        let n = u32::from_le_bytes(bytes);
        // Reject the top of the range, so every code is equally likely.
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// The text of the SMS, one segment in either language (Thai is UCS-2: 70 characters).
pub fn sms_text(locale: Locale, code: &str, minutes: u64) -> String {
    match locale {
        Locale::Th => format!("รหัส OCOD ของคุณคือ {code} ใช้ได้ {minutes} นาที อย่าบอกรหัสนี้กับใคร"),
        Locale::En => {
            format!("Your OCOD code is {code}. It works for {minutes} minutes. Do not share it.")
        }
    }
}

/// Who is asking, as the limits count them: keyed hashes, never the phone or address.
pub struct Asker {
    pub phone_key: String,
    pub address_key: Option<String>,
}

fn limited(code: Code, admission: Admission) -> Result<(), ApiError> {
    match admission {
        Admission::Allowed => Ok(()),
        Admission::Limited { retry_after_secs } => Err(ApiError::TooManyRequests {
            code,
            retry_after_secs,
        }),
    }
}

/// Checks the limits, then replaces any live code of `phone` with a new one and queues its
/// SMS (in the person's language; `locale` for a phone with no account), all in one
/// transaction. `hash` keys a code to its phone under the server's secret.
pub fn request(
    conn: &mut DbConn,
    rules: &OtpSettings,
    phone: &Phone,
    asker: &Asker,
    locale: Locale,
    hash: impl Fn(&str) -> String,
) -> Result<(), ApiError> {
    let hour = std::time::Duration::from_secs(3600);
    // The cooldown is a limit of one per window, so two requests at once cannot both
    // send; it is checked first and costs nothing from the other limits.
    if !rules.resend_after.is_zero() {
        limited(
            Code::OtpTooSoon,
            rate_limits::admit(conn, "otp_resend", &asker.phone_key, 1, rules.resend_after)?,
        )?;
    }
    limited(
        Code::TooManyCodes,
        rate_limits::admit(
            conn,
            "otp_phone",
            &asker.phone_key,
            rules.per_phone_per_hour,
            hour,
        )?,
    )?;
    if let Some(address) = &asker.address_key {
        limited(
            Code::TooManyCodes,
            rate_limits::admit(
                conn,
                "otp_address",
                address,
                rules.per_address_per_hour,
                hour,
            )?,
        )?;
    }
    limited(
        Code::TooManyCodes,
        rate_limits::admit(
            conn,
            "otp_day",
            "all",
            rules.per_day,
            std::time::Duration::from_secs(24 * 3600),
        )?,
    )?;
    let code = new_code()?;
    let now = db::now();
    let ttl = chrono::Duration::from_std(rules.ttl).unwrap_or(chrono::Duration::minutes(10));
    let expires_at = now + ttl;
    db::write_transaction(conn, |conn| {
        let locale = users::find_by_login(conn, phone.as_str())?
            .filter(|u| u.deleted_at.is_none())
            .map_or(locale, |u| u.locale);
        end_live(conn, phone, "replaced", now)?;
        diesel::insert_into(otp_codes::table)
            .values((
                otp_codes::phone.eq(phone.as_str()),
                otp_codes::code_hash.eq(hash(&code)),
                otp_codes::wrong_tries.eq(0),
                otp_codes::created_at.eq(now),
                otp_codes::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        let minutes = (rules.ttl.as_secs() / 60).max(1);
        outbox::enqueue(
            conn,
            phone.as_str(),
            &sms_text(locale, &code, minutes),
            Purpose::Otp,
            Some(expires_at),
        )?;
        Ok::<_, ApiError>(())
    })
}

fn end_live(conn: &mut DbConn, phone: &Phone, why: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        otp_codes::table
            .filter(otp_codes::phone.eq(phone.as_str()))
            .filter(otp_codes::ended_at.is_null()),
    )
    .set((otp_codes::ended_at.eq(now), otp_codes::ended_by.eq(why)))
    .execute(conn)
}

/// What a right code leads to.
pub enum Verified {
    /// The account the phone belongs to.
    Existing(Box<User>),
    /// No account has the phone: the caller creates one (and the code is used then).
    NewPhone { code_id: i64 },
}

/// Checks `code` against the phone's live code. A wrong one counts (the fifth burns the
/// code) and is refused as any wrong, expired or missing code is: `otp_invalid`. A right
/// one for a known phone is used up at once; for an unknown phone it stays live until
/// `use_code` (so a verify without a name does not waste it).
pub fn verify(
    conn: &mut DbConn,
    phone: &Phone,
    code: &str,
    hash: impl Fn(&str) -> String,
) -> Result<Verified, ApiError> {
    let now = db::now();
    let outcome = db::write_transaction(conn, |conn| -> Result<Result<Verified, ()>, ApiError> {
        let live: Option<(i64, String, i32)> = otp_codes::table
            .filter(otp_codes::phone.eq(phone.as_str()))
            .filter(otp_codes::ended_at.is_null())
            .filter(otp_codes::expires_at.gt(now))
            .order(otp_codes::created_at.desc())
            .select((otp_codes::id, otp_codes::code_hash, otp_codes::wrong_tries))
            .first(conn)
            .optional()?;
        let Some((id, stored, wrong)) = live else {
            return Ok(Err(()));
        };
        if stored != hash(code) {
            let wrong = wrong + 1;
            let burned = wrong >= MAX_WRONG_TRIES;
            diesel::update(otp_codes::table.find(id))
                .set((
                    otp_codes::wrong_tries.eq(wrong),
                    otp_codes::ended_at.eq(burned.then_some(now)),
                    otp_codes::ended_by.eq(burned.then_some("burned")),
                ))
                .execute(conn)?;
            return Ok(Err(()));
        }
        match users::find_by_login(conn, phone.as_str())?.filter(|u| u.deleted_at.is_none()) {
            Some(user) => {
                if use_code(conn, id)? {
                    Ok(Ok(Verified::Existing(Box::new(user))))
                } else {
                    Ok(Err(()))
                }
            }
            None => Ok(Ok(Verified::NewPhone { code_id: id })),
        }
    })?;
    outcome.map_err(|()| ApiError::Unauthorized(Code::OtpInvalid))
}

/// Uses a code up; false if another request used it first.
pub fn use_code(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    let updated = diesel::update(
        otp_codes::table
            .find(id)
            .filter(otp_codes::ended_at.is_null()),
    )
    .set((
        otp_codes::ended_at.eq(db::now()),
        otp_codes::ended_by.eq("used"),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Forgets every code of `phone` (its owner was erased).
pub fn forget(conn: &mut DbConn, phone: &str) -> QueryResult<usize> {
    diesel::delete(otp_codes::table.filter(otp_codes::phone.eq(phone))).execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..1000 {
            let code = new_code().unwrap();
            assert_eq!(code.len(), 6);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn the_text_fits_one_sms_segment_in_either_language() {
        // Thai needs UCS-2: 70 characters a segment; English fits GSM-7's 160.
        let th = sms_text(Locale::Th, "123456", 10);
        assert!(
            th.chars().count() <= 70,
            "{} characters: {th}",
            th.chars().count()
        );
        let en = sms_text(Locale::En, "123456", 10);
        assert!(en.len() <= 160 && en.is_ascii(), "{en}");
    }
}
