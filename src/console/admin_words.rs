//! The words of the admin screens (dashboard, centers, courses, broadcasts, reports), in
//! Thai and English; the staff screens' words are in `words`.

use crate::domain::{AudienceKind, BroadcastStatus, CenterStatus, Locale};
use crate::models::reports::GroupBy;

pub struct AdminWords {
    pub dashboard: &'static str,
    pub centers: &'static str,
    pub courses: &'static str,
    pub broadcasts: &'static str,
    pub reports: &'static str,
    pub active_centers: &'static str,
    pub enrollments_this_month: &'static str,
    pub attendance_this_month: &'static str,
    pub push_delivery_7_days: &'static str,
    pub broadcasts_waiting: &'static str,
    pub not_yet: &'static str,
    pub find_center_label: &'static str,
    pub new_center: &'static str,
    pub create_center: &'static str,
    pub code: &'static str,
    pub name_th: &'static str,
    pub name_en: &'static str,
    pub province: &'static str,
    pub district: &'static str,
    pub subdistrict: &'static str,
    pub latitude: &'static str,
    pub longitude: &'static str,
    pub opening_hours: &'static str,
    pub opening_hours_help: &'static str,
    pub choose: &'static str,
    pub no_centers: &'static str,
    pub staff: &'static str,
    pub details: &'static str,
    pub no_staff: &'static str,
    pub assign_staff: &'static str,
    pub assign_label: &'static str,
    pub assign_help: &'static str,
    pub no_such_account: &'static str,
    pub remove: &'static str,
    pub new_course: &'static str,
    pub create_course: &'static str,
    pub title_th: &'static str,
    pub title_en: &'static str,
    pub description_th: &'static str,
    pub description_en: &'static str,
    pub category: &'static str,
    pub category_help: &'static str,
    pub level: &'static str,
    pub duration_minutes: &'static str,
    pub minutes: &'static str,
    pub no_courses: &'static str,
    pub new_broadcast: &'static str,
    pub body_th: &'static str,
    pub body_en: &'static str,
    pub audience: &'static str,
    pub center_code: &'static str,
    pub session_id: &'static str,
    pub session_id_help: &'static str,
    pub preview: &'static str,
    pub reach_heading: &'static str,
    pub lock_screen: &'static str,
    pub when: &'static str,
    pub send_now: &'static str,
    pub send_later: &'static str,
    pub send: &'static str,
    pub no_broadcasts: &'static str,
    pub sends_at: &'static str,
    pub people: &'static str,
    pub devices: &'static str,
    pub sent: &'static str,
    pub sent_push: &'static str,
    pub sent_line: &'static str,
    pub sent_sms: &'static str,
    pub failed: &'static str,
    pub uninstalled: &'static str,
    pub still_to_go: &'static str,
    pub held_until: &'static str,
    pub cancel_broadcast: &'static str,
    pub refresh: &'static str,
    pub delivery: &'static str,
    pub push_failures: &'static str,
    pub push_failures_intro: &'static str,
    pub no_push_failures: &'static str,
    pub person: &'static str,
    pub device: &'static str,
    pub attempts: &'static str,
    pub reason: &'static str,
    pub channel: &'static str,
    pub channel_push: &'static str,
    pub channel_line: &'static str,
    pub channel_sms: &'static str,
    pub kind: &'static str,
    pub group_by: &'static str,
    pub show_report: &'static str,
    pub enrolled: &'static str,
    pub waitlisted: &'static str,
    pub cancelled: &'static str,
    pub seats_not_marked: &'static str,
    pub no_report_rows: &'static str,
    pub who_reach_heading: &'static str,
    pub reach_intro: &'static str,
    pub no_reach_rows: &'static str,
    pub reach_push: &'static str,
    pub reach_line_only: &'static str,
    pub reach_sms_only: &'static str,
    pub reach_unreachable: &'static str,
    pub report_chart: &'static str,
    pub chart_shows_biggest: &'static str,
    pub table: &'static str,
    pub download_report: &'static str,
    pub message: &'static str,
    pub created_by: &'static str,
    pub all_actions: &'static str,
    pub actor_help: &'static str,
}

