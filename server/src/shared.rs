//! `Shared`: what every connection task and the cron task hold — the one keyspace behind its
//! lock, and the signal that asks the process to shut down.
//!
//! # Execution model
//! Redis semantics need one order of execution per keyspace, so commands run under one lock.
//! Everything else — reading, parsing, encoding, writing — happens outside it on every core.
//! A connection takes the lock once per *batch* of pipelined commands, not once per command.
//! The lock is a `parking_lot` mutex: it is never held across an `.await`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Poll, Waker};

use bytes::BytesMut;
use oxidis_protocol::{RespVersion, encode};

use oxidis_core::Server;
use parking_lot::Mutex;
use tokio::sync::Notify;

use oxidis_core::client::{ConnectionHandle, SharedPush};
use oxidis_protocol::Frame;

/// State shared by all tasks of the server.
pub struct Shared {
    /// The keyspace and everything commands touch.
    pub server: Mutex<Server>,
    /// Notified when a SHUTDOWN command or a signal asks the process to stop.
    pub shutdown: Notify,
    /// The running script, readable without the lock (BUSY replies, SCRIPT KILL).
    pub script_busy: Arc<oxidis_core::server::ScriptBusy>,
}

impl Shared {
    /// Wraps a server.
    pub fn new(server: Server) -> Arc<Shared> {
        Arc::new(Shared {
            script_busy: Arc::clone(&server.script_busy),
            server: Mutex::new(server),
            shutdown: Notify::new(),
        })
    }
}

impl Shared {
    /// Takes the lock without blocking the calling I/O thread while a script holds it: the
    /// thread keeps serving its other connections (which answer `BUSY`) meanwhile.
    pub async fn lock_async(&self) -> parking_lot::MutexGuard<'_, Server> {
        loop {
            if let Some(server) = self.server.try_lock() {
                return server;
            }
            if self
                .script_busy
                .running
                .load(std::sync::atomic::Ordering::SeqCst)
            {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            } else if let Some(server) = self
                .server
                .try_lock_for(std::time::Duration::from_millis(5))
            {
                return server;
            }
        }
    }
}

/// What a burst of pushed messages starts with.
const PUSH_CHUNK: usize = 512;

/// The most a drained push buffer keeps for the next messages; what a burst grew beyond it
/// is given back. The room kept is part of the 16 KiB reply buffer every client is counted
/// with in `tot-mem` ([`oxidis_core::client::REPLY_BUFFER_BYTES`], Redis's static buffer).
const PUSH_KEEP: usize = 4096;

