//! One client connection: read, parse, execute in batches, encode, write.
//!
//! The loop reads whatever the socket has, parses every complete command in the buffer
//! (pipelining), runs the whole batch under one acquisition of the keyspace lock, encodes the
//! replies after releasing it, and writes them with one `write_all`. A protocol error answers
//! `-ERR Protocol error: ...` and closes this connection only.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use oxidis_core::client::{Client, ClientId, Peer, ReplyMode};
use oxidis_protocol::{Frame, RequestLimits, RequestParser, RespVersion, encode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::debug;

use crate::shared::{CloseSignal, Shared};

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
    let signal = Arc::new(CloseSignal::default());
    let peer_name = peer.addr();
    let id = {
        let mut server = shared.server.lock();
        let now = server.now_ms();
        let authenticated = !server.requires_auth();
        let handle = signal.clone();
        server.connect_client(|id| {
            let mut client = Client::new(id, peer, authenticated, now);
            client.handle = Some(handle);
            client
        })
    };
    debug!("Accepted {peer_name}");
    let mut connection = Connection::new(shared.clone(), id);
    let (mut reader, mut writer) = tokio::io::split(stream);
    tokio::select! {
        result = connection.run(&mut reader, &mut writer) => {
            if let Err(err) = result {
                debug!(client = id, error = %err, "connection ended");
            }
        }
        () = signal.closed() => debug!(client = id, "closed by the server"),
    }
    shared.server.lock().clients.remove(id);
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
    replies: Vec<(Frame, RespVersion)>,
    /// Traffic not yet added to the server's counters (added under the next batch's lock).
    unreported_in: u64,
    unreported_out: u64,
}

/// What the batch asked the connection to do next.
enum After {
    Continue,
    Close,
}

impl Connection {
    fn new(shared: Arc<Shared>, id: ClientId) -> Connection {
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
            unreported_in: 0,
            unreported_out: 0,
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
            let read = reader.read_buf(&mut self.input).await?;
            if read == 0 {
                return Ok(());
            }
            self.unreported_in += read as u64;
            // Parse and run batch after batch until the buffer holds no complete command.
            loop {
                let (count, protocol_error) = self.parse_batch();
                let after = if count > 0 {
                    self.execute(count)
                } else {
                    After::Continue
                };
                let mut close = matches!(after, After::Close);
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

    /// Runs the first `count` parsed commands under one lock, then encodes their replies.
    fn execute(&mut self, count: usize) -> After {
        let mut after = After::Continue;
        {
            let mut server = self.shared.server.lock();
            server.begin_batch();
            server.stats.total_net_input_bytes += std::mem::take(&mut self.unreported_in);
            server.stats.total_net_output_bytes += std::mem::take(&mut self.unreported_out);
            let now = server.now_ms();
            if let Some(client) = server.clients.get_mut(self.id) {
                client.query_buffer_len = self.input.len();
                client.last_interaction_ms = now;
            }
            for argv in &self.batch[..count] {
                let reply = oxidis_core::dispatch(&mut server, self.id, argv);
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
                if should_send(client) {
                    self.replies.push((reply, client.resp));
                }
                if client.close_after_reply {
                    after = After::Close;
                    break;
                }
            }
            server.end_batch();
            if let Some(client) = server.clients.get(self.id) {
                self.limits.authenticated = client.authenticated;
            }
            self.limits.proto_max_bulk_len = server.config.proto_max_bulk_len;
            self.query_buffer_limit =
                usize::try_from(server.config.client_query_buffer_limit).unwrap_or(usize::MAX);
        }
        for argv in &mut self.batch[..count] {
            argv.clear();
        }
        for (reply, resp) in self.replies.drain(..) {
            encode(&reply, resp, &mut self.output);
        }
        after
    }

    async fn flush<W: AsyncWrite + Unpin>(&mut self, writer: &mut W) -> std::io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        writer.write_all(&self.output).await?;
        self.unreported_out += self.output.len() as u64;
        self.output.clear();
        Ok(())
    }
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
