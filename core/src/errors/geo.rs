//! Error texts of the geo family, exactly as redis-server 7.0 sends them.

/// A member to search around is not in the set.
pub const MEMBER_NOT_FOUND: &str = "ERR could not decode requested zset member";
/// A unit other than m, km, ft or mi (any case).
pub const UNSUPPORTED_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
/// A radius that is not a number.
pub const RADIUS_NOT_NUMERIC: &str = "ERR need numeric radius";
/// A radius below zero.
pub const RADIUS_NEGATIVE: &str = "ERR radius cannot be negative";
/// A box width that is not a number.
pub const WIDTH_NOT_NUMERIC: &str = "ERR need numeric width";
/// A box height that is not a number.
pub const HEIGHT_NOT_NUMERIC: &str = "ERR need numeric height";
/// A box side below zero.
pub const BOX_NEGATIVE: &str = "ERR height or width cannot be negative";
/// COUNT zero or negative.
pub const COUNT_POSITIVE: &str = "ERR COUNT must be > 0";
/// ANY without COUNT.
pub const ANY_NEEDS_COUNT: &str = "ERR the ANY argument requires COUNT argument";
/// GEORADIUS/GEORADIUSBYMEMBER STORE with a WITH* option.
pub const STORE_WITH_OPTIONS: &str =
    "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options";
/// GEOSEARCHSTORE with a WITH* option.
pub const SEARCHSTORE_WITH_OPTIONS: &str =
    "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options";

/// `ERR invalid longitude,latitude pair <lon>,<lat>`, printed with six decimals as C's `%f`.
pub fn invalid_pair(lon: f64, lat: f64) -> String {
    format!(
        "ERR invalid longitude,latitude pair {},{}",
        c_fixed6(lon),
        c_fixed6(lat)
    )
}

/// `ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for <command as sent>`.
pub fn need_one_from(command: &str) -> String {
    format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {command}")
}

/// `ERR exactly one of BYRADIUS and BYBOX can be specified for <command as sent>`.
pub fn need_one_by(command: &str) -> String {
    format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {command}")
}

/// A double as C's `%f` prints it (`inf`, `-inf`, `nan` spelled as glibc does).
fn c_fixed6(v: f64) -> String {
    if v.is_nan() {
        if v.is_sign_negative() { "-nan" } else { "nan" }.to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{v:.6}")
    }
}