impl Shared {
    /// The lock for a new connection, or `None` at once while a script is busy (past
    /// `busy-reply-threshold`): a connection made then is answered without the keyspace, as
    /// Redis serves its new clients from inside a busy script.
    pub async fn lock_unless_busy(&self) -> Option<parking_lot::MutexGuard<'_, Server>> {
        loop {
            if let Some(server) = self.server.try_lock() {
                return Some(server);
            }
            if self.script_busy.is_busy() {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
}

/// A wake-up for the one task that waits on it (a connection's): raising it wakes the task,
/// or, if the task is not waiting, makes its next wait complete at once (several raises
/// before then count as one), as `Notify::notify_one` does. Unlike `Notify`, a wait is not
/// entered in (and removed from) a list of waiters: the connection loop, which waits anew for
/// every request, pays an atomic swap and an uncontended lock per poll.
#[derive(Default)]
pub struct Wakeup {
    raised: AtomicBool,
    /// The waker of the task that waited last; kept (one task waits, with the same waker)
    /// so later waits need not clone it again.
    waker: Mutex<Option<Waker>>,
}

impl Wakeup {
    /// Wakes the waiting task, or lets its next wait complete at once.
    pub fn raise(&self) {
        self.raised.store(true, Ordering::Release);
        if let Some(waker) = &*self.waker.lock() {
            waker.wake_by_ref();
        }
    }

    /// Completes once [`raise`](Self::raise) has been called since the last wait completed.
    pub fn wait(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if self.raised.swap(false, Ordering::AcqRel) {
                return Poll::Ready(());
            }
            let mut waker = self.waker.lock();
            if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *waker = Some(cx.waker().clone());
            }
            drop(waker);
            // A raise between the first look and the recording may have found no waker (or
            // an old one): look again.
            if self.raised.swap(false, Ordering::AcqRel) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }
}

/// What the core sends a connection task besides closing it.
pub enum Mail {
    /// The reply of the command the client is blocked on.
    Reply(Frame),
    /// An out-of-band message caused by the running command, written after its reply.
    PushAfter(Frame),
}

/// How the core reaches one connection task: to close it (CLIENT KILL, `timeout`) or to hand
/// it the reply of the command it is blocked on.
pub struct ConnectionSignals {
    close: Wakeup,
    replies: tokio::sync::mpsc::UnboundedSender<Mail>,
    /// Bytes in the connection's output buffer not yet written to the socket.
    output_len: AtomicU64,
    /// What that buffer has allocated.
    output_capacity: AtomicU64,
    /// Bytes in `pushed`: with `output_len`, what `client-output-buffer-limit` measures.
    pushed_len: AtomicU64,
    /// Out-of-band messages (pub/sub, invalidations), encoded as they arrive for the client's
    /// protocol, until the connection takes them: like Redis's output buffer, a message costs
    /// a copy into it, and a burst of them one wake-up and one write.
    pushed: parking_lot::Mutex<BytesMut>,
    /// What an idle connection waits on: `pushed` stopped being empty, mail arrived
    /// (`push_after_reply`), or its query buffer should be trimmed.
    pub push_ready: Wakeup,
    /// Whether the client speaks RESP3, for encoding pushes (kept by the connection).
    resp3: AtomicBool,
    /// The client has idled: its query buffer's room should be given back.
    trim_input: AtomicBool,
    /// A message sent to many clients (PUBLISH to several subscribers) is waiting: the
    /// connection may let others run before writing, to take more of them in one write.
    fan_out: AtomicBool,
}

impl ConnectionSignals {
    /// Signals for one connection, and the receiving end of its blocked-command replies.
    pub fn new() -> (
        ConnectionSignals,
        tokio::sync::mpsc::UnboundedReceiver<Mail>,
    ) {
        let (replies, receiver) = tokio::sync::mpsc::unbounded_channel();
        let signals = ConnectionSignals {
            close: Wakeup::default(),
            replies,
            output_len: AtomicU64::new(0),
            output_capacity: AtomicU64::new(0),
            pushed_len: AtomicU64::new(0),
            pushed: parking_lot::Mutex::new(BytesMut::new()),
            push_ready: Wakeup::default(),
            resp3: AtomicBool::new(false),
            trim_input: AtomicBool::new(false),
            fan_out: AtomicBool::new(false),
        };
        (signals, receiver)
    }

    /// Takes the pushed messages waiting, if any (a command's reply follows them). With the
    /// policy of [`drain_pushed_into`](Self::drain_pushed_into): up to [`PUSH_KEEP`], a split
    /// (the next messages reuse the allocation once the taken part is written); a burst's
    /// bigger buffer goes whole.
    pub fn take_pushed(&self) -> Option<BytesMut> {
        let mut pushed = self.pushed.lock();
        if pushed.is_empty() {
            return None;
        }
        self.pushed_len.store(0, Ordering::Relaxed);
        if pushed.capacity() <= PUSH_KEEP {
            Some(pushed.split())
        } else {
            Some(std::mem::take(&mut *pushed))
        }
    }

