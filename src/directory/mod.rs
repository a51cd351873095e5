//! The center directory: every center in memory with a spatial grid, so nearby and text
//! searches need no database round trip. Centers change rarely; the copy is reloaded when
//! the `centers` data version in the database moves (checked every
//! `OCOD_DIRECTORY_REFRESH`, and at once after a change made through this process), so
//! several servers sharing one database converge within that interval.

pub mod search;

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use crate::db::{DbConn, DbPool};
use crate::domain::{distance_km, Coordinates};
use crate::handlers::views::CenterView;
use crate::models::centers::{self, Center};

/// Grid cell size in degrees (about 28 km of latitude).
const CELL_DEGREES: f64 = 0.25;
const KM_PER_DEGREE_LAT: f64 = 111.32;

/// One immutable copy of the directory.
pub struct Snapshot {
    pub version: i64,
    /// Sorted by code.
    centers: Vec<Center>,
    /// Each center's JSON as the API shows it, without the closing brace, so a page is
    /// assembled by copying bytes (`distance_km` is appended per search).
    fragments: Vec<String>,
    grid: HashMap<(i32, i32), Vec<u32>>,
}

fn cell_of(lat: f64, lon: f64) -> (i32, i32) {
    (
        (lat / CELL_DEGREES).floor() as i32,
        (lon / CELL_DEGREES).floor() as i32,
    )
}

/// A center's JSON without `distance_km` and the closing brace.
fn fragment(center: &Center) -> anyhow::Result<String> {
    let full = serde_json::to_string(&CenterView::new(center, None))?;
    full.strip_suffix(r#","distance_km":null}"#)
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("CenterView must end with distance_km"))
}

impl Snapshot {
    pub fn new(version: i64, mut all: Vec<Center>) -> anyhow::Result<Self> {
        all.sort_by(|a, b| a.code.cmp(&b.code));
        let fragments = all
            .iter()
            .map(fragment)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut grid: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
        for (i, c) in all.iter().enumerate() {
            grid.entry(cell_of(c.lat, c.lon))
                .or_default()
                .push(i as u32);
        }
        Ok(Snapshot {
            version,
            centers: all,
            fragments,
            grid,
        })
    }

    /// The center at `index` (as returned by `within`; indices follow `all`).
    pub fn center(&self, index: usize) -> &Center {
        &self.centers[index]
    }

    /// The pre-rendered JSON of the center at `index` (see `fragments`).
    pub fn fragment(&self, index: usize) -> &str {
        &self.fragments[index]
    }

    pub fn len(&self) -> usize {
        self.centers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.centers.is_empty()
    }

    /// Indices of the centers within `radius_km` of `origin` with their distances,
    /// nearest first (ties by ID).
    pub fn within(&self, origin: Coordinates, radius_km: f64) -> Vec<(usize, f64)> {
        let d_lat = radius_km / KM_PER_DEGREE_LAT;
        let cos_lat = origin.lat.to_radians().cos().max(0.01);
        let d_lon = (radius_km / (KM_PER_DEGREE_LAT * cos_lat)).min(180.0);
        let (lat_lo, lon_lo) = cell_of(origin.lat - d_lat, origin.lon - d_lon);
        let (lat_hi, lon_hi) = cell_of(origin.lat + d_lat, origin.lon + d_lon);
        let mut found = Vec::new();
        for lat_cell in lat_lo..=lat_hi {
            for lon_cell in lon_lo..=lon_hi {
                let Some(members) = self.grid.get(&(lat_cell, lon_cell)) else {
                    continue;
                };
                for &i in members {
                    let c = &self.centers[i as usize];
                    let d = distance_km(
                        origin,
                        Coordinates {
                            lat: c.lat,
                            lon: c.lon,
                        },
                    );
                    if d <= radius_km {
                        found.push((i as usize, d));
                    }
                }
            }
        }
        found.sort_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then_with(|| self.centers[a.0].id.cmp(&self.centers[b.0].id))
        });
        found
    }

    /// Every center, by code.
    pub fn all(&self) -> &[Center] {
        &self.centers
    }
}

/// The shared, reloadable directory.
pub struct CenterDirectory {
    current: RwLock<Arc<Snapshot>>,
    pool: DbPool,
}

