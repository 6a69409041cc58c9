//! GEO commands against replies recorded from redis-server 7.0.15.

use oxidis_protocol::{Frame, RespVersion};

use super::geohash;
use super::search::partial_sort;
use crate::testing::{CommandRunner, bulk, err};

fn runner_with_sicily() -> CommandRunner {
    let mut r = CommandRunner::with_builtin_commands();
    let added = r.run([
        "GEOADD",
        "Sicily",
        "13.361389",
        "38.115556",
        "Palermo",
        "15.087269",
        "37.502669",
        "Catania",
    ]);
    assert_eq!(added, Frame::Integer(2));
    r
}

fn bulks(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

#[test]
fn scores_are_52_bit_hashes() {
    let mut r = runner_with_sicily();
    assert_eq!(
        r.run(["ZSCORE", "Sicily", "Palermo"]),
        Frame::Double(3_479_099_956_230_698.0)
    );
    assert_eq!(
        geohash::encode_score(15.087269, 37.502669),
        Some(3_479_447_370_796_909)
    );
    // The corners of the indexable area.
    assert_eq!(
        geohash::encode_score(-180.0, 0.0),
        Some(1_125_899_906_842_624)
    );
    assert_eq!(
        geohash::encode_score(0.0, 85.051_128_78),
        Some(6_755_399_441_055_744)
    );
    assert_eq!(
        geohash::encode_score(180.0, -85.051_128_78),
        Some(9_007_199_254_740_992)
    );
}

#[test]
fn distances_in_every_unit() {
    let mut r = runner_with_sicily();
    assert_eq!(
        r.run(["GEODIST", "Sicily", "Palermo", "Catania"]),
        bulk("166274.1516")
    );
    assert_eq!(
        r.run(["GEODIST", "Sicily", "Palermo", "Catania", "km"]),
        bulk("166.2742")
    );
    assert_eq!(
        r.run(["GEODIST", "Sicily", "Palermo", "Catania", "FT"]),
        bulk("545518.8700")
    );
    assert_eq!(
        r.run(["GEODIST", "Sicily", "Palermo", "Catania", "mi"]),
        bulk("103.3182")
    );
    assert_eq!(
        r.run(["GEODIST", "Sicily", "Palermo", "Palermo"]),
        bulk("0.0000")
    );
    assert_eq!(
        r.run(["GEODIST", "Sicily", "Palermo", "Agrigento"]),
        Frame::Null
    );
    assert_eq!(
        r.run(["GEODIST", "nokey", "Palermo", "Catania"]),
        Frame::Null
    );
    assert_eq!(
        r.run(["GEODIST", "Sicily", "Palermo", "Catania", "yards"]),
        err("ERR unsupported unit provided. please use M, KM, FT, MI")
    );
    assert_eq!(
        r.run(["GEODIST", "Sicily", "Palermo", "Catania", "km", "x"]),
        err("ERR syntax error")
    );
}

#[test]
fn geohash_strings_and_positions() {
    let mut r = runner_with_sicily();
    assert_eq!(
        r.run(["GEOHASH", "Sicily", "Palermo", "Catania", "nope"]),
        Frame::Array(vec![bulk("sqc8b49rny0"), bulk("sqdtr74hyu0"), Frame::Null])
    );
    // Wikipedia's example.
    r.run(["GEOADD", "points", "-5.6", "42.6", "test"]);
    assert_eq!(
        r.run(["GEOHASH", "points", "test"]),
        bulks(&["ezs42e44yx0"])
    );
    // Positions are the centre of the stored cell, printed as %.17f without trailing zeros.
    assert_eq!(
        r.run(["GEOPOS", "Sicily", "Palermo", "nope"]),
        Frame::Array(vec![
            bulks(&["13.36138933897018433", "38.11555639549629859"]),
            Frame::NullArray,
        ])
    );
    r.set_resp(RespVersion::Resp3);
    let Frame::Array(items) = r.run(["GEOPOS", "Sicily", "Palermo"]) else {
        panic!("GEOPOS answers an array");
    };
    assert_eq!(
        items,
        vec![Frame::Array(vec![
            Frame::Double(13.361_389_338_970_184),
            Frame::Double(38.115_556_395_496_3),
        ])]
    );
}

#[test]
fn geoadd_options_and_errors() {
    let mut r = runner_with_sicily();
    assert_eq!(
        r.run(["GEOADD", "Sicily", "NX", "1", "1", "Palermo"]),
        Frame::Integer(0)
    );
    assert_eq!(
        r.run([
            "GEOADD", "Sicily", "XX", "CH", "1", "1", "Palermo", "2", "2", "new"
        ]),
        Frame::Integer(1)
    );
    assert_eq!(r.run(["ZCARD", "Sicily"]), Frame::Integer(2));
    assert_eq!(
        r.run(["GEOADD", "Sicily", "XX", "NX", "1", "1", "a"]),
        err("ERR syntax error")
    );
    assert_eq!(
        r.run(["GEOADD", "Sicily", "CH", "CH", "CH"]),
        err("ERR syntax error")
    );
    assert_eq!(
        r.run(["GEOADD", "Sicily", "200", "100", "a"]),
        err("ERR invalid longitude,latitude pair 200.000000,100.000000")
    );
    assert_eq!(
        r.run(["GEOADD", "Sicily", "1", "nan", "a"]),
        err("ERR value is not a valid float")
    );
    r.run(["SET", "str", "x"]);
    assert_eq!(
        r.run(["GEOADD", "str", "1", "1", "a"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
}

#[test]
fn searches_by_radius_and_box() {
    let mut r = runner_with_sicily();
    r.run([
        "GEOADD",
        "Sicily",
        "12.758489",
        "38.788135",
        "edge1",
        "17.241510",
        "38.788135",
        "edge2",
    ]);
    assert_eq!(
        r.run(["GEORADIUS", "Sicily", "15", "37", "200", "km", "ASC"]),
        bulks(&["Catania", "Palermo"])
    );
    assert_eq!(
        r.run([
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "ASC"
        ]),
        bulks(&["Catania", "Palermo", "edge2", "edge1"])
    );
    assert_eq!(
        r.run([
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "WITHDIST",
            "WITHHASH",
            "WITHCOORD",
            "DESC",
        ]),
        Frame::Array(vec![
            Frame::Array(vec![
                bulk("Palermo"),
                bulk("190.4424"),
                Frame::Integer(3_479_099_956_230_698),
                bulks(&["13.36138933897018433", "38.11555639549629859"]),
            ]),
            Frame::Array(vec![
                bulk("Catania"),
                bulk("56.4413"),
                Frame::Integer(3_479_447_370_796_909),
                bulks(&["15.08726745843887329", "37.50266842333162032"]),
            ]),
        ])
    );
    assert_eq!(
        r.run([
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "100",
            "km"
        ]),
        bulks(&["Palermo", "edge1"])
    );
    assert_eq!(
        r.run([
            "GEORADIUSBYMEMBER",
            "Sicily",
            "Palermo",
            "200",
            "km",
            "COUNT",
            "1",
            "DESC"
        ]),
        bulks(&["Catania"])
    );
    // The antimeridian: a box around 179 reaches -179.5.
    r.run([
        "GEOADD", "points", "179.5", "36", "point1", "-179.5", "36", "point2",
    ]);
    assert_eq!(
        r.run([
            "GEOSEARCH",
            "points",
            "FROMLONLAT",
            "-179",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "ASC"
        ]),
        bulks(&["point2", "point1"])
    );
}

#[test]
fn ties_keep_redis_order() {
    let mut r = CommandRunner::with_builtin_commands();
    let mut argv = vec!["GEOADD", "dup"];
    for m in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        argv.extend(["10", "10", m]);
    }
    argv.extend(["11", "11", "z"]);
    assert_eq!(r.run(argv), Frame::Integer(9));
    // Sorted in full: stable. Cut by COUNT: Redis's partial quicksort moves ties around.
    assert_eq!(
        r.run(["GEORADIUS", "dup", "10", "10", "500", "km", "COUNT", "3"]),
        bulks(&["a", "b", "c"])
    );
    assert_eq!(
        r.run([
            "GEORADIUS",
            "dup",
            "10",
            "10",
            "500",
            "km",
            "COUNT",
            "3",
            "DESC"
        ]),
        bulks(&["z", "b", "c"])
    );
    assert_eq!(
        r.run([
            "GEORADIUS",
            "dup",
            "10",
            "10",
            "500",
            "km",
            "COUNT",
            "2",
            "ANY"
        ]),
        bulks(&["a", "b"])
    );
}

#[test]
fn partial_sort_orders_the_requested_prefix() {
    let mut v: Vec<u32> = (0..100).map(|i| (i * 37 + 11) % 100).collect();
    partial_sort(&mut v, 9, &|a: &u32, b: &u32| a.cmp(b));
    assert_eq!(&v[..10], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

#[test]
fn search_errors() {
    let mut r = runner_with_sicily();
    let cases: &[(&[&str], &str)] = &[
        (
            &["GEORADIUS", "Sicily", "1", "1", "x", "km"],
            "ERR need numeric radius",
        ),
        (
            &["GEORADIUS", "Sicily", "1", "1", "-1", "km"],
            "ERR radius cannot be negative",
        ),
        (
            &["GEORADIUS", "Sicily", "1", "1", "1", "kmx"],
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ),
        (
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "BYBOX",
                "x",
                "1",
                "km",
            ],
            "ERR need numeric width",
        ),
        (
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "BYBOX",
                "-1",
                "1",
                "km",
            ],
            "ERR height or width cannot be negative",
        ),
        (
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "BYBOX",
                "1",
                "1",
                "km",
                "COUNT",
                "0",
            ],
            "ERR COUNT must be > 0",
        ),
        (
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "BYBOX",
                "1",
                "1",
                "km",
                "ANY",
            ],
            "ERR the ANY argument requires COUNT argument",
        ),
        (
            &["GeoSearch", "Sicily", "BYBOX", "1", "1", "km", "ASC"],
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GeoSearch",
        ),
        (
            &["geosearch", "Sicily", "FROMLONLAT", "1", "1", "ASC", "DESC"],
            "ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch",
        ),
        (
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMMEMBER",
                "Palermo",
                "FROMLONLAT",
                "1",
                "1",
            ],
            "ERR syntax error",
        ),
        (
            &["GEORADIUSBYMEMBER", "Sicily", "nope", "1", "km"],
            "ERR could not decode requested zset member",
        ),
        (
            &[
                "GEORADIUS",
                "Sicily",
                "1",
                "1",
                "1",
                "km",
                "STORE",
                "x",
                "WITHDIST",
            ],
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (
            &[
                "GEOSEARCHSTORE",
                "x",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "BYRADIUS",
                "1",
                "km",
                "WITHHASH",
            ],
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (
            &["GEORADIUS_RO", "Sicily", "1", "1", "1", "km", "STORE", "x"],
            "ERR syntax error",
        ),
        (
            &["GEORADIUS", "Sicily", "1", "1", "1", "km", "COUNT"],
            "ERR syntax error",
        ),
    ];
    for (argv, expected) in cases {
        assert_eq!(r.run(argv.iter()), err(expected), "{argv:?}");
    }
    // A missing key: the empty reply, or 0 and the destination deleted; GEORADIUSBYMEMBER
    // does not even read its radius.
    assert_eq!(
        r.run(["GEORADIUSBYMEMBER", "nokey", "m", "x", "y"]),
        Frame::Array(vec![])
    );
    r.run(["SET", "dst", "x"]);
    assert_eq!(
        r.run([
            "GEOSEARCHSTORE",
            "dst",
            "nokey",
            "FROMMEMBER",
            "m",
            "BYRADIUS",
            "1",
            "km"
        ]),
        Frame::Integer(0)
    );
    assert_eq!(r.run(["EXISTS", "dst"]), Frame::Integer(0));
}

#[test]
fn store_and_storedist() {
    let mut r = runner_with_sicily();
    assert_eq!(
        r.run([
            "GEORADIUSBYMEMBER",
            "Sicily",
            "Catania",
            "500",
            "km",
            "STOREDIST",
            "d"
        ]),
        Frame::Integer(2)
    );
    assert_eq!(
        r.run(["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        Frame::Array(vec![
            bulk("Catania"),
            Frame::Double(0.0),
            bulk("Palermo"),
            Frame::Double(166.274_151_569_600_32),
        ])
    );
    assert_eq!(
        r.run([
            "GEOSEARCHSTORE",
            "d",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "100",
            "km"
        ]),
        Frame::Integer(1)
    );
    assert_eq!(
        r.run(["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        Frame::Array(vec![
            bulk("Catania"),
            Frame::Double(3_479_447_370_796_909.0)
        ])
    );
    // Nothing found: the destination goes.
    assert_eq!(
        r.run([
            "GEOSEARCHSTORE",
            "d",
            "Sicily",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km"
        ]),
        Frame::Integer(0)
    );
    assert_eq!(r.run(["EXISTS", "d"]), Frame::Integer(0));
}