const TH: AdminWords = AdminWords {
    dashboard: "ภาพรวม",
    centers: "ศูนย์",
    courses: "หลักสูตร",
    broadcasts: "ประกาศ",
    reports: "รายงาน",
    active_centers: "ศูนย์ที่เปิดให้บริการ",
    enrollments_this_month: "การลงทะเบียนเดือนนี้",
    attendance_this_month: "อัตราการมาเรียนเดือนนี้",
    push_delivery_7_days: "อัตราการส่งแจ้งเตือนถึงเครื่อง 7 วันที่ผ่านมา",
    broadcasts_waiting: "ประกาศที่รอส่ง",
    not_yet: "ยังไม่มีข้อมูล",
    find_center_label: "ชื่อ รหัส จังหวัด หรืออำเภอ",
    new_center: "เพิ่มศูนย์",
    create_center: "เพิ่มศูนย์",
    code: "รหัส",
    name_th: "ชื่อ (ภาษาไทย)",
    name_en: "ชื่อ (ภาษาอังกฤษ)",
    province: "จังหวัด",
    district: "อำเภอ/เขต",
    subdistrict: "ตำบล/แขวง",
    latitude: "ละติจูด",
    longitude: "ลองจิจูด",
    opening_hours: "เวลาทำการ",
    opening_hours_help: "เช่น จ.–ศ. 08:30–16:30 น.",
    choose: "เลือก…",
    no_centers: "ไม่พบศูนย์ที่ตรงกัน",
    staff: "เจ้าหน้าที่",
    details: "รายละเอียด",
    no_staff: "ยังไม่มีเจ้าหน้าที่ประจำศูนย์นี้",
    assign_staff: "เพิ่มเจ้าหน้าที่",
    assign_label: "เบอร์โทรหรืออีเมลของเจ้าหน้าที่",
    assign_help: "ผู้ใช้ต้องมีสิทธิ์เจ้าหน้าที่ก่อน (เปลี่ยนได้ที่หน้าผู้ใช้)",
    no_such_account: "ไม่พบบัญชีที่ใช้เบอร์โทรหรืออีเมลนี้",
    remove: "นำออก",
    new_course: "เพิ่มหลักสูตร",
    create_course: "เพิ่มหลักสูตร",
    title_th: "ชื่อเรื่อง (ภาษาไทย)",
    title_en: "ชื่อเรื่อง (ภาษาอังกฤษ)",
    description_th: "รายละเอียด (ภาษาไทย)",
    description_en: "รายละเอียด (ภาษาอังกฤษ)",
    category: "หมวด",
    category_help: "ตัวอักษรอังกฤษพิมพ์เล็ก ตัวเลข และ _ เช่น smartphone_basics",
    level: "ระดับ",
    duration_minutes: "ระยะเวลา (นาที)",
    minutes: "นาที",
    no_courses: "ยังไม่มีหลักสูตร",
    new_broadcast: "สร้างประกาศ",
    body_th: "ข้อความ (ภาษาไทย)",
    body_en: "ข้อความ (ภาษาอังกฤษ)",
    audience: "ผู้รับ",
    center_code: "รหัสศูนย์",
    session_id: "รหัสรอบอบรม",
    session_id_help: "ดูได้จากที่อยู่ของหน้ารอบอบรม (/console/sessions/…)",
    preview: "ดูตัวอย่าง",
    reach_heading: "จะถึง",
    lock_screen: "ตัวอย่างบนหน้าจอล็อก",
    when: "ส่งเมื่อ",
    send_now: "ตอนนี้",
    send_later: "วันและเวลาที่กำหนด (เวลาไทย)",
    send: "ส่ง",
    no_broadcasts: "ยังไม่มีประกาศ",
    sends_at: "เวลาส่ง",
    people: "คน",
    devices: "เครื่อง",
    sent: "ส่งถึงแล้ว",
    sent_push: "ทางแอป",
    sent_line: "ทาง LINE",
    sent_sms: "ทาง SMS",
    failed: "ส่งไม่สำเร็จ",
    uninstalled: "ถอนแอปแล้ว",
    still_to_go: "รอส่ง",
    held_until: "ช่วงห้ามรบกวน ส่งครบภายใน",
    cancel_broadcast: "ยกเลิกประกาศ",
    refresh: "อัปเดตตัวเลข",
    delivery: "การส่ง",
    push_failures: "แจ้งเตือนที่ส่งไม่สำเร็จ",
    push_failures_intro:
        "แจ้งเตือนที่เลิกพยายามส่งแล้ว ทุกช่องทาง (แอป LINE SMS) พร้อมเหตุผลจากผู้ให้บริการ ใหม่สุดก่อน",
    no_push_failures: "ไม่มีแจ้งเตือนที่ส่งไม่สำเร็จ",
    person: "ผู้รับ",
    device: "ส่งถึง",
    attempts: "จำนวนครั้งที่ลอง",
    reason: "เหตุผล",
    channel: "ช่องทาง",
    channel_push: "แจ้งเตือนในแอป (FCM)",
    channel_line: "LINE",
    channel_sms: "SMS",
    kind: "ประเภท",
    group_by: "จัดกลุ่มตาม",
    show_report: "แสดงรายงาน",
    enrolled: "ลงทะเบียน",
    waitlisted: "รอคิว",
    cancelled: "ยกเลิก",
    seats_not_marked: "ยังไม่บันทึกการมาเรียน",
    no_report_rows: "ไม่มีการลงทะเบียนในช่วงวันที่นี้",
    who_reach_heading: "ติดต่อผู้เรียนได้ทางไหน",
    reach_intro: "ผู้ที่มีที่นั่งในรอบอบรมที่กำลังจะมาถึง นับตามช่องทางที่ดีที่สุดที่ติดต่อได้ ผู้ที่ติดต่อไม่ได้ควรโทรหาหรือแจ้งที่ศูนย์",
    no_reach_rows: "ยังไม่มีผู้ที่มีที่นั่งในรอบที่กำลังจะมาถึง",
    reach_push: "แจ้งเตือนในแอป",
    reach_line_only: "LINE เท่านั้น",
    reach_sms_only: "SMS เท่านั้น",
    reach_unreachable: "ติดต่อไม่ได้",
    report_chart: "แผนภูมิ",
    chart_shows_biggest: "แผนภูมิแสดง 25 กลุ่มที่ใหญ่ที่สุด ตารางด้านล่างมีครบทุกกลุ่ม",
    table: "ตาราง",
    download_report: "ดาวน์โหลดรายงาน (CSV)",
    message: "ข้อความที่จะส่ง",
    created_by: "สร้างโดย",
    all_actions: "ทุกรายการ",
    actor_help: "เบอร์โทร อีเมล หรือรหัสผู้ใช้",
};

