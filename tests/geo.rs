//! Geo commands, asserted against the replies Redis 7 documents, plus a cross-check against a
//! real redis-server: the same points (poles and antimeridian included) give the same scores,
//! positions, hashes, distances and search results.

mod common;
mod reference;

use common::*;
use redis::aio::MultiplexedConnection;
use reference::Reference;

const PALERMO: [&str; 2] = ["13.36138933897018433", "38.11555639549629859"];
const CATANIA: [&str; 2] = ["15.08726745843887329", "37.50266842333162032"];

async fn sicily(c: &mut MultiplexedConnection) {
    let r =
        call(c, &["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]).await;
    assert_eq!(r, int(2));
}

fn pos(xy: [&str; 2]) -> Reply {
    bulks(&xy)
}

#[tokio::test]
async fn geoadd_and_point_reads() {
    let s = TestServer::start();
    let mut c = s.client().await;
    sicily(&mut c).await;
    assert_eq!(call(&mut c, &["ZSCORE", "Sicily", "Palermo"]).await, bulk("3479099956230698"));
    assert_eq!(call(&mut c, &["TYPE", "Sicily"]).await, status("zset"));
    assert_eq!(
        call(&mut c, &["GEOPOS", "Sicily", "Palermo", "Catania", "NonExisting"]).await,
        arr(vec![pos(PALERMO), pos(CATANIA), nil()])
    );
    assert_eq!(call(&mut c, &["GEOPOS", "nokey", "a"]).await, arr(vec![nil()]));
    assert_eq!(
        call(&mut c, &["GEOHASH", "Sicily", "Palermo", "Catania", "x"]).await,
        arr(vec![bulk("sqc8b49rny0"), bulk("sqdtr74hyu0"), nil()])
    );
    assert_eq!(call(&mut c, &["GEOHASH", "nokey", "a"]).await, arr(vec![nil()]));
    assert_eq!(call(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania"]).await, bulk("166274.1516"));
    assert_eq!(call(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania", "km"]).await, bulk("166.2742"));
    assert_eq!(call(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania", "MI"]).await, bulk("103.3182"));
    assert_eq!(call(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania", "ft"]).await, bulk("545518.8700"));
    assert_eq!(call(&mut c, &["GEODIST", "Sicily", "Palermo", "Palermo"]).await, bulk("0.0000"));
    assert_eq!(call(&mut c, &["GEODIST", "Sicily", "Foo", "Bar"]).await, nil());
    assert_eq!(call(&mut c, &["GEODIST", "nokey", "Foo", "Bar"]).await, nil());
    assert_eq!(
        call(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania", "yd"]).await,
        err("ERR unsupported unit provided. please use M, KM, FT, MI")
    );
    assert_eq!(call(&mut c, &["GEODIST", "Sicily", "Palermo", "Catania", "km", "x"]).await, err(SYNTAX));
    call(&mut c, &["SET", "str", "x"]).await;
    for cmd in [
        vec!["GEOPOS", "str", "a"],
        vec!["GEOHASH", "str", "a"],
        vec!["GEODIST", "str", "a", "b"],
        vec!["GEOADD", "str", "1", "1", "a"],
    ] {
        assert_eq!(call(&mut c, &cmd).await, err(WRONGTYPE), "{cmd:?}");
    }
}

#[tokio::test]
async fn geoadd_options_and_errors() {
    let s = TestServer::start();
    let mut c = s.client().await;
    sicily(&mut c).await;
    // NX: only new members; XX: only existing ones; CH counts changes.
    assert_eq!(call(&mut c, &["GEOADD", "Sicily", "NX", "13", "38", "Palermo", "14", "37", "New"]).await, int(1));
    assert_eq!(call(&mut c, &["GEOPOS", "Sicily", "Palermo"]).await, arr(vec![pos(PALERMO)]));
    assert_eq!(call(&mut c, &["GEOADD", "Sicily", "XX", "13", "38", "Palermo", "1", "1", "Other"]).await, int(0));
    assert_eq!(call(&mut c, &["ZCARD", "Sicily"]).await, int(3));
    assert_eq!(
        call(&mut c, &["GEOADD", "Sicily", "XX", "CH", "13.361389", "38.115556", "Palermo", "14.5", "37", "New"]).await,
        int(2)
    );
    assert_eq!(call(&mut c, &["GEOADD", "Sicily", "CH", "14.5", "37", "New"]).await, int(0));
    assert_eq!(call(&mut c, &["GEOADD", "missing", "XX", "1", "1", "a"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "missing"]).await, int(0));
    assert_eq!(call(&mut c, &["GEOADD", "k", "NX", "XX", "1", "1", "a"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["GEOADD", "k", "1", "1", "a", "2"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["GEOADD", "k", "NX", "CH", "CH"]).await, err(SYNTAX));
    assert_eq!(call(&mut c, &["GEOADD", "k", "x", "1", "a"]).await, err("ERR value is not a valid float"));
    assert_eq!(
        call(&mut c, &["GEOADD", "k", "181", "1", "a"]).await,
        err("ERR invalid longitude,latitude pair 181.000000,1.000000")
    );
    assert_eq!(
        call(&mut c, &["GEOADD", "k", "1", "1", "a", "0", "85.06", "b"]).await,
        err("ERR invalid longitude,latitude pair 0.000000,85.060000")
    );
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(call(&mut c, &["GEOADD", "k", "1", "1"]).await, arity_err("geoadd"));
}

#[tokio::test]
async fn georadius_family() {
    let s = TestServer::start();
    let mut c = s.client().await;
    sicily(&mut c).await;
    let withdist = arr(vec![bulks(&["Palermo", "190.4424"]), bulks(&["Catania", "56.4413"])]);
    assert_eq!(call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST"]).await, withdist);
    assert_eq!(call(&mut c, &["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST"]).await, withdist);
    assert_eq!(
        call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD"]).await,
        arr(vec![arr(vec![bulk("Palermo"), pos(PALERMO)]), arr(vec![bulk("Catania"), pos(CATANIA)])])
    );
    assert_eq!(
        call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHHASH", "WITHCOORD", "ASC"])
            .await,
        arr(vec![
            arr(vec![bulk("Catania"), bulk("56.4413"), int(3479447370796909), pos(CATANIA)]),
            arr(vec![bulk("Palermo"), bulk("190.4424"), int(3479099956230698), pos(PALERMO)]),
        ])
    );
    assert_eq!(
        call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC"]).await,
        bulks(&["Palermo", "Catania"])
    );
    assert_eq!(
        call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1"]).await,
        bulks(&["Catania"])
    );
    assert_eq!(call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "100", "km"]).await, bulks(&["Catania"]));
    assert_eq!(call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "1", "km"]).await, arr(vec![]));
    assert_eq!(call(&mut c, &["GEORADIUS", "nokey", "15", "37", "1", "km"]).await, arr(vec![]));
    call(&mut c, &["GEOADD", "Sicily", "13.583333", "37.316667", "Agrigento"]).await;
    assert_eq!(
        call(&mut c, &["GEORADIUSBYMEMBER", "Sicily", "Agrigento", "100", "km"]).await,
        bulks(&["Agrigento", "Palermo"])
    );
    assert_eq!(
        call(&mut c, &["GEORADIUSBYMEMBER_RO", "Sicily", "Agrigento", "100", "km"]).await,
        bulks(&["Agrigento", "Palermo"])
    );
    assert_eq!(
        call(&mut c, &["GEORADIUSBYMEMBER", "Sicily", "Nobody", "100", "km"]).await,
        err("ERR could not decode requested zset member")
    );
    // STORE / STOREDIST.
    assert_eq!(call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"]).await, int(3));
    assert_eq!(call(&mut c, &["ZSCORE", "dst", "Palermo"]).await, bulk("3479099956230698"));
    assert_eq!(
        call(&mut c, &["GEORADIUSBYMEMBER", "Sicily", "Agrigento", "100", "km", "STOREDIST", "dd"]).await,
        int(2)
    );
    assert_eq!(call(&mut c, &["ZSCORE", "dd", "Agrigento"]).await, bulk("0"));
    let d: f64 = call(&mut c, &["ZSCORE", "dd", "Palermo"]).await.text().parse().unwrap();
    let geodist: f64 = call(&mut c, &["GEODIST", "Sicily", "Agrigento", "Palermo", "km"]).await.text().parse().unwrap();
    assert!((d - geodist).abs() < 0.0001, "{d} {geodist}");
    // An empty result, or a missing source, deletes the destination.
    assert_eq!(call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "1", "km", "STORE", "dst"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "dst"]).await, int(0));
    assert_eq!(call(&mut c, &["GEORADIUS", "nokey", "15", "37", "1", "km", "STORE", "dd"]).await, int(0));
    assert_eq!(call(&mut c, &["EXISTS", "dd"]).await, int(0));
    // Errors.
    assert_eq!(
        call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "STORE", "x"]).await,
        err("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    );
    assert_eq!(call(&mut c, &["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"]).await, err(SYNTAX));
    assert_eq!(
        call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "-1", "km"]).await,
        err("ERR radius cannot be negative")
    );
    assert_eq!(call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "x", "km"]).await, err("ERR need numeric radius"));
    assert_eq!(
        call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "1", "parsec"]).await,
        err("ERR unsupported unit provided. please use M, KM, FT, MI")
    );
    assert_eq!(
        call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "1", "km", "COUNT", "0"]).await,
        err("ERR COUNT must be > 0")
    );
    assert_eq!(call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "1", "km", "COUNT", "x"]).await, err(NOT_INT));
    assert_eq!(
        call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "1", "km", "ANY"]).await,
        err("ERR the ANY argument requires COUNT argument")
    );
    assert_eq!(call(&mut c, &["GEORADIUS", "Sicily", "15", "37", "1", "km", "BOGUS"]).await, err(SYNTAX));
    assert_eq!(
        call(&mut c, &["GEORADIUS", "Sicily", "200", "37", "1", "km"]).await,
        err("ERR invalid longitude,latitude pair 200.000000,37.000000")
    );
    let keys =
        call(&mut c, &["COMMAND", "GETKEYS", "GEORADIUS", "Sicily", "15", "37", "1", "km", "STORE", "out"]).await;
    assert_eq!(keys, bulks(&["Sicily", "out"]));
}

