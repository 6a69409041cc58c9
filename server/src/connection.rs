//! One client connection: read, parse, execute in batches, encode, write.
//!
//! The loop reads whatever the socket has, parses every complete command in the buffer
//! (pipelining), runs the batch under one acquisition of the keyspace lock, encodes the replies
//! after releasing it, and writes what the socket takes at once. A protocol error answers
//! `-ERR Protocol error: ...` and closes this connection only.
//!
//! As in Redis, a client that does not read its replies does not stop being served: what the
//! socket does not take stays in the output buffer (written as the socket drains, while the
//! connection keeps reading and running commands), where it is counted (`omem=`, `tot-mem=`)
//! and bounded by `client-output-buffer-limit` and `maxmemory-clients`.
//!
//! A command that blocks (BLPOP on an empty list) stops the batch: the connection writes what
//! it has, then waits — without polling — for the reply the core delivers when a key is
//! written, for the timeout, or for the peer to go away; then it goes on with the rest.

use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use oxidis_core::client::{Client, ClientId, Peer, ReplyMode};
use oxidis_core::config::value::OutputBufferLimit;
use oxidis_core::{Outcome, Server};
use oxidis_protocol::{Frame, RequestLimits, RequestParser, RespVersion, encode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::debug;

use crate::shared::{ConnectionSignals, Mail, Shared};

/// Most commands run in one batch; a longer pipeline is executed in several, so one client
/// cannot hold the keyspace lock for long.
const MAX_BATCH: usize = 1024;

/// The read buffer's starting capacity; it grows for big requests.
const READ_CHUNK: usize = 16 * 1024;

/// An incomplete request at least this long is reported to the core as it grows (CLIENT
/// LIST's `qbuf=`, `maxmemory-clients`), not only when it completes.
const BIG_QUERY: usize = 32 * 1024;

/// An output buffer that grew past this is given back once it is written out (what it
/// holds counts in `used_memory`, and so for `maxmemory`).
const OUTPUT_KEEP: usize = 32 * 1024;

/// An empty input buffer that grew past this (a big argument) is given back after the batch.
const INPUT_KEEP: usize = 64 * 1024;

/// The `client-output-buffer-limit` classes, as indexes of the config's limits.
const CLASS_NORMAL: usize = 0;
const CLASS_REPLICA: usize = 1;
const CLASS_PUBSUB: usize = 2;

/// What the connection must know of the configuration, refreshed after each batch.
#[derive(Clone, Copy)]
struct Limits {
    request: RequestLimits,
    query_buffer: usize,
    output: [OutputBufferLimit; 3],
    /// `maxmemory-clients` is set: buffer growth is reported to the core at once.
    client_eviction: bool,
}

/// Registers a client for `peer`, serves it until it leaves, then unregisters it.
pub async fn serve<S>(shared: Arc<Shared>, stream: S, peer: Peer)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (signals, replies) = ConnectionSignals::new();
    let signals = Arc::new(signals);
    let peer_name = peer.addr();
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut early = BytesMut::new();
    let (id, limits) = {
        let mut server = loop {
            if let Some(server) = shared.lock_unless_busy().await {
                break server;
            }
            if !answer_while_busy(&shared, &mut reader, &mut writer, &mut early).await {
                return;
            }
        };
        let now = server.now_ms();
        let authenticated = !server.requires_auth();
        let handle = signals.clone();
        let id = server.connect_client(|id| {
            let mut client = Client::new(id, peer, authenticated, now);
            client.handle = Some(handle);
            client
        });
        (id, Connection::limits(&server))
    };
    debug!("Accepted {peer_name}");
    let mut connection = Connection::new(shared.clone(), id, replies, signals.clone(), limits);
    connection.input.extend_from_slice(&early);
    tokio::select! {
        // In this order (no random pick): the connection's own work first.
        biased;
        result = connection.run(&mut reader, &mut writer) => {
            if let Err(err) = result {
                debug!(client = id, error = %err, "connection ended");
            }
        }
        () = signals.closed() => debug!(client = id, "closed by the server"),
    }
    shared.lock_async().await.disconnect_client(id);
    debug!("Client closed connection id={id} addr={peer_name}");
}

