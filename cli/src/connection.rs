//! A blocking connection to a server: TCP or a unix socket, commands written as RESP multibulk
//! requests, replies read one [`Frame`] at a time from a growing buffer.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use oxidis_protocol::{Frame, RespVersion, encode, parse_frame};

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A host name or address and a port.
    Tcp {
        /// Host name or IP address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A unix domain socket path.
    Unix(PathBuf),
}

impl Target {
    /// The `host:port` (or socket path) text redis-cli shows in its prompt and messages.
    pub fn describe(&self) -> String {
        match self {
            // IPv6 literals get brackets, as anetFormatAddr does.
            Target::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Target::Tcp { host, port } => format!("{host}:{port}"),
            Target::Unix(path) => path.display().to_string(),
        }
    }
}

/// The two kinds of stream a connection can run over.
#[derive(Debug)]
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// A write-only handle on the same socket, for the pipe mode's sender thread.
#[derive(Debug)]
pub struct Writer(Stream);

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A connected client socket with its read buffer.
#[derive(Debug)]
pub struct Connection {
    stream: Stream,
    buf: BytesMut,
}

/// The error text redis-cli prints when the server hangs up mid-reply.
pub const CLOSED: &str = "Server closed the connection";

impl Connection {
    /// Opens a connection to `target`.
    pub fn connect(target: &Target) -> io::Result<Connection> {
        let stream = match target {
            Target::Tcp { host, port } => {
                let stream = TcpStream::connect((host.as_str(), *port))?;
                stream.set_nodelay(true)?;
                Stream::Tcp(stream)
            }
            Target::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
        };
        Ok(Connection {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
        })
    }

    /// Sends one command, encoded as a RESP array of bulk strings.
    pub fn send<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> io::Result<()> {
        let frame = Frame::Array(argv.iter().map(Frame::bulk).collect());
        let mut out = BytesMut::new();
        encode(&frame, RespVersion::Resp2, &mut out);
        self.stream.write_all(&out)
    }

    /// A second handle that writes to the same socket.
    pub fn writer(&self) -> io::Result<Writer> {
        Ok(Writer(self.stream.try_clone()?))
    }

    /// Sets the socket read timeout; a read that times out fails with `WouldBlock` or `TimedOut`
    /// and keeps any partial frame buffered for the next call.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match &self.stream {
            Stream::Tcp(s) => s.set_read_timeout(timeout),
            Stream::Unix(s) => s.set_read_timeout(timeout),
        }
    }

    /// Reads the next frame, skipping RESP3 attributes (which describe the frame that follows).
    pub fn read_frame(&mut self) -> io::Result<Frame> {
        loop {
            match parse_frame(&self.buf) {
                Ok(Some((frame, used))) => {
                    self.buf.advance(used);
                    if matches!(frame, Frame::Attribute(_)) {
                        continue;
                    }
                    return Ok(frame);
                }
                Ok(None) => self.fill()?,
                Err(e) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
                }
            }
        }
    }

    /// Sends a command and reads its reply.
    pub fn command<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> io::Result<Frame> {
        self.send(argv)?;
        self.read_frame()
    }

    /// Reads more bytes from the socket into the buffer; EOF is an error.
    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, CLOSED));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_targets() {
        let t = Target::Tcp {
            host: "127.0.0.1".into(),
            port: 6379,
        };
        assert_eq!(t.describe(), "127.0.0.1:6379");
        let t = Target::Tcp {
            host: "::1".into(),
            port: 7000,
        };
        assert_eq!(t.describe(), "[::1]:7000");
        assert_eq!(Target::Unix("/tmp/r.sock".into()).describe(), "/tmp/r.sock");
    }
}
