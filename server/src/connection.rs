//! One client connection: read, parse, execute in batches, encode, write.
//!
//! The loop reads whatever the socket has, parses every complete command in the buffer
//! (pipelining), runs the batch under one acquisition of the keyspace lock, encodes the replies
//! after releasing it, and writes them with one `write_all`. A protocol error answers
//! `-ERR Protocol error: ...` and closes this connection only.
//!
//! A command that blocks (BLPOP on an empty list) stops the batch: the connection writes what
//! it has, then waits — without polling — for the reply the core delivers when a key is
//! written, for the timeout, or for the peer to go away; then it goes on with the rest.

use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use oxidis_core::client::{Client, ClientId, Peer, ReplyMode};
use oxidis_core::{Outcome, Server};
use oxidis_protocol::{Frame, RequestLimits, RequestParser, RespVersion, encode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::debug;

use crate::shared::{ConnectionSignals, Mail, Shared, encoded_len};

/// Most commands run in one batch; a longer pipeline is executed in several, so one client
/// cannot hold the keyspace lock for long.
const MAX_BATCH: usize = 1024;

/// The read buffer's starting capacity; it grows for big requests.
const READ_CHUNK: usize = 16 * 1024;

/// Registers a client for `peer`, serves it until it leaves, then unregisters it.
pub async fn serve<S>(shared: Arc<Shared>, stream: S, peer: Peer)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (signals, replies) = ConnectionSignals::new();
    let signals = Arc::new(signals);
    let peer_name = peer.addr();
    let id = {
        let mut server = shared.server.lock();
        let now = server.now_ms();
        let authenticated = !server.requires_auth();
        let handle = signals.clone();
        server.connect_client(|id| {
            let mut client = Client::new(id, peer, authenticated, now);
            client.handle = Some(handle);
            client
        })
    };
    debug!("Accepted {peer_name}");
    let mut connection = Connection::new(shared.clone(), id, replies, signals.clone());
    let (mut reader, mut writer) = tokio::io::split(stream);
    tokio::select! {
        result = connection.run(&mut reader, &mut writer) => {
            if let Err(err) = result {
                debug!(client = id, error = %err, "connection ended");
            }
        }
        () = signals.closed() => debug!(client = id, "closed by the server"),
    }
    shared.server.lock().disconnect_client(id);
    debug!("Client closed connection id={id} addr={peer_name}");
}

/// The per-connection buffers and parser; reused for every batch, so the steady state
/// allocates nothing per command.
struct Connection {
    shared: Arc<Shared>,
    id: ClientId,
    parser: RequestParser,
    limits: RequestLimits,
    query_buffer_limit: usize,
    input: BytesMut,
    output: BytesMut,
    batch: Vec<Vec<Bytes>>,
    replies: Vec<Out>,
    /// Replies to blocked commands, delivered by whichever command served them.
    mailbox: UnboundedReceiver<Mail>,
    /// The sending side's counters: pushed bytes are marked written after each flush.
    signals: Arc<ConnectionSignals>,
    /// Bytes of pushed messages encoded into `output` and not yet flushed.
    push_bytes: u64,
    /// Messages the current command caused for this client, to follow its reply.
    after_reply: Vec<Frame>,
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
    /// With `appendfsync always`: the AOF fsync the replies in `output` must wait for.
    durable_wait: Option<crate::extensions::DurableWait>,
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
    /// The command at this index blocked; the ones after it have not run.
    Blocked {
        index: usize,
        deadline: Option<Instant>,
    },
}

impl Connection {
    fn new(
        shared: Arc<Shared>,
        id: ClientId,
        mailbox: UnboundedReceiver<Mail>,
        signals: Arc<ConnectionSignals>,
    ) -> Connection {
        let (limits, query_buffer_limit) = {
            let server = shared.server.lock();
            (
                RequestLimits {
                    proto_max_bulk_len: server.config.proto_max_bulk_len,
                    authenticated: !server.requires_auth(),
                },
                usize::try_from(server.config.client_query_buffer_limit).unwrap_or(usize::MAX),
            )
        };
        Connection {
            shared,
            id,
            parser: RequestParser::new(),
            limits,
            query_buffer_limit,
            input: BytesMut::with_capacity(READ_CHUNK),
            output: BytesMut::with_capacity(READ_CHUNK),
            batch: Vec::new(),
            replies: Vec::new(),
            mailbox,
            signals,
            push_bytes: 0,
            after_reply: Vec::new(),
            resp: RespVersion::Resp2,
            unreported_in: 0,
            unreported_out: 0,
            unreported_reads: 0,
            unreported_writes: 0,
            query_len_at_parse: 0,
            durable_wait: None,
        }
    }