/// The per-connection buffers and parser; reused for every batch, so the steady state
/// allocates nothing per command.
struct Connection {
    shared: Arc<Shared>,
    id: ClientId,
    parser: RequestParser,
    limits: Limits,
    /// The client's `client-output-buffer-limit` class as of its last batch.
    output_class: usize,
    /// When the output buffer first went past the class's soft limit.
    soft_limit_since: Option<Instant>,
    input: BytesMut,
    output: BytesMut,
    /// Bytes written from the front of `output` whose room it still holds.
    output_consumed: usize,
    batch: Vec<Vec<Bytes>>,
    replies: Vec<Out>,
    /// Replies to blocked commands, delivered by whichever command served them.
    mailbox: UnboundedReceiver<Mail>,
    /// The sending side: pushed messages, and the output length the core reads.
    signals: Arc<ConnectionSignals>,
    /// The client's protocol as of its last command.
    resp: RespVersion,
    /// Traffic not yet added to the server's counters (added under the next batch's lock).
    unreported_in: u64,
    unreported_out: u64,
    unreported_reads: u64,
    unreported_writes: u64,
    /// The query buffer's length before the batch was parsed: like Redis, CLIENT LIST's
    /// `qbuf` counts the running command's own bytes.
    query_len_at_parse: usize,
    /// The query buffer's room when the batch was parsed (parsing splits commands off the
    /// front, but their room stays allocated until the buffer is trimmed).
    query_room: usize,
    /// With the AOF on: its group write (and with `appendfsync always` fsync) the replies in
    /// `output` must wait for.
    durable_wait: Option<crate::extensions::DurableWait>,
    /// The client's MULTI state, kept for batches answered without the lock.
    multi: BusyMulti,
}

/// A client's MULTI state as a connection sees it while a script is busy. Redis still runs
/// MULTI then (it is `allow-busy`), flags the transaction of every command refused with BUSY,
/// and answers EXEC with EXECABORT; without the lock the connection records what to apply to
/// the client's transaction at its next batch.
#[derive(Debug, Clone, Copy, Default)]
struct BusyMulti {
    /// Whether the client is inside MULTI (as of its last command).
    in_multi: bool,
    /// The transaction state to apply at the next batch, if the busy answers changed it.
    pending: Option<PendingMulti>,
}

/// See [`BusyMulti::pending`].
#[derive(Debug, Clone, Copy)]
enum PendingMulti {
    /// In MULTI; `aborted` when a command was refused.
    Multi { aborted: bool },
    /// Out of MULTI (EXEC answered EXECABORT).
    Discarded,
}

/// What a batch writes, in order: replies to encode, and pushed messages already encoded.
enum Out {
    Reply(Frame, RespVersion),
    Pushed(BytesMut),
}

/// Where a batch stopped.
enum After {
    /// Every command ran.
    Done,
    /// The connection must close once the replies so far are written.
    Close,
    /// The client is gone (evicted, or over its output limit): close, writing nothing more.
    Dropped,
    /// The command at this index blocked; the ones after it have not run.
    Blocked {
        index: usize,
        deadline: Option<Instant>,
    },
}

impl Connection {
    /// The limits a new connection starts with.
    fn limits(server: &Server) -> Limits {
        let mut limits = Limits {
            request: RequestLimits {
                proto_max_bulk_len: server.config.proto_max_bulk_len,
                authenticated: !server.requires_auth(),
            },
            query_buffer: 0,
            output: server.config.client_output_buffer_limit,
            client_eviction: false,
        };
        refresh_limits(server, None, &mut limits);
        limits
    }

    fn new(
        shared: Arc<Shared>,
        id: ClientId,
        mailbox: UnboundedReceiver<Mail>,
        signals: Arc<ConnectionSignals>,
        limits: Limits,
    ) -> Connection {
        Connection {
            shared,
            id,
            parser: RequestParser::new(),
            limits,
            output_class: CLASS_NORMAL,
            soft_limit_since: None,
            input: BytesMut::with_capacity(READ_CHUNK),
            output: BytesMut::with_capacity(READ_CHUNK),
            output_consumed: 0,
            batch: Vec::new(),
            replies: Vec::new(),
            mailbox,
            signals,
            resp: RespVersion::Resp2,
            unreported_in: 0,
            unreported_out: 0,
            unreported_reads: 0,
            unreported_writes: 0,
            query_len_at_parse: 0,
            query_room: READ_CHUNK,
            durable_wait: None,
            multi: BusyMulti::default(),
        }
    }

