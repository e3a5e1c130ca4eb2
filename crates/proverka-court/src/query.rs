//! Court queries: by address (до здания) or by coordinates.

use proverka_core::normalize_text;

use crate::error::{ProviderError, ValidationError};

/// Words that start a part finer than a building (квартира, офис, помещение, этаж, комната):
/// the page asks for addresses to building precision only.
const UNIT_MARKERS: &[&str] = &[
    "кв",
    "квартира",
    "оф",
    "офис",
    "пом",
    "помещение",
    "эт",
    "этаж",
    "комн",
    "комната",
    "ком",
];

/// An address, trimmed, with runs of whitespace collapsed.
///
/// The page says to send addresses to building precision (город, улица, дом) and warns that a
/// flat, office or floor makes the answer less accurate. [`Address::new`] keeps such parts and
/// reports them in [`Address::unit_parts`]; [`Address::building_only`] removes them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    text: String,
    unit_parts: Vec<String>,
}

fn is_marker(word: &str) -> bool {
    let w = word.trim_end_matches('.').to_lowercase();
    UNIT_MARKERS.contains(&w.as_str())
}

impl Address {
    /// An address as given; parts finer than a building are reported, not removed.
    ///
    /// # Errors
    /// Empty after trimming (the provider's "Coords or address params not assigned").
    pub fn new(text: &str) -> Result<Self, ValidationError> {
        Self::build(text, false)
    }

    /// An address with flat/office/floor parts removed (`…, д. 25, кв. 110` → `…, д. 25`).
    ///
    /// # Errors
    /// Empty after trimming and stripping.
    pub fn building_only(text: &str) -> Result<Self, ValidationError> {
        Self::build(text, true)
    }

    fn build(text: &str, strip: bool) -> Result<Self, ValidationError> {
        let mut kept: Vec<String> = Vec::new();
        let mut unit_parts = Vec::new();
        for part in text.split(',') {
            let words: Vec<&str> = part.split_whitespace().collect();
            match words.iter().position(|w| is_marker(w)) {
                Some(i) => {
                    unit_parts.push(words[i..].join(" "));
                    let head = &words[..if strip { i } else { words.len() }];
                    if !head.is_empty() {
                        kept.push(head.join(" "));
                    }
                }
                None if !words.is_empty() => kept.push(words.join(" ")),
                None => {}
            }
        }
        let text = kept.join(", ");
        if text.is_empty() {
            return Err(ValidationError::new(
                ProviderError::NoCoordsOrAddress,
                "address is empty",
            ));
        }
        Ok(Self { text, unit_parts })
    }

    /// The address as it is sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Parts finer than a building found in the input (`кв. 110`), kept or removed as asked.
    pub fn unit_parts(&self) -> &[String] {
        &self.unit_parts
    }
}

/// A point: latitude (−90…90) and longitude (−180…180), finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coords {
    latitude: f64,
    longitude: f64,
}

/// The page's own refusal: "Non-correct recording of coordinates — Верно укажите координаты
/// (через пробел)".
fn bad_coords(reason: &'static str) -> ValidationError {
    ValidationError::new(ProviderError::BadCoordinates, reason)
}

/// Numbers that are no point on Earth: proverka's own rule (the page does not say what the
/// provider does with them).
fn no_point(reason: &'static str) -> ValidationError {
    ValidationError::own(ProviderError::BadCoordinates, reason)
}

