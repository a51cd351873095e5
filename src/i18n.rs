//! Messages people read, in Thai (the default) and English: every error code with its
//! texts, and the choice of language from `Accept-Language`.

use crate::domain::Locale;

/// Declares the error codes: the enum, its stable snake_case word, and its message in
/// each language as one exhaustive `match`, so a code without both texts cannot compile.
macro_rules! codes {
    ($( $variant:ident => $word:literal, $th:literal, $en:literal; )+) => {
        /// A stable, machine-readable reason for refusing a request (the `code` of a
        /// problem document or of one of its field errors).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $( $variant ),+ }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant ),+ ];

            /// The word clients see.
            pub const fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $word ),+ }
            }

            /// What the code means, for a person reading `locale`.
            pub const fn message(self, locale: Locale) -> &'static str {
                match (self, locale) {
                    $( (Code::$variant, Locale::Th) => $th, (Code::$variant, Locale::En) => $en, )+
                }
            }
        }
    };
}

codes! {
    BroadcastAlreadySent => "broadcast_already_sent",
        "ประกาศนี้เริ่มส่งแล้ว ยกเลิกไม่ได้",
        "This broadcast has started sending and cannot be cancelled.";
    CenterCodeTaken => "center_code_taken",
        "รหัสศูนย์นี้มีอยู่แล้ว",
        "A center with this code already exists.";
    CenterHasSessions => "center_has_sessions",
        "ศูนย์นี้มีรอบอบรมแล้ว จึงลบไม่ได้ ให้เปลี่ยนสถานะเป็นปิดแทน",
        "This center has held sessions and cannot be deleted; close it instead.";
    CenterNotActive => "center_not_active",
        "ศูนย์นี้ยังไม่เปิดให้บริการ",
        "This center is not open.";
    UserNotStaff => "user_not_staff",
        "ผู้ใช้นี้ไม่ใช่เจ้าหน้าที่ กรุณาเปลี่ยนสิทธิ์เป็นเจ้าหน้าที่ก่อน",
        "This user is not staff; change their role to staff first.";
    SessionNotScheduled => "session_not_scheduled",
        "รอบอบรมนี้ถูกยกเลิกหรือจบไปแล้ว",
        "This session was cancelled or has ended.";
    CapacityBelowSeatsTaken => "capacity_below_seats_taken",
        "จำนวนที่นั่งน้อยกว่าจำนวนผู้ที่ลงทะเบียนแล้ว",
        "The capacity cannot be less than the seats already taken.";
    SessionNotOpen => "session_not_open",
        "รอบอบรมนี้ไม่เปิดรับลงทะเบียน",
        "This session is not open for enrollment.";
    SessionStarted => "session_started",
        "รอบอบรมนี้เริ่มไปแล้ว",
        "This session has already started.";
    AlreadyEnrolled => "already_enrolled",
        "คุณลงทะเบียนรอบนี้ไว้แล้ว",
        "You are already enrolled in this session.";
    EnrollmentLimitReached => "enrollment_limit_reached",
        "คุณมีที่นั่งในรอบอบรมที่ยังไม่จบครบตามจำนวนสูงสุดแล้ว ยกเลิกรอบที่ไม่ไปก่อนจึงจะลงทะเบียนเพิ่มได้",
        "You already hold the most seats one person may in upcoming sessions; cancel one you will not attend to enroll in another.";
    WaitlistLimitReached => "waitlist_limit_reached",
        "คุณรอคิวไว้ครบตามจำนวนสูงสุดแล้ว ยกเลิกคิวที่ไม่ต้องการก่อนจึงจะรอคิวรอบอื่นได้",
        "You are already on the most waitlists one person may be; leave one to join another.";
    BroadcastLimitReached => "broadcast_limit_reached",
        "คุณส่งประกาศครบตามจำนวนสูงสุดต่อวันแล้ว ลองใหม่เมื่อพ้นเวลาที่แจ้ง",
        "You have sent the most broadcasts one person may in a day; try again after the time given.";
    EnrollmentCancelled => "enrollment_cancelled",
        "การลงทะเบียนนี้ถูกยกเลิกไปแล้ว",
        "This enrollment is already cancelled.";
    EnrollmentClosed => "enrollment_closed",
        "ไม่สามารถยกเลิกได้แล้ว เนื่องจากรอบอบรมเริ่มแล้วหรือบันทึกการเข้าร่วมแล้ว",
        "It can no longer be cancelled: the session has started or attendance was recorded.";
    EnrollmentNotConfirmed => "enrollment_not_confirmed",
        "บันทึกการเข้าร่วมได้เฉพาะผู้ที่ได้ที่นั่งแล้ว",
        "Attendance can only be recorded for confirmed seats.";
    EnrollmentWaitlisted => "enrollment_waitlisted",
        "คุณยังอยู่ในรายชื่อสำรอง ยังไม่มีที่นั่ง",
        "You are on the waitlist and have no seat yet.";
    CheckinNotOpen => "checkin_not_open",
        "ยังเช็กอินไม่ได้ เปิดให้เช็กอินก่อนรอบอบรมเริ่ม 2 ชั่วโมง",
        "Check-in opens 2 hours before the session starts.";
    CheckinClosed => "checkin_closed",
        "รอบอบรมนี้จบแล้ว เช็กอินไม่ได้ ให้แก้ไขการเข้าร่วมในรายชื่อแทน",
        "This session has ended; correct attendance in the roster instead.";
    IdempotencyKeyReused => "idempotency_key_reused",
        "Idempotency-Key นี้ใช้กับคำขออื่นไปแล้ว",
        "This Idempotency-Key was already used for a different request.";
    IdempotencyKeyInUse => "idempotency_key_in_use",
        "คำขอเดียวกันนี้กำลังดำเนินการอยู่ กรุณารอสักครู่แล้วลองใหม่",
        "The same request is still being handled. Try again in a moment.";
    ValidationFailed => "validation_failed",
        "ข้อมูลบางช่องไม่ถูกต้อง",
        "Some fields are not valid.";
    MalformedJson => "malformed_json",
        "ข้อมูลที่ส่งมาไม่ใช่ JSON ที่ถูกต้อง",
        "The request body is not valid JSON.";
    InvalidUtf8 => "invalid_utf8",
        "ข้อมูลที่ส่งมาไม่ใช่ข้อความ UTF-8",
        "The request body is not valid UTF-8.";
    PayloadTooLarge => "payload_too_large",
        "ข้อมูลที่ส่งมามีขนาดใหญ่เกินไป",
        "The request body is too large.";
    UnsupportedMediaType => "unsupported_media_type",
        "ต้องส่งข้อมูลเป็น application/json",
        "Send the body as application/json.";
    InvalidQuery => "invalid_query",
        "พารามิเตอร์ในลิงก์ไม่ถูกต้อง",
        "The query parameters are not valid.";
    InvalidPath => "invalid_path",
        "ลิงก์ไม่ถูกต้อง",
        "The address is not valid.";
    MissingToken => "missing_token",
        "กรุณาเข้าสู่ระบบ",
        "Please log in.";
    InvalidToken => "invalid_token",
        "การเข้าสู่ระบบไม่ถูกต้อง กรุณาเข้าสู่ระบบใหม่",
        "Your login is not valid. Please log in again.";
    TokenExpired => "token_expired",
        "การเข้าสู่ระบบหมดอายุ กรุณาต่ออายุหรือเข้าสู่ระบบใหม่",
        "Your login has expired. Refresh it or log in again.";
    StaleToken => "stale_token",
        "สิทธิ์ของบัญชีเปลี่ยนไป กรุณาต่ออายุการเข้าสู่ระบบ",
        "Your account's role changed. Refresh your login.";
    SessionRevoked => "session_revoked",
        "ออกจากระบบแล้ว กรุณาเข้าสู่ระบบใหม่",
        "You have been logged out. Please log in again.";
    InvalidCredentials => "invalid_credentials",
        "เบอร์โทร อีเมล หรือรหัสผ่านไม่ถูกต้อง",
        "The phone number, e-mail or password is not correct.";
    InvalidRefreshToken => "invalid_refresh_token",
        "การเข้าสู่ระบบหมดอายุ กรุณาเข้าสู่ระบบใหม่",
        "Your login has expired. Please log in again.";
    RefreshTokenReused => "refresh_token_reused",
        "ตรวจพบการใช้การเข้าสู่ระบบซ้ำ เพื่อความปลอดภัยกรุณาเข้าสู่ระบบใหม่",
        "This login was used twice; for your safety, please log in again.";
    TooManyLoginAttempts => "too_many_login_attempts",
        "ใส่รหัสผ่านผิดหลายครั้งเกินไป",
        "Too many wrong passwords.";
    InvalidSignature => "invalid_signature",
        "ลายเซ็นของคำขอไม่ถูกต้อง",
        "The request's signature is not valid.";
    PhoneNotMobile => "phone_not_mobile",
        "รหัสส่งทาง SMS ได้เฉพาะเบอร์มือถือในประเทศไทย (ขึ้นต้นด้วย 06 08 หรือ 09)",
        "Codes are sent by SMS to Thai mobile numbers only (starting 06, 08 or 09).";
    OtpTooSoon => "otp_too_soon",
        "เพิ่งส่งรหัสไปเมื่อสักครู่ กรุณารอสักครู่แล้วขอใหม่",
        "A code was sent moments ago; wait a little before asking for another.";
    TooManyCodes => "too_many_codes",
        "ขอรหัสบ่อยเกินไป กรุณาลองใหม่ภายหลัง",
        "Too many codes were asked for; try again later.";
    OtpInvalid => "otp_invalid",
        "รหัสไม่ถูกต้องหรือหมดอายุแล้ว กรุณาขอรหัสใหม่",
        "The code is wrong or has expired; ask for a new one.";
    DisplayNameRequired => "display_name_required",
        "เบอร์นี้ยังไม่มีบัญชี กรุณาใส่ชื่อเพื่อสร้างบัญชีใหม่",
        "This phone has no account yet; give a name to create one.";
    TooManySignups => "too_many_signups",
        "สมัครสมาชิกจากเครือข่ายนี้มากเกินไป กรุณาลองใหม่ภายหลัง",
        "Too many accounts were created from this network. Try again later.";
    Forbidden => "forbidden",
        "คุณไม่มีสิทธิ์ทำรายการนี้",
        "You are not allowed to do this.";
    NotFound => "not_found",
        "ไม่พบข้อมูลที่ต้องการ",
        "Not found.";
    RouteNotFound => "route_not_found",
        "ไม่พบหน้าที่ต้องการ",
        "There is no such address.";
    MethodNotAllowed => "method_not_allowed",
        "ไม่รองรับการทำรายการแบบนี้ที่ลิงก์นี้",
        "This method is not allowed here.";
    Conflict => "conflict",
        "ข้อมูลซ้ำกับที่มีอยู่แล้ว",
        "This conflicts with existing data.";
    PhoneTaken => "phone_taken",
        "เบอร์โทรนี้มีบัญชีอยู่แล้ว",
        "An account with this phone number already exists.";
    EmailTaken => "email_taken",
        "อีเมลนี้มีบัญชีอยู่แล้ว",
        "An account with this e-mail already exists.";
    CannotChangeOwnRole => "cannot_change_own_role",
        "ไม่สามารถเปลี่ยนสิทธิ์ของตัวเองได้",
        "You cannot change your own role.";
    ServiceUnavailable => "service_unavailable",
        "ระบบไม่พร้อมใช้งานชั่วคราว กรุณาลองใหม่",
        "The service is briefly unavailable. Please try again.";
    ServerBusy => "server_busy",
        "ขณะนี้มีผู้ใช้งานจำนวนมาก กรุณาลองใหม่อีกครั้งในไม่กี่วินาที",
        "Many people are using the service right now. Please try again in a few seconds.";
    InternalError => "internal_error",
        "ระบบขัดข้อง กรุณาลองใหม่ภายหลัง",
        "Something went wrong. Please try again later.";
    Required => "required",
        "ต้องกรอกช่องนี้",
        "This field is required.";
    InvalidType => "invalid_type",
        "ชนิดข้อมูลไม่ถูกต้อง",
        "This value has the wrong type.";
    UnknownField => "unknown_field",
        "ไม่รู้จักช่องนี้ หรือไม่สามารถแก้ไขได้",
        "This field is unknown or cannot be set.";
    InvalidValue => "invalid_value",
        "ค่าไม่ถูกต้อง",
        "This value is not valid.";
    InvalidPhone => "invalid_phone",
        "เบอร์โทรไม่ถูกต้อง เช่น 0812345678",
        "Not a valid phone number, e.g. 0812345678.";
    PhoneNotThai => "phone_not_thai",
        "รองรับเฉพาะเบอร์โทรในประเทศไทย",
        "Only Thai phone numbers are supported.";
    InvalidEmail => "invalid_email",
        "อีเมลไม่ถูกต้อง",
        "Not a valid e-mail address.";
    PhoneOrEmailRequired => "phone_or_email_required",
        "กรุณากรอกเบอร์โทรหรืออีเมล",
        "Give a phone number or an e-mail address.";
    PasswordTooShort => "password_too_short",
        "รหัสผ่านต้องมีอย่างน้อย 8 ตัวอักษร",
        "The password needs at least 8 characters.";
    PasswordTooLong => "password_too_long",
        "รหัสผ่านยาวได้ไม่เกิน 128 ตัวอักษร",
        "The password can have at most 128 characters.";
    InvalidDisplayName => "invalid_display_name",
        "ชื่อต้องยาวไม่เกิน 100 ตัวอักษร",
        "The name can have at most 100 characters.";
    InvalidLocale => "invalid_locale",
        "ภาษาต้องเป็น th หรือ en",
        "The language must be th or en.";
    InvalidRole => "invalid_role",
        "สิทธิ์ต้องเป็น resident, staff หรือ admin",
        "The role must be resident, staff or admin.";
    OutOfRange => "out_of_range",
        "ค่าอยู่นอกช่วงที่อนุญาต",
        "This value is out of range.";
    InvalidTime => "invalid_time",
        "เวลาต้องอยู่ในรูปแบบ HH:MM เช่น 21:00",
        "The time must look like HH:MM, e.g. 21:00.";
    InvalidCursor => "invalid_cursor",
        "ตัวชี้หน้าถัดไปไม่ถูกต้อง",
        "The page cursor is not valid.";
    TooLong => "too_long",
        "ข้อความยาวเกินไป",
        "This text is too long.";
    UnknownProvince => "unknown_province",
        "ไม่พบจังหวัดนี้ (ใช้ชื่อภาษาไทยหรืออังกฤษ เช่น เชียงใหม่)",
        "Unknown province (use its Thai or English name, e.g. Chiang Mai).";
    InvalidCenterCode => "invalid_center_code",
        "รหัสศูนย์ใช้ได้เฉพาะตัวอักษร ตัวเลข และขีด",
        "A center code has only letters, digits and dashes.";
    UnknownCourse => "unknown_course",
        "ไม่พบหลักสูตรนี้",
        "There is no such course.";
    InvalidTimestamp => "invalid_timestamp",
        "เวลาต้องอยู่ในรูปแบบ RFC 3339 พร้อมเขตเวลา เช่น 2026-12-01T09:00:00+07:00",
        "Give a time in RFC 3339 with offset, e.g. 2026-12-01T09:00:00+07:00.";
    MustBeInFuture => "must_be_in_future",
        "เวลาต้องอยู่ในอนาคต",
        "The time must be in the future.";
    EndsBeforeStart => "ends_before_start",
        "เวลาสิ้นสุดต้องอยู่หลังเวลาเริ่ม",
        "The end must come after the start.";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Picks Thai or English from an `Accept-Language` header, honouring q-values; Thai
/// wins when neither is asked for.
pub fn negotiate(accept_language: Option<&str>) -> Locale {
    let Some(header) = accept_language else {
        return Locale::Th;
    };
    let mut best: Option<(Locale, f32)> = None;
    for part in header.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let locale = match primary {
            "th" => Locale::Th,
            "en" => Locale::En,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((locale, q));
        }
    }
    best.map(|(locale, _)| locale).unwrap_or(Locale::Th)
}

