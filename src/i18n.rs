//! Messages people read, in Thai (the default) and English, keyed by stable codes.

use crate::domain::Locale;

/// (code, Thai, English). Codes are the API's contract; the texts may be improved freely.
const MESSAGES: &[(&str, &str, &str)] = &[
    (
        "broadcast_already_sent",
        "ประกาศนี้เริ่มส่งแล้ว ยกเลิกไม่ได้",
        "This broadcast has started sending and cannot be cancelled.",
    ),
    // Centers, sessions and enrollment.
    (
        "center_code_taken",
        "รหัสศูนย์นี้มีอยู่แล้ว",
        "A center with this code already exists.",
    ),
    (
        "center_has_sessions",
        "ศูนย์นี้มีรอบอบรมแล้ว จึงลบไม่ได้ ให้เปลี่ยนสถานะเป็นปิดแทน",
        "This center has held sessions and cannot be deleted; close it instead.",
    ),
    (
        "center_not_active",
        "ศูนย์นี้ยังไม่เปิดให้บริการ",
        "This center is not open.",
    ),
    (
        "user_not_staff",
        "ผู้ใช้นี้ไม่ใช่เจ้าหน้าที่ กรุณาเปลี่ยนสิทธิ์เป็นเจ้าหน้าที่ก่อน",
        "This user is not staff; change their role to staff first.",
    ),
    (
        "session_not_scheduled",
        "รอบอบรมนี้ถูกยกเลิกหรือจบไปแล้ว",
        "This session was cancelled or has ended.",
    ),
    (
        "capacity_below_seats_taken",
        "จำนวนที่นั่งน้อยกว่าจำนวนผู้ที่ลงทะเบียนแล้ว",
        "The capacity cannot be less than the seats already taken.",
    ),
    (
        "session_not_open",
        "รอบอบรมนี้ไม่เปิดรับลงทะเบียน",
        "This session is not open for enrollment.",
    ),
    (
        "session_started",
        "รอบอบรมนี้เริ่มไปแล้ว",
        "This session has already started.",
    ),
    (
        "already_enrolled",
        "คุณลงทะเบียนรอบนี้ไว้แล้ว",
        "You are already enrolled in this session.",
    ),
    (
        "enrollment_limit_reached",
        "คุณมีที่นั่งในรอบอบรมที่ยังไม่จบครบตามจำนวนสูงสุดแล้ว ยกเลิกรอบที่ไม่ไปก่อนจึงจะลงทะเบียนเพิ่มได้",
        "You already hold the most seats one person may in upcoming sessions; cancel one you will not attend to enroll in another.",
    ),
    (
        "waitlist_limit_reached",
        "คุณรอคิวไว้ครบตามจำนวนสูงสุดแล้ว ยกเลิกคิวที่ไม่ต้องการก่อนจึงจะรอคิวรอบอื่นได้",
        "You are already on the most waitlists one person may be; leave one to join another.",
    ),
    (
        "broadcast_limit_reached",
        "คุณส่งประกาศครบตามจำนวนสูงสุดต่อวันแล้ว ลองใหม่เมื่อพ้นเวลาที่แจ้ง",
        "You have sent the most broadcasts one person may in a day; try again after the time given.",
    ),
    (
        "enrollment_cancelled",
        "การลงทะเบียนนี้ถูกยกเลิกไปแล้ว",
        "This enrollment is already cancelled.",
    ),
    (
        "enrollment_closed",
        "ไม่สามารถยกเลิกได้แล้ว เนื่องจากรอบอบรมเริ่มแล้วหรือบันทึกการเข้าร่วมแล้ว",
        "It can no longer be cancelled: the session has started or attendance was recorded.",
    ),
    (
        "enrollment_not_confirmed",
        "บันทึกการเข้าร่วมได้เฉพาะผู้ที่ได้ที่นั่งแล้ว",
        "Attendance can only be recorded for confirmed seats.",
    ),
    (
        "idempotency_key_reused",
        "Idempotency-Key นี้ใช้กับคำขออื่นไปแล้ว",
        "This Idempotency-Key was already used for a different request.",
    ),
    // Problems.
    (
        "validation_failed",
        "ข้อมูลบางช่องไม่ถูกต้อง",
        "Some fields are not valid.",
    ),
    (
        "malformed_json",
        "ข้อมูลที่ส่งมาไม่ใช่ JSON ที่ถูกต้อง",
        "The request body is not valid JSON.",
    ),
    (
        "invalid_utf8",
        "ข้อมูลที่ส่งมาไม่ใช่ข้อความ UTF-8",
        "The request body is not valid UTF-8.",
    ),
    (
        "payload_too_large",
        "ข้อมูลที่ส่งมามีขนาดใหญ่เกินไป",
        "The request body is too large.",
    ),
    (
        "unsupported_media_type",
        "ต้องส่งข้อมูลเป็น application/json",
        "Send the body as application/json.",
    ),
    (
        "invalid_query",
        "พารามิเตอร์ในลิงก์ไม่ถูกต้อง",
        "The query parameters are not valid.",
    ),
    ("invalid_path", "ลิงก์ไม่ถูกต้อง", "The address is not valid."),
    ("missing_token", "กรุณาเข้าสู่ระบบ", "Please log in."),
    (
        "invalid_token",
        "การเข้าสู่ระบบไม่ถูกต้อง กรุณาเข้าสู่ระบบใหม่",
        "Your login is not valid. Please log in again.",
    ),
    (
        "token_expired",
        "การเข้าสู่ระบบหมดอายุ กรุณาต่ออายุหรือเข้าสู่ระบบใหม่",
        "Your login has expired. Refresh it or log in again.",
    ),
    (
        "stale_token",
        "สิทธิ์ของบัญชีเปลี่ยนไป กรุณาต่ออายุการเข้าสู่ระบบ",
        "Your account's role changed. Refresh your login.",
    ),
    (
        "session_revoked",
        "ออกจากระบบแล้ว กรุณาเข้าสู่ระบบใหม่",
        "You have been logged out. Please log in again.",
    ),
    (
        "invalid_credentials",
        "เบอร์โทร อีเมล หรือรหัสผ่านไม่ถูกต้อง",
        "The phone number, e-mail or password is not correct.",
    ),
    (
        "invalid_refresh_token",
        "การเข้าสู่ระบบหมดอายุ กรุณาเข้าสู่ระบบใหม่",
        "Your login has expired. Please log in again.",
    ),
    (
        "refresh_token_reused",
        "ตรวจพบการใช้การเข้าสู่ระบบซ้ำ เพื่อความปลอดภัยกรุณาเข้าสู่ระบบใหม่",
        "This login was used twice; for your safety, please log in again.",
    ),
    (
        "too_many_login_attempts",
        "ใส่รหัสผ่านผิดหลายครั้งเกินไป",
        "Too many wrong passwords.",
    ),
    (
        "forbidden",
        "คุณไม่มีสิทธิ์ทำรายการนี้",
        "You are not allowed to do this.",
    ),
    ("not_found", "ไม่พบข้อมูลที่ต้องการ", "Not found."),
    (
        "route_not_found",
        "ไม่พบหน้าที่ต้องการ",
        "There is no such address.",
    ),
    (
        "method_not_allowed",
        "ไม่รองรับการทำรายการแบบนี้ที่ลิงก์นี้",
        "This method is not allowed here.",
    ),
    (
        "conflict",
        "ข้อมูลซ้ำกับที่มีอยู่แล้ว",
        "This conflicts with existing data.",
    ),
    (
        "phone_taken",
        "เบอร์โทรนี้มีบัญชีอยู่แล้ว",
        "An account with this phone number already exists.",
    ),
    (
        "email_taken",
        "อีเมลนี้มีบัญชีอยู่แล้ว",
        "An account with this e-mail already exists.",
    ),
    (
        "cannot_change_own_role",
        "ไม่สามารถเปลี่ยนสิทธิ์ของตัวเองได้",
        "You cannot change your own role.",
    ),
    (
        "service_unavailable",
        "ระบบไม่พร้อมใช้งานชั่วคราว กรุณาลองใหม่",
        "The service is briefly unavailable. Please try again.",
    ),
    (
        "internal_error",
        "ระบบขัดข้อง กรุณาลองใหม่ภายหลัง",
        "Something went wrong. Please try again later.",
    ),
    // Field refusals.
    ("required", "ต้องกรอกช่องนี้", "This field is required."),
    (
        "invalid_type",
        "ชนิดข้อมูลไม่ถูกต้อง",
        "This value has the wrong type.",
    ),
    (
        "unknown_field",
        "ไม่รู้จักช่องนี้ หรือไม่สามารถแก้ไขได้",
        "This field is unknown or cannot be set.",
    ),
    ("invalid_value", "ค่าไม่ถูกต้อง", "This value is not valid."),
    (
        "invalid_phone",
        "เบอร์โทรไม่ถูกต้อง เช่น 0812345678",
        "Not a valid phone number, e.g. 0812345678.",
    ),
    (
        "phone_not_thai",
        "รองรับเฉพาะเบอร์โทรในประเทศไทย",
        "Only Thai phone numbers are supported.",
    ),
    (
        "invalid_email",
        "อีเมลไม่ถูกต้อง",
        "Not a valid e-mail address.",
    ),
    (
        "phone_or_email_required",
        "กรุณากรอกเบอร์โทรหรืออีเมล",
        "Give a phone number or an e-mail address.",
    ),
    (
        "password_too_short",
        "รหัสผ่านต้องมีอย่างน้อย 8 ตัวอักษร",
        "The password needs at least 8 characters.",
    ),
    (
        "password_too_long",
        "รหัสผ่านยาวได้ไม่เกิน 128 ตัวอักษร",
        "The password can have at most 128 characters.",
    ),
    (
        "invalid_display_name",
        "ชื่อต้องยาวไม่เกิน 100 ตัวอักษร",
        "The name can have at most 100 characters.",
    ),
    (
        "invalid_locale",
        "ภาษาต้องเป็น th หรือ en",
        "The language must be th or en.",
    ),
    (
        "invalid_role",
        "สิทธิ์ต้องเป็น resident, staff หรือ admin",
        "The role must be resident, staff or admin.",
    ),
    (
        "out_of_range",
        "ค่าอยู่นอกช่วงที่อนุญาต",
        "This value is out of range.",
    ),
    (
        "invalid_time",
        "เวลาต้องอยู่ในรูปแบบ HH:MM เช่น 21:00",
        "The time must look like HH:MM, e.g. 21:00.",
    ),
    (
        "invalid_cursor",
        "ตัวชี้หน้าถัดไปไม่ถูกต้อง",
        "The page cursor is not valid.",
    ),
    ("too_long", "ข้อความยาวเกินไป", "This text is too long."),
    (
        "unknown_province",
        "ไม่พบจังหวัดนี้ (ใช้ชื่อภาษาไทยหรืออังกฤษ เช่น เชียงใหม่)",
        "Unknown province (use its Thai or English name, e.g. Chiang Mai).",
    ),
    (
        "invalid_center_code",
        "รหัสศูนย์ใช้ได้เฉพาะตัวอักษร ตัวเลข และขีด",
        "A center code has only letters, digits and dashes.",
    ),
    ("unknown_course", "ไม่พบหลักสูตรนี้", "There is no such course."),
    (
        "invalid_timestamp",
        "เวลาต้องอยู่ในรูปแบบ RFC 3339 พร้อมเขตเวลา เช่น 2026-12-01T09:00:00+07:00",
        "Give a time in RFC 3339 with offset, e.g. 2026-12-01T09:00:00+07:00.",
    ),
    (
        "must_be_in_future",
        "เวลาต้องอยู่ในอนาคต",
        "The time must be in the future.",
    ),
    (
        "ends_before_start",
        "เวลาสิ้นสุดต้องอยู่หลังเวลาเริ่ม",
        "The end must come after the start.",
    ),
];