impl Coords {
    /// A point.
    ///
    /// # Errors
    /// Not finite or out of range: proverka's own rule (no point on Earth).
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, ValidationError> {
        if !latitude.is_finite() || !longitude.is_finite() {
            return Err(no_point("coordinates must be finite numbers"));
        }
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(no_point("latitude must be between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&longitude) {
            return Err(no_point("longitude must be between -180 and 180"));
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }

    /// Latitude.
    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    /// Longitude.
    pub fn longitude(&self) -> f64 {
        self.longitude
    }
}

/// The order the two numbers of `coords=` are sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub enum CoordOrder {
    /// `"49.108795 55.796289"` for Kazan: longitude first, as the page's sample answer shows
    /// and as its "try swapping" advice ("не находит c 55.794340 49.099524, но найдет c
    /// 49.099524 55.794340") implies.
    #[default]
    LongitudeFirst,
    /// Latitude first.
    LatitudeFirst,
}

impl CoordOrder {
    /// The other order.
    #[must_use]
    pub fn swapped(self) -> Self {
        match self {
            Self::LongitudeFirst => Self::LatitudeFirst,
            Self::LatitudeFirst => Self::LongitudeFirst,
        }
    }
}

/// One court jurisdiction query.
///
/// The provider uses the coordinates only when both are sent, so a query holds one or the
/// other: [`CourtQuery::from_pairs`] drops the address when coordinates are present, and the
/// cache key holds only what the provider uses.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CourtQuery {
    /// By address.
    Address(Address),
    /// By coordinates, in a given order.
    Coords {
        /// The point.
        coords: Coords,
        /// The order sent.
        order: CoordOrder,
    },
}

impl CourtQuery {
    /// By address (building precision is the caller's business: see [`Address`]).
    pub fn address(address: Address) -> Self {
        Self::Address(address)
    }

    /// By coordinates, sent longitude first as the page's sample.
    pub fn coords(coords: Coords) -> Self {
        Self::Coords {
            coords,
            order: CoordOrder::default(),
        }
    }

    /// The same point with the two numbers sent in the other order (the page's advice when a
    /// point finds nothing); `None` for an address query.
    pub fn swapped(&self) -> Option<Self> {
        match self {
            Self::Coords { coords, order } => Some(Self::Coords {
                coords: *coords,
                order: order.swapped(),
            }),
            Self::Address(_) => None,
        }
    }

    /// The `coords=` value (`"lon lat"` or `"lat lon"`, 6 decimals), or `None`.
    pub fn coords_param(&self) -> Option<String> {
        match self {
            Self::Coords { coords, order } => Some(match order {
                CoordOrder::LongitudeFirst => {
                    format!("{:.6} {:.6}", coords.longitude, coords.latitude)
                }
                CoordOrder::LatitudeFirst => {
                    format!("{:.6} {:.6}", coords.latitude, coords.longitude)
                }
            }),
            Self::Address(_) => None,
        }
    }

    /// Reads provider-style parameters (`address=…&coords=…`, `token` ignored). The page takes
    /// the two numbers in either order ("попробуйте поменять порядок расположения широты и
    /// долготы"): they are read longitude first, as its samples, unless only the other order
    /// is a point on Earth (Vladivostok `43.115 131.885`), and always sent as given.
    ///
    /// # Errors
    /// Neither given ("Coords or address params not assigned"); not two space-separated
    /// numbers ("Non-correct recording of coordinates"); two numbers that are no point on
    /// Earth in either order (proverka's own rule).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ValidationError> {
        let params = proverka_core::Params::new(pairs);
        let get = |name: &str| params.nonblank(name);
        if let Some(coords) = get("coords") {
            let numbers: Vec<&str> = coords.split_whitespace().collect();
            let [first, second] = numbers.as_slice() else {
                return Err(bad_coords(
                    "coords must be two numbers separated by a space",
                ));
            };
            let parse = |s: &str| {
                s.parse::<f64>()
                    .map_err(|_| bad_coords("coords must be decimal numbers"))
            };
            let (a, b) = (parse(first)?, parse(second)?);
            return match Coords::new(b, a) {
                Ok(coords) => Ok(Self::coords(coords)),
                Err(lon_first) => match Coords::new(a, b) {
                    Ok(coords) => Ok(Self::Coords {
                        coords,
                        order: CoordOrder::LatitudeFirst,
                    }),
                    Err(_) => Err(lon_first),
                },
            };
        }
        match get("address") {
            Some(a) => Ok(Self::Address(Address::new(a)?)),
            None => Err(ValidationError::new(
                ProviderError::NoCoordsOrAddress,
                "give an address or coordinates",
            )),
        }
    }

    /// The normalised form used for cache keys.
    pub(crate) fn key_value(&self) -> (&'static str, String) {
        match self {
            Self::Address(a) => ("address", normalize_text(a.as_str())),
            Self::Coords { .. } => ("coords", self.coords_param().unwrap_or_default()),
        }
    }
}
