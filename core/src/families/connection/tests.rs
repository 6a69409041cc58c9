//! Unit tests of the connection family, with replies and error texts checked against Redis 7.0.

use super::client::id_reply;
use super::*;
use crate::client::{ClientId, ConnectionHandle, Peer};
use crate::command::AclCategory;
use crate::config::Config;
use crate::errors::NOAUTH;
use crate::testing::{CommandRunner, bulk, err, simple};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Default)]
struct FakeConnection {
    closed: AtomicBool,
}

impl ConnectionHandle for FakeConnection {
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    fn deliver(&self, _reply: oxidis_protocol::Frame) {}

    fn push(&self, _message: oxidis_protocol::Frame) {}
}

fn tcp(peer: &str, local: &str) -> Peer {
    Peer::Tcp {
        peer: peer.parse().unwrap(),
        local: local.parse().unwrap(),
    }
}

/// Connects another TCP client with a fake connection; returns its id and handle.
fn connect(r: &mut CommandRunner, peer: &str) -> (ClientId, Arc<FakeConnection>) {
    let conn = Arc::new(FakeConnection::default());
    let handle: Arc<dyn ConnectionHandle> = conn.clone();
    let now = r.server.now_ms();
    let id = r.server.connect_client(|id| {
        let mut c = Client::new(id, tcp(peer, "127.0.0.1:6379"), true, now);
        c.handle = Some(handle);
        c
    });
    (id, conn)
}

fn with_password(password: &str) -> CommandRunner {
    CommandRunner::with_config(Config {
        requirepass: Some(password.as_bytes().to_vec()),
        ..Config::default()
    })
}

fn text(frame: Frame) -> String {
    match frame {
        Frame::Verbatim { format, text } => {
            assert_eq!(&format, b"txt");
            String::from_utf8(text.to_vec()).unwrap()
        }
        other => panic!("expected a verbatim string, got {other:?}"),
    }
}

fn hello_map(proto: i64, id: i64) -> Frame {
    Frame::Map(vec![
        (bulk("server"), bulk("redis")),
        (bulk("version"), bulk("7.0.15")),
        (bulk("proto"), Frame::Integer(proto)),
        (bulk("id"), Frame::Integer(id)),
        (bulk("mode"), bulk("standalone")),
        (bulk("role"), bulk("master")),
        (bulk("modules"), Frame::Array(vec![])),
    ])
}

#[test]
fn ping_and_echo() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["PING"]), simple("PONG"));
    assert_eq!(r.run(["ping", "redis"]), bulk("redis"));
    assert_eq!(
        r.run(["PING", "hello", "redis"]),
        err("ERR wrong number of arguments for 'ping' command")
    );
    assert_eq!(r.run(["ECHO", "a b\r\n"]), bulk("a b\r\n"));
    assert_eq!(
        r.run(["ECHO"]),
        err("ERR wrong number of arguments for 'echo' command")
    );
}

#[test]
fn quit_replies_ok_and_closes() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["QUIT"]), Frame::ok());
    assert!(r.server.clients.get(r.client).unwrap().close_after_reply);
}

#[test]
fn quit_works_before_auth() {
    let mut r = with_password("secret");
    assert_eq!(r.run(["PING"]), err(NOAUTH));
    assert_eq!(r.run(["QUIT"]), Frame::ok());
}

