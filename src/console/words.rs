//! The console's words in Thai and English, and dates and times as Bangkok reads them.
//! Every text a page shows is a field here, so a page cannot show a word in one language
//! only; error messages come from `i18n::Code` like the API's.

use chrono::{Datelike, NaiveDateTime, Timelike};

use crate::domain::{EnrollmentStatus, Locale, SessionStatus};
use crate::i18n::dates;

/// The words of one language.
pub struct Words {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub console: &'static str,
    pub skip_to_content: &'static str,
    pub account: &'static str,
    pub signed_in_as: &'static str,
    pub sign_out: &'static str,
    pub today: &'static str,
    pub tomorrow: &'static str,
    pub nav_main: &'static str,
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub phone_or_email: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub residents_use_the_app: &'static str,
    pub signed_out: &'static str,
    pub session_expired: &'static str,
    pub today_title: &'static str,
    pub today_intro: &'static str,
    pub no_sessions: &'static str,
    pub course: &'static str,
    pub time: &'static str,
    pub seats: &'static str,
    pub waiting: &'static str,
    pub status: &'static str,
    pub center: &'static str,
    pub all_centers: &'static str,
    pub show: &'static str,
    pub new_session: &'static str,
    pub more_sessions_hidden: &'static str,
    pub roster: &'static str,
    pub search_label: &'static str,
    pub search: &'static str,
    pub clear_search: &'static str,
    pub name: &'static str,
    pub phone: &'static str,
    pub attended: &'static str,
    pub no_show: &'static str,
    pub give_up_seat: &'static str,
    pub give_up_seat_confirm: &'static str,
    pub nobody_enrolled: &'static str,
    pub nobody_found: &'static str,
    pub waitlist_position: &'static str,
    pub walk_in: &'static str,
    pub walk_in_help: &'static str,
    pub enroll: &'static str,
    pub look_up: &'static str,
    pub found_account: &'static str,
    pub on_roster_already: &'static str,
    pub no_account_yet: &'static str,
    pub register_and_enroll: &'static str,
    pub download_csv: &'static str,
    pub room: &'static str,
    pub instructor: &'static str,
    pub capacity: &'static str,
    pub date: &'static str,
    pub starts: &'static str,
    pub ends: &'static str,
    pub change_session: &'static str,
    pub save_changes: &'static str,
    pub cancel_session: &'static str,
    pub cancel_session_confirm: &'static str,
    pub confirm: &'static str,
    pub go_back: &'static str,
    pub people_told: &'static str,
    pub message_everyone: &'static str,
    pub message_title: &'static str,
    pub message_body: &'static str,
    pub send: &'static str,
    pub create_session: &'static str,
    pub choose: &'static str,
    pub optional: &'static str,
    pub done_attendance: &'static str,
    pub check_in: &'static str,
    pub check_in_help: &'static str,
    pub ticket_code: &'static str,
    pub scan_with_camera: &'static str,
    pub stop_camera: &'static str,
    pub camera_hint: &'static str,
    pub done_checked_in: &'static str,
    pub done_already_in: &'static str,
    pub ticket_other_session: &'static str,
    pub checked_in: &'static str,
    pub said_coming: &'static str,
    pub ticket_not_found: &'static str,
    pub done_walk_in: &'static str,
    pub done_waitlisted: &'static str,
    pub done_released: &'static str,
    pub done_updated: &'static str,
    pub done_cancelled: &'static str,
    pub done_created: &'static str,
    pub done_message: &'static str,
    pub error_title: &'static str,
    pub not_found: &'static str,
    pub forbidden: &'static str,
    pub form_expired: &'static str,
    pub something_went_wrong: &'static str,
    pub back_to_today: &'static str,
    pub fix_below: &'static str,
    pub hours_suffix: &'static str,
    pub users: &'static str,
    pub audit_log: &'static str,
    pub find_user_label: &'static str,
    pub find: &'static str,
    pub email: &'static str,
    pub role: &'static str,
    pub change_role: &'static str,
    pub end_sign_ins: &'static str,
    pub end_sign_ins_help: &'static str,
    pub their_enrollments: &'static str,
    pub no_enrollments: &'static str,
    pub nobody_matches: &'static str,
    pub actor: &'static str,
    pub action: &'static str,
    pub target: &'static str,
    pub from_date: &'static str,
    pub to_date: &'static str,
    pub when: &'static str,
    pub done_role: &'static str,
    pub done_sign_ins: &'static str,
    pub nothing_recorded: &'static str,
}