    async fn run<R, W>(&mut self, reader: &mut R, writer: &mut W) -> std::io::Result<()>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let signals = self.signals.clone();
        loop {
            // A buffer given back while idle (capacity 0) is not replaced until data comes:
            // the first read then takes a small one.
            if self.input.capacity() != 0 && self.input.capacity() - self.input.len() < 1024 {
                self.input.reserve(READ_CHUNK);
            }
            // Between commands the core may hand us messages of our own (pub/sub pushes,
            // invalidations): write them as they come.
            tokio::select! {
                // In this order, without tokio's random pick: requests first, which cannot
                // starve pushes, as every reply takes the pushes waiting with it.
                biased;
                read = reader.read_buf(&mut self.input) => {
                    let read = read?;
                    if read == 0 {
                        return Ok(());
                    }
                    self.unreported_in += read as u64;
                    self.unreported_reads += 1;
                }
                () = signals.push_ready.wait() => {
                    // A message many clients get costs a write to each: let the
                    // connections ready by the next poll of the sockets (publishers) run
                    // first, so one write takes a longer burst. (Redis writes once per
                    // event-loop iteration; this spans two.) A message for this client alone
                    // is written at once: waiting would cost a poll and save nothing.
                    if self.signals.take_fan_out() {
                        tokio::task::yield_now().await;
                    }
                    if self.signals.take_trim_request() && self.input.is_empty() {
                        self.input = BytesMut::new();
                        self.query_room = 0;
                    }
                    self.take_pushed();
                    // Mail comes with the same signal. Not blocked, so only pushes can
                    // arrive; a stale reply has nobody to go to.
                    while let Ok(mail) = self.mailbox.try_recv() {
                        if let Mail::PushAfter(message) = mail {
                            encode(&message, self.resp, &mut self.output);
                        }
                    }
                    self.flush(writer).await?;
                    if self.limits.client_eviction
                        && !self.output.is_empty()
                        && !self.report_output_buffer().await
                    {
                        return Ok(());
                    }
                    continue;
                }
                // The socket takes more of a reply the client was slow to read.
                written = writer.write(&self.output), if !self.output.is_empty() => {
                    self.written(written?)?;
                    continue;
                }
            }
            // Parse and run batch after batch until the buffer holds no complete command.
            loop {
                let (count, protocol_error) = self.parse_batch();
                // Like Redis's query buffer trimming: room a big request needed is given back
                // once requests no longer need it (the buffer is over twice this peak).
                if self.input.is_empty()
                    && self.input.capacity() > BIG_QUERY
                    && self.input.capacity() / 2 > self.query_len_at_parse
                {
                    self.input = BytesMut::with_capacity(READ_CHUNK);
                    self.query_room = READ_CHUNK;
                }
                if count == 0
                    && protocol_error.is_none()
                    && self.input.len() >= BIG_QUERY
                    && !self.report_query_buffer().await
                {
                    return Ok(());
                }
                let mut start = 0;
                let mut close = false;
                while start < count {
                    match self.execute(start, count).await {
                        After::Done => break,
                        After::Close => {
                            close = true;
                            break;
                        }
                        After::Dropped => return Ok(()),
                        After::Blocked { index, deadline } => {
                            self.flush(writer).await?;
                            if !self.wait_unblocked(reader, writer, deadline).await? {
                                return Ok(());
                            }
                            start = index + 1;
                        }
                    }
                }
                self.clear_batch(count);
                if !close && let Some(err) = protocol_error {
                    encode(&err.to_frame(), RespVersion::Resp2, &mut self.output);
                    debug!(client = self.id, error = %err, "closing connection after protocol error");
                    close = true;
                }
                if !close && self.input.len() > self.limits.query_buffer {
                    tracing::warn!(
                        client = self.id,
                        "closing client that reached max query buffer length"
                    );
                    close = true;
                }
                if close {
                    return self.flush_all(writer).await;
                }
                self.flush(writer).await?;
                if self.limits.client_eviction
                    && !self.output.is_empty()
                    && !self.report_output_buffer().await
                {
                    return Ok(());
                }
                if count < MAX_BATCH {
                    break;
                }
            }
        }
    }

    /// Parses up to [`MAX_BATCH`] commands from the input buffer into `self.batch`.
    fn parse_batch(&mut self) -> (usize, Option<oxidis_protocol::ProtocolError>) {
        self.query_len_at_parse = self.input.len();
        self.query_room = self.input.capacity();
        let mut count = 0;
        while count < MAX_BATCH {
            if self.batch.len() == count {
                self.batch.push(Vec::new());
            }
            match self.parser.parse(
                &mut self.input,
                &self.limits.request,
                &mut self.batch[count],
            ) {
                Ok(true) if self.batch[count].is_empty() => {}
                Ok(true) => count += 1,
                Ok(false) => break,
                Err(err) => return (count, Some(err)),
            }
        }
        (count, None)
    }

    /// Runs parsed commands `start..count` under one lock, then encodes their replies. A batch
    /// that runs a script (which may run for long) executes on tokio's blocking pool, so this
    /// I/O thread keeps serving its other connections: they wait for the lock, and answer
    /// `BUSY` once the script passes `busy-reply-threshold` (see [`Batch::run`]).
    async fn execute(&mut self, start: usize, count: usize) -> After {
        let job = Batch {
            shared: Arc::clone(&self.shared),
            id: self.id,
            resp: self.resp,
            query_len_at_parse: self.query_len_at_parse,
            query_rest: self.query_buffer_fields(),
            output_len: self.output.len(),
            unreported_in: std::mem::take(&mut self.unreported_in),
            unreported_out: std::mem::take(&mut self.unreported_out),
            unreported_reads: std::mem::take(&mut self.unreported_reads),
            unreported_writes: std::mem::take(&mut self.unreported_writes),
            signals: Arc::clone(&self.signals),
            limits: self.limits,
            output_class: self.output_class,
            replies: std::mem::take(&mut self.replies),
            multi: self.multi,
        };
        let busy = &self.shared.script_busy;
        let done = if self.batch[start..count]
            .iter()
            .any(|argv| runs_script(argv) && !runs_briefly(busy, argv))
        {
            let commands = self.batch[start..count].to_vec();
            // The mailbox travels with the batch (messages the commands push to this client
            // go before their replies) and comes back after.
            let (_sender, placeholder) = tokio::sync::mpsc::unbounded_channel();
            let mut mailbox = std::mem::replace(&mut self.mailbox, placeholder);
            let result = tokio::task::spawn_blocking(move || {
                let done = job.run(&commands, &mut mailbox);
                (done, mailbox)
            })
            .await;
            match result {
                Ok((done, mailbox)) => {
                    self.mailbox = mailbox;
                    done
                }
                Err(_) => return After::Close,
            }
        } else {
            job.run(&self.batch[start..count], &mut self.mailbox)
        };
        self.resp = done.resp;
        self.limits = done.limits;
        self.output_class = done.output_class;
        self.multi = done.multi;
        self.replies = done.replies;
        if matches!(done.after, After::Dropped) {
            self.replies.clear();
            return After::Dropped;
        }
        // The batch's writes reach the replicas and the AOF (its group write, fsynced with
        // `appendfsync always`) before its replies are sent (see `flush`).
        if let Some(wait) = done.durable_wait {
            self.durable_wait = Some(wait);
        }
        for out in self.replies.drain(..) {
            match out {
                Out::Reply(reply, resp) => encode(&reply, resp, &mut self.output),
                Out::Pushed(bytes) => {
                    if append(&mut self.output, bytes) {
                        self.output_consumed = 0;
                    }
                }
            }
        }
        // Like Redis, the limit applies to what is queued before any of it is written: a
        // reply bigger than the hard limit closes the client without being sent.
        if self.over_output_limit() {
            self.close_for_output_limit();
            return After::Dropped;
        }
        match done.after {
            After::Blocked { index, deadline } => After::Blocked {
                index: index + start,
                deadline,
            },
            other => other,
        }
    }

    /// Waits until the blocked command has its reply (encoded into the output), its timeout
    /// passes, or the peer goes away (false). Input that arrives meanwhile is kept for later.
    async fn wait_unblocked<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
        &mut self,
        reader: &mut R,
        writer: &mut W,
        deadline: Option<Instant>,
    ) -> std::io::Result<bool> {
        let timeout = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(timeout);
        loop {
            if self.input.capacity() - self.input.len() < 1024 {
                self.input.reserve(READ_CHUNK);
            }
            let signals = self.signals.clone();
            tokio::select! {
                // A message while blocked is written ahead of the reply, as Redis does.
                () = signals.push_ready.wait() => self.take_pushed(),
                mail = self.mailbox.recv() => match mail {
                    Some(Mail::Reply(reply)) => {
                        self.take_pushed();
                        encode(&reply, self.resp, &mut self.output);
                        return Ok(true);
                    }
                        Some(Mail::PushAfter(message)) => {
                        encode(&message, self.resp, &mut self.output);
                    }
                    None => return Ok(false),
                },
                written = writer.write(&self.output), if !self.output.is_empty() => {
                    self.written(written?)?;
                }
                () = &mut timeout => {
                    let expired = self.shared.server.lock().blocked.unblock(self.id);
                    match expired {
                        Some(blocked) => encode(&blocked.timeout_reply, self.resp, &mut self.output),
                        // Served while the timer fired: the reply is already in the mailbox.
                        None => {
                            self.take_pushed();
                            while let Some(mail) = self.mailbox.recv().await {
                                let (Mail::Reply(frame) | Mail::PushAfter(frame)) = &mail;
                                encode(frame, self.resp, &mut self.output);
                                if matches!(mail, Mail::Reply(_)) {
                                    break;
                                }
                            }
                        }
                    }
                    return Ok(true);
                }
                read = reader.read_buf(&mut self.input) => {
                    let read = read?;
                    if read == 0 {
                        return Ok(false);
                    }
                    self.unreported_in += read as u64;
                    self.unreported_reads += 1;
                }
            }
        }
    }

    /// Appends the pushed messages waiting (already encoded) to the output.
    fn take_pushed(&mut self) {
        if let Some(moved) = self.signals.drain_pushed_into(&mut self.output) {
            if moved {
                self.output_consumed = 0;
            }
            self.report_output_len();
        }
    }

    /// After a batch: the argument vectors are emptied for reuse, but what one huge command
    /// grew (a 100,000-member SADD) is given back, as Redis frees a client's argv and trims an
    /// idle query buffer — it counts in `used_memory`, and so for `maxmemory`.
    fn clear_batch(&mut self, count: usize) {
        const ARGV_KEEP: usize = 1024;
        for argv in &mut self.batch[..count] {
            if argv.capacity() > ARGV_KEEP {
                *argv = Vec::new();
            } else {
                argv.clear();
            }
        }
        self.parser.shrink();
        // `capacity()` is only this buffer's view: after the commands were split off, the
        // allocation they were read into can be far bigger, so the batch's size decides.
        let grew = self.input.capacity().max(self.query_len_at_parse) > INPUT_KEEP;
        if self.input.is_empty() && grew {
            self.input = BytesMut::with_capacity(READ_CHUNK);
        }
    }

    /// `qbuf=` and `qbuf-free=` of CLIENT LIST for what the input buffer holds now. Redis
    /// keeps a big argument being received alone in its query buffer, sized for it exactly.
    fn query_buffer_fields(&self) -> (usize, usize) {
        // What was parsed off the front still counts as room (the next read reclaims it).
        let free = self
            .input
            .capacity()
            .max(self.query_room)
            .max(READ_CHUNK)
            .saturating_sub(self.input.len());
        if let Some((start, _)) = self.parser.pending_big_bulk() {
            return (self.input.len().saturating_sub(start), free);
        }
        (self.input.len(), free)
    }

    /// Tells the core how big an incomplete request has grown, and lets `maxmemory-clients`
    /// act on it. False when the client was evicted.
    async fn report_query_buffer(&mut self) -> bool {
        let (qbuf, free) = self.query_buffer_fields();
        let mut server = self.shared.lock_async().await;
        let Some(client) = server.clients.get_mut(self.id) else {
            return false;
        };
        client.query_buffer_len = qbuf;
        client.query_buffer_free = free;
        if self.limits.client_eviction {
            oxidis_core::client::update_memory_and_evict(&mut server, Some(self.id));
        }
        server.clients.get(self.id).is_some()
    }

    /// Lets `maxmemory-clients` see output the socket did not take. False when the client
    /// was evicted.
    async fn report_output_buffer(&mut self) -> bool {
        let mut server = self.shared.lock_async().await;
        oxidis_core::client::update_memory_and_evict(&mut server, Some(self.id));
        server.clients.get(self.id).is_some()
    }

    /// Whether the unwritten output breaks the client's `client-output-buffer-limit`: past
    /// the hard limit, or past the soft one for longer than its seconds.
    fn over_output_limit(&mut self) -> bool {
        let limit = self.limits.output[self.output_class];
        if limit.hard_bytes == 0 && limit.soft_bytes == 0 {
            return false;
        }
        // Redis counts its reply list; an array reply (a deferred length) goes there whole.
        let pending = self.output.len() as u64;
        if limit.hard_bytes != 0 && pending >= limit.hard_bytes {
            return true;
        }
        if limit.soft_bytes != 0 && pending >= limit.soft_bytes {
            let since = *self.soft_limit_since.get_or_insert_with(Instant::now);
            return since.elapsed().as_secs() >= limit.soft_seconds;
        }
        self.soft_limit_since = None;
        false
    }

    /// Closes the client for its output buffer, as Redis logs it; what is queued is dropped.
    fn close_for_output_limit(&mut self) {
        self.output.clear();
        self.report_output_len();
        let mut server = self.shared.server.lock();
        if let Some(client) = server.clients.get_mut(self.id) {
            client.output_limit_reached = true;
            tracing::warn!(
                "Client id={} addr={} laddr={} name={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                client.id,
                client.peer.addr(),
                client.peer.laddr(),
                String::from_utf8_lossy(client.name.as_deref().unwrap_or_default()),
            );
        }
        server.disconnect_client(self.id);
    }

    /// Lets the core read the output buffer's size (`omem=`, output limits).
    fn report_output_len(&self) {
        self.signals.set_output(
            self.output.len(),
            self.output.capacity() + self.output_consumed,
        );
    }

    /// Accounts for `n` bytes the socket took from the front of the output.
    fn written(&mut self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        self.output.advance(n);
        self.output_consumed += n;
        self.unreported_out += n as u64;
        self.unreported_writes += 1;
        if self.output.is_empty() {
            if self.output.capacity() + self.output_consumed > OUTPUT_KEEP {
                self.output = BytesMut::with_capacity(READ_CHUNK);
                self.output_consumed = 0;
            }
        } else if self.output_consumed > OUTPUT_KEEP && self.output_consumed > self.output.len() {
            // A slow reader: move what is left to a buffer of its size, so the written part's
            // room is given back (each byte is copied at most once per such move).
            self.output = BytesMut::from(&self.output[..]);
            self.output_consumed = 0;
        }
        self.report_output_len();
        Ok(())
    }

    /// Writes as much of the output as the socket takes now, without waiting: the rest is
    /// written by the connection loop as the socket drains.
    async fn flush<W: AsyncWrite + Unpin>(&mut self, writer: &mut W) -> std::io::Result<()> {
        // An acknowledged write is in the AOF first (on disk with `appendfsync always`).
        if let Some(wait) = self.durable_wait.take() {
            wait.wait_async().await;
        }
        while !self.output.is_empty() {
            let output = &self.output;
            let attempt =
                std::future::poll_fn(|cx| match Pin::new(&mut *writer).poll_write(cx, output) {
                    Poll::Pending => Poll::Ready(None),
                    Poll::Ready(result) => Poll::Ready(Some(result)),
                })
                .await;
            match attempt {
                Some(written) => self.written(written?)?,
                None => break,
            }
        }
        self.report_output_len();
        Ok(())
    }

    /// Writes all of the output, waiting for the socket: before the connection closes.
    async fn flush_all<W: AsyncWrite + Unpin>(&mut self, writer: &mut W) -> std::io::Result<()> {
        if let Some(wait) = self.durable_wait.take() {
            wait.wait_async().await;
        }
        writer.write_all(&self.output).await?;
        self.unreported_out += self.output.len() as u64;
        self.output.clear();
        self.report_output_len();
        writer.flush().await
    }
}