#[test]
fn select_checks_the_range_and_the_integer() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["SELECT", "9"]), Frame::ok());
    assert_eq!(r.server.clients.get(r.client).unwrap().db, 9);
    assert_eq!(r.run(["SELECT", "16"]), err("ERR DB index is out of range"));
    assert_eq!(r.run(["SELECT", "-1"]), err("ERR DB index is out of range"));
    assert_eq!(
        r.run(["SELECT", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        r.run(["SELECT", "99999999999"]),
        err("ERR value is out of range, value must between -2147483648 and 2147483647")
    );
    assert_eq!(r.server.clients.get(r.client).unwrap().db, 9);
}

#[test]
fn hello_without_arguments_reports_the_current_protocol() {
    let mut r = CommandRunner::with_builtin_commands();
    let id = id_reply(r.client);
    assert_eq!(r.run(["HELLO"]), hello_map(2, id));
    assert_eq!(r.run(["HELLO", "3"]), hello_map(3, id));
    assert_eq!(
        r.server.clients.get(r.client).unwrap().resp,
        RespVersion::Resp3
    );
    assert_eq!(r.run(["HELLO"]), hello_map(3, id));
    assert_eq!(r.run(["HELLO", "2"]), hello_map(2, id));
    assert_eq!(
        r.server.clients.get(r.client).unwrap().resp,
        RespVersion::Resp2
    );
}

#[test]
fn hello_errors() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(
        r.run(["HELLO", "4"]),
        err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        r.run(["HELLO", "1"]),
        err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        r.run(["HELLO", "abc"]),
        err("ERR Protocol version is not an integer or out of range")
    );
    assert_eq!(
        r.run(["HELLO", "3", "foo"]),
        err("ERR Syntax error in HELLO option 'foo'")
    );
    assert_eq!(
        r.run(["HELLO", "3", "auth", "a"]),
        err("ERR Syntax error in HELLO option 'auth'")
    );
    assert_eq!(
        r.run(["HELLO", "3", "SETNAME", "a b"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        r.run(["HELLO", "3", "AUTH", "nobody", "x"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    // None of the failures switched the protocol.
    assert_eq!(
        r.server.clients.get(r.client).unwrap().resp,
        RespVersion::Resp2
    );
}

#[test]
fn hello_setname_and_auth() {
    let mut r = with_password("secret");
    let id = id_reply(r.client);
    assert_eq!(
        r.run(["HELLO", "3"]),
        err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
        )
    );
    assert_eq!(
        r.run(["HELLO", "3", "AUTH", "default", "wrong"]),
        err(WRONG_PASS)
    );
    assert_eq!(
        r.run(["HELLO", "3", "AUTH", "default", "secret", "SETNAME", "me"]),
        hello_map(3, id)
    );
    assert_eq!(r.run(["CLIENT", "GETNAME"]), bulk("me"));
    let client = r.server.clients.get(r.client).unwrap();
    assert!(client.authenticated);
    assert_eq!(client.resp, RespVersion::Resp3);
}

#[test]
fn auth_without_requirepass() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(
        r.run(["AUTH", "foo"]),
        err(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
        )
    );
    assert_eq!(r.run(["AUTH", "default", "anything"]), Frame::ok());
    assert_eq!(r.run(["AUTH", "nobody", "x"]), err(WRONG_PASS));
    assert_eq!(r.run(["AUTH", "a", "b", "c"]), err("ERR syntax error"));
    assert_eq!(
        r.run(["AUTH"]),
        err("ERR wrong number of arguments for 'auth' command")
    );
}

#[test]
fn auth_with_requirepass() {
    let mut r = with_password("foobar");
    assert_eq!(
        r.run(["AUTH", "wrong!"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        r.run(["SELECT", "1"]),
        err("NOAUTH Authentication required.")
    );
    assert_eq!(r.run(["AUTH", "foobar"]), Frame::ok());
    assert_eq!(r.run(["SELECT", "1"]), Frame::ok());
    // A later failure does not log the client out.
    assert_eq!(r.run(["AUTH", "default", "nope"]), err(WRONG_PASS));
    assert_eq!(r.run(["PING"]), simple("PONG"));
    assert_eq!(r.run(["AUTH", "default", "foobar"]), Frame::ok());
}

#[test]
fn auth_accepts_binary_passwords() {
    let mut r = with_password("abc\0def");
    assert_eq!(r.run(["AUTH", "abc"]), err(WRONG_PASS));
    assert_eq!(r.run([b"AUTH".as_slice(), b"abc\0def"]), Frame::ok());
}

#[test]
fn reset_restores_a_new_connection() {
    let mut r = with_password("pw");
    assert_eq!(r.run(["AUTH", "pw"]), Frame::ok());
    r.run(["SELECT", "3"]);
    r.run(["HELLO", "3", "SETNAME", "x"]);
    r.run(["CLIENT", "NO-EVICT", "on"]);
    assert_eq!(r.run(["RESET"]), simple("RESET"));
    let c = r.server.clients.get(r.client).unwrap();
    assert_eq!(c.db, 0);
    assert_eq!(c.resp, RespVersion::Resp2);
    assert_eq!(c.name, None);
    assert!(!c.authenticated);
    assert_eq!(c.reply_mode, ReplyMode::On);
    assert_eq!(r.run(["PING"]), err(NOAUTH));
}

#[test]
fn reset_without_password_stays_authenticated() {
    let mut r = CommandRunner::with_builtin_commands();
    r.run(["CLIENT", "REPLY", "OFF"]);
    assert_eq!(r.run(["RESET"]), simple("RESET"));
    let c = r.server.clients.get(r.client).unwrap();
    assert!(c.authenticated);
    assert_eq!(c.reply_mode, ReplyMode::On);
    assert_eq!(
        r.run(["RESET", "x"]),
        err("ERR wrong number of arguments for 'reset' command")
    );
}

#[test]
fn client_id_setname_getname() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["CLIENT", "ID"]), Frame::Integer(id_reply(r.client)));
    assert_eq!(r.run(["CLIENT", "GETNAME"]), Frame::Null);
    assert_eq!(
        r.run(["CLIENT", "SETNAME", "foo bar"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        r.run(["CLIENT", "SETNAME", "caf\u{e9}"]),
        err(CLIENT_NAME_INVALID)
    );
    assert_eq!(r.run(["CLIENT", "SETNAME", "myname"]), Frame::ok());
    assert_eq!(r.run(["CLIENT", "GETNAME"]), bulk("myname"));
    assert_eq!(r.run(["CLIENT", "SETNAME", ""]), Frame::ok());
    assert_eq!(r.run(["CLIENT", "GETNAME"]), Frame::Null);
    assert_eq!(
        r.run(["CLIENT", "ID", "x"]),
        err("ERR wrong number of arguments for 'client|id' command")
    );
    assert_eq!(
        r.run(["CLIENT", "SETINFO", "LIB-NAME", "x"]),
        err("ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.")
    );
}

#[test]
fn client_info_line_has_redis_fields_in_order() {
    let mut r = CommandRunner::with_builtin_commands();
    let (id, _conn) = connect(&mut r, "10.0.0.5:5000");
    {
        let c = r.server.clients.get_mut(id).unwrap();
        c.name = Some(b"worker".to_vec());
        c.db = 2;
        c.resp = RespVersion::Resp3;
        c.last_command = "get";
        c.query_buffer_len = 26;
        c.query_buffer_free = 16358;
        // Only the caller's own line shows argument memory (others hold no arguments).
        c.argv_mem = 10;
    }
    r.advance_ms(5_000);
    let list = text(r.run(["CLIENT", "LIST", "ID", &id.to_string()]));
    assert_eq!(
        list,
        format!(
            "id={id} addr=10.0.0.5:5000 laddr=127.0.0.1:6379 fd={} name=worker age=5 idle=5 \
             flags=N db=2 sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=16358 argv-mem=0 \
             multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem=0 tot-mem=33792 events=r \
             cmd=get user=default redir=-1 resp=3\n",
            id + 8
        )
    );
}

#[test]
fn client_info_and_list_name_the_running_command() {
    let mut r = CommandRunner::with_builtin_commands();
    let me = r.client;
    let info = text(r.run(["CLIENT", "INFO"]));
    assert!(info.starts_with(&format!(
        "id={me} addr= laddr= fd=-1 name= age=0 idle=0 flags=N db=0 "
    )));
    assert!(info.ends_with(" events= cmd=client|info user=default redir=-1 resp=2\n"));
    let list = text(r.run(["client", "list"]));
    assert!(list.contains(" cmd=client|list "));
    assert_eq!(list.lines().count(), 1);
}

#[test]
fn client_list_filters() {
    let mut r = CommandRunner::with_builtin_commands();
    let (other, _conn) = connect(&mut r, "10.0.0.5:5000");
    assert_eq!(text(r.run(["CLIENT", "LIST"])).lines().count(), 2);
    assert_eq!(
        text(r.run(["CLIENT", "LIST", "TYPE", "normal"]))
            .lines()
            .count(),
        2
    );
    assert_eq!(text(r.run(["CLIENT", "LIST", "type", "PUBSUB"])), "");
    assert_eq!(text(r.run(["CLIENT", "LIST", "TYPE", "replica"])), "");
    let twice = text(r.run([
        "CLIENT",
        "LIST",
        "ID",
        &other.to_string(),
        "999",
        &other.to_string(),
    ]));
    assert_eq!(twice.lines().count(), 2);
    assert!(
        twice
            .lines()
            .all(|l| l.starts_with(&format!("id={other} ")))
    );
    assert_eq!(text(r.run(["CLIENT", "LIST", "ID", "-5"])), "");
    assert_eq!(
        r.run(["CLIENT", "LIST", "TYPE", "foo"]),
        err("ERR Unknown client type 'foo'")
    );
    assert_eq!(
        r.run(["CLIENT", "LIST", "ID", "1", "abc"]),
        err("ERR Invalid client ID")
    );
    assert_eq!(r.run(["CLIENT", "LIST", "ID"]), err("ERR syntax error"));
    assert_eq!(r.run(["CLIENT", "LIST", "foo"]), err("ERR syntax error"));
    assert_eq!(
        r.run(["CLIENT", "LIST", "TYPE", "normal", "x"]),
        err("ERR syntax error")
    );
}

#[test]
fn client_kill_illegal_arguments() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(
        r.run(["CLIENT", "KILL"]),
        err("ERR wrong number of arguments for 'client|kill' command")
    );
    assert_eq!(
        r.run(["CLIENT", "KILL", "id", "10", "wrong_arg"]),
        err("ERR syntax error")
    );
    for bad in ["str", "-1", "0"] {
        assert_eq!(
            r.run(["CLIENT", "KILL", "id", bad]),
            err("ERR client-id should be greater than 0")
        );
    }
    assert_eq!(
        r.run(["CLIENT", "KILL", "type", "wrong_type"]),
        err("ERR Unknown client type 'wrong_type'")
    );
    assert_eq!(
        r.run(["CLIENT", "KILL", "user", "wrong_user"]),
        err("ERR No such user 'wrong_user'")
    );
    assert_eq!(
        r.run(["CLIENT", "KILL", "skipme", "yes_or_no"]),
        err("ERR syntax error")
    );
    assert_eq!(
        r.run(["CLIENT", "KILL", "foo", "bar"]),
        err("ERR syntax error")
    );
    assert_eq!(
        r.run(["CLIENT", "KILL", "1.2.3.4:5"]),
        err("ERR No such client")
    );
}

#[test]
fn client_kill_by_id_addr_and_laddr() {
    let mut r = CommandRunner::with_builtin_commands();
    let (a, conn_a) = connect(&mut r, "10.0.0.5:5000");
    let (_b, conn_b) = connect(&mut r, "10.0.0.6:6000");
    assert_eq!(
        r.run(["CLIENT", "KILL", "ID", &a.to_string()]),
        Frame::Integer(1)
    );
    assert!(conn_a.closed.load(Ordering::SeqCst));
    assert!(!conn_b.closed.load(Ordering::SeqCst));
    assert_eq!(r.run(["CLIENT", "KILL", "10.0.0.6:6000"]), Frame::ok());
    assert!(conn_b.closed.load(Ordering::SeqCst));
    let (_c, conn_c) = connect(&mut r, "10.0.0.7:7000");
    assert_eq!(
        r.run([
            "CLIENT",
            "KILL",
            "LADDR",
            "127.0.0.1:1",
            "ADDR",
            "10.0.0.7:7000"
        ]),
        Frame::Integer(0)
    );
    assert_eq!(
        r.run([
            "CLIENT",
            "KILL",
            "LADDR",
            "127.0.0.1:6379",
            "ADDR",
            "10.0.0.7:7000",
            "USER",
            "default"
        ]),
        Frame::Integer(1)
    );
    assert!(conn_c.closed.load(Ordering::SeqCst));
    assert!(!r.server.clients.get(r.client).unwrap().close_after_reply);
}

#[test]
fn client_kill_skipme() {
    let mut r = CommandRunner::with_builtin_commands();
    let (_a, conn_a) = connect(&mut r, "10.0.0.5:5000");
    let (_b, conn_b) = connect(&mut r, "10.0.0.6:6000");
    assert_eq!(
        r.run(["CLIENT", "KILL", "SKIPME", "yes"]),
        Frame::Integer(2)
    );
    assert!(conn_a.closed.load(Ordering::SeqCst) && conn_b.closed.load(Ordering::SeqCst));
    assert!(!r.server.clients.get(r.client).unwrap().close_after_reply);
    assert_eq!(
        r.run(["CLIENT", "KILL", "TYPE", "master"]),
        Frame::Integer(0)
    );
    // The killed clients are still registered until their connections go away.
    assert_eq!(r.run(["CLIENT", "KILL", "SKIPME", "no"]), Frame::Integer(3));
    assert!(r.server.clients.get(r.client).unwrap().close_after_reply);
}

#[test]
fn client_kill_old_form_can_kill_the_caller() {
    let mut r = CommandRunner::with_builtin_commands();
    // An internal client's address is empty; the old form matches it and kills the caller.
    assert_eq!(r.run(["CLIENT", "KILL", ""]), Frame::ok());
    assert!(r.server.clients.get(r.client).unwrap().close_after_reply);
}

#[test]
fn client_reply_modes() {
    let mut r = CommandRunner::with_builtin_commands();
    let mode = |r: &CommandRunner| r.server.clients.get(r.client).unwrap().reply_mode;
    r.run(["CLIENT", "REPLY", "OFF"]);
    assert_eq!(mode(&r), ReplyMode::Off);
    r.run(["CLIENT", "REPLY", "SKIP"]);
    assert_eq!(mode(&r), ReplyMode::Off);
    assert_eq!(r.run(["CLIENT", "REPLY", "ON"]), Frame::ok());
    assert_eq!(mode(&r), ReplyMode::On);
    r.run(["CLIENT", "REPLY", "SKIP"]);
    assert_eq!(mode(&r), ReplyMode::SkipNext);
    assert_eq!(r.run(["CLIENT", "REPLY", "ON"]), Frame::ok());
    assert_eq!(mode(&r), ReplyMode::On);
    assert_eq!(r.run(["CLIENT", "REPLY", "maybe"]), err("ERR syntax error"));
}

#[test]
fn client_no_evict() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["CLIENT", "NO-EVICT", "on"]), Frame::ok());
    assert!(text(r.run(["CLIENT", "INFO"])).contains(" flags=e "));
    assert_eq!(r.run(["CLIENT", "NO-EVICT", "OFF"]), Frame::ok());
    assert!(!r.server.clients.get(r.client).unwrap().no_evict);
    assert_eq!(
        r.run(["CLIENT", "NO-EVICT", "maybe"]),
        err("ERR syntax error")
    );
}