const EN: AdminWords = AdminWords {
    dashboard: "Dashboard",
    centers: "Centers",
    courses: "Courses",
    broadcasts: "Broadcasts",
    reports: "Reports",
    active_centers: "Active centers",
    enrollments_this_month: "Enrollments this month",
    attendance_this_month: "Attendance rate this month",
    push_delivery_7_days: "Push delivery rate, last 7 days",
    broadcasts_waiting: "Broadcasts waiting to be sent",
    not_yet: "No figures yet",
    find_center_label: "Name, code, province or district",
    new_center: "New center",
    create_center: "Create center",
    code: "Code",
    name_th: "Name (Thai)",
    name_en: "Name (English)",
    province: "Province",
    district: "District",
    subdistrict: "Subdistrict",
    latitude: "Latitude",
    longitude: "Longitude",
    opening_hours: "Opening hours",
    opening_hours_help: "For example: Mon–Fri 08:30–16:30",
    choose: "Choose…",
    no_centers: "No center matches.",
    staff: "Staff",
    details: "Details",
    no_staff: "Nobody is staff of this center yet.",
    assign_staff: "Assign",
    assign_label: "Phone or e-mail of a staff member",
    assign_help: "The person must have the staff role first (change it on their Users page).",
    no_such_account: "No account has this phone or e-mail.",
    remove: "Remove",
    new_course: "New course",
    create_course: "Create course",
    title_th: "Title (Thai)",
    title_en: "Title (English)",
    description_th: "Description (Thai)",
    description_en: "Description (English)",
    category: "Category",
    category_help: "Lower-case letters, digits and _, e.g. smartphone_basics",
    level: "Level",
    duration_minutes: "Duration (minutes)",
    minutes: "min",
    no_courses: "No courses yet.",
    new_broadcast: "New broadcast",
    body_th: "Body (Thai)",
    body_en: "Body (English)",
    audience: "Audience",
    center_code: "Center code",
    session_id: "Session ID",
    session_id_help: "It is in the address of the session's page (/console/sessions/…).",
    preview: "Preview",
    reach_heading: "Reaches",
    lock_screen: "Lock-screen preview",
    when: "When",
    send_now: "Now",
    send_later: "At a date and time (Bangkok)",
    send: "Send",
    no_broadcasts: "No broadcasts yet.",
    sends_at: "Sends at",
    people: "People",
    devices: "Devices",
    sent: "Delivered",
    sent_push: "By app push",
    sent_line: "By LINE",
    sent_sms: "By SMS",
    failed: "Failed",
    uninstalled: "App removed",
    still_to_go: "Still to go",
    held_until: "Quiet hours: all out by",
    cancel_broadcast: "Cancel broadcast",
    refresh: "Refresh figures",
    delivery: "Delivery",
    push_failures: "Push failures",
    push_failures_intro: "Deliveries given up on, by any channel (app, LINE, SMS), with the service's reason, newest first.",
    no_push_failures: "No failed pushes.",
    person: "Person",
    device: "Sent to",
    attempts: "Attempts",
    reason: "Reason",
    channel: "Channel",
    channel_push: "Push (FCM)",
    channel_line: "LINE",
    channel_sms: "SMS",
    kind: "Kind",
    group_by: "Group by",
    show_report: "Show report",
    enrolled: "Enrolled",
    waitlisted: "Waitlist",
    cancelled: "Cancelled",
    seats_not_marked: "Not marked yet",
    no_report_rows: "No enrollments in these dates.",
    who_reach_heading: "Who we can reach",
    reach_intro: "People with a seat in an upcoming session, by the best channel that reaches them. Phone those nobody reaches, or tell them at the center.",
    no_reach_rows: "Nobody has a seat in an upcoming session yet.",
    reach_push: "App push",
    reach_line_only: "LINE only",
    reach_sms_only: "SMS only",
    reach_unreachable: "Unreachable",
    report_chart: "Chart",
    chart_shows_biggest: "The chart shows the 25 biggest groups; the table below has them all.",
    table: "Table",
    download_report: "Download report (CSV)",
    message: "Message",
    created_by: "Created by",
    all_actions: "All actions",
    actor_help: "Phone, e-mail or user ID",
};

