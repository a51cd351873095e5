//! The demo network: all 77 provinces, 2,394 centers (2,144 active, 250 under
//! construction, as the programme reported), a Thai/English course catalogue, upcoming
//! sessions, and one account per role. The same seed gives the same network; session
//! times are laid out from the day it is loaded.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Asia::Bangkok;

use crate::db::{self, DbConn};
use crate::domain::{
    CenterId, CenterStatus, CourseId, CourseSessionId, Province, SessionStatus, PROVINCES,
};
use crate::models::centers::{self, Center};
use crate::models::course_sessions::{self, CourseSession};
use crate::models::courses::{self, Course};

pub mod desk;
pub mod history;

pub const DEMO_CENTERS: usize = 2_394;
pub const DEMO_UNDER_CONSTRUCTION: usize = 250;
pub const DEFAULT_SEED: u64 = 2021;

/// A small, fast, seedable generator (SplitMix64): deterministic on every platform.
pub struct DemoRng(u64);

impl DemoRng {
    pub fn new(seed: u64) -> Self {
        DemoRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A UUID made of generator bytes, so IDs repeat with the seed.
    pub fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

const PLACE_PREFIXES: &[(&str, &str)] = &[
    ("บ้าน", "Ban"),
    ("หนอง", "Nong"),
    ("โนน", "Non"),
    ("ดอน", "Don"),
    ("นา", "Na"),
    ("ห้วย", "Huai"),
    ("ท่า", "Tha"),
    ("บาง", "Bang"),
    ("วัง", "Wang"),
    ("โคก", "Khok"),
    ("สระ", "Sa"),
    ("บึง", "Bueng"),
    ("ป่า", "Pa"),
    ("ทุ่ง", "Thung"),
    ("เขา", "Khao"),
    ("คลอง", "Khlong"),
    ("แม่", "Mae"),
    ("ลำ", "Lam"),
    ("เวียง", "Wiang"),
    ("ศรี", "Si"),
];

const PLACE_SUFFIXES: &[(&str, &str)] = &[
    ("ใหม่", "Mai"),
    ("แก้ว", "Kaeo"),
    ("ทอง", "Thong"),
    ("ยาง", "Yang"),
    ("บัว", "Bua"),
    ("ไผ่", "Phai"),
    ("หลวง", "Luang"),
    ("น้อย", "Noi"),
    ("ใหญ่", "Yai"),
    ("ตะเคียน", "Takhian"),
    ("สะแก", "Sakae"),
    ("ขาม", "Kham"),
    ("จิก", "Chik"),
    ("เหล็ก", "Lek"),
    ("ช้าง", "Chang"),
    ("เสือ", "Suea"),
    ("งาม", "Ngam"),
    ("สวรรค์", "Sawan"),
    ("โพธิ์", "Pho"),
    ("ไทร", "Sai"),
    ("มะม่วง", "Mamuang"),
    ("กลาง", "Klang"),
    ("เจริญ", "Charoen"),
    ("สำราญ", "Samran"),
];

fn place_name(rng: &mut DemoRng) -> (String, String) {
    let (p_th, p_en) = rng.pick(PLACE_PREFIXES);
    let (s_th, s_en) = rng.pick(PLACE_SUFFIXES);
    (format!("{p_th}{s_th}"), format!("{p_en} {s_en}"))
}

/// Splits `total` over provinces in proportion to their districts (largest remainder).
fn centers_per_province(total: usize) -> Vec<usize> {
    let districts: u32 = PROVINCES.iter().map(|p| p.districts).sum();
    let exact: Vec<f64> = PROVINCES
        .iter()
        .map(|p| total as f64 * f64::from(p.districts) / f64::from(districts))
        .collect();
    let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut by_remainder: Vec<usize> = (0..PROVINCES.len()).collect();
    by_remainder.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let missing = total - counts.iter().sum::<usize>();
    for &i in by_remainder.iter().take(missing) {
        counts[i] += 1;
    }
    counts
}

/// The demo centers, deterministic for a seed.
pub fn demo_centers(seed: u64) -> Vec<Center> {
    let mut rng = DemoRng::new(seed);
    let now = db::now();
    let mut all = Vec::with_capacity(DEMO_CENTERS);
    for (province_index, (province, count)) in PROVINCES
        .iter()
        .zip(centers_per_province(DEMO_CENTERS))
        .enumerate()
    {
        let districts = district_names(province, &mut rng);
        for n in 0..count {
            let code = format!("CDC-{:02}-{:04}", province_index + 1, n + 1);
            let (sub_th, sub_en) = place_name(&mut rng);
            let district = districts[n % districts.len()].clone();
            // Spread around the provincial seat: within ~45 km (~12 km in Bangkok).
            let spread = if province_index == 0 { 0.11 } else { 0.40 };
            let angle = rng.unit() * std::f64::consts::TAU;
            let radius = spread * rng.unit().sqrt();
            let lat = province.lat + radius * angle.sin();
            let lon = province.lon + radius * angle.cos() / province.lat.to_radians().cos();
            let name_th = format!("ศูนย์ดิจิทัลชุมชนตำบล{sub_th}");
            let name_en = format!("{sub_en} Community Digital Center");
            let phone = format!(
                "+66{}{:07}",
                [2, 3, 4, 5, 7][province_index % 5],
                rng.below(10_000_000)
            );
            all.push(Center {
                id: CenterId::from_raw(rng.uuid()),
                search_text: centers::search_text(&code, &name_th, &name_en, &district, &sub_th),
                code,
                name_th,
                name_en,
                province: province.name_th.to_string(),
                district,
                subdistrict: sub_th,
                lat: (lat * 1e6).round() / 1e6,
                lon: (lon * 1e6).round() / 1e6,
                status: CenterStatus::Active,
                phone: Some(phone),
                opening_hours: Some("จ.–ศ. 08:30–16:30".into()),
                created_at: now,
                updated_at: now,
            });
        }
    }
    // 250 centers still being built, chosen evenly at random.
    let mut order: Vec<usize> = (0..all.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    for &i in order.iter().take(DEMO_UNDER_CONSTRUCTION) {
        all[i].status = CenterStatus::UnderConstruction;
        all[i].opening_hours = None;
    }
    all
}

fn district_names(province: &Province, rng: &mut DemoRng) -> Vec<String> {
    let mut names = vec![format!(
        "เมือง{}",
        province.name_th.trim_start_matches("จังหวัด")
    )];
    if province.name_en == "Bangkok" {
        names = [
            "พระนคร",
            "ดุสิต",
            "บางรัก",
            "ปทุมวัน",
            "จตุจักร",
            "บางเขน",
            "ลาดพร้าว",
            "บางกะปิ",
            "หนองจอก",
            "มีนบุรี",
            "บางขุนเทียน",
            "ตลิ่งชัน",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
    }
    while names.len() < province.districts.min(12) as usize {
        names.push(place_name(rng).0);
    }
    names
}

/// (category, level, minutes, title th, title en, description th, description en)
const CATALOGUE: &[(&str, &str, i32, &str, &str, &str, &str)] = &[
    (
        "smartphone_basics",
        "beginner",
        180,
        "การใช้สมาร์ทโฟนเบื้องต้น",
        "Smartphone basics",
        "ตั้งค่าเครื่อง ขยายตัวอักษร ต่อ Wi-Fi ถ่ายรูป และติดตั้งแอปอย่างปลอดภัย",
        "Set up the phone, enlarge text, join Wi-Fi, take photos and install apps safely.",
    ),
    (
        "communication",
        "beginner",
        120,
        "LINE และวิดีโอคอลกับลูกหลาน",
        "LINE and video calls with family",
        "ส่งข้อความ รูปภาพ และวิดีโอคอลกับครอบครัว",
        "Send messages and photos, and video-call your family.",
    ),
    (
        "online_safety",
        "beginner",
        180,
        "รู้ทันภัยออนไลน์และมิจฉาชีพ",
        "Online safety and scam awareness",
        "สังเกตลิงก์ปลอม SMS หลอกลวง แก๊งคอลเซ็นเตอร์ และวิธีแจ้งเหตุ",
        "Spot fake links, scam SMS and call-centre gangs, and how to report them.",
    ),
    (
        "digital_finance",
        "beginner",
        120,
        "การชำระเงินผ่านมือถืออย่างปลอดภัย",
        "Safe mobile payments and PromptPay",
        "ใช้พร้อมเพย์ สแกนจ่าย และตั้งค่าความปลอดภัยแอปธนาคาร",
        "Use PromptPay and QR payments, and secure your banking app.",
    ),
    (
        "e_government",
        "beginner",
        180,
        "บริการภาครัฐออนไลน์ (ทางรัฐ หมอพร้อม)",
        "Government e-services (Tang Rat, Mor Prom)",
        "ยืนยันตัวตน ตรวจสอบสิทธิ์สวัสดิการ และนัดหมายบริการสาธารณสุข",
        "Verify your identity, check welfare rights and book health services.",
    ),
    (
        "ecommerce",
        "intermediate",
        360,
        "ขายของออนไลน์สำหรับวิสาหกิจชุมชน",
        "E-commerce for community enterprises",
        "เปิดร้านบนแพลตฟอร์มออนไลน์ ตั้งราคา จัดส่ง และรับชำระเงิน",
        "Open an online shop, set prices, ship orders and take payments.",
    ),
    (
        "digital_marketing",
        "intermediate",
        180,
        "ถ่ายภาพสินค้าด้วยมือถือ",
        "Product photography with a phone",
        "จัดแสง จัดองค์ประกอบ และแต่งภาพสินค้าชุมชนให้น่าซื้อ",
        "Light, frame and edit photos that sell community products.",
    ),
    (
        "digital_marketing",
        "intermediate",
        360,
        "การตลาดดิจิทัลและโซเชียลมีเดีย",
        "Digital marketing and social media",
        "วางแผนโพสต์ เขียนข้อความขาย และอ่านสถิติเพจ",
        "Plan posts, write sales copy and read page statistics.",
    ),
    (
        "office_skills",
        "intermediate",
        360,
        "ตารางคำนวณสำหรับงานชุมชน",
        "Spreadsheets for community work",
        "บันทึกรายรับรายจ่าย ทำบัญชีกลุ่ม และสรุปผลเป็นกราฟ",
        "Keep accounts for a group, track income and spending, and chart the results.",
    ),
    (
        "media_literacy",
        "beginner",
        120,
        "ข่าวปลอมและการตรวจสอบข้อมูล",
        "Fake news and fact-checking",
        "ตรวจสอบแหล่งที่มา ภาพตัดต่อ และข่าวลือก่อนแชร์",
        "Check sources, edited images and rumours before you share.",
    ),
    (
        "digital_agriculture",
        "beginner",
        180,
        "เกษตรดิจิทัล: แอปพยากรณ์อากาศและราคาพืชผล",
        "Digital farming: weather and crop-price apps",
        "ใช้แอปพยากรณ์อากาศ ราคาตลาด และความรู้การเกษตร",
        "Use weather forecasts, market prices and farming advice apps.",
    ),
    (
        "coding",
        "beginner",
        240,
        "พื้นฐานการเขียนโค้ดสำหรับเยาวชน",
        "Coding basics for youth",
        "คิดเชิงคำนวณและสร้างเกมง่าย ๆ ด้วยบล็อกคำสั่ง",
        "Computational thinking and a simple game built with blocks.",
    ),
    (
        "ecommerce",
        "beginner",
        180,
        "สร้างเพจและร้านค้าบนโซเชียลมีเดีย",
        "Social media pages and shops",
        "สร้างเพจร้าน ตั้งค่าข้อมูลติดต่อ และตอบแชทลูกค้า",
        "Create a shop page, set contact details and answer customer chats.",
    ),
    (
        "digital_health",
        "beginner",
        120,
        "แอปสุขภาพสำหรับผู้สูงอายุ",
        "Health apps for older adults",
        "นัดหมายโรงพยาบาล ดูผลตรวจ และเตือนการกินยา",
        "Book hospital visits, read test results and set medicine reminders.",
    ),
];

pub fn demo_courses(seed: u64) -> Vec<Course> {
    let mut rng = DemoRng::new(seed ^ 0xC0_55E5);
    let now = db::now();
    CATALOGUE
        .iter()
        .map(
            |(category, level, minutes, title_th, title_en, description_th, description_en)| {
                Course {
                    id: CourseId::from_raw(rng.uuid()),
                    title_th: title_th.to_string(),
                    title_en: title_en.to_string(),
                    description_th: description_th.to_string(),
                    description_en: description_en.to_string(),
                    category: category.to_string(),
                    level: level.to_string(),
                    duration_minutes: *minutes,
                    created_at: now,
                    updated_at: now,
                }
            },
        )
        .collect()
}

/// Two sessions at every active center over the four weeks after `today` (Bangkok time).
pub fn demo_sessions(
    seed: u64,
    centers: &[Center],
    courses: &[Course],
    today: NaiveDate,
) -> Vec<CourseSession> {
    let mut rng = DemoRng::new(seed ^ 0x5E55_1045);
    let now = db::now();
    let starts = [
        NaiveTime::from_hms_opt(9, 0, 0),
        NaiveTime::from_hms_opt(13, 30, 0),
    ];
    let mut sessions = Vec::new();
    for center in centers.iter().filter(|c| c.status == CenterStatus::Active) {
        for start_time in starts {
            let course = rng.pick(courses);
            let day = today + Duration::days(1 + rng.below(28) as i64);
            let Some(start_time) = start_time else {
                continue;
            };
            let Some(local) = Bangkok
                .from_local_datetime(&day.and_time(start_time))
                .single()
            else {
                continue;
            };
            let starts_at = local.naive_utc();
            sessions.push(CourseSession {
                id: CourseSessionId::from_raw(rng.uuid()),
                center_id: center.id.clone(),
                course_id: course.id.clone(),
                starts_at,
                ends_at: starts_at + Duration::minutes(i64::from(course.duration_minutes)),
                capacity: 15 + rng.below(16) as i32,
                seats_taken: 0,
                waitlist_count: 0,
                waitlist_seq: 0,
                instructor: None,
                room: Some("ห้องอบรม 1".into()),
                status: SessionStatus::Scheduled,
                created_at: now,
                updated_at: now,
            });
        }
    }
    sessions
}

/// What `seed_network` loaded.
#[derive(Debug)]
pub struct Loaded {
    pub centers: usize,
    pub courses: usize,
    pub sessions: usize,
    /// Sessions of the last three weeks, with their attendance.
    pub past_sessions: usize,
    /// The center the demo staff member is assigned to (the first active one in Chiang Mai).
    pub staff_center: Option<Center>,
}

/// Loads centers, courses and sessions into an empty network.
pub fn seed_network(conn: &mut DbConn, seed: u64) -> anyhow::Result<Loaded> {
    let centers_list = demo_centers(seed);
    let courses_list = demo_courses(seed);
    let today = chrono::Utc::now().with_timezone(&Bangkok).date_naive();
    let sessions = demo_sessions(seed, &centers_list, &courses_list, today);
    db::write_transaction(conn, |conn| -> anyhow::Result<()> {
        centers::insert_many(conn, &centers_list)?;
        courses::insert_many(conn, &courses_list)?;
        course_sessions::insert_many(conn, &sessions)?;
        Ok(())
    })?;
    let past_sessions = history::seed(conn, seed, &centers_list, &courses_list)?;
    let staff_center = centers_list
        .iter()
        .find(|c| c.province == "เชียงใหม่" && c.status == CenterStatus::Active)
        .cloned();
    Ok(Loaded {
        centers: centers_list.len(),
        courses: courses_list.len(),
        sessions: sessions.len(),
        past_sessions,
        staff_center,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_network_matches_the_programme_figures() {
        let centers = demo_centers(DEFAULT_SEED);
        assert_eq!(centers.len(), 2_394);
        assert_eq!(
            centers
                .iter()
                .filter(|c| c.status == CenterStatus::Active)
                .count(),
            2_144
        );
        assert_eq!(
            centers
                .iter()
                .filter(|c| c.status == CenterStatus::UnderConstruction)
                .count(),
            250
        );
        let mut provinces: Vec<_> = centers.iter().map(|c| c.province.as_str()).collect();
        provinces.sort();
        provinces.dedup();
        assert_eq!(provinces.len(), 77);
        let mut codes: Vec<_> = centers.iter().map(|c| c.code.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 2_394);
        for c in &centers {
            assert!(
                (5.0..=21.0).contains(&c.lat) && (97.0..=106.5).contains(&c.lon),
                "{} at {},{}",
                c.code,
                c.lat,
                c.lon
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_network_and_another_seed_another() {
        let strip = |cs: Vec<Center>| {
            cs.into_iter()
                .map(|c| (c.id, c.code, c.name_th, c.lat, c.lon, c.status))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(demo_centers(7)), strip(demo_centers(7)));
        assert_ne!(strip(demo_centers(7)), strip(demo_centers(8)));
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        let centers = demo_centers(7);
        let courses = demo_courses(7);
        let a: Vec<_> = demo_sessions(7, &centers, &courses, day)
            .into_iter()
            .map(|s| (s.id, s.starts_at, s.capacity))
            .collect();
        let b: Vec<_> = demo_sessions(7, &centers, &courses, day)
            .into_iter()
            .map(|s| (s.id, s.starts_at, s.capacity))
            .collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2 * 2_144);
    }
}
