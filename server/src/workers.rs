//! The I/O threads. Each runs its own single-threaded tokio runtime and owns the connections
//! handed to it for their whole life, so a connection's reads, parsing, encoding and writes stay
//! on one thread: no work stealing, no cross-thread wake-ups. The threads meet only at the
//! keyspace lock, once per batch.
//!
//! We measured tokio's work-stealing runtime on our 2-core machine at ~12% more CPU per
//! request than one event loop (idle workers being woken to steal); thread-per-core keeps the
//! one-loop cost and still spreads connections when `io-threads` is raised.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use oxidis_core::client::Peer;
use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tracing::debug;

use crate::connection;
use crate::shared::Shared;

/// Handles of the I/O threads; the first is the main thread's own runtime.
pub struct Workers {
    handles: Vec<Handle>,
    next: AtomicUsize,
}

impl Workers {
    /// Starts `threads - 1` extra I/O threads beside the current runtime.
    ///
    /// # Errors
    /// When a thread or its runtime cannot be created.
    pub fn start(threads: usize) -> std::io::Result<Arc<Workers>> {
        let mut handles = vec![Handle::current()];
        for index in 1..threads {
            let (sender, receiver) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name(format!("oxidis-io-{index}"))
                .spawn(move || {
                    let runtime = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .thread_stack_size(crate::SCRIPT_THREAD_STACK)
                        .build()
                    {
                        Ok(runtime) => runtime,
                        Err(err) => {
                            let _ = sender.send(Err(err));
                            return;
                        }
                    };
                    let _ = sender.send(Ok(runtime.handle().clone()));
                    runtime.block_on(std::future::pending::<()>());
                })?;
            let handle = receiver
                .recv()
                .map_err(|_| std::io::Error::other("I/O thread died while starting"))??;
            handles.push(handle);
        }
        Ok(Arc::new(Workers {
            handles,
            next: AtomicUsize::new(0),
        }))
    }

    /// Hands a freshly accepted TCP connection to the next I/O thread, round robin.
    pub fn serve_tcp(&self, shared: Arc<Shared>, stream: TcpStream, peer: Peer) {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        if index == 0 {
            tokio::spawn(connection::serve(shared, stream, peer));
            return;
        }
        // A tokio stream belongs to the reactor that accepted it: move it as a std stream and
        // register it again on the target thread's reactor.
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(err) => {
                debug!(error = %err, "could not move a connection to an I/O thread");
                return;
            }
        };
        self.handles[index].spawn(async move {
            match TcpStream::from_std(stream) {
                Ok(stream) => connection::serve(shared, stream, peer).await,
                Err(err) => debug!(error = %err, "could not register a connection"),
            }
        });
    }
}