pub const TH: Words = Words {
    lang: "th",
    other_lang: "en",
    other_lang_name: "English",
    console: "OCOD ศูนย์ดิจิทัลชุมชน",
    skip_to_content: "ข้ามไปที่เนื้อหา",
    account: "บัญชี",
    signed_in_as: "เข้าสู่ระบบในชื่อ",
    sign_out: "ออกจากระบบ",
    today: "วันนี้",
    tomorrow: "พรุ่งนี้",
    nav_main: "เมนูหลัก",
    login_title: "เข้าสู่ระบบสำหรับเจ้าหน้าที่",
    login_intro: "สำหรับเจ้าหน้าที่ศูนย์และผู้ดูแลระบบ",
    phone_or_email: "เบอร์โทรศัพท์หรืออีเมล",
    password: "รหัสผ่าน",
    sign_in: "เข้าสู่ระบบ",
    residents_use_the_app:
        "หน้านี้สำหรับเจ้าหน้าที่ศูนย์และผู้ดูแลระบบเท่านั้น ประชาชนทั่วไปใช้แอป OCOD บนโทรศัพท์เพื่อดูและสมัครคอร์สเรียน",
    signed_out: "ออกจากระบบแล้ว",
    session_expired: "กรุณาเข้าสู่ระบบอีกครั้ง",
    today_title: "วันนี้",
    today_intro: "รอบเรียนวันนี้และอีก 7 วันข้างหน้า",
    no_sessions: "ไม่มีรอบเรียนในช่วงนี้",
    course: "คอร์ส",
    time: "เวลา",
    seats: "ที่นั่ง",
    waiting: "รอคิว",
    status: "สถานะ",
    center: "ศูนย์",
    all_centers: "ทุกศูนย์",
    show: "แสดง",
    new_session: "เพิ่มรอบเรียน",
    more_sessions_hidden: "แสดงเฉพาะ 200 รอบแรก เลือกศูนย์เพื่อดูเพิ่มเติม",
    roster: "รายชื่อผู้เรียน",
    search_label: "ค้นหาด้วยชื่อหรือเบอร์โทร",
    search: "ค้นหา",
    clear_search: "ล้างการค้นหา",
    name: "ชื่อ",
    phone: "เบอร์โทรศัพท์",
    attended: "มาเรียน",
    no_show: "ไม่มา",
    give_up_seat: "สละที่นั่ง",
    give_up_seat_confirm: "สละที่นั่งของคนนี้? คนที่รอคิวจะได้ที่นั่งแทนและจะได้รับแจ้ง",
    nobody_enrolled: "ยังไม่มีผู้สมัคร",
    nobody_found: "ไม่พบชื่อหรือเบอร์นี้ในรายชื่อ",
    waitlist_position: "ลำดับคิว",
    walk_in: "ลงทะเบียนหน้าศูนย์",
    walk_in_help: "ใส่เบอร์โทรของผู้เรียนแล้วกดตรวจสอบ ถ้าเบอร์นี้ยังไม่มีบัญชี ใส่ชื่อเพื่อสร้างบัญชีให้ (ไม่ต้องมีรหัสผ่าน เข้าแอปได้ด้วยรหัสทาง SMS)",
    enroll: "ลงทะเบียน",
    look_up: "ตรวจสอบเบอร์",
    found_account: "พบบัญชีของเบอร์นี้",
    on_roster_already: "คนนี้อยู่ในรายชื่อแล้ว",
    no_account_yet: "เบอร์นี้ยังไม่มีบัญชี ใส่ชื่อเพื่อสร้างบัญชีและลงทะเบียน",
    register_and_enroll: "สร้างบัญชีและลงทะเบียน",
    download_csv: "ดาวน์โหลดรายชื่อ (CSV)",
    room: "ห้อง",
    instructor: "ผู้สอน",
    capacity: "จำนวนที่นั่ง",
    date: "วันที่",
    starts: "เวลาเริ่ม",
    ends: "เวลาเลิก",
    change_session: "เปลี่ยนวันเวลาหรือจำนวนที่นั่ง",
    save_changes: "บันทึกการเปลี่ยนแปลง",
    cancel_session: "ยกเลิกรอบเรียน",
    cancel_session_confirm: "ยกเลิกรอบเรียนนี้?",
    confirm: "ยืนยัน",
    go_back: "ย้อนกลับ",
    people_told: "คนจะได้รับแจ้ง",
    message_everyone: "ส่งข้อความถึงทุกคนในรอบนี้",
    message_title: "หัวข้อ",
    message_body: "ข้อความ",
    send: "ส่ง",
    create_session: "สร้างรอบเรียน",
    choose: "เลือก",
    optional: "ไม่บังคับ",
    done_attendance: "บันทึกการเข้าเรียนแล้ว",
    check_in: "เช็กอิน",
    check_in_help: "พิมพ์รหัสบนบัตรของผู้เรียน (ตัวพิมพ์เล็กหรือใหญ่ก็ได้) หรือสแกนคิวอาร์โค้ดจากแอป เปิดให้เช็กอินก่อนเริ่ม 2 ชั่วโมงจนจบรอบ",
    ticket_code: "รหัสบัตร",
    scan_with_camera: "สแกนด้วยกล้อง",
    stop_camera: "ปิดกล้อง",
    camera_hint: "หันคิวอาร์โค้ดบนโทรศัพท์ของผู้เรียนเข้าหากล้อง",
    done_checked_in: "เช็กอินแล้ว",
    done_already_in: "คนนี้เช็กอินไว้แล้ว ไม่ได้บันทึกซ้ำ",
    ticket_other_session: "บัตรนี้เป็นของรอบอบรมอื่น ไม่ใช่รอบนี้",
    checked_in: "เช็กอินแล้ว",
    said_coming: "ยืนยันว่าจะมา",
    ticket_not_found: "ไม่พบบัตรรหัสนี้ กรุณาตรวจรหัสอีกครั้ง",
    done_walk_in: "ลงทะเบียนแล้ว ได้ที่นั่ง",
    done_waitlisted: "ลงทะเบียนแล้ว อยู่ในคิวรอ",
    done_released: "สละที่นั่งแล้ว",
    done_updated: "บันทึกแล้ว ผู้สมัครได้รับแจ้ง",
    done_cancelled: "ยกเลิกรอบเรียนแล้ว ผู้สมัครได้รับแจ้ง",
    done_created: "สร้างรอบเรียนแล้ว",
    done_message: "ส่งข้อความแล้ว",
    error_title: "ทำรายการไม่ได้",
    not_found: "ไม่พบหน้านี้",
    forbidden: "คุณไม่มีสิทธิ์ดูหน้านี้",
    form_expired: "แบบฟอร์มนี้หมดอายุหรือไม่ได้ส่งจากหน้านี้ กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง",
    something_went_wrong: "ระบบขัดข้อง กรุณาลองใหม่อีกครั้ง",
    back_to_today: "กลับไปหน้าวันนี้",
    fix_below: "กรุณาแก้ไขข้อมูลด้านล่าง",
    hours_suffix: " น.",
    users: "ผู้ใช้",
    audit_log: "บันทึกการใช้งาน",
    find_user_label: "เบอร์โทร อีเมล หรือชื่อ",
    find: "ค้นหาผู้ใช้",
    email: "อีเมล",
    role: "บทบาท",
    change_role: "เปลี่ยนบทบาท",
    end_sign_ins: "ออกจากระบบทุกเครื่อง",
    end_sign_ins_help:
        "ใช้เมื่อโทรศัพท์หายหรือลืมออกจากระบบที่เครื่องส่วนกลาง ทุกเครื่องที่เข้าสู่ระบบอยู่จะต้องเข้าสู่ระบบใหม่",
    their_enrollments: "รอบเรียนที่สมัคร",
    no_enrollments: "ยังไม่เคยสมัครรอบเรียน",
    nobody_matches: "ไม่พบผู้ใช้ที่ตรงกัน",
    actor: "ผู้ทำรายการ",
    action: "การกระทำ",
    target: "สิ่งที่ถูกกระทำ",
    from_date: "ตั้งแต่วันที่",
    to_date: "ถึงวันที่",
    when: "เมื่อ",
    done_role: "เปลี่ยนบทบาทแล้ว",
    done_sign_ins: "ออกจากระบบทุกเครื่องแล้ว",
    nothing_recorded: "ไม่มีรายการในช่วงนี้",
};

