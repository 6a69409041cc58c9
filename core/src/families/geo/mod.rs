//! Geo indexes on sorted sets: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH, GEOSEARCHSTORE and
//! the older GEORADIUS, GEORADIUSBYMEMBER and their `_RO` forms.
//!
//! A geo set is a plain sorted set whose scores are 52-bit geohashes ([`geohash`]): GEOADD is
//! ZADD with computed scores (it calls ZADD's core, so it raises what ZADD raises), and every
//! read decodes a member's score back to the centre of its cell. Searches ([`search`]) scan the
//! centre cell and its eight neighbours as score ranges of the sorted set, exactly as Redis's
//! `geo.c` does, so the same data gives the same members, distances and order.

mod geohash;
mod search;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use oxidis_protocol::{Frame, RespVersion};

use crate::command::{
    Arg, Args, Arity, BeginSearch, CommandResult, CommandSpec, Family, FindKeys, Flag::*, Group,
    KeyFlag::*, KeySpec, parse_f64,
};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::geo::{UNSUPPORTED_UNIT, invalid_pair};
use crate::families::sorted_set::{AddOptions, add_members};
use crate::types::{SortedSet, Value};
use search::{
    georadius, georadius_ro, georadiusbymember, georadiusbymember_ro, geosearch, geosearchstore,
};

const UNIT: Arg = Arg::one_of(
    "unit",
    &[
        Arg::token("m", "M"),
        Arg::token("km", "KM"),
        Arg::token("ft", "FT"),
        Arg::token("mi", "MI"),
    ],
);
const COUNT_ANY: Arg = Arg::block(
    "count",
    &[
        Arg::integer("count").with_token("COUNT"),
        Arg::token("any", "ANY").optional().since("6.2.0"),
    ],
)
.optional();
const COUNT_ANY_NO_SINCE: Arg = Arg::block(
    "count",
    &[
        Arg::integer("count").with_token("COUNT"),
        Arg::token("any", "ANY").optional(),
    ],
)
.optional();
const ORDER: Arg = Arg::one_of(
    "order",
    &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")],
)
.optional();
const WITHCOORD: Arg = Arg::token("withcoord", "WITHCOORD").optional();
const WITHDIST: Arg = Arg::token("withdist", "WITHDIST").optional();
const WITHHASH: Arg = Arg::token("withhash", "WITHHASH").optional();
const FROM: Arg = Arg::one_of(
    "from",
    &[
        Arg::string("member").with_token("FROMMEMBER"),
        Arg::block(
            "longitude_latitude",
            &[Arg::double("longitude"), Arg::double("latitude")],
        )
        .with_token("FROMLONLAT"),
    ],
);
const BY: Arg = Arg::one_of(
    "by",
    &[
        Arg::block(
            "circle",
            &[Arg::double("radius").with_token("BYRADIUS"), UNIT],
        ),
        Arg::block(
            "box",
            &[
                Arg::double("width").with_token("BYBOX"),
                Arg::double("height"),
                UNIT,
            ],
        ),
    ],
);
const RADIUS_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";
/// GEORADIUS and GEORADIUSBYMEMBER: the source, then STORE and STOREDIST destinations found
/// by keyword after the fixed arguments.
const RADIUS_KEYS: &[KeySpec] = &[
    KeySpec::single(1, &[Ro, Access]),
    KeySpec::new(
        BeginSearch::Keyword {
            keyword: "STORE",
            start_from: 6,
        },
        FindKeys::Range {
            last_key: 0,
            step: 1,
            limit: 0,
        },
        &[Ow, Update],
    ),
    KeySpec::new(
        BeginSearch::Keyword {
            keyword: "STOREDIST",
            start_from: 6,
        },
        FindKeys::Range {
            last_key: 0,
            step: 1,
            limit: 0,
        },
        &[Ow, Update],
    ),
];
const BYMEMBER_KEYS: &[KeySpec] = &[
    KeySpec::single(1, &[Ro, Access]),
    KeySpec::new(
        BeginSearch::Keyword {
            keyword: "STORE",
            start_from: 5,
        },
        FindKeys::Range {
            last_key: 0,
            step: 1,
            limit: 0,
        },
        &[Ow, Update],
    ),
    KeySpec::new(
        BeginSearch::Keyword {
            keyword: "STOREDIST",
            start_from: 5,
        },
        FindKeys::Range {
            last_key: 0,
            step: 1,
            limit: 0,
        },
        &[Ow, Update],
    ),
];