    /// Moves the pushed messages waiting into `output`: `None` if there were none, else
    /// whether `output` was replaced by the push buffer itself. The push buffer keeps its
    /// room for the next messages (a steady stream costs a copy, no allocation) unless a
    /// burst grew it past [`PUSH_KEEP`]; such a burst moves whole into an empty `output`.
    pub fn drain_pushed_into(&self, output: &mut BytesMut) -> Option<bool> {
        let mut pushed = self.pushed.lock();
        if pushed.is_empty() {
            return None;
        }
        self.pushed_len.store(0, Ordering::Relaxed);
        if pushed.capacity() <= PUSH_KEEP {
            output.extend_from_slice(&pushed);
            pushed.clear();
            Some(false)
        } else if output.is_empty() {
            *output = std::mem::take(&mut *pushed);
            Some(true)
        } else {
            output.extend_from_slice(&pushed);
            *pushed = BytesMut::new();
            Some(false)
        }
    }

    /// Whether a message sent to many clients arrived since the last call.
    pub fn take_fan_out(&self) -> bool {
        self.fan_out.swap(false, Ordering::Relaxed)
    }

    /// Whether the query buffer should be given back (once: the request is cleared).
    pub fn take_trim_request(&self) -> bool {
        self.trim_input.swap(false, Ordering::Relaxed)
    }

    /// The protocol pushes are encoded for.
    fn resp(&self) -> RespVersion {
        if self.resp3.load(Ordering::Relaxed) {
            RespVersion::Resp3
        } else {
            RespVersion::Resp2
        }
    }

    /// Appends one pushed message with `write`, waking the connection if it had none.
    fn append_pushed(&self, write: impl FnOnce(&mut BytesMut)) {
        let mut pushed = self.pushed.lock();
        let was_empty = pushed.is_empty();
        if pushed.capacity() == 0 {
            pushed.reserve(PUSH_CHUNK);
        }
        write(&mut pushed);
        self.pushed_len
            .store(pushed.len() as u64, Ordering::Relaxed);
        drop(pushed);
        if was_empty {
            self.push_ready.raise();
        }
    }

    /// Records the client's protocol, which pushes are encoded for.
    pub fn set_resp(&self, resp: RespVersion) {
        self.resp3
            .store(resp == RespVersion::Resp3, Ordering::Relaxed);
    }

    /// Records how many bytes the connection's output buffer holds unwritten, and what it
    /// has allocated.
    pub fn set_output(&self, bytes: usize, capacity: usize) {
        self.output_len.store(bytes as u64, Ordering::Relaxed);
        self.output_capacity
            .store(capacity as u64, Ordering::Relaxed);
    }

    /// Completes once `close` has been called (immediately if it already was).
    pub async fn closed(&self) {
        self.close.wait().await;
    }
}

impl ConnectionHandle for ConnectionSignals {
    fn close(&self) {
        // The request stays raised, so a close requested while the task is busy executing
        // is seen at its next wait.
        self.close.raise();
    }

    fn deliver(&self, reply: Frame) {
        // The receiver is gone only when the connection is, and then nobody needs the reply.
        let _ = self.replies.send(Mail::Reply(reply));
    }

    fn push(&self, message: Frame) {
        self.push_ref(&message);
    }

    fn trim_query_buffer(&self) {
        self.trim_input.store(true, Ordering::Relaxed);
        self.push_ready.raise();
    }

    fn push_ref(&self, message: &Frame) {
        let resp = self.resp();
        self.append_pushed(|pushed| encode(message, resp, pushed));
    }

    fn push_shared(&self, message: &SharedPush<'_>) {
        if message.is_fan_out() {
            self.fan_out.store(true, Ordering::Relaxed);
        }
        let resp = self.resp();
        self.append_pushed(|pushed| message.write(resp, pushed));
    }

    fn push_after_reply(&self, message: Frame) {
        let _ = self.replies.send(Mail::PushAfter(message));
        // An idle connection waits on `push_ready` alone, and takes its mail then.
        self.push_ready.raise();
    }

    fn pending_bytes(&self) -> u64 {
        self.output_len.load(Ordering::Relaxed) + self.pushed_len.load(Ordering::Relaxed)
    }