pub const EN: Words = Words {
    lang: "en",
    other_lang: "th",
    other_lang_name: "ภาษาไทย",
    console: "OCOD Community Digital Centers",
    skip_to_content: "Skip to content",
    account: "Account",
    signed_in_as: "Signed in as",
    sign_out: "Sign out",
    today: "Today",
    tomorrow: "Tomorrow",
    nav_main: "Main menu",
    login_title: "Staff sign-in",
    login_intro: "For center staff and admins",
    phone_or_email: "Phone or e-mail",
    password: "Password",
    sign_in: "Sign in",
    residents_use_the_app: "This console is for center staff and admins only. Residents use the OCOD app on their phone to find and join courses.",
    signed_out: "You have signed out",
    session_expired: "Please sign in again",
    today_title: "Today",
    today_intro: "Sessions today and in the next 7 days",
    no_sessions: "No sessions in this period",
    course: "Course",
    time: "Time",
    seats: "Seats",
    waiting: "waiting",
    status: "Status",
    center: "Center",
    all_centers: "All centers",
    show: "Show",
    new_session: "New session",
    more_sessions_hidden: "Showing the first 200 sessions; choose a center to see the rest",
    roster: "Roster",
    search_label: "Search by name or phone",
    search: "Search",
    clear_search: "Clear search",
    name: "Name",
    phone: "Phone",
    attended: "Attended",
    no_show: "No-show",
    give_up_seat: "Give up seat",
    give_up_seat_confirm: "Give up this person's seat? The next person waiting gets it and is told",
    nobody_enrolled: "Nobody has enrolled yet",
    nobody_found: "Nobody on the roster matches",
    waitlist_position: "Place in queue",
    walk_in: "Walk-in",
    walk_in_help: "Enter the person's phone and look it up. If it has no account yet, give their name to make one (no password needed: they sign in to the app with a code by SMS)",
    enroll: "Enroll",
    look_up: "Look up",
    found_account: "This phone's account",
    on_roster_already: "Already on the roster",
    no_account_yet: "No account has this phone yet. Give the person's name to register and enroll them",
    register_and_enroll: "Register and enroll",
    download_csv: "Download roster (CSV)",
    room: "Room",
    instructor: "Instructor",
    capacity: "Capacity",
    date: "Date",
    starts: "Start time",
    ends: "End time",
    change_session: "Reschedule or change capacity",
    save_changes: "Save changes",
    cancel_session: "Cancel session",
    cancel_session_confirm: "Cancel this session?",
    confirm: "Confirm",
    go_back: "Go back",
    people_told: "people will be told",
    message_everyone: "Message everyone enrolled",
    message_title: "Title",
    message_body: "Message",
    send: "Send",
    create_session: "Create session",
    choose: "Choose",
    optional: "optional",
    done_attendance: "Attendance recorded",
    check_in: "Check in",
    check_in_help: "Type the code on the person's ticket (any case) or scan the QR code in their app. Check-in opens 2 hours before the start and closes at the end.",
    ticket_code: "Ticket code",
    scan_with_camera: "Scan with the camera",
    stop_camera: "Stop the camera",
    camera_hint: "Hold the QR code on the person's phone up to the camera.",
    done_checked_in: "Checked in",
    done_already_in: "Already checked in; nothing recorded twice",
    ticket_other_session: "This ticket is for another session, not this one.",
    checked_in: "Checked in",
    said_coming: "Said they are coming",
    ticket_not_found: "No ticket has this code; please check it.",
    done_walk_in: "Enrolled with a seat",
    done_waitlisted: "Enrolled on the waitlist",
    done_released: "Seat given up",
    done_updated: "Saved; the people enrolled were told",
    done_cancelled: "Session cancelled; the people enrolled were told",
    done_created: "Session created",
    done_message: "Message sent",
    error_title: "That could not be done",
    not_found: "Page not found",
    forbidden: "You may not open this page",
    form_expired: "This form has expired or was not sent from this page. Reload the page and try again",
    something_went_wrong: "Something went wrong. Please try again",
    back_to_today: "Back to Today",
    fix_below: "Please correct the fields below",
    hours_suffix: "",
    users: "Users",
    audit_log: "Audit log",
    find_user_label: "Phone, e-mail or name",
    find: "Find",
    email: "E-mail",
    role: "Role",
    change_role: "Change role",
    end_sign_ins: "End all sign-ins",
    end_sign_ins_help: "For a lost phone or a shared PC left signed in: every device signed in as this person must sign in again",
    their_enrollments: "Enrollments",
    no_enrollments: "No enrollments yet",
    nobody_matches: "Nobody matches",
    actor: "Done by",
    action: "Action",
    target: "Done to",
    from_date: "From",
    to_date: "To",
    when: "When",
    done_role: "Role changed",
    done_sign_ins: "All sign-ins ended",
    nothing_recorded: "Nothing recorded in this period",
};