/// The geo family.
pub static FAMILY: Family = Family {
    group: Group::Geo,
    commands: &[
        CommandSpec::new("geoadd", Arity::AtLeast(5), geoadd).flags(&[Write, DenyOom]).keys(&[KeySpec::single(1, &[Rw, Update])]).doc("Adds members with longitude and latitude to a geo index (a sorted set).", "3.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.").args(&[Arg::key("key", 0), Arg::one_of("condition", &[Arg::token("nx", "NX"), Arg::token("xx", "XX")]).optional().since("6.2.0"), Arg::token("change", "CH").optional().since("6.2.0"), Arg::block("longitude_latitude_member", &[Arg::double("longitude"), Arg::double("latitude"), Arg::string("member")]).multiple()]),
        CommandSpec::new("geodist", Arity::AtLeast(4), geodist).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns the distance between two members of a geo index.", "3.2.0", "O(log(N))").args(&[Arg::key("key", 0), Arg::string("member1"), Arg::string("member2"), UNIT.optional()]),
        CommandSpec::new("geohash", Arity::AtLeast(2), geohash_cmd).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns members of a geo index as standard geohash strings.", "3.2.0", "O(log(N)) for each member requested, where N is the number of elements in the sorted set.").args(&[Arg::key("key", 0), Arg::string("member").multiple()]),
        CommandSpec::new("geopos", Arity::AtLeast(2), geopos).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns the longitude and latitude of members of a geo index.", "3.2.0", "O(N) where N is the number of members requested.").args(&[Arg::key("key", 0), Arg::string("member").multiple()]),
        CommandSpec::new("georadius", Arity::AtLeast(6), georadius).flags(&[Write, DenyOom]).keys(RADIUS_KEYS).doc("Returns the members of a geo index within a distance of a point, optionally storing them.", "3.2.0", RADIUS_COMPLEXITY).args(&[Arg::key("key", 0), Arg::double("longitude"), Arg::double("latitude"), Arg::double("radius"), UNIT, WITHCOORD, WITHDIST, WITHHASH, COUNT_ANY, ORDER, Arg::key("key", 1).with_token("STORE").optional(), Arg::key("key", 2).with_token("STOREDIST").optional()]).deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument"),
        CommandSpec::new("georadius_ro", Arity::AtLeast(6), georadius_ro).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns the members of a geo index within a distance of a point (read-only GEORADIUS).", "3.2.10", RADIUS_COMPLEXITY).args(&[Arg::key("key", 0), Arg::double("longitude"), Arg::double("latitude"), Arg::double("radius"), UNIT, WITHCOORD, WITHDIST, WITHHASH, COUNT_ANY, ORDER]).deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument"),
        CommandSpec::new("georadiusbymember", Arity::AtLeast(5), georadiusbymember).flags(&[Write, DenyOom]).keys(BYMEMBER_KEYS).doc("Returns the members of a geo index within a distance of one of its members, optionally storing them.", "3.2.0", RADIUS_COMPLEXITY).args(&[Arg::key("key", 0), Arg::string("member"), Arg::double("radius"), UNIT, WITHCOORD, WITHDIST, WITHHASH, COUNT_ANY_NO_SINCE, ORDER, Arg::key("key", 1).with_token("STORE").optional(), Arg::key("key", 2).with_token("STOREDIST").optional()]).deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments"),
        CommandSpec::new("georadiusbymember_ro", Arity::AtLeast(5), georadiusbymember_ro).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns the members of a geo index within a distance of one of its members (read-only GEORADIUSBYMEMBER).", "3.2.10", RADIUS_COMPLEXITY).args(&[Arg::key("key", 0), Arg::string("member"), Arg::double("radius"), UNIT, WITHCOORD, WITHDIST, WITHHASH, COUNT_ANY_NO_SINCE, ORDER]).deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"),
        CommandSpec::new("geosearch", Arity::AtLeast(7), geosearch).flags(&[ReadOnly]).keys(&[KeySpec::single(1, &[Ro, Access])]).doc("Returns the members of a geo index inside a circle or a box.", "6.2.0", SEARCH_COMPLEXITY).args(&[Arg::key("key", 0), FROM, BY, ORDER, COUNT_ANY_NO_SINCE, WITHCOORD, WITHDIST, WITHHASH]),
        CommandSpec::new("geosearchstore", Arity::AtLeast(8), geosearchstore).flags(&[Write, DenyOom]).keys(&[KeySpec::single(1, &[Ow, Update]), KeySpec::single(2, &[Ro, Access])]).doc("Stores the members of a geo index inside a circle or a box in another key.", "6.2.0", SEARCH_COMPLEXITY).args(&[Arg::key("destination", 0), Arg::key("source", 1), FROM, BY, ORDER, COUNT_ANY_NO_SINCE, Arg::token("storedist", "STOREDIST").optional()]),
    ],
};

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with the members' 52-bit
/// geohashes as scores.
fn geoadd(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let mut opts = AddOptions::default();
    loop {
        if args.eat_keyword("NX") {
            opts.nx = true;
        } else if args.eat_keyword("XX") {
            opts.xx = true;
        } else if args.eat_keyword("CH") {
            opts.ch = true;
        } else {
            break;
        }
    }
    let rest = args.rest();
    // Redis checks the count and NX+XX together, both as a plain syntax error; no triple at
    // all is ZADD's own syntax error.
    if rest.is_empty() || !rest.len().is_multiple_of(3) || (opts.nx && opts.xx) {
        return Err(CommandError::Syntax);
    }
    // Every pair is checked before anything changes.
    let mut pairs = Vec::with_capacity(rest.len() / 3);
    for triple in rest.chunks_exact(3) {
        let (lon, lat) = parse_lon_lat(&triple[0], &triple[1])?;
        let score = geohash::encode_score(lon, lat)
            .ok_or_else(|| CommandError::custom(invalid_pair(lon, lat)))?;
        // 52 bits: exact as an f64.
        pairs.push((score as f64, &triple[2]));
    }
    add_members(ctx, key, opts, &pairs)
}