    fn output_memory(&self) -> u64 {
        let pushed = self.pushed_len.load(Ordering::Relaxed);
        if self.output_len.load(Ordering::Relaxed) == 0 && pushed == 0 {
            return 0;
        }
        self.output_capacity.load(Ordering::Relaxed) + pushed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(len: usize) -> Frame {
        Frame::Bulk(bytes::Bytes::from(vec![b'x'; len]))
    }

    fn encoded(frames: &[Frame]) -> BytesMut {
        let mut out = BytesMut::new();
        for frame in frames {
            encode(frame, RespVersion::Resp2, &mut out);
        }
        out
    }

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Counter(AtomicU64);

    impl std::task::Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wakeup_raised_early_completes_the_next_wait_once() {
        let wakeup = Wakeup::default();
        let counter = Arc::new(Counter::default());
        let waker = Waker::from(counter.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        // Raised twice before anyone waits: one wait completes, the next does not.
        wakeup.raise();
        wakeup.raise();
        assert!(std::pin::pin!(wakeup.wait()).poll(&mut cx).is_ready());
        let mut wait = std::pin::pin!(wakeup.wait());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        // Raised while waiting: the task is woken and the wait completes.
        wakeup.raise();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(wait.as_mut().poll(&mut cx).is_ready());
        // A later wait records the waker anew only if it changed; both are woken alike.
        let other = Arc::new(Counter::default());
        let other_waker = Waker::from(other.clone());
        let mut wait = std::pin::pin!(wakeup.wait());
        assert!(
            wait.as_mut()
                .poll(&mut std::task::Context::from_waker(&other_waker))
                .is_pending()
        );
        wakeup.raise();
        assert_eq!(other.0.load(Ordering::SeqCst), 1);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_drained_push_buffer_keeps_its_room_for_the_next_messages() {
        let (signals, _mail) = ConnectionSignals::new();
        let mut output = BytesMut::from(&b"+OK\r\n"[..]);
        assert_eq!(signals.drain_pushed_into(&mut output), None);
        signals.push_ref(&bulk(10));
        signals.push_ref(&bulk(20));
        assert_eq!(
            signals.pending_bytes(),
            encoded(&[bulk(10), bulk(20)]).len() as u64
        );
        let room = signals.pushed.lock().capacity();
        assert_eq!(signals.drain_pushed_into(&mut output), Some(false));
        assert_eq!(output[5..], encoded(&[bulk(10), bulk(20)])[..]);
        assert_eq!(signals.pending_bytes(), 0);
        assert!(signals.pushed.lock().is_empty());
        assert_eq!(signals.pushed.lock().capacity(), room);
    }

    #[test]
    fn a_burst_past_the_kept_room_moves_whole_or_is_given_back() {
        let (signals, _mail) = ConnectionSignals::new();
        // Into an empty output, the burst's buffer itself becomes the output.
        signals.push_ref(&bulk(PUSH_KEEP * 2));
        let mut output = BytesMut::new();
        assert_eq!(signals.drain_pushed_into(&mut output), Some(true));
        assert_eq!(output, encoded(&[bulk(PUSH_KEEP * 2)]));
        assert_eq!(signals.pushed.lock().capacity(), 0);
        // Behind pending output, it is copied and its room given back.
        signals.push_ref(&bulk(PUSH_KEEP * 2));
        assert_eq!(signals.drain_pushed_into(&mut output), Some(false));
        assert_eq!(output, encoded(&[bulk(PUSH_KEEP * 2), bulk(PUSH_KEEP * 2)]));
        assert_eq!(signals.pushed.lock().capacity(), 0);
    }

    #[test]
    fn taking_pushes_before_a_reply_follows_the_same_policy() {
        let (signals, _mail) = ConnectionSignals::new();
        signals.push_ref(&bulk(10));
        let taken = signals.take_pushed();
        assert_eq!(taken.as_deref(), Some(&encoded(&[bulk(10)])[..]));
        assert!(signals.pushed.lock().capacity() > 0, "room kept");
        signals.push_ref(&bulk(PUSH_KEEP * 2));
        assert!(signals.take_pushed().is_some());
        assert_eq!(signals.pushed.lock().capacity(), 0, "a burst goes whole");
    }
}