pub fn words(locale: Locale) -> &'static Words {
    match locale {
        Locale::Th => &TH,
        Locale::En => &EN,
    }
}

pub use crate::i18n::dates::{bangkok, from_bangkok};

/// "พุธ 2 ธ.ค. 2569" or "Wed 2 Dec 2026" (Thai dates count years in the Buddhist era).
pub fn date(locale: Locale, utc: NaiveDateTime) -> String {
    let local = bangkok(utc);
    let year = match locale {
        Locale::Th => local.year() + 543,
        Locale::En => local.year(),
    };
    format!(
        "{} {} {} {year}",
        dates::weekday(locale, local.weekday()),
        local.day(),
        dates::month(locale, local.month0())
    )
}

/// "09:30 น." or "09:30".
pub fn clock(locale: Locale, utc: NaiveDateTime) -> String {
    let local = bangkok(utc);
    format!(
        "{:02}:{:02}{}",
        local.hour(),
        local.minute(),
        words(locale).hours_suffix
    )
}

/// "09:30–12:00 น."
pub fn time_range(locale: Locale, starts: NaiveDateTime, ends: NaiveDateTime) -> String {
    let (s, e) = (bangkok(starts), bangkok(ends));
    format!(
        "{:02}:{:02}–{:02}:{:02}{}",
        s.hour(),
        s.minute(),
        e.hour(),
        e.minute(),
        words(locale).hours_suffix
    )
}

