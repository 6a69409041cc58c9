//! What the families propagate, as the AOF receives it: the deterministic rewrites Redis 7.0
//! makes (absolute expiry times, computed floats, the members SPOP picked, blocking pops as
//! their plain forms).

use bytes::Bytes;
use oxidis_core::Server;
use oxidis_core::client::{Client, ClientId, Peer};
use oxidis_core::config::Config;

fn server() -> (Server, ClientId) {
    let mut server = Server::new(Config::default());
    let id = server.connect_client(|id| Client::new(id, Peer::Internal, true, 0));
    server.propagation.set_enabled(true);
    (server, id)
}

fn run(server: &mut Server, id: ClientId, argv: &[&str]) {
    let argv: Vec<Bytes> = argv
        .iter()
        .map(|a| Bytes::copy_from_slice(a.as_bytes()))
        .collect();
    let _ = oxidis_core::dispatch(server, id, &argv);
}

/// The commands of the stream since the last call, one string each ("SET k v").
fn propagated(server: &mut Server) -> Vec<String> {
    let stream = oxidis_core::replication::drain(server);
    let mut pos = 0;
    let mut out = Vec::new();
    while let Ok(Some(argv)) = super::load::next_command_for_tests(&stream, &mut pos) {
        let words: Vec<String> = argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        out.push(words.join(" "));
    }
    out.retain(|c| !c.starts_with("SELECT"));
    out
}

#[test]
fn expiries_propagate_as_absolute_times() {
    let (mut s, id) = server();
    run(&mut s, id, &["SET", "k", "v", "EX", "100"]);
    let at = s.dbs[0]
        .find(b"k")
        .and_then(|p| s.dbs[0].entry(p).expire_at());
    let at = at.expect("a ttl");
    assert_eq!(propagated(&mut s), [format!("SET k v PXAT {at}")]);
    run(&mut s, id, &["EXPIRE", "k", "-1"]);
    assert_eq!(propagated(&mut s), ["DEL k"]);
    run(&mut s, id, &["SET", "k", "v", "GET"]);
    assert_eq!(propagated(&mut s), ["SET k v"]);
    run(&mut s, id, &["GETEX", "k"]);
    assert!(propagated(&mut s).is_empty());
    run(&mut s, id, &["GETDEL", "k"]);
    assert_eq!(propagated(&mut s), ["DEL k"]);
}

#[test]
fn computed_values_and_random_picks_propagate_as_results() {
    let (mut s, id) = server();
    run(&mut s, id, &["INCRBYFLOAT", "f", "1.5"]);
    assert_eq!(propagated(&mut s), ["SET f 1.5 KEEPTTL"]);
    run(&mut s, id, &["HINCRBYFLOAT", "h", "a", "2.5"]);
    assert_eq!(propagated(&mut s), ["HSET h a 2.5"]);
    run(&mut s, id, &["SADD", "s", "only"]);
    let _ = propagated(&mut s);
    run(&mut s, id, &["SPOP", "s"]);
    assert_eq!(propagated(&mut s), ["SREM s only"]);
    run(&mut s, id, &["SADD", "s", "a", "b", "c"]);
    let _ = propagated(&mut s);
    run(&mut s, id, &["SPOP", "s", "2"]);
    let ops = propagated(&mut s);
    assert_eq!(ops.len(), 4, "{ops:?}");
    assert_eq!((ops[0].as_str(), ops[3].as_str()), ("MULTI", "EXEC"));
    run(&mut s, id, &["SPOP", "s", "5"]);
    assert_eq!(propagated(&mut s), ["DEL s"]);
}

#[test]
fn pops_propagate_in_their_plain_forms() {
    let (mut s, id) = server();
    run(&mut s, id, &["RPUSH", "l", "a", "b", "c"]);
    let _ = propagated(&mut s);
    run(&mut s, id, &["BLPOP", "l", "0"]);
    assert_eq!(propagated(&mut s), ["LPOP l"]);
    run(&mut s, id, &["LMPOP", "1", "l", "RIGHT", "COUNT", "5"]);
    assert_eq!(propagated(&mut s), ["RPOP l 2"]);
    run(&mut s, id, &["ZADD", "z", "1", "a", "2", "b"]);
    let _ = propagated(&mut s);
    run(&mut s, id, &["BZPOPMAX", "z", "0"]);
    assert_eq!(propagated(&mut s), ["ZPOPMAX z"]);
    run(&mut s, id, &["ZMPOP", "1", "z", "MIN"]);
    assert_eq!(propagated(&mut s), ["ZPOPMIN z 1"]);
    run(&mut s, id, &["RPUSH", "src", "x"]);
    let _ = propagated(&mut s);
    run(&mut s, id, &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]);
    assert_eq!(propagated(&mut s), ["LMOVE src dst LEFT RIGHT"]);
}
