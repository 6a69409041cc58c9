//! `maxmemory` against the real binary: eviction keeps memory near the limit under each policy
//! family, and `noeviction` refuses writes with Redis's `-OOM` error while reads still work.

mod support;

use support::{ServerProcess, info_field};

/// A number of `INFO everything` (0 when missing).
fn info_number(con: &mut redis::Connection, field: &str) -> u64 {
    info_field(con, "everything", field)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Sets the limit to what is used now plus `headroom` bytes.
fn limit_to_current_plus(con: &mut redis::Connection, headroom: u64) -> redis::RedisResult<u64> {
    let limit = info_number(con, "used_memory") + headroom;
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(limit)
        .query::<()>(con)?;
    Ok(limit)
}

fn fill(con: &mut redis::Connection, keys: usize, ttl: bool) -> redis::RedisResult<()> {
    let value = "x".repeat(200);
    let mut pipe = redis::pipe();
    for i in 0..keys {
        if ttl {
            pipe.cmd("SET")
                .arg(format!("key:{i}"))
                .arg(&value)
                .arg("EX")
                .arg(1000);
        } else {
            pipe.cmd("SET").arg(format!("key:{i}")).arg(&value);
        }
        pipe.ignore();
    }
    pipe.query::<()>(con)
}

#[test]
fn every_evicting_policy_keeps_memory_near_the_limit() -> redis::RedisResult<()> {
    for policy in [
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let server = ServerProcess::start();
        let mut con = server.connect()?;
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory-policy")
            .arg(policy)
            .query::<()>(&mut con)?;
        let limit = limit_to_current_plus(&mut con, 1 << 20)?;
        fill(&mut con, 20_000, true)?;
        let used = info_number(&mut con, "used_memory");
        let evicted = info_number(&mut con, "evicted_keys");
        assert!(evicted > 0, "{policy}: nothing evicted");
        // One command may overshoot by what it allocates before the next check.
        assert!(
            used < limit + (64 << 10),
            "{policy}: used {used} over limit {limit}"
        );
        let keys: u64 = redis::cmd("DBSIZE").query(&mut con)?;
        assert_eq!(keys + evicted, 20_000, "{policy}");
    }
    Ok(())
}

#[test]
fn lfu_keeps_the_keys_used_often() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut con = server.connect()?;
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lfu")
        .query::<()>(&mut con)?;
    fill(&mut con, 1000, false)?;
    // Make the first hundred keys hot.
    for _ in 0..20 {
        let mut pipe = redis::pipe();
        for i in 0..100 {
            pipe.cmd("GET").arg(format!("key:{i}")).ignore();
        }
        pipe.query::<()>(&mut con)?;
    }
    limit_to_current_plus(&mut con, 0)?;
    let value = "y".repeat(200);
    for i in 0..2000 {
        redis::cmd("SET")
            .arg(format!("new:{i}"))
            .arg(&value)
            .query::<()>(&mut con)?;
    }
    let mut hot_kept = 0;
    for i in 0..100 {
        if redis::cmd("EXISTS")
            .arg(format!("key:{i}"))
            .query::<bool>(&mut con)?
        {
            hot_kept += 1;
        }
    }
    assert!(hot_kept >= 90, "only {hot_kept} of 100 hot keys survived");
    Ok(())
}

#[test]
fn noeviction_refuses_writes_with_oom_but_serves_reads() -> redis::RedisResult<()> {
    let server = ServerProcess::start();
    let mut con = server.connect()?;
    fill(&mut con, 100, false)?;
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(1)
        .query::<()>(&mut con)?;
    let err = redis::cmd("SET")
        .arg("another")
        .arg("v")
        .query::<()>(&mut con)
        .expect_err("SET over maxmemory");
    assert_eq!(err.code(), Some("OOM"));
    assert_eq!(
        err.detail(),
        Some("command not allowed when used memory > 'maxmemory'.")
    );
    let value: String = redis::cmd("GET").arg("key:1").query(&mut con)?;
    assert_eq!(value.len(), 200);
    // DEL frees memory and is allowed.
    let deleted: u64 = redis::cmd("DEL").arg("key:1").query(&mut con)?;
    assert_eq!(deleted, 1);
    Ok(())
}