impl AdminWords {
    /// The name of a delivery channel.
    pub fn channel_word(&self, channel: crate::domain::Channel) -> &'static str {
        match channel {
            crate::domain::Channel::Push => self.channel_push,
            crate::domain::Channel::Line => self.channel_line,
            crate::domain::Channel::Sms => self.channel_sms,
        }
    }
}

pub fn admin_words(locale: Locale) -> &'static AdminWords {
    match locale {
        Locale::Th => &TH,
        Locale::En => &EN,
    }
}

pub fn center_status(locale: Locale, status: CenterStatus) -> &'static str {
    match (locale, status) {
        (Locale::Th, CenterStatus::Active) => "เปิดให้บริการ",
        (Locale::Th, CenterStatus::UnderConstruction) => "กำลังจัดตั้ง",
        (Locale::Th, CenterStatus::Closed) => "ปิดแล้ว",
        (Locale::En, CenterStatus::Active) => "Active",
        (Locale::En, CenterStatus::UnderConstruction) => "Being set up",
        (Locale::En, CenterStatus::Closed) => "Closed",
    }
}

pub fn level(locale: Locale, level: &str) -> &'static str {
    match (locale, level) {
        (Locale::Th, "beginner") => "เริ่มต้น",
        (Locale::Th, "intermediate") => "กลาง",
        (Locale::Th, "advanced") => "สูง",
        (Locale::En, "beginner") => "Beginner",
        (Locale::En, "intermediate") => "Intermediate",
        (Locale::En, "advanced") => "Advanced",
        _ => "",
    }
}

