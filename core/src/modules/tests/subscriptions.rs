//! Keyspace and server event subscriptions.

use super::*;

#[test]
fn keyspace_subscribers_hear_their_classes_without_notify_keyspace_events() {
    let mut r = CommandRunner::with_builtin_commands();
    assert!(r.server.config.notify_keyspace_events == 0);
    let (seen, id) = record_keyspace(&mut r, class::LIST | class::GENERIC);
    r.run(["SET", "s", "1"]);
    r.run(["RPUSH", "l", "a"]);
    r.run(["LPOP", "l"]);
    r.run(["SELECT", "2"]);
    r.run(["RPUSH", "m", "b"]);
    r.run(["EXPIRE", "m", "100"]);
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![
            "0:rpush:l",
            "0:lpop:l",
            "0:del:l",
            "2:rpush:m",
            "2:expire:m"
        ]
    );
    assert!(events::unsubscribe(&mut r.server, id));
    r.run(["RPUSH", "m", "c"]);
    assert_eq!(seen.lock().expect("lock").len(), 5);
    assert_eq!(r.server.events.module_mask, 0);
}

#[test]
fn expiry_reaches_keyspace_subscribers() {
    let mut r = CommandRunner::with_builtin_commands();
    let (seen, _) = record_keyspace(&mut r, class::EXPIRED);
    r.run(["SET", "lazy", "v", "PX", "10"]);
    r.run(["SET", "active", "v", "PX", "10"]);
    r.advance_ms(50);
    // Reclaimed on access, then by the active cycle.
    assert_eq!(r.run(["GET", "lazy"]), Frame::Null);
    r.server.active_expire_cycle();
    assert_eq!(
        *seen.lock().expect("lock"),
        vec!["0:expired:lazy", "0:expired:active"]
    );
}

#[test]
fn events_raised_by_a_callback_are_delivered_in_a_later_round() {
    let mut r = CommandRunner::with_builtin_commands();
    // A subscriber to string events that records a `touched` GENERIC event of its own.
    events::subscribe_keyspace(
        &mut r.server,
        "writer",
        class::STRING,
        Box::new(|server, event| {
            server.events.push(crate::events::KeyEvent {
                class: class::GENERIC,
                name: "touched",
                db: event.db,
                key: event.key.clone(),
            });
        }),
    );
    let (seen, _) = record_keyspace(&mut r, class::GENERIC);
    r.run(["SET", "k", "v"]);
    assert_eq!(*seen.lock().expect("lock"), vec!["0:touched:k"]);
}

#[test]
fn server_events_reach_their_subscribers() {
    let mut r = CommandRunner::with_builtin_commands();
    let seen: Arc<Mutex<Vec<ServerEvent>>> = Arc::default();
    for kind in [
        ServerEventKind::Flush,
        ServerEventKind::ClientChange,
        ServerEventKind::CronTick,
    ] {
        let log = Arc::clone(&seen);
        events::subscribe_server_event(
            &mut r.server,
            "ev",
            kind,
            Box::new(move |_server, event| log.lock().expect("lock").push(event.clone())),
        );
    }
    r.run(["SELECT", "3"]);
    r.run(["FLUSHDB"]);
    r.run(["FLUSHALL"]);
    let now = r.server.now_ms();
    // An internal client (no connection) is not an event; a connection is.
    let internal = r
        .server
        .connect_client(|id| Client::new(id, Peer::Internal, true, now));
    r.server.disconnect_client(internal);
    let inbox: Arc<dyn ConnectionHandle> = Arc::new(Inbox::default());
    let id = r.server.connect_client(|id| {
        let mut client = Client::new(id, Peer::Internal, true, now);
        client.handle = Some(inbox);
        client
    });
    r.server.disconnect_client(id);
    events::cron_tick(&mut r.server);
    let hz = r.server.config.hz;
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![
            ServerEvent::Flush {
                phase: Phase::Start,
                db: Some(3)
            },
            ServerEvent::Flush {
                phase: Phase::End,
                db: Some(3)
            },
            ServerEvent::Flush {
                phase: Phase::Start,
                db: None
            },
            ServerEvent::Flush {
                phase: Phase::End,
                db: None
            },
            ServerEvent::ClientConnected(id),
            ServerEvent::ClientDisconnected(id),
            ServerEvent::CronTick { hz, cycle: 1 },
        ]
    );
    forget_owner(&mut r.server, "ev").expect("no types");
    r.run(["FLUSHALL"]);
    assert_eq!(seen.lock().expect("lock").len(), 7);
}

#[test]
fn commands_run_by_a_callback_reach_modules_in_a_later_round() {
    let mut r = CommandRunner::with_builtin_commands();
    let client = r.client;
    // On each `set`, a command: RPUSH audit <key> (raises `rpush`, class LIST).
    events::subscribe_keyspace(
        &mut r.server,
        "auditor",
        class::STRING,
        Box::new(move |server, event| {
            let argv = vec![
                Bytes::from_static(b"RPUSH"),
                Bytes::from_static(b"audit"),
                event.key.clone(),
            ];
            crate::dispatch::dispatch(server, client, &argv);
        }),
    );
    let (seen, _) = record_keyspace(&mut r, class::LIST | class::STRING);
    r.run(["SET", "k", "v"]);
    assert_eq!(
        *seen.lock().expect("lock"),
        vec!["0:set:k", "0:rpush:audit"]
    );
    assert_eq!(
        r.run(["LRANGE", "audit", "0", "-1"]),
        Frame::Array(vec![bulk("k")])
    );
}

#[test]
fn a_callback_may_unsubscribe_itself() {
    let mut r = CommandRunner::with_builtin_commands();
    let calls = Arc::new(Mutex::new(0));
    let count = Arc::clone(&calls);
    let id = Arc::new(Mutex::new(0));
    let own_id = Arc::clone(&id);
    let subscription = events::subscribe_keyspace(
        &mut r.server,
        "once",
        class::STRING,
        Box::new(move |server, _event| {
            *count.lock().expect("lock") += 1;
            let me = *own_id.lock().expect("lock");
            events::unsubscribe(server, me);
        }),
    );
    *id.lock().expect("lock") = subscription;
    r.run(["SET", "a", "1"]);
    r.run(["SET", "b", "1"]);
    assert_eq!(*calls.lock().expect("lock"), 1);
    assert_eq!(r.server.modules.subscriptions.counts(), (0, 0));
}