/// GEODIST key member1 member2 [unit].
fn geodist(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let first = args.next_bytes()?;
    let second = args.next_bytes()?;
    // The unit is read before the key: its errors win over WRONGTYPE.
    let to_meters = match args.rest() {
        [] => 1.0,
        [unit] => parse_unit(unit)?,
        _ => return Err(CommandError::Syntax),
    };
    let Some(zset) = read_geo(ctx, key)? else {
        return Ok(Frame::Null);
    };
    let (Some(s1), Some(s2)) = (zset.score(first), zset.score(second)) else {
        return Ok(Frame::Null);
    };
    let (lon1, lat1) = geohash::decode_score(s1);
    let (lon2, lat2) = geohash::decode_score(s2);
    Ok(distance_reply(
        geohash::distance(lon1, lat1, lon2, lat2) / to_meters,
    ))
}

/// GEOHASH key member [...]: each member's standard 11-character geohash, or null.
fn geohash_cmd(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let zset = read_geo(ctx, key)?;
    Ok(Frame::Array(
        members
            .iter()
            .map(|m| match zset.and_then(|z| z.score(m)) {
                Some(score) => {
                    Frame::Bulk(Bytes::copy_from_slice(&geohash::standard_geohash(score)))
                }
                None => Frame::Null,
            })
            .collect(),
    ))
}

/// GEOPOS key member [...]: each member's `[longitude, latitude]` (its cell's centre), or a
/// null array.
fn geopos(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let resp = ctx.resp();
    let zset = read_geo(ctx, key)?;
    Ok(Frame::Array(
        members
            .iter()
            .map(|m| match zset.and_then(|z| z.score(m)) {
                Some(score) => {
                    let (lon, lat) = geohash::decode_score(score);
                    Frame::Array(vec![
                        coordinate_reply(resp, lon),
                        coordinate_reply(resp, lat),
                    ])
                }
                None => Frame::NullArray,
            })
            .collect(),
    ))
}

/// Reads a longitude and a latitude: `ERR value is not a valid float` for a non-number, the
/// "invalid longitude,latitude pair" error outside the indexable area.
fn parse_lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CommandError> {
    let lon = parse_f64(lon).ok_or(CommandError::NotAFloat)?;
    let lat = parse_f64(lat).ok_or(CommandError::NotAFloat)?;
    if !(geohash::LON_MIN..=geohash::LON_MAX).contains(&lon)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat)
    {
        return Err(CommandError::custom(invalid_pair(lon, lat)));
    }
    Ok((lon, lat))
}

/// Meters per unit: m, km, ft or mi, in any case.
fn parse_unit(unit: &[u8]) -> Result<f64, CommandError> {
    if unit.eq_ignore_ascii_case(b"m") {
        Ok(1.0)
    } else if unit.eq_ignore_ascii_case(b"km") {
        Ok(1000.0)
    } else if unit.eq_ignore_ascii_case(b"ft") {
        Ok(0.3048)
    } else if unit.eq_ignore_ascii_case(b"mi") {
        Ok(1609.34)
    } else {
        Err(CommandError::msg(UNSUPPORTED_UNIT))
    }
}

/// The sorted set under `key` for reading; WRONGTYPE for another type.
fn read_geo<'c>(
    ctx: &'c mut CommandContext<'_>,
    key: &[u8],
) -> Result<Option<&'c SortedSet>, CommandError> {
    ctx.read(key).map(Value::as_sorted_set).transpose()
}

/// A distance as Redis prints it: four decimals, rounded half to even from the scaled value
/// (its `fixedpoint_d2string`), as a bulk string in both protocols.
fn distance_reply(d: f64) -> Frame {
    Frame::Bulk(Bytes::from(format_distance(d)))
}

fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".to_string();
    }
    let scaled = (d * 10_000.0).round_ties_even();
    // Out-of-range values saturate, as llrint's result would be unspecified anyway.
    let n = scaled as i64;
    let (sign, abs) = if n < 0 {
        ("-", n.unsigned_abs())
    } else {
        ("", n.unsigned_abs())
    };
    format!("{sign}{}.{:04}", abs / 10_000, abs % 10_000)
}

/// A coordinate as Redis's `addReplyHumanLongDouble` sends it: `%.17f` with trailing zeros
/// dropped, a bulk string in RESP2; a double in RESP3.
fn coordinate_reply(resp: RespVersion, v: f64) -> Frame {
    match resp {
        RespVersion::Resp2 => Frame::Bulk(Bytes::from(human_double(v))),
        _ => Frame::Double(v),
    }
}

fn human_double(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s
}