pub fn audience_kind(locale: Locale, kind: AudienceKind) -> &'static str {
    match (locale, kind) {
        (Locale::Th, AudienceKind::All) => "ทุกคน",
        (Locale::Th, AudienceKind::Province) => "จังหวัด",
        (Locale::Th, AudienceKind::Center) => "ศูนย์",
        (Locale::Th, AudienceKind::Course) => "หลักสูตร",
        (Locale::Th, AudienceKind::Session) => "รอบอบรม",
        (Locale::En, AudienceKind::All) => "Everyone",
        (Locale::En, AudienceKind::Province) => "Province",
        (Locale::En, AudienceKind::Center) => "Center",
        (Locale::En, AudienceKind::Course) => "Course",
        (Locale::En, AudienceKind::Session) => "Session",
    }
}

pub fn broadcast_status(locale: Locale, status: BroadcastStatus) -> &'static str {
    match (locale, status) {
        (Locale::Th, BroadcastStatus::Scheduled) => "รอส่ง",
        (Locale::Th, BroadcastStatus::Sending) => "กำลังส่ง",
        (Locale::Th, BroadcastStatus::Sent) => "ส่งแล้ว",
        (Locale::Th, BroadcastStatus::Cancelled) => "ยกเลิกแล้ว",
        (Locale::En, BroadcastStatus::Scheduled) => "Scheduled",
        (Locale::En, BroadcastStatus::Sending) => "Sending",
        (Locale::En, BroadcastStatus::Sent) => "Sent",
        (Locale::En, BroadcastStatus::Cancelled) => "Cancelled",
    }
}

pub fn group_by(locale: Locale, group: GroupBy) -> &'static str {
    match (locale, group) {
        (Locale::Th, GroupBy::Province) => "จังหวัด",
        (Locale::Th, GroupBy::Center) => "ศูนย์",
        (Locale::Th, GroupBy::Course) => "หลักสูตร",
        (Locale::En, GroupBy::Province) => "Province",
        (Locale::En, GroupBy::Center) => "Center",
        (Locale::En, GroupBy::Course) => "Course",
    }
}

/// "12 people, 15 devices" / "12 คน 15 เครื่อง".
pub fn reach(locale: Locale, people: i64, devices: i64) -> String {
    match locale {
        Locale::Th => format!("{people} คน {devices} เครื่อง"),
        Locale::En => format!(
            "{people} {}, {devices} {}",
            if people == 1 { "person" } else { "people" },
            if devices == 1 { "device" } else { "devices" }
        ),
    }
}

/// A count with thousands grouped: "2,394".
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "of 2,400" / "จาก 2,400".
pub fn of_total(locale: Locale, total: i64) -> String {
    let total = grouped(total);
    match locale {
        Locale::Th => format!("จากทั้งหมด {total}"),
        Locale::En => format!("of {total}"),
    }
}

/// What a dashboard rate is made of: "41 attended, 3 no-show".
pub fn attendance_detail(locale: Locale, attended: i64, no_show: i64) -> String {
    match locale {
        Locale::Th => format!("มาเรียน {attended} คน ไม่มา {no_show} คน"),
        Locale::En => format!("{attended} attended, {no_show} no-show"),
    }
}

pub fn delivery_detail(locale: Locale, sent: i64, total: i64) -> String {
    match locale {
        Locale::Th => format!("ส่งถึง {} จาก {} ครั้ง", grouped(sent), grouped(total)),
        Locale::En => format!("{} of {} delivered", grouped(sent), grouped(total)),
    }
}

/// The first `shown` of more: "Showing the first 100; narrow the search."
pub fn first_shown(locale: Locale, shown: usize) -> String {
    match locale {
        Locale::Th => format!("แสดง {shown} รายการแรก ค้นหาให้แคบลงเพื่อดูรายการอื่น"),
        Locale::En => format!("Showing the first {shown}; narrow the search to see others."),
    }
}