/// Dates as Thailand reads them: Bangkok's clock (UTC+7, no daylight saving), and month
/// and day names in Thai or English. The console and the pushes share these.
pub mod dates {
    use chrono::{NaiveDateTime, TimeZone, Weekday};
    use chrono_tz::Asia::Bangkok;

    use crate::domain::Locale;

    const THAI_MONTHS: [&str; 12] = [
        "ม.ค.",
        "ก.พ.",
        "มี.ค.",
        "เม.ย.",
        "พ.ค.",
        "มิ.ย.",
        "ก.ค.",
        "ส.ค.",
        "ก.ย.",
        "ต.ค.",
        "พ.ย.",
        "ธ.ค.",
    ];
    const ENGLISH_MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const THAI_DAYS: [&str; 7] = ["จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์"];
    const ENGLISH_DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

    /// A stored UTC time as a Bangkok wall-clock time.
    pub fn bangkok(utc: NaiveDateTime) -> NaiveDateTime {
        Bangkok.from_utc_datetime(&utc).naive_local()
    }

    /// A Bangkok wall-clock time as the UTC time it is stored as (every local time exists
    /// once: Thailand has no daylight saving).
    pub fn from_bangkok(local: NaiveDateTime) -> NaiveDateTime {
        local - chrono::Duration::hours(7)
    }