/// One batch of commands and what running it needs, movable to another thread.
struct Batch {
    shared: Arc<Shared>,
    id: ClientId,
    resp: RespVersion,
    query_len_at_parse: usize,
    /// `qbuf=` and `qbuf-free=` once the batch's commands are consumed.
    query_rest: (usize, usize),
    /// The connection's unwritten output when the batch started.
    output_len: usize,
    unreported_in: u64,
    unreported_out: u64,
    unreported_reads: u64,
    unreported_writes: u64,
    /// The connection's push channel: messages a command pushed to this very client.
    signals: Arc<ConnectionSignals>,
    limits: Limits,
    output_class: usize,
    replies: Vec<Out>,
    multi: BusyMulti,
}

/// What a batch left: how the connection goes on, and the replies to encode.
struct BatchDone {
    after: After,
    resp: RespVersion,
    limits: Limits,
    output_class: usize,
    replies: Vec<Out>,
    /// With the AOF on: the group write (or fsync) the replies must wait for.
    durable_wait: Option<crate::extensions::DurableWait>,
    multi: BusyMulti,
}

impl Batch {
    /// Runs `commands` under one acquisition of the lock. While a script holds the lock past
    /// `busy-reply-threshold`, the commands are answered without it instead: `BUSY`, or the
    /// kill request of SCRIPT KILL / FUNCTION KILL, as Redis answers from inside its script hook.
    fn run(mut self, commands: &[Vec<Bytes>], mailbox: &mut UnboundedReceiver<Mail>) -> BatchDone {
        let mut after = After::Done;
        // Messages the current command caused for this client, to follow its reply.
        let mut after_reply = Vec::new();
        let mut server = loop {
            if let Some(server) = self
                .shared
                .server
                .try_lock_for(std::time::Duration::from_millis(5))
            {
                break server;
            }
            if self.shared.script_busy.is_busy() {
                for argv in commands {
                    let reply = self.busy_multi_reply(argv).unwrap_or_else(|| {
                        let reply = busy_reply(&self.shared.script_busy, argv);
                        if self.multi.in_multi && reply.is_error() {
                            self.multi.pending = Some(PendingMulti::Multi { aborted: true });
                        }
                        reply
                    });
                    self.replies.push(Out::Reply(reply, self.resp));
                }
                return self.done(After::Done, None);
            }
        };
        server.begin_batch();
        server.stats.total_net_input_bytes += self.unreported_in;
        server.stats.total_net_output_bytes += self.unreported_out;
        server.stats.total_reads_processed += self.unreported_reads;
        server.stats.total_writes_processed += self.unreported_writes;
        let now = server.now_ms();
        if let Some(pending) = self.multi.pending.take() {
            apply_busy_multi(&mut server, self.id, pending);
        }
        if let Some(client) = server.clients.get_mut(self.id) {
            client.query_buffer_len = self.query_len_at_parse;
            client.output_buffer_len = self.output_len;
            client.last_interaction_ms = now;
        }
        for (index, argv) in commands.iter().enumerate() {
            let outcome = oxidis_core::execute(&mut server, self.id, argv);
            // A SHUTDOWN that went through is not answered: the process exits, as Redis's.
            if server.shutdown_request.is_some() {
                self.shared.shutdown.notify_one();
                after = After::Close;
                break;
            }
            let Some(client) = server.clients.get_mut(self.id) else {
                after = After::Close;
                break;
            };
            if self.resp != client.resp {
                self.resp = client.resp;
                self.signals.set_resp(client.resp);
            }
            let reply = match outcome {
                Outcome::Reply(reply) => {
                    // Messages the command pushed to this very client (a PUBLISH to a
                    // channel it listens to) go before its reply, as in Redis; they are
                    // sent whatever CLIENT REPLY says.
                    if let Some(pushed) = self.signals.take_pushed() {
                        self.replies.push(Out::Pushed(pushed));
                    }
                    while let Ok(mail) = mailbox.try_recv() {
                        match mail {
                            Mail::PushAfter(message) => {
                                after_reply.push(message);
                            }
                            Mail::Reply(_) => {}
                        }
                    }
                    reply
                }
                Outcome::Blocked(_) => {
                    let deadline = server.blocked.get(self.id).and_then(|b| b.deadline);
                    after = After::Blocked { index, deadline };
                    break;
                }
            };
            if should_send(client) {
                self.replies.push(Out::Reply(reply, client.resp));
            }
            for message in after_reply.drain(..) {
                self.replies.push(Out::Reply(message, client.resp));
            }
            if client.close_after_reply {
                after = After::Close;
                break;
            }
        }
        // Between batches only the unparsed rest stays in the query buffer.
        if let Some(client) = server.clients.get_mut(self.id) {
            self.multi.in_multi = client.transaction.is_some();
            (client.query_buffer_len, client.query_buffer_free) = self.query_rest;
            self.output_class = if client.replica {
                CLASS_REPLICA
            } else if client.subscribed {
                CLASS_PUBSUB
            } else {
                CLASS_NORMAL
            };
        }
        server.end_batch();
        let durable_wait = crate::extensions::after_batch(&mut server);
        crate::extensions::snapshot_step_after_batch(&mut server);
        refresh_limits(&server, Some(self.id), &mut self.limits);
        // With `maxmemory-clients`, every batch counts its client and may evict clients
        // (this one too); that also applies a CONFIG SET that lowered the limit at once.
        if self.limits.client_eviction {
            oxidis_core::client::update_memory_and_evict(&mut server, Some(self.id));
        }
        if server.clients.get(self.id).is_none() {
            after = After::Dropped;
        }
        drop(server);
        self.done(after, durable_wait)
    }

