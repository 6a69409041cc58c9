//! Round trips of every type and encoding through DUMP payloads and whole files, and damaged
//! input: every truncation and many byte flips of valid payloads must be refused or decoded,
//! never panic.

use oxidis_core::config::Config;
use oxidis_core::testing::CommandRunner;
use oxidis_core::types::Value;

use crate::rdb::read::{LoadOptions, PayloadError, decode_dataset, restore_payload};
use crate::rdb::write::{SaveOptions, dump_payload, encode_dataset};

/// A runner holding one key of each type and encoding, in database 0.
fn dataset() -> CommandRunner {
    let mut r = CommandRunner::with_builtin_commands();
    let long = "x".repeat(100);
    let commands: Vec<Vec<String>> = vec![
        vec!["SET".into(), "int".into(), "-123456".into()],
        vec!["SET".into(), "embstr".into(), "hello".into()],
        vec!["SET".into(), "raw".into(), "abc".repeat(40)],
        vec![
            "RPUSH".into(),
            "list".into(),
            "a".into(),
            "1".into(),
            "-70000".into(),
            long.clone(),
        ],
        vec![
            "HSET".into(),
            "hash".into(),
            "f".into(),
            "v".into(),
            "n".into(),
            "5".into(),
        ],
        vec!["HSET".into(), "hashtable".into(), "f".into(), long.clone()],
        vec![
            "SADD".into(),
            "intset".into(),
            "3".into(),
            "1".into(),
            "-2".into(),
        ],
        vec!["SADD".into(), "set".into(), "a".into(), "b".into()],
        vec![
            "ZADD".into(),
            "zset".into(),
            "1.5".into(),
            "a".into(),
            "-2".into(),
            "b".into(),
        ],
        vec!["ZADD".into(), "skiplist".into(), "0.1".into(), long],
    ];
    for command in commands {
        r.run(command);
    }
    for i in 0..300 {
        r.run(["RPUSH", "biglist", &format!("element-{i}")]);
        r.run(["SADD", "bigset", &format!("{i}")]);
    }
    r.run(["EXPIRE", "embstr", "1000"]);
    r
}

fn options(config: &Config) -> (SaveOptions, LoadOptions) {
    let save = SaveOptions {
        compress: true,
        list_fill: config.list_max_listpack_size,
        packed_threshold: 1 << 30,
    };
    (save, LoadOptions::from_config(config, 1 << 30))
}

#[test]
fn every_value_round_trips_through_dump() {
    let r = dataset();
    let (save, load) = options(&r.server.config);
    for entry in r.server.dbs[0].iter() {
        let payload = dump_payload(&entry.value, save);
        let back = restore_payload(&payload, &load, false).expect("valid payload");
        assert_eq!(back, entry.value, "key {:?}", entry.key);
        assert_eq!(back.encoding_name(), entry.value.encoding_name());
    }
}

#[test]
fn a_whole_file_round_trips() {
    let r = dataset();
    let (_, load) = options(&r.server.config);
    let bytes = encode_dataset(&r.server, &[b"library code".to_vec()], 1);
    let now = r.server.now_ms();
    let loaded = decode_dataset(&bytes, &r.server.config, &load, now, 0).expect("valid file");
    assert_eq!(loaded.functions, vec![b"library code".to_vec()]);
    assert_eq!(loaded.keys_loaded, 12);
    let db = &loaded.dbs[0];
    for entry in r.server.dbs[0].iter() {
        let pos = db.find(&entry.key).expect("key loaded");
        assert_eq!(db.entry(pos).value, entry.value);
        assert_eq!(db.entry(pos).expire_at(), entry.expire_at());
    }
    // A flipped byte in the body breaks the checksum; a cut file is a short read.
    let mut bad = bytes.clone();
    bad[20] ^= 1;
    assert!(decode_dataset(&bad, &r.server.config, &load, now, 0).is_err());
    for cut in [9, bytes.len() / 2, bytes.len() - 1] {
        assert!(decode_dataset(&bytes[..cut], &r.server.config, &load, now, 0).is_err());
    }
}

