//! Thailand's 77 provinces (76 and Bangkok): Thai and English names, the coordinates of the
//! provincial seat, and the number of districts (used to spread the demo network).

/// One province.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Province {
    pub name_th: &'static str,
    pub name_en: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub districts: u32,
}

const fn p(
    name_th: &'static str,
    name_en: &'static str,
    lat: f64,
    lon: f64,
    districts: u32,
) -> Province {
    Province {
        name_th,
        name_en,
        lat,
        lon,
        districts,
    }
}

pub const PROVINCES: [Province; 77] = [
    // Bangkok and the central region.
    p("กรุงเทพมหานคร", "Bangkok", 13.7563, 100.5018, 50),
    p("สมุทรปราการ", "Samut Prakan", 13.5991, 100.5968, 6),
    p("นนทบุรี", "Nonthaburi", 13.8621, 100.5144, 6),
    p("ปทุมธานี", "Pathum Thani", 14.0208, 100.5250, 7),
    p(
        "พระนครศรีอยุธยา",
        "Phra Nakhon Si Ayutthaya",
        14.3532,
        100.5689,
        16,
    ),
    p("อ่างทอง", "Ang Thong", 14.5896, 100.4550, 7),
    p("ลพบุรี", "Lop Buri", 14.7995, 100.6534, 11),
    p("สิงห์บุรี", "Sing Buri", 14.8936, 100.3967, 6),
    p("ชัยนาท", "Chai Nat", 15.1851, 100.1251, 8),
    p("สระบุรี", "Saraburi", 14.5289, 100.9101, 13),
    p("นครนายก", "Nakhon Nayok", 14.2069, 101.2130, 4),
    p("นครปฐม", "Nakhon Pathom", 13.8199, 100.0621, 7),
    p("สมุทรสาคร", "Samut Sakhon", 13.5475, 100.2744, 3),
    p("สมุทรสงคราม", "Samut Songkhram", 13.4098, 100.0023, 3),
    p("สุพรรณบุรี", "Suphan Buri", 14.4745, 100.1177, 10),
    p("นครสวรรค์", "Nakhon Sawan", 15.7047, 100.1372, 15),
    p("อุทัยธานี", "Uthai Thani", 15.3835, 100.0246, 8),
    p("กำแพงเพชร", "Kamphaeng Phet", 16.4828, 99.5227, 11),
    p("พิจิตร", "Phichit", 16.4418, 100.3488, 12),
    p("พิษณุโลก", "Phitsanulok", 16.8211, 100.2659, 9),
    p("สุโขทัย", "Sukhothai", 17.0056, 99.8264, 9),
    p("เพชรบูรณ์", "Phetchabun", 16.4190, 101.1606, 11),
    // East.
    p("ชลบุรี", "Chon Buri", 13.3611, 100.9847, 11),
    p("ระยอง", "Rayong", 12.6814, 101.2816, 8),
    p("จันทบุรี", "Chanthaburi", 12.6114, 102.1039, 10),
    p("ตราด", "Trat", 12.2428, 102.5175, 7),
    p("ฉะเชิงเทรา", "Chachoengsao", 13.6904, 101.0779, 11),
    p("ปราจีนบุรี", "Prachin Buri", 14.0509, 101.3717, 7),
    p("สระแก้ว", "Sa Kaeo", 13.8240, 102.0646, 9),
    // West.
    p("กาญจนบุรี", "Kanchanaburi", 14.0228, 99.5328, 13),
    p("ราชบุรี", "Ratchaburi", 13.5283, 99.8134, 10),
    p("เพชรบุรี", "Phetchaburi", 13.1119, 99.9397, 8),
    p("ประจวบคีรีขันธ์", "Prachuap Khiri Khan", 11.8124, 99.7973, 8),
    p("ตาก", "Tak", 16.8840, 99.1258, 9),
    // North.
    p("เชียงใหม่", "Chiang Mai", 18.7883, 98.9853, 25),
    p("เชียงราย", "Chiang Rai", 19.9105, 99.8406, 18),
    p("ลำพูน", "Lamphun", 18.5745, 99.0087, 8),
    p("ลำปาง", "Lampang", 18.2888, 99.4909, 13),
    p("แพร่", "Phrae", 18.1446, 100.1403, 8),
    p("น่าน", "Nan", 18.7756, 100.7730, 15),
    p("พะเยา", "Phayao", 19.1665, 99.9019, 9),
    p("แม่ฮ่องสอน", "Mae Hong Son", 19.3020, 97.9654, 7),
    p("อุตรดิตถ์", "Uttaradit", 17.6201, 100.0993, 9),
    // Northeast.
    p("นครราชสีมา", "Nakhon Ratchasima", 14.9799, 102.0977, 32),
    p("บุรีรัมย์", "Buri Ram", 14.9930, 103.1029, 23),
    p("สุรินทร์", "Surin", 14.8818, 103.4936, 17),
    p("ศรีสะเกษ", "Si Sa Ket", 15.1186, 104.3220, 22),
    p("อุบลราชธานี", "Ubon Ratchathani", 15.2287, 104.8564, 25),
    p("ยโสธร", "Yasothon", 15.7924, 104.1453, 9),
    p("ชัยภูมิ", "Chaiyaphum", 15.8068, 102.0315, 16),
    p("อำนาจเจริญ", "Amnat Charoen", 15.8657, 104.6258, 7),
    p("บึงกาฬ", "Bueng Kan", 18.3609, 103.6466, 8),
    p("หนองบัวลำภู", "Nong Bua Lam Phu", 17.2218, 102.4260, 6),
    p("ขอนแก่น", "Khon Kaen", 16.4322, 102.8236, 26),
    p("อุดรธานี", "Udon Thani", 17.4138, 102.7872, 20),
    p("เลย", "Loei", 17.4860, 101.7223, 14),
    p("หนองคาย", "Nong Khai", 17.8783, 102.7420, 9),
    p("มหาสารคาม", "Maha Sarakham", 16.1851, 103.3029, 13),
    p("ร้อยเอ็ด", "Roi Et", 16.0538, 103.6520, 20),
    p("กาฬสินธุ์", "Kalasin", 16.4314, 103.5059, 18),
    p("สกลนคร", "Sakon Nakhon", 17.1546, 104.1348, 18),
    p("นครพนม", "Nakhon Phanom", 17.3920, 104.7695, 12),
    p("มุกดาหาร", "Mukdahan", 16.5453, 104.7235, 7),
    // South.
    p("ชุมพร", "Chumphon", 10.4930, 99.1800, 8),
    p("ระนอง", "Ranong", 9.9658, 98.6348, 5),
    p("สุราษฎร์ธานี", "Surat Thani", 9.1382, 99.3217, 19),
    p("พังงา", "Phang Nga", 8.4501, 98.5255, 8),
    p("ภูเก็ต", "Phuket", 7.8804, 98.3923, 3),
    p("กระบี่", "Krabi", 8.0863, 98.9063, 8),
    p("นครศรีธรรมราช", "Nakhon Si Thammarat", 8.4304, 99.9631, 23),
    p("ตรัง", "Trang", 7.5563, 99.6114, 10),
    p("พัทลุง", "Phatthalung", 7.6167, 100.0740, 11),
    p("สตูล", "Satun", 6.6238, 100.0674, 7),
    p("สงขลา", "Songkhla", 7.1898, 100.5954, 16),
    p("ปัตตานี", "Pattani", 6.8693, 101.2502, 12),
    p("ยะลา", "Yala", 6.5411, 101.2804, 8),
    p("นราธิวาส", "Narathiwat", 6.4255, 101.8253, 13),
];

