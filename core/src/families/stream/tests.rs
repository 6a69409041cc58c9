use oxidis_protocol::Frame;

use crate::testing::{CommandRunner, Inbox, argv_of, bulk, connect_inbox, err};

fn entry(id: &str, fields: &[&str]) -> Frame {
    Frame::Array(vec![
        bulk(id),
        Frame::Array(fields.iter().map(|f| bulk(f)).collect()),
    ])
}

#[test]
fn xadd_ids_and_errors_follow_redis() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["XADD", "s", "1-1", "a", "1"]), bulk("1-1"));
    assert_eq!(r.run(["XADD", "s", "1-*", "b", "2"]), bulk("1-2"));
    assert_eq!(r.run(["XADD", "s", "5", "c", "3"]), bulk("5-0"));
    assert_eq!(
        r.run(["XADD", "s", "5", "c", "3"]),
        err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
    );
    assert_eq!(
        r.run(["XADD", "t", "0-0", "c", "3"]),
        err("ERR The ID specified in XADD must be greater than 0-0")
    );
    assert_eq!(r.run(["EXISTS", "t"]), Frame::Integer(0));
    assert_eq!(
        r.run(["XADD", "s", "1-1", "c"]),
        err("ERR wrong number of arguments for 'xadd' command")
    );
    assert_eq!(
        r.run(["XADD", "n", "NOMKSTREAM", "*", "a", "1"]),
        Frame::Null
    );
    assert_eq!(r.run(["XLEN", "s"]), Frame::Integer(3));
    assert_eq!(r.run(["TYPE", "s"]), Frame::Simple("stream".into()));
    assert_eq!(
        r.run(["XRANGE", "s", "(1-1", "+"]),
        Frame::Array(vec![entry("1-2", &["b", "2"]), entry("5-0", &["c", "3"])])
    );
    assert_eq!(
        r.run(["XREVRANGE", "s", "+", "-", "COUNT", "1"]),
        Frame::Array(vec![entry("5-0", &["c", "3"])])
    );
    assert_eq!(
        r.run(["XRANGE", "s", "-", "+", "COUNT", "0"]),
        Frame::NullArray
    );
}

#[test]
fn xdel_and_xtrim_count_what_they_remove() {
    let mut r = CommandRunner::with_builtin_commands();
    for i in 1..=10 {
        r.run(["XADD", "s", &format!("{i}"), "f", "v"]);
    }
    assert_eq!(r.run(["XDEL", "s", "1", "2", "99"]), Frame::Integer(2));
    assert_eq!(r.run(["XTRIM", "s", "MAXLEN", "5"]), Frame::Integer(3));
    assert_eq!(r.run(["XTRIM", "s", "MINID", "8"]), Frame::Integer(2));
    assert_eq!(r.run(["XLEN", "s"]), Frame::Integer(3));
    assert_eq!(
        r.run(["XTRIM", "s", "MAXLEN", "1", "LIMIT", "1"]),
        err("ERR syntax error, LIMIT cannot be used without the special ~ option")
    );
}

#[test]
fn groups_deliver_acknowledge_and_claim() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["XADD", "s", "1", "a", "1"]);
    r.run(["XADD", "s", "2", "b", "2"]);
    assert_eq!(r.run(["XGROUP", "CREATE", "s", "g", "0"]), Frame::ok());
    assert_eq!(
        r.run(["XGROUP", "CREATE", "s", "g", "0"]),
        err("BUSYGROUP Consumer Group name already exists")
    );
    assert_eq!(
        r.run([
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">"
        ]),
        Frame::Array(vec![Frame::Array(vec![
            bulk("s"),
            Frame::Array(vec![entry("1-0", &["a", "1"])])
        ])])
    );
    assert_eq!(
        r.run(["XPENDING", "s", "g"]),
        Frame::Array(vec![
            Frame::Integer(1),
            bulk("1-0"),
            bulk("1-0"),
            Frame::Array(vec![Frame::Array(vec![bulk("alice"), bulk("1")])])
        ])
    );
    assert_eq!(
        r.run(["XCLAIM", "s", "g", "bob", "0", "1-0", "JUSTID"]),
        Frame::Array(vec![bulk("1-0")])
    );
    assert_eq!(r.run(["XACK", "s", "g", "1-0"]), Frame::Integer(1));
    assert_eq!(
        r.run(["XAUTOCLAIM", "s", "g", "bob", "0", "0"]),
        Frame::Array(vec![
            bulk("0-0"),
            Frame::Array(vec![]),
            Frame::Array(vec![])
        ])
    );
    assert_eq!(r.run(["XGROUP", "DESTROY", "s", "g"]), Frame::Integer(1));
}