impl CenterDirectory {
    /// Loads the directory and starts a thread that reloads it when the data version
    /// moves; the thread ends when the directory is dropped.
    pub fn start(pool: DbPool, refresh_every: Duration) -> anyhow::Result<Arc<Self>> {
        let snapshot = Self::load(&mut *pool.get()?)?;
        let directory = Arc::new(CenterDirectory {
            current: RwLock::new(Arc::new(snapshot)),
            pool,
        });
        let weak: Weak<CenterDirectory> = Arc::downgrade(&directory);
        std::thread::Builder::new()
            .name("center-directory".into())
            .spawn(move || loop {
                std::thread::sleep(refresh_every);
                let Some(directory) = weak.upgrade() else {
                    break;
                };
                if let Err(e) = directory.refresh_if_stale() {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "center directory refresh failed; serving the last copy"
                    );
                }
            })?;
        Ok(directory)
    }

    fn load(conn: &mut DbConn) -> anyhow::Result<Snapshot> {
        let (version, all) = centers::load_all(conn)?;
        Snapshot::new(version, all)
    }

    /// The copy to answer from; cheap (one reference count).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Reloads if the database holds a newer version than this copy.
    pub fn refresh_if_stale(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get()?;
        let version = centers::version(&mut conn)?;
        if version != self.snapshot().version {
            self.replace(Self::load(&mut conn)?);
        }
        Ok(())
    }

    /// Reloads now, on a connection the caller holds (after this process changed centers).
    pub fn reload(&self, conn: &mut DbConn) -> anyhow::Result<()> {
        self.replace(Self::load(conn)?);
        Ok(())
    }

    fn replace(&self, snapshot: Snapshot) {
        let mut guard = match self.current.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Never step back to an older copy if two reloads race.
        if snapshot.version >= guard.version {
            *guard = Arc::new(snapshot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CenterId, CenterStatus};

    fn center(id: &str, lat: f64, lon: f64) -> Center {
        let t = chrono::NaiveDateTime::default();
        Center {
            id: CenterId::from_raw(id),
            code: id.into(),
            name_th: id.into(),
            name_en: id.into(),
            province: "p".into(),
            district: "d".into(),
            subdistrict: "s".into(),
            lat,
            lon,
            status: CenterStatus::Active,
            phone: None,
            opening_hours: None,
            search_text: id.into(),
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn the_grid_finds_exactly_what_a_full_scan_finds() {
        // A deterministic scatter across Thailand, including cell borders.
        let mut seed: u64 = 42;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let all: Vec<Center> = (0..3000)
            .map(|i| {
                center(
                    &format!("c{i:04}"),
                    5.5 + next() * 15.0,
                    97.5 + next() * 8.0,
                )
            })
            .collect();
        let snapshot = Snapshot::new(1, all.clone()).unwrap();
        for (lat, lon, radius) in [
            (13.75, 100.5, 25.0),
            (18.79, 98.98, 100.0),
            (6.5, 101.25, 5.0),
            (15.0, 104.0, 60.0),
        ] {
            let origin = Coordinates::new(lat, lon).unwrap();
            let mut expected: Vec<(CenterId, f64)> = all
                .iter()
                .map(|c| {
                    (
                        c.id.clone(),
                        distance_km(
                            origin,
                            Coordinates {
                                lat: c.lat,
                                lon: c.lon,
                            },
                        ),
                    )
                })
                .filter(|(_, d)| *d <= radius)
                .collect();
            expected.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            let got: Vec<(CenterId, f64)> = snapshot
                .within(origin, radius)
                .into_iter()
                .map(|(i, d)| (snapshot.center(i).id.clone(), d))
                .collect();
            assert_eq!(got, expected, "around {lat},{lon} within {radius} km");
            assert!(!got.is_empty() || radius < 10.0);
        }
    }
}

#[cfg(test)]
mod fragment_tests {
    use super::*;

    #[test]
    fn a_fragment_plus_distance_is_exactly_the_center_view() {
        let t = chrono::NaiveDateTime::default();
        let c = Center {
            id: crate::domain::CenterId::from_raw("id-1"),
            code: "CDC-1".into(),
            name_th: "ศูนย์ \"ทดสอบ\"".into(),
            name_en: "Test".into(),
            province: "เลย".into(),
            district: "d".into(),
            subdistrict: "s".into(),
            lat: 17.5,
            lon: 101.7,
            status: crate::domain::CenterStatus::Active,
            phone: None,
            opening_hours: Some("จ.–ศ.".into()),
            search_text: "x".into(),
            created_at: t,
            updated_at: t,
        };
        let assembled = format!("{},\"distance_km\":1.25}}", fragment(&c).unwrap());
        let expected = serde_json::to_value(CenterView::new(&c, Some(1.25))).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&assembled).unwrap(),
            expected
        );
    }
}