#[test]
fn damaged_payloads_never_panic() {
    let r = dataset();
    let (save, load) = options(&r.server.config);
    for entry in r.server.dbs[0].iter() {
        let payload = dump_payload(&entry.value, save);
        let body = payload.len() - 10;
        // A cut body (with the CRC check off, as DEBUG SET-SKIP-CHECKSUM-VALIDATION allows)
        // is a short read.
        for cut in 0..body {
            let mut short = payload[..cut].to_vec();
            short.extend_from_slice(&payload[body..]);
            assert!(restore_payload(&short, &load, true).is_err());
        }
        for i in 0..body.min(300) {
            for flip in [0x01u8, 0x80, 0xFF] {
                let mut bad = payload.clone();
                bad[i] ^= flip;
                let _ = restore_payload(&bad, &load, true);
            }
        }
    }
}

#[test]
fn footer_errors_are_told_apart() {
    let (save, load) = options(&Config::default());
    let payload = dump_payload(&Value::string(b"bar"), save);
    let mut wrong_crc = payload.clone();
    let last = wrong_crc.len() - 1;
    wrong_crc[last] ^= 1;
    assert_eq!(
        restore_payload(&wrong_crc, &load, false),
        Err(PayloadError::Footer)
    );
    assert!(restore_payload(&wrong_crc, &load, true).is_ok());
    let mut newer = payload;
    let version_at = newer.len() - 10;
    newer[version_at] = 11;
    assert_eq!(
        restore_payload(&newer, &load, true),
        Err(PayloadError::Footer)
    );
    assert_eq!(
        restore_payload(b"short", &load, true),
        Err(PayloadError::Footer)
    );
}

#[test]
fn progress_is_reported_after_every_key() {
    let r = dataset();
    let (_, load) = options(&r.server.config);
    let bytes = encode_dataset(&r.server, &[], 1);
    let now = r.server.now_ms();
    let mut positions = Vec::new();
    let loaded = crate::rdb::read::decode_dataset_with_progress(
        &bytes,
        &r.server.config,
        &load,
        now,
        0,
        &mut |position| positions.push(position),
    )
    .expect("valid file");
    assert_eq!(positions.len(), 12);
    assert_eq!(loaded.keys_loaded, 12);
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    assert!(positions.last().is_some_and(|&p| p < bytes.len()));
}

#[test]
fn while_loading_only_loading_commands_run() {
    use oxidis_core::server::LoadingState;
    use oxidis_protocol::Frame;
    use std::sync::atomic::Ordering;
    let mut r = CommandRunner::with_builtin_commands();
    let state = LoadingState {
        start_unix_secs: r.server.now_ms() / 1000,
        total_bytes: 1000,
        ..LoadingState::default()
    };
    state.loaded_bytes.store(250, Ordering::Relaxed);
    r.server.persistence_state.loading = Some(state);
    // As a client's command (the gate leaves scripts and the AOF replay alone).
    let client = |r: &mut CommandRunner, argv: &[&str]| {
        let argv: Vec<bytes::Bytes> = argv
            .iter()
            .map(|a| bytes::Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        match oxidis_core::execute(&mut r.server, r.client, &argv) {
            oxidis_core::Outcome::Reply(reply) => reply,
            oxidis_core::Outcome::Blocked(_) => Frame::Null,
        }
    };
    let loading = Frame::error("LOADING Redis is loading the dataset in memory");
    assert_eq!(client(&mut r, &["GET", "k"]), loading);
    assert_eq!(client(&mut r, &["PING"]), loading);
    assert_eq!(client(&mut r, &["ECHO", "x"]), Frame::bulk("x"));
    let (Frame::Bulk(info) | Frame::Verbatim { text: info, .. }) =
        client(&mut r, &["INFO", "persistence"])
    else {
        panic!("INFO answers while loading");
    };
    let info = String::from_utf8_lossy(&info).into_owned();
    for line in [
        "loading:1",
        "async_loading:0",
        "loading_total_bytes:1000",
        "loading_loaded_bytes:250",
        "loading_loaded_perc:25.00",
        "loading_eta_seconds:1",
    ] {
        assert!(info.contains(&format!("{line}\r\n")), "{line} in {info}");
    }
    r.server.persistence_state.loading = None;
    assert_eq!(client(&mut r, &["GET", "k"]), Frame::Null);
    let (Frame::Bulk(info) | Frame::Verbatim { text: info, .. }) = r.run(["INFO", "persistence"])
    else {
        panic!("INFO answers");
    };
    assert!(!String::from_utf8_lossy(&info).contains("loading_total_bytes"));
}
