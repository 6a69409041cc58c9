//! Redis's geohash: 26 bits of longitude and 26 of latitude interleaved into a 52-bit integer
//! (longitude on the odd bits, latitude on the even ones), over the Web Mercator latitude range
//! ±85.05112878 rather than ±90. The search side (step estimation, the centre cell and its
//! eight neighbours, the bounding box, haversine distances) reproduces `geohash_helper.c`'s
//! arithmetic operation for operation, so that every cell boundary and every distance comparison
//! falls exactly where Redis's does.

/// Bits per coordinate of a stored point: 26, so 52 bits in all (exact in an `f64` score).
pub(super) const STEP_MAX: u8 = 26;
/// Southernmost latitude that can be indexed.
pub(super) const LAT_MIN: f64 = -85.051_128_78;
/// Northernmost latitude that can be indexed.
pub(super) const LAT_MAX: f64 = 85.051_128_78;
/// Westernmost longitude.
pub(super) const LON_MIN: f64 = -180.0;
/// Easternmost longitude.
pub(super) const LON_MAX: f64 = 180.0;
/// The earth's quadratic mean radius for WGS-84, in meters, as Redis uses it.
pub(super) const EARTH_RADIUS_M: f64 = 6_372_797.560_856;
/// Half the Mercator projection's width, in meters: the step estimate doubles up to this.
const MERCATOR_MAX: f64 = 20_037_726.37;

const EVEN_BITS: u64 = 0x5555_5555_5555_5555;
const ODD_BITS: u64 = 0xaaaa_aaaa_aaaa_aaaa;

/// A cell: `step` bits per coordinate, interleaved. A zero `step` marks a cell left out of a
/// search (Redis's `GZERO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cell {
    pub bits: u64,
    pub step: u8,
}

impl Cell {
    const NONE: Cell = Cell { bits: 0, step: 0 };

    fn is_none(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash widened to 52 bits, as a sorted set score stores it.
    pub fn align52(self) -> u64 {
        self.bits << (52 - 2 * u32::from(self.step))
    }

    /// The score interval `[min, max)` of the points inside this cell.
    pub fn score_range(self) -> (f64, f64) {
        let min = self.align52();
        let next = Cell {
            bits: self.bits.wrapping_add(1),
            step: self.step,
        };
        // Scores are below 2^53 (or just at it), so the conversions are exact.
        (min as f64, next.align52() as f64)
    }
}

/// A closed interval of degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Span {
    pub min: f64,
    pub max: f64,
}

/// The rectangle a cell covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Area {
    pub lon: Span,
    pub lat: Span,
}

const LON_SPAN: Span = Span {
    min: LON_MIN,
    max: LON_MAX,
};
const LAT_SPAN: Span = Span {
    min: LAT_MIN,
    max: LAT_MAX,
};
/// The latitude range of the standard geohash (GEOHASH's output).
const STANDARD_LAT_SPAN: Span = Span {
    min: -90.0,
    max: 90.0,
};

/// Spreads the 32 bits of `v` onto the even bit positions of a u64.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & EVEN_BITS
}

/// Gathers the even bits of `v` into a u32 (the inverse of [`spread`]).
fn gather(v: u64) -> u32 {
    let mut x = v & EVEN_BITS;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x >> 4)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x >> 8)) & 0x0000_ffff_0000_ffff;
    x = (x | (x >> 16)) & 0x0000_0000_ffff_ffff;
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// The cell of `step` bits holding (`lon`, `lat`) over the given ranges; `None` outside the
/// indexable area.
fn encode_in(lon_span: Span, lat_span: Span, lon: f64, lat: f64, step: u8) -> Option<Cell> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LON_MIN..=LON_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_span.min || lat > lat_span.max || lon < lon_span.min || lon > lon_span.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - lat_span.min) / (lat_span.max - lat_span.min) * scale;
    let lon_offset = (lon - lon_span.min) / (lon_span.max - lon_span.min) * scale;
    // Truncation toward zero, as C's double-to-uint32 conversion; the offsets are in [0, 2^step].
    let (lat_bits, lon_bits) = (lat_offset as u32, lon_offset as u32);
    Some(Cell {
        bits: spread(lat_bits) | (spread(lon_bits) << 1),
        step,
    })
}

/// The cell of `step` bits holding a point (Redis's latitude range).
pub(super) fn encode(lon: f64, lat: f64, step: u8) -> Option<Cell> {
    encode_in(LON_SPAN, LAT_SPAN, lon, lat, step)
}

/// The 52-bit score of a point.
pub(super) fn encode_score(lon: f64, lat: f64) -> Option<u64> {
    encode(lon, lat, STEP_MAX).map(Cell::align52)
}