#[test]
fn client_tracking_placeholders_and_unblock() {
    let mut r = CommandRunner::with_builtin_commands();
    assert_eq!(r.run(["CLIENT", "GETREDIR"]), Frame::Integer(-1));
    assert_eq!(
        r.run(["CLIENT", "TRACKINGINFO"]),
        Frame::Map(vec![
            (bulk("flags"), Frame::Set(vec![bulk("off")])),
            (bulk("redirect"), Frame::Integer(-1)),
            (bulk("prefixes"), Frame::Array(vec![])),
        ])
    );
    assert_eq!(r.run(["CLIENT", "UNBLOCK", "999"]), Frame::Integer(0));
    assert_eq!(
        r.run(["CLIENT", "UNBLOCK", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        r.run(["CLIENT", "UNBLOCK", "abc", "foo"]),
        err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
    assert_eq!(
        r.run(["CLIENT", "UNBLOCK", "1", "timeout", "x"]),
        err("ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP.")
    );
}

#[test]
fn client_help_lists_every_subcommand() {
    let mut r = CommandRunner::with_builtin_commands();
    let Frame::Array(lines) = r.run(["CLIENT", "HELP"]) else {
        panic!("expected an array");
    };
    assert_eq!(lines.len(), 48);
    assert_eq!(
        lines[0],
        simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
    assert_eq!(lines[46], simple("HELP"));
    assert_eq!(lines[47], simple("    Prints this help."));
    assert_eq!(
        r.run(["CLIENT", "HELP", "x"]),
        err("ERR wrong number of arguments for 'client|help' command")
    );
}

#[test]
fn specs_match_redis_metadata() {
    let r = CommandRunner::with_builtin_commands();
    let acl = |name: &str| {
        let cmd = r.server.table.get(name.as_bytes()).unwrap();
        AclCategory::in_set(cmd.acl_categories)
            .map(|c| c.name())
            .collect::<Vec<_>>()
    };
    assert_eq!(acl("ping"), ["fast", "connection"]);
    assert_eq!(acl("client"), ["slow"]);
    let client = r.server.table.get(b"client").unwrap();
    let kill = client.subcommand(b"kill").unwrap();
    assert_eq!(kill.spec.arity.as_redis(), -3);
    assert_eq!(
        AclCategory::in_set(kill.acl_categories)
            .map(|c| c.name())
            .collect::<Vec<_>>(),
        ["admin", "slow", "dangerous", "connection"]
    );
    let hello = r.server.table.get(b"hello").unwrap();
    assert!(hello.has(NoAuth) && hello.has(AllowBusy) && hello.has(NoScript));
}