pub fn role(locale: Locale, role: crate::domain::Role) -> &'static str {
    use crate::domain::Role;
    match (locale, role) {
        (Locale::Th, Role::Resident) => "ประชาชน",
        (Locale::Th, Role::Staff) => "เจ้าหน้าที่ศูนย์",
        (Locale::Th, Role::Admin) => "ผู้ดูแลระบบ",
        (Locale::En, Role::Resident) => "Resident",
        (Locale::En, Role::Staff) => "Staff",
        (Locale::En, Role::Admin) => "Admin",
    }
}

pub fn session_status(locale: Locale, status: SessionStatus) -> &'static str {
    match (locale, status) {
        (Locale::Th, SessionStatus::Scheduled) => "เปิดรับสมัคร",
        (Locale::Th, SessionStatus::Cancelled) => "ยกเลิกแล้ว",
        (Locale::Th, SessionStatus::Completed) => "จบแล้ว",
        (Locale::En, SessionStatus::Scheduled) => "Scheduled",
        (Locale::En, SessionStatus::Cancelled) => "Cancelled",
        (Locale::En, SessionStatus::Completed) => "Completed",
    }
}

pub fn enrollment_status(locale: Locale, status: EnrollmentStatus) -> &'static str {
    match (locale, status) {
        (Locale::Th, EnrollmentStatus::Confirmed) => "มีที่นั่ง",
        (Locale::Th, EnrollmentStatus::Waitlisted) => "รอคิว",
        (Locale::Th, EnrollmentStatus::Cancelled) => "ยกเลิกแล้ว",
        (Locale::Th, EnrollmentStatus::Attended) => "มาเรียน",
        (Locale::Th, EnrollmentStatus::NoShow) => "ไม่มา",
        (Locale::En, EnrollmentStatus::Confirmed) => "Has a seat",
        (Locale::En, EnrollmentStatus::Waitlisted) => "Waiting",
        (Locale::En, EnrollmentStatus::Cancelled) => "Cancelled",
        (Locale::En, EnrollmentStatus::Attended) => "Attended",
        (Locale::En, EnrollmentStatus::NoShow) => "No-show",
    }
}

/// "1 waiting" / "รอคิว 1 คน".
pub fn waiting(locale: Locale, count: i32) -> String {
    match locale {
        Locale::Th => format!("รอคิว {count} คน"),
        Locale::En => format!("{count} waiting"),
    }
}

/// "3 people will be told" / "จะแจ้ง 3 คน".
pub fn people_told(locale: Locale, count: usize) -> String {
    match locale {
        Locale::Th => format!("จะแจ้งผู้สมัคร {count} คน"),
        Locale::En if count == 1 => "1 person will be told".to_string(),
        Locale::En => format!("{count} people will be told"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|day| day.and_hms_opt(h, min, 0))
            .expect("a valid time")
    }

    #[test]
    fn dates_are_bangkok_days_with_thai_or_english_names() {
        // 20:00 UTC on Tuesday 1 December is 03:00 on Wednesday 2 December in Bangkok.
        let t = utc(2026, 12, 1, 20, 0);
        assert_eq!(date(Locale::Th, t), "พุธ 2 ธ.ค. 2569");
        assert_eq!(date(Locale::En, t), "Wed 2 Dec 2026");
        assert_eq!(clock(Locale::Th, t), "03:00 น.");
        assert_eq!(clock(Locale::En, t), "03:00");
        assert_eq!(
            time_range(Locale::En, utc(2026, 12, 2, 2, 0), utc(2026, 12, 2, 5, 30)),
            "09:00–12:30"
        );
    }

    #[test]
    fn bangkok_times_round_trip() {
        let t = utc(2026, 12, 31, 23, 15);
        assert_eq!(from_bangkok(bangkok(t)), t);
    }
}