    /// MULTI and EXEC while a script is busy, answered as Redis does (see [`BusyMulti`]);
    /// `None` for the other commands.
    fn busy_multi_reply(&mut self, argv: &[Bytes]) -> Option<Frame> {
        let name = argv.first()?;
        if name.eq_ignore_ascii_case(b"multi") && argv.len() == 1 {
            if self.multi.in_multi {
                return Some(Frame::error_static("ERR MULTI calls can not be nested"));
            }
            self.multi.in_multi = true;
            self.multi.pending = Some(PendingMulti::Multi { aborted: false });
            return Some(Frame::ok());
        }
        if name.eq_ignore_ascii_case(b"exec") && self.multi.in_multi {
            self.multi.in_multi = false;
            self.multi.pending = Some(PendingMulti::Discarded);
            let Frame::Error(busy) = busy_reply(&self.shared.script_busy, argv) else {
                return None;
            };
            return Some(Frame::error(format!(
                "EXECABORT Transaction discarded because of: {}",
                String::from_utf8_lossy(&busy)
            )));
        }
        None
    }

    fn done(self, after: After, durable_wait: Option<crate::extensions::DurableWait>) -> BatchDone {
        BatchDone {
            after,
            resp: self.resp,
            limits: self.limits,
            output_class: self.output_class,
            replies: self.replies,
            multi: self.multi,
            durable_wait,
        }
    }
}