#[tokio::test]
async fn geosearch_and_store() {
    let s = TestServer::start();
    let mut c = s.client().await;
    sicily(&mut c).await;
    call(&mut c, &["GEOADD", "Sicily", "12.758489", "38.788135", "edge1", "17.241510", "37.788135", "edge2"]).await;
    assert_eq!(
        call(&mut c, &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"]).await,
        bulks(&["Catania", "Palermo"])
    );
    assert_eq!(
        call(
            &mut c,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "400",
                "400",
                "km",
                "ASC",
                "WITHCOORD",
                "WITHDIST"
            ]
        )
        .await,
        arr(vec![
            arr(vec![bulk("Catania"), bulk("56.4413"), pos(CATANIA)]),
            arr(vec![bulk("Palermo"), bulk("190.4424"), pos(PALERMO)]),
            arr(vec![bulk("edge2"), bulk("216.5980"), pos(["17.24151045083999634", "37.78813378973868708"])]),
            arr(vec![bulk("edge1"), bulk("279.7405"), pos(["12.7584877610206604", "38.78813451624225195"])]),
        ])
    );
    assert_eq!(
        call(&mut c, &["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "DESC", "COUNT", "2"])
            .await,
        bulks(&["Catania", "edge1"])
    );
    let any = call(
        &mut c,
        &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "COUNT", "1", "ANY"],
    )
    .await;
    assert_eq!(any.array().len(), 1);
    assert_eq!(
        call(
            &mut c,
            &[
                "GEOSEARCHSTORE",
                "key1",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "400",
                "400",
                "km",
                "ASC",
                "COUNT",
                "3"
            ]
        )
        .await,
        int(3)
    );
    assert_eq!(
        call(&mut c, &["GEOSEARCH", "key1", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHHASH"])
            .await,
        arr(vec![
            arr(vec![bulk("Catania"), int(3479447370796909)]),
            arr(vec![bulk("Palermo"), int(3479099956230698)]),
            arr(vec![bulk("edge2"), int(3481084244110409)]),
        ])
    );
    assert_eq!(
        call(
            &mut c,
            &[
                "GEOSEARCHSTORE",
                "key2",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYBOX",
                "400",
                "400",
                "km",
                "ASC",
                "COUNT",
                "3",
                "STOREDIST"
            ]
        )
        .await,
        int(3)
    );
    let d: f64 = call(&mut c, &["ZSCORE", "key2", "Catania"]).await.text().parse().unwrap();
    assert!((d - 56.4412578701582).abs() < 1e-9, "{d}");
    assert_eq!(call(&mut c, &["ZRANGE", "key2", "0", "-1"]).await, bulks(&["Catania", "Palermo", "edge2"]));
    // A missing source deletes the destination.
    assert_eq!(
        call(&mut c, &["GEOSEARCHSTORE", "key2", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"]).await,
        int(0)
    );
    assert_eq!(call(&mut c, &["EXISTS", "key2"]).await, int(0));
    assert_eq!(call(&mut c, &["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"]).await, arr(vec![]));
    // Errors, in Redis's order.
    assert_eq!(
        call(&mut c, &["GEOSEARCH", "Sicily", "BYRADIUS", "1", "km", "ASC", "DESC"]).await,
        err("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")
    );
    assert_eq!(
        call(&mut c, &["geosearch", "Sicily", "FROMLONLAT", "15", "37", "ASC", "WITHDIST"]).await,
        err("ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch")
    );
    assert_eq!(
        call(
            &mut c,
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"]
        )
        .await,
        err(SYNTAX)
    );
    assert_eq!(
        call(
            &mut c,
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"]
        )
        .await,
        err(SYNTAX)
    );
    assert_eq!(
        call(&mut c, &["GEOSEARCH", "Sicily", "FROMMEMBER", "nobody", "BYRADIUS", "1", "km"]).await,
        err("ERR could not decode requested zset member")
    );
    assert_eq!(
        call(&mut c, &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"]).await,
        err("ERR height or width cannot be negative")
    );
    assert_eq!(
        call(&mut c, &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "w", "1", "km"]).await,
        err("ERR need numeric width")
    );
    assert_eq!(
        call(&mut c, &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", "x"]).await,
        err(SYNTAX)
    );
    assert_eq!(
        call(&mut c, &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "WITHDIST"])
            .await,
        err("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    );
    assert_eq!(
        call(&mut c, &["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "ANY"]).await,
        err("ERR the ANY argument requires COUNT argument")
    );
    call(&mut c, &["SET", "str", "x"]).await;
    assert_eq!(
        call(&mut c, &["GEOSEARCH", "str", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"]).await,
        err(WRONGTYPE)
    );
}

#[tokio::test]
async fn geo_in_transactions_and_scripts() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["MULTI"]).await, ok());
    call(&mut c, &["GEOADD", "g", "13.361389", "38.115556", "Palermo"]).await;
    call(&mut c, &["GEOHASH", "g", "Palermo"]).await;
    assert_eq!(call(&mut c, &["EXEC"]).await, arr(vec![int(1), arr(vec![bulk("sqc8b49rny0")])]));
    let r = call(&mut c, &["EVAL", "return redis.call('GEOPOS', KEYS[1], 'Palermo')", "1", "g"]).await;
    assert_eq!(r, arr(vec![pos(PALERMO)]));
}

// ---------------------------------------------------------------------------------------------
// Cross-check against a real redis-server
// ---------------------------------------------------------------------------------------------

/// Points: a deterministic spread over the globe, plus the poles and the antimeridian.
fn points() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let edges = [
        ("180", "85.05112878"),
        ("-180", "-85.05112878"),
        ("180", "0"),
        ("-180", "0"),
        ("179.9999", "10"),
        ("-179.9999", "10.0001"),
        ("0", "85.05112878"),
        ("0", "-85.05112878"),
        ("0", "0"),
        ("179.5", "84.9"),
        ("-179.5", "-84.9"),
    ];
    for (i, (x, y)) in edges.iter().enumerate() {
        out.push((x.to_string(), y.to_string(), format!("edge{i}")));
    }
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..400 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let x = (s % 360_000_000) as f64 / 1e6 - 180.0;
        let y = ((s >> 32) % 170_000_000) as f64 / 1e6 - 85.0;
        out.push((format!("{x:.6}"), format!("{y:.6}"), format!("p{i}")));
    }
    out
}

/// Runs `cmd` on both servers and asserts the same reply.
async fn same(c: &mut MultiplexedConnection, r: &mut MultiplexedConnection, cmd: Vec<String>) {
    let expected = call(r, &cmd).await;
    assert_eq!(call(c, &cmd).await, expected, "{cmd:?}");
}

#[tokio::test]
async fn same_results_as_redis() {
    let Some(reference) = Reference::start() else { return };
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut r = reference.client().await;
    let pts = points();
    let mut add = vec!["GEOADD".to_string(), "g".to_string()];
    for (x, y, m) in &pts {
        add.extend([x.clone(), y.clone(), m.clone()]);
    }
    let a = call(&mut r, &add).await;
    assert_eq!(call(&mut c, &add).await, a);
    let v = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    same(&mut c, &mut r, v(&["ZRANGE", "g", "0", "-1", "WITHSCORES"])).await;
    let members: Vec<String> = pts.iter().map(|p| p.2.clone()).collect();
    let mut geopos = v(&["GEOPOS", "g"]);
    geopos.extend(members.iter().cloned());
    same(&mut c, &mut r, geopos).await;
    let mut geohash = v(&["GEOHASH", "g"]);
    geohash.extend(members.iter().cloned());
    same(&mut c, &mut r, geohash).await;
    for (i, unit) in ["m", "km", "mi", "ft"].iter().enumerate() {
        for j in (0..members.len()).step_by(7) {
            let k = (j * 31 + i * 17 + 5) % members.len();
            same(&mut c, &mut r, v(&["GEODIST", "g", &members[j], &members[k], unit])).await;
        }
    }
    let centres = [
        ("15", "37"),
        ("180", "0"),
        ("-180", "85.05112878"),
        ("179.99", "-40"),
        ("0", "-85"),
        ("-120.5", "60.25"),
        ("100", "0"),
    ];
    for (x, y) in centres {
        for radius in ["10", "500", "2000", "8000"] {
            same(
                &mut c,
                &mut r,
                v(&[
                    "GEOSEARCH",
                    "g",
                    "FROMLONLAT",
                    x,
                    y,
                    "BYRADIUS",
                    radius,
                    "km",
                    "ASC",
                    "WITHDIST",
                    "WITHCOORD",
                    "WITHHASH",
                ]),
            )
            .await;
            same(
                &mut c,
                &mut r,
                v(&["GEOSEARCH", "g", "FROMLONLAT", x, y, "BYBOX", radius, radius, "km", "DESC", "WITHDIST"]),
            )
            .await;
            same(&mut c, &mut r, v(&["GEOSEARCH", "g", "FROMLONLAT", x, y, "BYBOX", radius, "300", "mi", "WITHHASH"]))
                .await;
            same(&mut c, &mut r, v(&["GEORADIUS", "g", x, y, radius, "km", "COUNT", "3", "WITHDIST"])).await;
            same(&mut c, &mut r, v(&["GEORADIUS_RO", "g", x, y, radius, "km", "COUNT", "5", "ANY"])).await;
        }
    }
    for m in ["edge0", "edge1", "edge4", "edge5", "p17", "p200"] {
        same(&mut c, &mut r, v(&["GEORADIUSBYMEMBER", "g", m, "3000", "km", "WITHCOORD"])).await;
        same(
            &mut c,
            &mut r,
            v(&["GEOSEARCH", "g", "FROMMEMBER", m, "BYBOX", "5000", "2000", "km", "ASC", "COUNT", "10"]),
        )
        .await;
    }
    same(
        &mut c,
        &mut r,
        v(&["GEOSEARCHSTORE", "out", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "5000", "km", "STOREDIST"]),
    )
    .await;
    same(&mut c, &mut r, v(&["ZRANGE", "out", "0", "-1"])).await;
}

#[test]
fn notifications_and_acl_category() {
    let s = TestServer::start();
    let mut ctl = RawConn::connect(s.port);
    assert_eq!(ctl.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), ok());
    let mut sub = RawConn::connect(s.port);
    sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    for cmd in [
        &["GEOADD", "g", "13.361389", "38.115556", "Palermo"][..],
        &["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
        &["GEORADIUS", "g", "13", "38", "100", "km", "STORE", "r"],
        &["GEOSEARCHSTORE", "s", "g", "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km"],
        &["GEOSEARCHSTORE", "s", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        &["SET", "zz-end", "1"],
    ] {
        assert!(!ctl.call(cmd).is_err(), "{cmd:?}");
    }
    let mut events = Vec::new();
    loop {
        let m = sub.read_reply().array();
        let line = format!("{} {}", m[2].text(), m[3].text());
        if line == "__keyevent@0__:set zz-end" {
            break;
        }
        events.push(line);
    }
    assert_eq!(
        events,
        vec![
            "__keyevent@0__:zadd g",
            "__keyevent@0__:georadiusstore r",
            "__keyevent@0__:geosearchstore s",
            "__keyevent@0__:del s",
        ]
    );
    let mut cmds = ctl.call(&["ACL", "CAT", "geo"]).strings();
    cmds.sort();
    assert_eq!(
        cmds,
        vec![
            "geoadd",
            "geodist",
            "geohash",
            "geopos",
            "georadius",
            "georadius_ro",
            "georadiusbymember",
            "georadiusbymember_ro",
            "geosearch",
            "geosearchstore"
        ]
    );
}

#[test]
fn resp3_coordinates_are_doubles_and_distances_bulk() {
    let s = TestServer::start();
    let mut c = RawConn::connect(s.port);
    c.call(&["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]);
    c.send(&resp(&["HELLO", "3"]));
    c.read_reply();
    c.send(&resp(&["GEOPOS", "g", "Palermo", "nobody"]));
    c.expect(b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n");
    c.send(&resp(&["GEODIST", "g", "Palermo", "Catania", "km"]));
    c.expect(b"$8\r\n166.2742\r\n");
    c.send(&resp(&["GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "WITHCOORD", "WITHDIST"]));
    c.expect(b"*1\r\n*3\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n");
}

#[tokio::test]
async fn store_in_a_pipeline() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut p = redis::pipe();
    p.cmd("GEOADD").arg("g").arg("13.361389").arg("38.115556").arg("Palermo");
    p.cmd("GEORADIUS").arg("g").arg("13").arg("38").arg("100").arg("km").arg("STORE").arg("out");
    p.cmd("ZCARD").arg("out");
    p.cmd("GEORADIUSBYMEMBER").arg("g").arg("Palermo").arg("1").arg("km").arg("STOREDIST").arg("out2");
    p.cmd("ZSCORE").arg("out2").arg("Palermo");
    let r: Vec<redis::Value> = p.query_async(&mut c).await.expect("pipeline");
    let r: Vec<Reply> = r.into_iter().map(to_reply).collect();
    assert_eq!(r, vec![int(1), int(1), int(1), int(1), bulk("0")]);
}