    /// "ธ.ค." or "Dec" for `month0` 11.
    pub fn month(locale: Locale, month0: u32) -> &'static str {
        let i = (month0 as usize).min(11);
        match locale {
            Locale::Th => THAI_MONTHS[i],
            Locale::En => ENGLISH_MONTHS[i],
        }
    }

    /// "พุธ" or "Wed".
    pub fn weekday(locale: Locale, day: Weekday) -> &'static str {
        let i = day.num_days_from_monday() as usize;
        match locale {
            Locale::Th => THAI_DAYS[i],
            Locale::En => ENGLISH_DAYS[i],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thai_is_the_default_language() {
        assert_eq!(negotiate(None), Locale::Th);
        assert_eq!(negotiate(Some("fr-FR, de")), Locale::Th);
        assert_eq!(negotiate(Some("")), Locale::Th);
    }

    #[test]
    fn english_is_chosen_when_preferred() {
        assert_eq!(negotiate(Some("en")), Locale::En);
        assert_eq!(negotiate(Some("en-US,en;q=0.9")), Locale::En);
        assert_eq!(negotiate(Some("th;q=0.5, en;q=0.8")), Locale::En);
        assert_eq!(negotiate(Some("en;q=0.5, th")), Locale::Th);
        assert_eq!(negotiate(Some("en;q=0")), Locale::Th);
    }

    #[test]
    fn codes_are_unique_snake_case_and_every_message_has_both_languages() {
        let mut words: Vec<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        words.sort();
        words.dedup();
        assert_eq!(words.len(), Code::ALL.len());
        for code in Code::ALL {
            let word = code.as_str();
            assert!(
                word.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{word}"
            );
            assert!(!code.message(Locale::Th).is_empty() && !code.message(Locale::En).is_empty());
            assert_ne!(
                code.message(Locale::Th),
                code.message(Locale::En),
                "{word} is untranslated"
            );
        }
    }
}
