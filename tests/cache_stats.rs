//! The hot cache as an operator sees it: INFO `hot_cache` figures that follow real activity,
//! `hot-cache-size` changed at run time, and a hot set that survives a scan of cold keys.
//! Strata only (Redis has no hot cache).

mod common;

use std::collections::HashMap;

use common::*;
use redis::aio::MultiplexedConnection;

async fn cache_info(c: &mut MultiplexedConnection) -> HashMap<String, f64> {
    call(c, &["INFO", "hot_cache"])
        .await
        .text()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter_map(|(k, v)| v.parse::<f64>().ok().map(|v| (k.to_string(), v)))
        .collect()
}

#[tokio::test]
async fn info_follows_hits_misses_and_size() {
    let s = TestServer::start_with(&["--hot-cache-size", "4mb"]);
    if !s.is_strata() {
        return;
    }
    let mut c = s.client().await;
    let before = cache_info(&mut c).await;
    assert_eq!(before["hot_cache_size"], (4 << 20) as f64);
    assert_eq!(call(&mut c, &["SET", "k", "v"]).await, ok());
    for _ in 0..10 {
        assert_eq!(call(&mut c, &["GET", "k"]).await.text(), "v");
    }
    let after = cache_info(&mut c).await;
    assert!(after["hot_cache_hits"] - before["hot_cache_hits"] >= 10.0, "{after:?}");
    assert!(after["hot_cache_entries"] >= 1.0);
    assert!(after["hot_cache_used_bytes"] > 0.0);
    assert!(after["hot_cache_hit_ratio"] > 0.0 && after["hot_cache_hit_ratio"] <= 1.0);
    // A key never seen is a miss (then kept: the next read of it hits).
    let misses = after["hot_cache_misses"];
    assert_eq!(call(&mut c, &["GET", "nosuchkey"]).await, Reply::Nil);
    assert!(cache_info(&mut c).await["hot_cache_misses"] > misses);
    let memory = call(&mut c, &["INFO", "memory"]).await.text();
    assert!(memory.contains("hot_cache_used_bytes:"), "{memory}");

    // Turned off at run time: empty, and reads stay right.
    assert_eq!(call(&mut c, &["CONFIG", "SET", "hot-cache-size", "0"]).await, ok());
    let off = cache_info(&mut c).await;
    assert_eq!((off["hot_cache_entries"], off["hot_cache_used_bytes"], off["hot_cache_size"]), (0.0, 0.0, 0.0));
    assert_eq!(call(&mut c, &["SET", "k", "v2"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await.text(), "v2");
    assert_eq!(cache_info(&mut c).await["hot_cache_entries"], 0.0);
    // And on again.
    assert_eq!(call(&mut c, &["CONFIG", "SET", "hot-cache-size", "1mb"]).await, ok());
    assert_eq!(call(&mut c, &["GET", "k"]).await.text(), "v2");
    assert_eq!(call(&mut c, &["GET", "k"]).await.text(), "v2");
    let on = cache_info(&mut c).await;
    assert!(on["hot_cache_entries"] >= 1.0, "{on:?}");
    assert_eq!(call(&mut c, &["CONFIG", "GET", "hot-cache-size"]).await.strings()[1], "1048576");
}

#[tokio::test]
async fn stays_within_its_size_and_keeps_the_hot_set_through_a_scan() {
    let s = TestServer::start_with(&["--hot-cache-size", "512kb"]);
    if !s.is_strata() {
        return;
    }
    let mut c = s.client().await;
    let value = "x".repeat(200);
    let hot: Vec<String> = (0..300).map(|i| format!("hot:{i}")).collect();
    let mut mset = vec!["MSET".to_string()];
    for k in &hot {
        mset.push(k.clone());
        mset.push(value.clone());
    }
    assert_eq!(call(&mut c, &mset).await, ok());
    // Cold keys, ten times what the cache holds, written without being cached for long.
    for chunk in 0..20 {
        let mut mset = vec!["MSET".to_string()];
        for i in 0..1000 {
            mset.push(format!("cold:{chunk}:{i}"));
            mset.push(value.clone());
        }
        assert_eq!(call(&mut c, &mset).await, ok());
    }
    // The hot set is read a few times, then once between scans of the cold keys.
    let read_hot = |c: &mut MultiplexedConnection| {
        let mut args = vec!["MGET".to_string()];
        args.extend(hot.iter().cloned());
        let mut c = c.clone();
        async move { call(&mut c, &args).await.array().len() }
    };
    for _ in 0..3 {
        assert_eq!(read_hot(&mut c).await, 300);
    }
    for round in 0..3 {
        for chunk in 0..20 {
            let mut args = vec!["MGET".to_string()];
            args.extend((0..1000).map(|i| format!("cold:{chunk}:{i}")));
            assert_eq!(call(&mut c, &args).await.array().len(), 1000);
        }
        let before = cache_info(&mut c).await;
        assert!(before["hot_cache_used_bytes"] <= (512 << 10) as f64, "round {round}: {before:?}");
        assert_eq!(read_hot(&mut c).await, 300);
        let after = cache_info(&mut c).await;
        let hits = after["hot_cache_hits"] - before["hot_cache_hits"];
        assert!(hits >= 270.0, "round {round}: only {hits} of 300 hot reads hit after a scan");
    }
    assert!(cache_info(&mut c).await["hot_cache_evictions"] > 0.0);
}
