//! Unit tests of the loader's conversions: module metadata into core specs, replies between
//! frames and ABI tokens, MODULE HELP/LIST without modules.

use super::*;
use bytes::Bytes;
use oxidis_core::testing::CommandRunner;
use oxidis_module_api::abi::Token;
use oxidis_module_api::abi_stable::std_types::RVec;
use oxidis_protocol::{Frame, RespVersion};

fn desc(first: i32, last: i32, step: i32) -> CommandDesc {
    CommandDesc {
        name: "x.y".into(),
        arity: 2,
        flags: RString::new(),
        first_key: first,
        last_key: last,
        key_step: step,
        acl_categories: RString::new(),
        summary: RString::new(),
        since: RString::new(),
        complexity: RString::new(),
        key_specs: RVec::new(),
    }
}

#[test]
fn legacy_key_positions_become_one_range_spec() {
    let specs = key_specs(&desc(1, 3, 2)).expect("valid");
    assert_eq!(
        specs,
        &[KeySpec::range(
            1,
            2,
            2,
            &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]
        )]
    );
    let specs = key_specs(&desc(2, -1, 1)).expect("valid");
    assert_eq!(
        specs[0].find,
        FindKeys::Range {
            last_key: -1,
            step: 1,
            limit: 0
        }
    );
    assert!(key_specs(&desc(0, 0, 0)).expect("no keys").is_empty());
    assert!(key_specs(&desc(3, 1, 1)).is_err());
    assert!(key_specs(&desc(1, 1, 0)).is_err());
    // Interned: the same list is the same slice.
    let a = key_specs(&desc(1, 1, 1)).expect("valid");
    let b = key_specs(&desc(1, 1, 1)).expect("valid");
    assert!(std::ptr::eq(a, b));
}

#[test]
fn module_flag_words() {
    assert_eq!(command_flag("write"), Some(Flag::Write.bit()));
    assert_eq!(command_flag("DENY-OOM"), Some(Flag::DenyOom.bit()));
    assert_eq!(command_flag("deny-script"), Some(Flag::NoScript.bit()));
    assert_eq!(command_flag("random"), Some(0));
    assert_eq!(command_flag("bogus"), None);
}

#[test]
fn replies_convert_both_ways() {
    let frame = Frame::Array(vec![
        Frame::Integer(1),
        Frame::Map(vec![(Frame::bulk("k"), Frame::Double(1.5))]),
        Frame::Set(vec![Frame::Boolean(true)]),
        Frame::Null,
        Frame::Error(Bytes::from_static(b"ERR x")),
        Frame::Verbatim {
            format: *b"txt",
            text: Bytes::from_static(b"hi"),
        },
    ]);
    let mut tokens = RVec::new();
    host::frame_to_tokens(frame.clone(), RespVersion::Resp3, &mut tokens);
    assert_eq!(tokens[0], Token::Array(6));
    assert_eq!(host::tokens_to_frame(tokens), frame);
    // `call` hands modules the RESP2 form, as RedisModule_Call does by default.
    let mut tokens = RVec::new();
    host::frame_to_tokens(frame, RespVersion::Resp2, &mut tokens);
    assert_eq!(
        host::tokens_to_frame(tokens),
        Frame::Array(vec![
            Frame::Integer(1),
            Frame::Array(vec![Frame::bulk("k"), Frame::bulk("1.5")]),
            Frame::Array(vec![Frame::Integer(1)]),
            Frame::Null,
            Frame::Error(Bytes::from_static(b"ERR x")),
            Frame::bulk("hi"),
        ])
    );
    // A packed bulk array arrives as an array of bulks.
    let mut packed = oxidis_protocol::BulkArray::with_capacity(2, 4);
    packed.push(b"a");
    packed.push(b"bc");
    let mut tokens = RVec::new();
    host::frame_to_tokens(Frame::BulkArray(packed), RespVersion::Resp3, &mut tokens);
    assert_eq!(
        host::tokens_to_frame(tokens),
        Frame::Array(vec![Frame::bulk("a"), Frame::bulk("bc")])
    );
    // A truncated tree is padded with nulls rather than trusted.
    assert_eq!(
        host::tokens_to_frame(RVec::from(vec![Token::Array(2), Token::Int(1)])),
        Frame::Array(vec![Frame::Integer(1), Frame::Null])
    );
}

#[test]
fn module_subcommands_without_modules() {
    let mut r = CommandRunner::with_builtin_commands();
    register(&mut r.server.table).expect("registers");
    assert_eq!(r.run(["MODULE", "LIST"]), Frame::Array(vec![]));
    let Frame::Array(help) = r.run(["MODULE", "HELP"]) else {
        panic!("an array")
    };
    assert_eq!(help.len(), 11);
    assert_eq!(
        r.run(["MODULE", "UNLOAD", "nope"]),
        Frame::error(MODULE_DISABLED)
    );
}