/// Applies to the client's transaction what was answered for it while a script was busy.
fn apply_busy_multi(server: &mut Server, id: ClientId, pending: PendingMulti) {
    let Some(client) = server.clients.get_mut(id) else {
        return;
    };
    match pending {
        PendingMulti::Multi { aborted } => {
            let transaction = client.transaction.get_or_insert_with(Default::default);
            transaction.aborted |= aborted;
        }
        PendingMulti::Discarded => {
            client.transaction = None;
            client.watch_dirty = false;
            server.watched.unwatch_all(id);
        }
    }
}

/// Serves a connection made while a script is busy, before it is registered: reads for a
/// moment and answers each complete command as [`busy_reply`] does (`BUSY`, SCRIPT KILL,
/// FUNCTION KILL, SHUTDOWN NOSAVE). Returns `false` when the peer left.
async fn answer_while_busy<R, W>(
    shared: &Shared,
    reader: &mut R,
    writer: &mut W,
    input: &mut BytesMut,
) -> bool
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let wait = std::time::Duration::from_millis(10);
    if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(wait, reader.read_buf(input)).await {
        return false;
    }
    let mut parser = RequestParser::new();
    let limits = RequestLimits {
        proto_max_bulk_len: 512 * 1024 * 1024,
        authenticated: true,
    };
    let mut out = BytesMut::new();
    let mut argv = Vec::new();
    loop {
        let before = input.clone();
        match parser.parse(input, &limits, &mut argv) {
            Ok(true) if argv.is_empty() => {}
            Ok(true) => {
                let reply = busy_reply(&shared.script_busy, &argv);
                oxidis_protocol::encode(&reply, RespVersion::Resp2, &mut out);
            }
            // An incomplete command waits for the script's end, unparsed.
            Ok(false) => {
                *input = before;
                break;
            }
            Err(err) => {
                oxidis_protocol::encode(&err.to_frame(), RespVersion::Resp2, &mut out);
                let _ = writer.write_all(&out).await;
                return false;
            }
        }
    }
    out.is_empty() || writer.write_all(&out).await.is_ok()
}

