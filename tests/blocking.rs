//! Blocking commands across connections: wake-ups by writes of other clients, first-come
//! first-served order per key, timeouts, CLIENT UNBLOCK, and clients that go away while blocked.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[tokio::test]
async fn blpop_is_served_by_a_later_push() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let waiter = spawn_call(&s, &["BLPOP", "l", "0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["RPUSH", "l", "x"]).await, int(1));
    assert_eq!(waiter.await.unwrap(), bulks(&["l", "x"]));
    assert_eq!(call(&mut c, &["EXISTS", "l"]).await, int(0), "the emptied list is gone");
    assert_eq!(blocked_clients(&mut c).await, 0);
}

#[tokio::test]
async fn waiters_are_served_first_come_first_served() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut waiters = Vec::new();
    for i in 0..3 {
        waiters.push(spawn_call(&s, &["BLPOP", "q", "0"]));
        until_blocked(&mut c, i + 1).await;
    }
    assert_eq!(call(&mut c, &["RPUSH", "q", "a", "b", "c"]).await, int(3));
    let mut got = Vec::new();
    for w in waiters {
        got.push(w.await.unwrap());
    }
    assert_eq!(got, vec![bulks(&["q", "a"]), bulks(&["q", "b"]), bulks(&["q", "c"])]);
}