/// Finds a province by its Thai or English name (English case-insensitively, ignoring
/// spaces, so `chiangmai` and `Chiang Mai` both work).
pub fn find_province(name: &str) -> Option<&'static Province> {
    let wanted = squash(name);
    if wanted.is_empty() {
        return None;
    }
    PROVINCES
        .iter()
        .find(|p| p.name_th == name.trim() || squash(p.name_en) == wanted)
}

fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_77_distinct_provinces_inside_thailand() {
        let mut names: Vec<_> = PROVINCES.iter().map(|p| p.name_th).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 77);
        for p in PROVINCES {
            assert!(
                (5.5..=20.5).contains(&p.lat) && (97.3..=105.7).contains(&p.lon),
                "{} is outside Thailand",
                p.name_en
            );
        }
    }

    #[test]
    fn provinces_are_found_by_either_name() {
        assert_eq!(
            find_province("เชียงใหม่").map(|p| p.name_en),
            Some("Chiang Mai")
        );
        assert_eq!(
            find_province("chiangmai").map(|p| p.name_th),
            Some("เชียงใหม่")
        );
        assert_eq!(
            find_province(" Bangkok ").map(|p| p.name_th),
            Some("กรุงเทพมหานคร")
        );
        assert!(find_province("Atlantis").is_none());
        assert!(find_province("").is_none());
    }
}