/// The audit log's actions in words: (action, Thai, English).
pub const ACTIONS: &[(&str, &str, &str)] = &[
    (
        "account_created_at_desk",
        "สร้างบัญชีที่ศูนย์",
        "Account created at the desk",
    ),
    ("account_erased", "ลบข้อมูลบัญชี", "Account erased"),
    ("attendance_attended", "บันทึกว่ามาเรียน", "Marked attended"),
    ("attendance_no_show", "บันทึกว่าไม่มา", "Marked no-show"),
    (
        "attendance_confirmed",
        "ล้างการบันทึกการมาเรียน",
        "Attendance cleared",
    ),
    ("broadcast_created", "สร้างประกาศ", "Broadcast created"),
    ("broadcast_cancelled", "ยกเลิกประกาศ", "Broadcast cancelled"),
    ("center_created", "เพิ่มศูนย์", "Center created"),
    ("center_updated", "แก้ไขศูนย์", "Center changed"),
    ("center_deleted", "ลบศูนย์", "Center deleted"),
    ("course_created", "เพิ่มหลักสูตร", "Course created"),
    ("course_updated", "แก้ไขหลักสูตร", "Course changed"),
    (
        "role_set_resident",
        "เปลี่ยนสิทธิ์เป็นประชาชน",
        "Role set to resident",
    ),
    ("role_set_staff", "เปลี่ยนสิทธิ์เป็นเจ้าหน้าที่", "Role set to staff"),
    ("role_set_admin", "เปลี่ยนสิทธิ์เป็นผู้ดูแลระบบ", "Role set to admin"),
    (
        "seat_released",
        "สละที่นั่งแทนผู้สมัคร",
        "Seat given up for someone",
    ),
    ("session_created", "เพิ่มรอบอบรม", "Session created"),
    ("session_updated", "แก้ไขรอบอบรม", "Session changed"),
    ("session_cancelled", "ยกเลิกรอบอบรม", "Session cancelled"),
    ("sign_ins_ended", "ออกจากระบบทุกเครื่อง", "All sign-ins ended"),
    ("staff_assigned", "เพิ่มเจ้าหน้าที่ประจำศูนย์", "Staff assigned"),
    ("staff_unassigned", "นำเจ้าหน้าที่ออกจากศูนย์", "Staff unassigned"),
    ("walk_in_enrolled", "ลงทะเบียนหน้าศูนย์", "Walk-in enrolled"),
];

/// An audit log action in words (an action this version does not know shows as itself).
pub fn action(locale: Locale, action: &str) -> Option<&'static str> {
    ACTIONS
        .iter()
        .find(|(a, _, _)| *a == action)
        .map(|(_, th, en)| match locale {
            Locale::Th => *th,
            Locale::En => *en,
        })
}

/// What the last action on an admin page did (`?done=`), shown at the top.
pub fn notice(locale: Locale, done: Option<&str>) -> Option<&'static str> {
    let (th, en) = match done? {
        "center_created" => ("เพิ่มศูนย์แล้ว", "Center created."),
        "center_saved" => ("บันทึกข้อมูลศูนย์แล้ว", "Center saved."),
        "staff_assigned" => ("เพิ่มเจ้าหน้าที่แล้ว", "Staff member assigned."),
        "staff_removed" => ("นำเจ้าหน้าที่ออกแล้ว", "Staff member removed."),
        "course_created" => ("เพิ่มหลักสูตรแล้ว", "Course created."),
        "course_saved" => ("บันทึกหลักสูตรแล้ว", "Course saved."),
        "broadcast_created" => (
            "บันทึกประกาศแล้ว ตัวเลขด้านล่างจะเปลี่ยนตามการส่ง",
            "Broadcast saved. The figures below follow its delivery.",
        ),
        "broadcast_cancelled" => (
            "ยกเลิกประกาศแล้ว ไม่มีการส่ง",
            "Broadcast cancelled; nothing was sent.",
        ),
        _ => return None,
    };
    Some(match locale {
        Locale::Th => th,
        Locale::En => en,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(2394), "2,394");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(-12345), "-12,345");
    }
}