#[tokio::test]
async fn brpop_over_several_keys_takes_the_first_with_data() {
    let s = TestServer::start();
    let mut c = s.client().await;
    assert_eq!(call(&mut c, &["RPUSH", "b", "1", "2"]).await, int(2));
    assert_eq!(call(&mut c, &["BRPOP", "a", "b", "0"]).await, bulks(&["b", "2"]));
    assert_eq!(call(&mut c, &["BRPOP", "a", "b", "0"]).await, bulks(&["b", "1"]));
    let waiter = spawn_call(&s, &["BRPOP", "a", "b", "0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["LPUSH", "a", "x"]).await, int(1));
    assert_eq!(waiter.await.unwrap(), bulks(&["a", "x"]));
}

#[tokio::test]
async fn timeouts_reply_null() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let started = Instant::now();
    assert_eq!(call(&mut c, &["BLPOP", "none", "0.2"]).await, nil());
    assert!(started.elapsed() >= Duration::from_millis(190), "waited {:?}", started.elapsed());
    assert_eq!(call(&mut c, &["BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"]).await, nil());
    assert_eq!(call(&mut c, &["BRPOPLPUSH", "none", "dst", "0.05"]).await, nil());
    assert_eq!(call(&mut c, &["BZPOPMIN", "none", "0.05"]).await, nil());
    assert_eq!(call(&mut c, &["BLMPOP", "0.05", "1", "none", "LEFT"]).await, nil());
    assert_eq!(call(&mut c, &["BZMPOP", "0.05", "1", "none", "MIN"]).await, nil());
    assert_eq!(call(&mut c, &["EXISTS", "dst"]).await, int(0));
    assert_eq!(call(&mut c, &["BLPOP", "none", "-1"]).await, err("ERR timeout is negative"));
    assert_eq!(call(&mut c, &["BLPOP", "none", "abc"]).await, err("ERR timeout is not a float or out of range"));
}

#[tokio::test]
async fn blmove_and_brpoplpush_move_the_pushed_element() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let waiter = spawn_call(&s, &["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["RPUSH", "src", "a", "b"]).await, int(2));
    assert_eq!(waiter.await.unwrap(), bulk("b"));
    assert_eq!(call(&mut c, &["LRANGE", "dst", "0", "-1"]).await, bulks(&["b"]));
    assert_eq!(call(&mut c, &["LRANGE", "src", "0", "-1"]).await, bulks(&["a"]));

    assert_eq!(call(&mut c, &["DEL", "src"]).await, int(1));
    let waiter = spawn_call(&s, &["BRPOPLPUSH", "src", "dst", "0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["LPUSH", "src", "c"]).await, int(1));
    assert_eq!(waiter.await.unwrap(), bulk("c"));
    assert_eq!(call(&mut c, &["LRANGE", "dst", "0", "-1"]).await, bulks(&["c", "b"]));
}

#[tokio::test]
async fn sorted_set_pops_are_woken_by_zadd() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let waiter = spawn_call(&s, &["BZPOPMIN", "z", "0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["ZADD", "z", "2", "b", "1", "a"]).await, int(2));
    assert_eq!(waiter.await.unwrap(), bulks(&["z", "a", "1"]));

    let waiter = spawn_call(&s, &["BZPOPMAX", "other", "z", "0"]);
    assert_eq!(waiter.await.unwrap(), bulks(&["z", "b", "2"]), "served at once: z has b");
    let waiter = spawn_call(&s, &["BZMPOP", "0", "2", "y", "z", "MAX", "COUNT", "2"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["ZADD", "z", "5", "e", "3", "c", "4", "d"]).await, int(3));
    assert_eq!(waiter.await.unwrap(), arr(vec![bulk("z"), arr(vec![bulks(&["e", "5"]), bulks(&["d", "4"])])]));
    let waiter = spawn_call(&s, &["BLMPOP", "0", "2", "l1", "l2", "RIGHT", "COUNT", "5"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["RPUSH", "l2", "a", "b"]).await, int(2));
    assert_eq!(waiter.await.unwrap(), arr(vec![bulk("l2"), bulks(&["b", "a"])]));
}

#[tokio::test]
async fn a_list_created_by_another_command_wakes_waiters() {
    let s = TestServer::start();
    let mut c = s.client().await;
    // LMOVE creating the list, and RENAME onto the awaited key.
    let waiter = spawn_call(&s, &["BLPOP", "target", "0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["RPUSH", "src", "m"]).await, int(1));
    assert_eq!(call(&mut c, &["LMOVE", "src", "target", "LEFT", "LEFT"]).await, bulk("m"));
    assert_eq!(waiter.await.unwrap(), bulks(&["target", "m"]));

    let waiter = spawn_call(&s, &["BLPOP", "target", "0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["RPUSH", "tmp", "r"]).await, int(1));
    assert_eq!(call(&mut c, &["RENAME", "tmp", "target"]).await, ok());
    assert_eq!(waiter.await.unwrap(), bulks(&["target", "r"]));
}

#[tokio::test]
async fn a_client_that_disconnects_while_blocked_is_forgotten() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut raw = s.raw();
    raw.send(&resp(&["BLPOP", "k", "0"]));
    until_blocked(&mut c, 1).await;
    drop(raw);
    until_blocked(&mut c, 0).await;
    // The element goes to a live waiter, not to the departed one.
    let waiter = spawn_call(&s, &["BLPOP", "k", "0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["RPUSH", "k", "v"]).await, int(1));
    assert_eq!(waiter.await.unwrap(), bulks(&["k", "v"]));
    assert_eq!(call(&mut c, &["EXISTS", "k"]).await, int(0));
}

#[tokio::test]
async fn client_unblock_ends_the_wait() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let mut other = s.client().await;
    let id = call(&mut other, &["CLIENT", "ID"]).await.int().to_string();
    let client = s.redis_client();
    let waiter = tokio::spawn(async move { call(&mut other, &["BLPOP", "k", "0"]).await });
    until_blocked(&mut c, 1).await;
    let list = call(&mut c, &["CLIENT", "LIST"]).await.text();
    assert!(list.lines().any(|l| l.contains(&format!("id={id} ")) && l.contains(" flags=b ")), "{list}");
    assert_eq!(call(&mut c, &["CLIENT", "UNBLOCK", &id]).await, int(1));
    assert_eq!(waiter.await.unwrap(), nil());
    assert_eq!(call(&mut c, &["CLIENT", "UNBLOCK", &id]).await, int(0), "not blocked any more");

    let mut third = client.get_multiplexed_async_connection().await.unwrap();
    let id = call(&mut third, &["CLIENT", "ID"]).await.int().to_string();
    let waiter = tokio::spawn(async move { call(&mut third, &["BZPOPMIN", "z", "0"]).await });
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["CLIENT", "UNBLOCK", &id, "ERROR"]).await, int(1));
    assert_eq!(waiter.await.unwrap(), err("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
    assert_eq!(
        call(&mut c, &["CLIENT", "UNBLOCK", &id, "MAYBE"]).await,
        err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
}

#[tokio::test]
async fn no_wake_up_is_lost_under_concurrency() {
    const CONSUMERS: usize = 4;
    const PER_CONSUMER: usize = 100;
    let s = TestServer::start();
    let mut consumers = Vec::new();
    for _ in 0..CONSUMERS {
        let client = s.redis_client();
        consumers.push(tokio::spawn(async move {
            let mut c = client.get_multiplexed_async_connection().await.unwrap();
            let mut got = Vec::new();
            for _ in 0..PER_CONSUMER {
                let r = call(&mut c, &["BLPOP", "jobs", "10"]).await;
                got.push(r.strings()[1].clone());
            }
            got
        }));
    }
    let client = s.redis_client();
    let producer = tokio::spawn(async move {
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        for i in 0..CONSUMERS * PER_CONSUMER {
            call(&mut c, &["RPUSH", "jobs", &i.to_string()]).await;
            if i % 50 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    producer.await.unwrap();
    let mut all: Vec<usize> = Vec::new();
    for c in consumers {
        all.extend(c.await.unwrap().iter().map(|v| v.parse::<usize>().unwrap()));
    }
    all.sort_unstable();
    assert_eq!(all, (0..CONSUMERS * PER_CONSUMER).collect::<Vec<_>>(), "every job popped exactly once");
}

#[tokio::test]
async fn swapdb_serves_clients_blocked_in_either_database() {
    let s = TestServer::start();
    let mut c = s.client().await;
    let waiter = spawn_call(&s, &["BLPOP", "k", "0"]);
    until_blocked(&mut c, 1).await;
    assert_eq!(call(&mut c, &["SELECT", "1"]).await, ok());
    assert_eq!(call(&mut c, &["RPUSH", "k", "from-db1"]).await, int(1));
    assert_eq!(call(&mut c, &["SWAPDB", "0", "1"]).await, ok());
    assert_eq!(waiter.await.unwrap(), bulks(&["k", "from-db1"]));
}