    async fn run<R, W>(&mut self, reader: &mut R, writer: &mut W) -> std::io::Result<()>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        loop {
            if self.input.capacity() - self.input.len() < 1024 {
                self.input.reserve(READ_CHUNK);
            }
            // Between commands the core may hand us messages of our own (pub/sub pushes,
            // invalidations): write them as they come.
            let signals = self.signals.clone();
            tokio::select! {
                () = signals.push_ready.notified() => {
                    self.take_pushed();
                    self.flush(writer).await?;
                    continue;
                }
                read = reader.read_buf(&mut self.input) => {
                    let read = read?;
                    if read == 0 {
                        return Ok(());
                    }
                    self.unreported_in += read as u64;
                    self.unreported_reads += 1;
                }
                mail = self.mailbox.recv() => {
                    // Not blocked, so only pushes can arrive; a stale reply has nobody to go to.
                    let mut next = mail;
                    while let Some(mail) = next {
                        if let Mail::PushAfter(message) = mail {
                            self.push_bytes += encoded_len(&message);
                            encode(&message, self.resp, &mut self.output);
                        }
                        next = self.mailbox.try_recv().ok();
                    }
                    self.flush(writer).await?;
                    continue;
                }
            }
            // Parse and run batch after batch until the buffer holds no complete command.
            loop {
                let (count, protocol_error) = self.parse_batch();
                let mut start = 0;
                let mut close = false;
                while start < count {
                    match self.execute(start, count) {
                        After::Done => break,
                        After::Close => {
                            close = true;
                            break;
                        }
                        After::Blocked { index, deadline } => {
                            self.flush(writer).await?;
                            if !self.wait_unblocked(reader, deadline).await? {
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
                if !close && self.input.len() > self.query_buffer_limit {
                    tracing::warn!(
                        client = self.id,
                        "closing client that reached max query buffer length"
                    );
                    close = true;
                }
                self.flush(writer).await?;
                if close {
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
        let mut count = 0;
        while count < MAX_BATCH {
            if self.batch.len() == count {
                self.batch.push(Vec::new());
            }
            match self
                .parser
                .parse(&mut self.input, &self.limits, &mut self.batch[count])
            {
                Ok(true) if self.batch[count].is_empty() => {}
                Ok(true) => count += 1,
                Ok(false) => break,
                Err(err) => return (count, Some(err)),
            }
        }
        (count, None)
    }

    /// Runs parsed commands `start..count` under one lock, then encodes their replies.
    fn execute(&mut self, start: usize, count: usize) -> After {
        let mut after = After::Done;
        {
            let mut server = self.shared.server.lock();
            server.begin_batch();
            server.stats.total_net_input_bytes += std::mem::take(&mut self.unreported_in);
            server.stats.total_net_output_bytes += std::mem::take(&mut self.unreported_out);
            server.stats.total_reads_processed += std::mem::take(&mut self.unreported_reads);
            server.stats.total_writes_processed += std::mem::take(&mut self.unreported_writes);
            let now = server.now_ms();
            if let Some(client) = server.clients.get_mut(self.id) {
                client.query_buffer_len = self.query_len_at_parse;
                client.last_interaction_ms = now;
            }
            for index in start..count {
                let outcome = oxidis_core::execute(&mut server, self.id, &self.batch[index]);
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
                            self.push_bytes += pushed.len() as u64;
                            self.replies.push(Out::Pushed(pushed));
                        }
                        while let Ok(mail) = self.mailbox.try_recv() {
                            match mail {
                                Mail::PushAfter(message) => {
                                    self.push_bytes += encoded_len(&message);
                                    self.after_reply.push(message);
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
                for message in self.after_reply.drain(..) {
                    self.replies.push(Out::Reply(message, client.resp));
                }
                if client.close_after_reply {
                    after = After::Close;
                    break;
                }
            }
            // Between batches only the unparsed rest stays in the query buffer.
            if let Some(client) = server.clients.get_mut(self.id) {
                client.query_buffer_len = self.input.len();
            }
            server.end_batch();
            // The batch's writes reach the replicas and the AOF (fsynced there with
            // `appendfsync always`) before its replies are sent.
            if let Some(wait) = crate::extensions::after_batch(&mut server) {
                self.durable_wait = Some(wait);
            }
            refresh_limits(
                &server,
                self.id,
                &mut self.limits,
                &mut self.query_buffer_limit,
            );
        }
        for out in self.replies.drain(..) {
            match out {
                Out::Reply(reply, resp) => encode(&reply, resp, &mut self.output),
                Out::Pushed(bytes) => self.output.extend_from_slice(&bytes),
            }
        }
        after
    }

    /// Waits until the blocked command has its reply (encoded into the output), its timeout
    /// passes, or the peer goes away (false). Input that arrives meanwhile is kept for later.
    async fn wait_unblocked<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
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
                () = signals.push_ready.notified() => self.take_pushed(),
                mail = self.mailbox.recv() => match mail {
                    Some(Mail::Reply(reply)) => {
                        self.take_pushed();
                        encode(&reply, self.resp, &mut self.output);
                        return Ok(true);
                    }
                    Some(Mail::PushAfter(message)) => {
                        self.push_bytes += encoded_len(&message);
                        encode(&message, self.resp, &mut self.output);
                    }
                    None => return Ok(false),
                },
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
        if let Some(pushed) = self.signals.take_pushed() {
            self.push_bytes += pushed.len() as u64;
            self.output.extend_from_slice(&pushed);
        }
    }

    fn clear_batch(&mut self, count: usize) {
        for argv in &mut self.batch[..count] {
            argv.clear();
        }
    }

    async fn flush<W: AsyncWrite + Unpin>(&mut self, writer: &mut W) -> std::io::Result<()> {
        // An acknowledged write is on disk first (`appendfsync always`).
        if let Some(wait) = self.durable_wait.take() {
            wait.wait_async().await;
        }
        if self.output.is_empty() {
            return Ok(());
        }
        writer.write_all(&self.output).await?;
        self.unreported_out += self.output.len() as u64;
        self.unreported_writes += 1;
        self.output.clear();
        self.signals.written(std::mem::take(&mut self.push_bytes));
        Ok(())
    }
}

/// Picks up the limits that CONFIG SET or AUTH may have changed.
fn refresh_limits(
    server: &Server,
    id: ClientId,
    limits: &mut RequestLimits,
    query_buffer_limit: &mut usize,
) {
    if let Some(client) = server.clients.get(id) {
        limits.authenticated = client.authenticated;
    }
    limits.proto_max_bulk_len = server.config.proto_max_bulk_len;
    *query_buffer_limit =
        usize::try_from(server.config.client_query_buffer_limit).unwrap_or(usize::MAX);
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