/// Whether `argv` runs a script whose last run was brief (not DEBUG).
fn runs_briefly(busy: &oxidis_core::server::ScriptBusy, argv: &[Bytes]) -> bool {
    argv.first()
        .is_some_and(|name| !name.eq_ignore_ascii_case(b"debug"))
        && argv.get(1).is_some_and(|key| busy.is_fast(key))
}

/// Whether a command runs a script (and so may hold the lock for long; a script whose last
/// run was brief runs on the I/O thread all the same, see `ScriptBusy::fast`). DEBUG counts: its
/// LOADAOF and RELOAD replay scripts, during which other clients must be answered (`LOADING`).
fn runs_script(argv: &[Bytes]) -> bool {
    argv.first().is_some_and(|name| {
        [
            &b"eval"[..],
            b"debug",
            b"evalsha",
            b"eval_ro",
            b"evalsha_ro",
            b"fcall",
            b"fcall_ro",
        ]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
    })
}

/// The reply to a command that arrives while a script is busy: SCRIPT KILL and FUNCTION KILL
/// ask it to stop, SHUTDOWN NOSAVE ends the process, anything else gets `BUSY`.
fn busy_reply(busy: &oxidis_core::server::ScriptBusy, argv: &[Bytes]) -> Frame {
    use std::sync::atomic::Ordering::SeqCst;
    let is_function = busy.is_function.load(SeqCst);
    // A slow script replayed from the AOF: the server is still loading.
    if busy.loading.load(SeqCst) {
        return Frame::error_static("LOADING Redis is loading the dataset in memory");
    }
    let word = |i: usize, w: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    let kill_eval = word(0, "script") && word(1, "kill");
    let kill_function = word(0, "function") && word(1, "kill");
    if kill_eval || kill_function {
        if busy.wrote.load(SeqCst) {
            return Frame::error_static(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            );
        }
        if kill_eval && is_function {
            return Frame::error_static(
                "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
            );
        }
        if kill_function && !is_function {
            return Frame::error_static(
                "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
            );
        }
        busy.kill.store(true, SeqCst);
        return Frame::ok();
    }
    if word(0, "function") && word(1, "stats") && argv.len() == 2 {
        return running_stats(busy);
    }
    if word(0, "shutdown") && (1..argv.len()).any(|i| word(i, "nosave")) {
        tracing::warn!("SHUTDOWN NOSAVE while a script is busy: exiting now");
        std::process::exit(0);
    }
    if is_function {
        Frame::error_static(
            "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
        )
    } else {
        Frame::error_static(
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        )
    }
}