/// The rectangle `cell` covers.
pub(super) fn decode(cell: Cell) -> Area {
    let lat_bits = gather(cell.bits);
    let lon_bits = gather(cell.bits >> 1);
    let cells = (1u64 << cell.step) as f64;
    let lat_scale = LAT_SPAN.max - LAT_SPAN.min;
    let lon_scale = LON_SPAN.max - LON_SPAN.min;
    let edge = |bits: u32, span: Span, scale: f64| span.min + (f64::from(bits) / cells) * scale;
    Area {
        lat: Span {
            min: edge(lat_bits, LAT_SPAN, lat_scale),
            max: edge(lat_bits.wrapping_add(1), LAT_SPAN, lat_scale),
        },
        lon: Span {
            min: edge(lon_bits, LON_SPAN, lon_scale),
            max: edge(lon_bits.wrapping_add(1), LON_SPAN, lon_scale),
        },
    }
}

/// A stored score turned back into the hash it encodes: the conversion C's `(uint64_t)` cast
/// performs on x86-64 (negative scores wrap, out-of-range ones give 2^63), for scores that
/// ZADD, not GEOADD, put there.
fn score_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if score >= TWO_63 {
        let low = score - TWO_63;
        if low >= TWO_63 {
            0
        } else {
            (low as i64 as u64) ^ (1 << 63)
        }
    } else if score >= -TWO_63 {
        score as i64 as u64
    } else {
        1 << 63
    }
}

/// The point a score stands for: the centre of its 52-bit cell, clamped to the indexable area
/// (Redis answers these coordinates, not the ones GEOADD was given).
pub(super) fn decode_score(score: f64) -> (f64, f64) {
    let area = decode(Cell {
        bits: score_bits(score),
        step: STEP_MAX,
    });
    let lon = ((area.lon.min + area.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// The 11-character standard geohash of a stored score: the decoded point re-encoded over the
/// standard ±90 latitude range; the 11th character stands for bits Redis does not have (0).
pub(super) fn standard_geohash(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    let bits = encode_in(LON_SPAN, STANDARD_LAT_SPAN, lon, lat, STEP_MAX).map_or(0, |c| c.bits);
    let mut out = [ALPHABET[0]; 11];
    for (i, ch) in out.iter_mut().enumerate().take(10) {
        let shift = 52 - (i + 1) * 5;
        // The index is five bits: always within the alphabet.
        let idx = usize::try_from((bits >> shift) & 0x1f).unwrap_or(0);
        *ch = ALPHABET[idx];
    }
    out
}

/// Moves a cell one step east (`d > 0`) or west (`d < 0`), wrapping around the antimeridian.
fn move_x(cell: &mut Cell, d: i8) {
    if d == 0 {
        return;
    }
    let width = 64 - 2 * u32::from(cell.step);
    let x = cell.bits & ODD_BITS;
    let y = cell.bits & EVEN_BITS;
    // Filling the latitude gaps with ones lets a carry run through the longitude bits.
    let fill = EVEN_BITS >> width;
    let x = if d > 0 {
        x.wrapping_add(fill + 1)
    } else {
        (x | fill).wrapping_sub(fill + 1)
    };
    cell.bits = (x & (ODD_BITS >> width)) | y;
}

/// Moves a cell one step north (`d > 0`) or south (`d < 0`), wrapping at the range's ends.
fn move_y(cell: &mut Cell, d: i8) {
    if d == 0 {
        return;
    }
    let width = 64 - 2 * u32::from(cell.step);
    let x = cell.bits & ODD_BITS;
    let y = cell.bits & EVEN_BITS;
    let fill = ODD_BITS >> width;
    let y = if d > 0 {
        y.wrapping_add(fill + 1)
    } else {
        (y | fill).wrapping_sub(fill + 1)
    };
    cell.bits = x | (y & (EVEN_BITS >> width));
}

fn neighbour(cell: Cell, dx: i8, dy: i8) -> Cell {
    let mut out = cell;
    move_x(&mut out, dx);
    move_y(&mut out, dy);
    out
}

/// The step whose cells are about `range_m` wide at latitude `lat`.
pub(super) fn estimate_step(range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return 26;
    }
    let mut range = range_m;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    // Two less, so the range falls inside the 3x3 cells in most cases.
    step -= 2;
    // Meridians converge towards the poles: widen the cells there.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    u8::try_from(step.clamp(1, 26)).unwrap_or(26)
}

fn deg_rad(deg: f64) -> f64 {
    deg * (std::f64::consts::PI / 180.0)
}

fn rad_deg(rad: f64) -> f64 {
    rad / (std::f64::consts::PI / 180.0)
}

/// The distance in meters between two latitudes on one meridian.
fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The haversine great-circle distance in meters between two points, as Redis computes it
/// (same longitudes take the cheaper meridian formula).
pub(super) fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// A search area: a circle or an axis-aligned box (in the unit given), around a centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Shape {
    /// BYRADIUS.
    Circle { radius: f64 },
    /// BYBOX.
    Box { width: f64, height: f64 },
}

/// A shape placed on the globe, with the unit's size in meters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Search {
    pub lon: f64,
    pub lat: f64,
    pub shape: Shape,
    /// Meters per unit.
    pub conversion: f64,
}