#[test]
fn xread_serves_what_is_newer() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["XADD", "s", "1", "a", "1"]);
    assert_eq!(
        r.run(["XREAD", "STREAMS", "s", "0"]),
        Frame::Array(vec![Frame::Array(vec![
            bulk("s"),
            Frame::Array(vec![entry("1-0", &["a", "1"])])
        ])])
    );
    assert_eq!(r.run(["XREAD", "STREAMS", "s", "$"]), Frame::NullArray);
    assert_eq!(
        r.run(["XREAD", "BLOCK", "10", "STREAMS", "s", "$"]),
        Frame::NullArray
    );
}

/// The propagated commands since the last call, as text with spaces between arguments.
fn propagated(r: &mut CommandRunner) -> String {
    let stream = r.server.propagation.take_stream();
    let text = String::from_utf8_lossy(&stream).into_owned();
    let mut out = Vec::new();
    for line in text.split("\r\n") {
        if !line.starts_with('*') && !line.starts_with('$') && !line.is_empty() {
            out.push(line.to_string());
        }
    }
    out.join(" ")
}

#[test]
fn writes_reach_replicas_in_deterministic_form() {
    let mut r = CommandRunner::with_builtin_commands();
    r.server.propagation.set_enabled(true);
    r.run(["CONFIG", "SET", "stream-node-max-entries", "2"]);
    for i in 1..=5 {
        r.run(["XADD", "s", &format!("{i}-*"), "f", "v"]);
    }
    assert!(propagated(&mut r).ends_with("XADD s 5-0 f v"));
    r.run(["XADD", "s", "MAXLEN", "~", "2", "6-1", "f", "v"]);
    assert_eq!(propagated(&mut r), "XADD s MAXLEN = 2 6-1 f v");
    r.run(["XGROUP", "CREATE", "s", "g", "0"]);
    propagated(&mut r);
    r.run([
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(
        propagated(&mut r),
        "XCLAIM s g c 0 5-0 TIME 1000000 RETRYCOUNT 1 FORCE JUSTID LASTID 5-0"
    );
    r.run([
        "XREADGROUP",
        "GROUP",
        "g",
        "d",
        "NOACK",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(
        propagated(&mut r),
        "MULTI XGROUP CREATECONSUMER s g d XGROUP SETID s g 6-1 ENTRIESREAD 6 EXEC"
    );
}

fn connect(server: &mut crate::Server) -> (crate::client::ClientId, std::sync::Arc<Inbox>) {
    connect_inbox(server, oxidis_protocol::RespVersion::Resp2)
}

#[test]
fn blocked_readers_wake_with_what_dollar_meant_when_they_blocked() {
    use crate::dispatch::{Outcome, execute};
    let mut server = crate::Server::new(crate::config::Config::default());
    let (reader, inbox) = connect(&mut server);
    let (grouper, group_inbox) = connect(&mut server);
    let (writer, _) = connect(&mut server);
    execute(
        &mut server,
        writer,
        &argv_of(&["XADD", "s", "5", "f", "old"]),
    );
    execute(
        &mut server,
        writer,
        &argv_of(&["XGROUP", "CREATE", "s", "g", "$"]),
    );
    let blocked = execute(
        &mut server,
        reader,
        &argv_of(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
    );
    assert!(matches!(blocked, Outcome::Blocked(_)));
    let blocked = execute(
        &mut server,
        grouper,
        &argv_of(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ]),
    );
    assert!(matches!(blocked, Outcome::Blocked(_)));
    // Deleted and recreated: `$` still means 5-0, so 6-0 is news for the reader; the group
    // reader learns its stream is gone.
    execute(&mut server, writer, &argv_of(&["DEL", "s"]));
    assert_eq!(
        group_inbox.delivered(),
        vec![Frame::error("UNBLOCKED the stream key no longer exists")]
    );
    assert!(inbox.delivered().is_empty());
    execute(
        &mut server,
        writer,
        &argv_of(&["XADD", "s", "6", "f", "new"]),
    );
    assert_eq!(
        inbox.delivered(),
        vec![Frame::Array(vec![Frame::Array(vec![
            bulk("s"),
            Frame::Array(vec![Frame::Array(vec![
                bulk("6-0"),
                Frame::BulkArray({
                    let mut a = oxidis_protocol::BulkArray::with_capacity(2, 0);
                    a.push(b"f");
                    a.push(b"new");
                    a
                })
            ])])
        ])])]
    );
    assert!(server.blocked.is_empty());
}