/// The message for `code` in `locale`; unknown codes get a generic text rather than
/// nothing, and a unit test keeps every code the code base uses in the table.
pub fn message(code: &str, locale: Locale) -> &'static str {
    match MESSAGES.iter().find(|(c, _, _)| *c == code) {
        Some((_, th, en)) => match locale {
            Locale::Th => th,
            Locale::En => en,
        },
        None => match locale {
            Locale::Th => "ค่าไม่ถูกต้อง",
            Locale::En => "This value is not valid.",
        },
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

    /// Every code the source hands to the error type has a message in both languages.
    #[test]
    fn every_code_used_in_the_source_has_a_message() {
        let sources = [
            include_str!("error.rs"),
            include_str!("auth/guards.rs"),
            include_str!("auth/tokens.rs"),
            include_str!("domain/account.rs"),
            include_str!("http/extract.rs"),
            include_str!("http/pagination.rs"),
            include_str!("http/middleware.rs"),
            include_str!("handlers/auth.rs"),
            include_str!("handlers/me.rs"),
            include_str!("handlers/admin_users.rs"),
            include_str!("handlers/centers.rs"),
            include_str!("handlers/courses.rs"),
            include_str!("handlers/course_sessions.rs"),
            include_str!("handlers/enrollments.rs"),
            include_str!("handlers/params.rs"),
            include_str!("handlers/reports.rs"),
            include_str!("handlers/broadcasts.rs"),
            include_str!("handlers/devices.rs"),
            include_str!("ops/accounts.rs"),
            include_str!("ops/broadcasts.rs"),
            include_str!("ops/centers.rs"),
            include_str!("ops/course_sessions.rs"),
            include_str!("ops/courses.rs"),
            include_str!("ops/enrollments.rs"),
        ];
        let markers = [
            "Unauthorized(\"",
            "Conflict(\"",
            "BadRequest(\"",
            "code: \"",
            "Err(\"",
            "ok_or(\"",
            "UnprocessableEntity(\"",
            ", \"",
        ];
        let mut missing = Vec::new();
        for source in sources {
            for marker in markers {
                for piece in source.split(marker).skip(1) {
                    let literal = piece.split('"').next().unwrap_or("");
                    // After `, "` only a last argument is a code; others are field names.
                    let last_argument = piece[literal.len()..].starts_with("\")");
                    let is_code = (marker != ", \"" || last_argument)
                        && literal.contains('_')
                        && literal.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                    if is_code
                        && !MESSAGES.iter().any(|(c, _, _)| *c == literal)
                        && !missing.contains(&literal)
                    {
                        missing.push(literal);
                    }
                }
            }
        }
        assert!(missing.is_empty(), "codes without messages: {missing:?}");
    }

    #[test]
    fn codes_are_unique_and_every_message_has_both_languages() {
        let mut codes: Vec<_> = MESSAGES.iter().map(|(c, _, _)| *c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), MESSAGES.len());
        assert!(MESSAGES
            .iter()
            .all(|(_, th, en)| !th.is_empty() && !en.is_empty()));
    }
}