impl Search {
    /// The distance in meters from the centre to (`lon`, `lat`) if the point lies inside the
    /// shape.
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Circle { radius } => {
                let d = distance(self.lon, self.lat, lon, lat);
                // Only a distance beyond the radius excludes (a NaN one does not, as in Redis).
                if d > radius * self.conversion {
                    None
                } else {
                    Some(d)
                }
            }
            Shape::Box { width, height } => {
                let (width_m, height_m) = (width * self.conversion, height * self.conversion);
                // The latitude test is the cheaper one, so it goes first.
                if lat_distance(lat, self.lat) > height_m / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.lon, lat) > width_m / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }

    /// `[min_lon, min_lat, max_lon, max_lat]` of the area: a box's top and bottom edges are
    /// wider in degrees than its middle, so the hemisphere decides which edge bounds it.
    fn bounds(&self) -> [f64; 4] {
        let (half_h, half_w) = match self.shape {
            Shape::Circle { radius } => (self.conversion * radius, self.conversion * radius),
            Shape::Box { width, height } => (
                self.conversion * (height / 2.0),
                self.conversion * (width / 2.0),
            ),
        };
        let lat_delta = rad_deg(half_h / EARTH_RADIUS_M);
        let lon_delta_top = rad_deg(half_w / EARTH_RADIUS_M / deg_rad(self.lat + lat_delta).cos());
        let lon_delta_bottom =
            rad_deg(half_w / EARTH_RADIUS_M / deg_rad(self.lat - lat_delta).cos());
        let lon_delta = if self.lat < 0.0 {
            lon_delta_bottom
        } else {
            lon_delta_top
        };
        [
            self.lon - lon_delta,
            self.lat - lat_delta,
            self.lon + lon_delta,
            self.lat + lat_delta,
        ]
    }

    /// The cells to scan, in Redis's order: the centre, then N, S, E, W, NE, NW, SE, SW; cells
    /// that cannot hold a match are [`None`](Cell::NONE)-ed out and skipped by the caller.
    pub fn cells(&self) -> [Cell; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let radius_m = match self.shape {
            Shape::Circle { radius } => radius,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut step = estimate_step(radius_m, self.lat);
        let (mut centre, mut cells) = self.cells_at(step);
        // A centre near its cell's edge can leave part of the area outside the 3x3 block:
        // then one step coarser.
        let [n, s, e, w] = [cells[0], cells[1], cells[2], cells[3]].map(decode);
        let too_fine = n.lat.max < max_lat
            || s.lat.min > min_lat
            || e.lon.max < max_lon
            || w.lon.min > min_lon;
        if step > 1 && too_fine {
            step -= 1;
            (centre, cells) = self.cells_at(step);
        }
        let area = decode(centre);
        if step >= 2 {
            let [n, s, e, w, ne, nw, se, sw] = &mut cells;
            if area.lat.min < min_lat {
                for c in [&mut *s, &mut *sw, &mut *se] {
                    *c = Cell::NONE;
                }
            }
            if area.lat.max > max_lat {
                for c in [&mut *n, &mut *ne, &mut *nw] {
                    *c = Cell::NONE;
                }
            }
            if area.lon.min < min_lon {
                for c in [&mut *w, &mut *sw, &mut *nw] {
                    *c = Cell::NONE;
                }
            }
            if area.lon.max > max_lon {
                for c in [&mut *e, &mut *se, &mut *ne] {
                    *c = Cell::NONE;
                }
            }
        }
        let [n, s, e, w, ne, nw, se, sw] = cells;
        [centre, n, s, e, w, ne, nw, se, sw]
    }

    /// The centre cell at `step` and its neighbours N, S, E, W, NE, NW, SE, SW.
    fn cells_at(&self, step: u8) -> (Cell, [Cell; 8]) {
        // The centre was validated when parsed, so it always encodes.
        let centre = encode(self.lon, self.lat, step).unwrap_or(Cell { bits: 0, step });
        let around = [
            (0, 1),
            (0, -1),
            (1, 0),
            (-1, 0),
            (1, 1),
            (-1, 1),
            (1, -1),
            (-1, -1),
        ]
        .map(|(dx, dy)| neighbour(centre, dx, dy));
        (centre, around)
    }
}

/// Whether a cell from [`Search::cells`] was left out.
pub(super) fn is_skipped(cell: Cell) -> bool {
    cell.is_none()
}
