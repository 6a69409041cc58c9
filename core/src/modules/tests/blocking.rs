//! Blocking a client and answering it from another thread.

use super::*;
use crate::testing::argv_of;

thread_local! {
    /// The handles TEST.BLOCK made on this test's thread (tests run in parallel, each with
    /// servers whose client ids start alike).
    static HANDLES: std::cell::RefCell<Vec<BlockedHandle>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn block_cmd(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let timeout_ms = args.next_i64()?;
    let timeout = u64::try_from(timeout_ms)
        .ok()
        .filter(|&ms| ms > 0)
        .map(std::time::Duration::from_millis);
    let (handle, reply) = block_client(ctx, timeout, Frame::Null)?;
    HANDLES.with(|h| h.borrow_mut().push(handle));
    Ok(reply)
}

fn blocking_server() -> (crate::Server, u64, Arc<Inbox>) {
    let mut server = crate::Server::new(crate::config::Config::default());
    server
        .table
        .register(
            CommandSpec::new("test.block", Arity::Exact(2), block_cmd).flags(&[Flag::NoScript]),
        )
        .ok();
    let inbox = Arc::new(Inbox::default());
    let now = server.now_ms();
    let handle: Arc<dyn ConnectionHandle> = Arc::clone(&inbox) as Arc<dyn ConnectionHandle>;
    let id = server.connect_client(|id| {
        let mut client = Client::new(id, Peer::Internal, true, now);
        client.handle = Some(handle);
        client
    });
    (server, id, inbox)
}

/// The handle TEST.BLOCK made for `client` on this thread.
fn take_handle(client: u64) -> BlockedHandle {
    HANDLES.with(|handles| {
        let mut handles = handles.borrow_mut();
        let index = handles
            .iter()
            .position(|h| h.client_id() == client)
            .expect("a handle");
        handles.remove(index)
    })
}

#[test]
fn a_blocked_client_is_answered_from_another_thread() {
    let (mut server, id, inbox) = blocking_server();
    let outcome = execute(&mut server, id, &argv_of(&["test.block", "0"]));
    assert!(matches!(outcome, Outcome::Blocked(_)));
    assert!(server.blocked.is_blocked(id));
    assert_eq!(server.blocked.len(), 1);
    let handle = take_handle(id);
    std::thread::spawn(move || handle.complete(bulk("done")))
        .join()
        .expect("thread")
        .expect("client waits");
    assert_eq!(*inbox.0.lock().expect("lock"), vec![bulk("done")]);
    // Answered: not blocked any more, and a late timeout does not answer again.
    assert!(!server.blocked.is_blocked(id));
    assert_eq!(server.blocked.len(), 0);
    assert!(server.blocked.unblock(id).is_none());
}

#[test]
fn a_timed_out_client_refuses_the_late_reply() {
    let (mut server, id, inbox) = blocking_server();
    let outcome = execute(&mut server, id, &argv_of(&["test.block", "50"]));
    assert!(matches!(outcome, Outcome::Blocked(_)));
    let handle = take_handle(id);
    assert_eq!(server.blocked.with_timeout(), 1);
    // The connection's timer fires: it takes the record and answers the timeout reply.
    let record = server.blocked.unblock(id).expect("still blocked");
    assert_eq!(record.timeout_reply, Frame::Null);
    assert!(handle.is_aborted());
    assert_eq!(handle.complete(bulk("late")), Err(bulk("late")));
    assert!(inbox.0.lock().expect("lock").is_empty());
}

#[test]
fn a_completion_before_the_block_is_recorded_is_delivered() {
    let (mut server, id, inbox) = blocking_server();
    // The handler runs (through `dispatch`, which records nothing), another thread completes
    // the handle, and only then is the block recorded: the reply goes out at once.
    let reply = crate::dispatch::dispatch(&mut server, id, &argv_of(&["test.block", "0"]));
    assert_eq!(reply, Frame::Null);
    let handle = take_handle(id);
    assert!(handle.complete(bulk("early")).is_ok());
    assert!(inbox.0.lock().expect("lock").is_empty());
    server.blocked.block(
        id,
        crate::blocking::BlockedClient {
            db: 0,
            keys: Vec::new(),
            wants: crate::types::ValueType::Module,
            argv: argv_of(&["test.block", "0"]),
            timeout_reply: Frame::Null,
            key_gone_reply: None,
            deadline: None,
        },
    );
    assert_eq!(*inbox.0.lock().expect("lock"), vec![bulk("early")]);
    assert!(!server.blocked.is_blocked(id));
    // A later BLPOP of the same client blocks normally.
    let outcome = execute(&mut server, id, &argv_of(&["BLPOP", "list", "0"]));
    assert!(matches!(outcome, Outcome::Blocked(_)));
    assert!(server.blocked.is_blocked(id));
}

#[test]
fn blocking_inside_exec_answers_at_once() {
    let (mut server, id, _inbox) = blocking_server();
    execute(&mut server, id, &argv_of(&["MULTI"]));
    execute(&mut server, id, &argv_of(&["test.block", "0"]));
    let Outcome::Reply(reply) = execute(&mut server, id, &argv_of(&["EXEC"])) else {
        panic!("EXEC replies");
    };
    assert_eq!(reply, Frame::Array(vec![Frame::Null]));
    // The stray handle is refused once another command blocks the client.
    let handle = take_handle(id);
    let outcome = execute(&mut server, id, &argv_of(&["BLPOP", "list", "0"]));
    assert!(matches!(outcome, Outcome::Blocked(_)));
    assert!(handle.complete(bulk("nobody")).is_err());
}