/// FUNCTION STATS while a script is busy: the running script, then the engine's counts.
fn running_stats(busy: &oxidis_core::server::ScriptBusy) -> Frame {
    let details = busy.details.lock().map(|d| d.clone()).unwrap_or_default();
    let count = |n: usize| Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    let elapsed = i64::try_from(busy.elapsed_ms()).unwrap_or(i64::MAX);
    Frame::Map(vec![
        (
            Frame::bulk("running_script"),
            Frame::Map(vec![
                (Frame::bulk("name"), Frame::bulk(&details.name)),
                (
                    Frame::bulk("command"),
                    Frame::Array(details.command.iter().cloned().map(Frame::Bulk).collect()),
                ),
                (Frame::bulk("duration_ms"), Frame::Integer(elapsed)),
            ]),
        ),
        (
            Frame::bulk("engines"),
            Frame::Map(vec![(
                Frame::bulk("LUA"),
                Frame::Map(vec![
                    (Frame::bulk("libraries_count"), count(details.libraries)),
                    (Frame::bulk("functions_count"), count(details.functions)),
                ]),
            )]),
        ),
    ])
}

/// Picks up the limits that CONFIG SET or AUTH may have changed.
fn refresh_limits(server: &Server, id: Option<ClientId>, limits: &mut Limits) {
    if let Some(client) = id.and_then(|id| server.clients.get(id)) {
        limits.request.authenticated = client.authenticated;
    }
    limits.request.proto_max_bulk_len = server.config.proto_max_bulk_len;
    limits.query_buffer =
        usize::try_from(server.config.client_query_buffer_limit).unwrap_or(usize::MAX);
    limits.output = server.config.client_output_buffer_limit;
    limits.client_eviction = server.config.maxmemory_clients != 0;
}

/// Applies CLIENT REPLY after a command ran: only clients in `On` mode get replies. SKIP sets
/// `SkipNext`, which silences the SKIP itself and then becomes `Skip` to silence one more.
fn should_send(client: &mut Client) -> bool {
    match client.reply_mode {
        ReplyMode::On => true,
        ReplyMode::Off => false,
        ReplyMode::SkipNext => {
            client.reply_mode = ReplyMode::Skip;
            false
        }
        ReplyMode::Skip => {
            client.reply_mode = ReplyMode::On;
            false
        }
    }
}

/// Appends pushed messages to the output; into an empty output too small for them the buffer
/// itself moves in (true then).
fn append(output: &mut BytesMut, bytes: BytesMut) -> bool {
    if output.is_empty() && bytes.len() > output.capacity() {
        *output = bytes;
        true
    } else {
        output.extend_from_slice(&bytes);
        false
    }
}
