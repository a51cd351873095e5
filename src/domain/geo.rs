//! Points on the earth and great-circle distances between them.

use crate::i18n::Code;

/// Mean earth radius (IUGG), in kilometres.
const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// A valid latitude/longitude pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    pub lat: f64,
    pub lon: f64,
}

/// A latitude in degrees, within -90..=90.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latitude(f64);

impl Latitude {
    pub fn parse(degrees: f64) -> Result<Self, Code> {
        if degrees.is_finite() && (-90.0..=90.0).contains(&degrees) {
            Ok(Latitude(degrees))
        } else {
            Err(Code::OutOfRange)
        }
    }

    pub fn degrees(self) -> f64 {
        self.0
    }
}

/// A longitude in degrees, within -180..=180.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Longitude(f64);

impl Longitude {
    pub fn parse(degrees: f64) -> Result<Self, Code> {
        if degrees.is_finite() && (-180.0..=180.0).contains(&degrees) {
            Ok(Longitude(degrees))
        } else {
            Err(Code::OutOfRange)
        }
    }

    pub fn degrees(self) -> f64 {
        self.0
    }
}

impl Coordinates {
    /// Refuses non-finite and out-of-range values with the field that is wrong.
    pub fn new(lat: f64, lon: f64) -> Result<Self, (&'static str, Code)> {
        let lat = Latitude::parse(lat).map_err(|code| ("lat", code))?;
        let lon = Longitude::parse(lon).map_err(|code| ("lon", code))?;
        Ok(Coordinates {
            lat: lat.degrees(),
            lon: lon.degrees(),
        })
    }
}

/// Great-circle distance by the haversine formula.
pub fn distance_km(a: Coordinates, b: Coordinates) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let d_lat = lat2 - lat1;
    let d_lon = (b.lon - a.lon).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bangkok_to_chiang_mai_is_about_585_km() {
        let bangkok = Coordinates::new(13.7563, 100.5018).unwrap();
        let chiang_mai = Coordinates::new(18.7883, 98.9853).unwrap();
        let d = distance_km(bangkok, chiang_mai);
        assert!((580.0..590.0).contains(&d), "{d}");
        assert_eq!(distance_km(bangkok, bangkok), 0.0);
    }

    #[test]
    fn out_of_range_coordinates_are_refused() {
        assert_eq!(Coordinates::new(90.1, 0.0), Err(("lat", Code::OutOfRange)));
        assert_eq!(
            Coordinates::new(0.0, -180.5),
            Err(("lon", Code::OutOfRange))
        );
        assert_eq!(
            Coordinates::new(f64::NAN, 0.0),
            Err(("lat", Code::OutOfRange))
        );
        assert!(Coordinates::new(-90.0, 180.0).is_ok());
    }
}
