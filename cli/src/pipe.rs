//! `--pipe`: mass insertion. Raw RESP from stdin is streamed to the server while the replies are
//! counted. At the end of the input an `ECHO` of 20 random bytes is queued; its reply marks the
//! point where every reply has arrived.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oxidis_protocol::Frame;

use crate::connection::Connection;
use crate::session::error_text;

/// The tally printed at the end.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Error replies (and a timeout, if one happened).
    pub errors: u64,
    /// Replies received, not counting the final ECHO.
    pub replies: u64,
}

/// Twenty unpredictable bytes for the closing ECHO.
fn magic() -> [u8; 20] {
    let mut out = [0u8; 20];
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(nanos);
        hasher.write_usize(i);
        hasher.write_u32(std::process::id());
        let bytes = hasher.finish().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    out
}

/// The ECHO request sent after the input; the leading CRLF resynchronises the server should the
/// input end with a partial line (Redis ignores empty lines between requests).
fn echo_request(magic: &[u8; 20]) -> Vec<u8> {
    let mut out = b"\r\n*2\r\n$4\r\nECHO\r\n$20\r\n".to_vec();
    out.extend_from_slice(magic);
    out.extend_from_slice(b"\r\n");
    out
}

/// Streams `input` to the server, prints the progress lines and the tally, and returns the tally.
/// Errors reading from the socket are returned; write errors end the process as redis-cli does.
pub fn run(
    mut conn: Connection,
    input: impl Read + Send + 'static,
    timeout: Duration,
) -> io::Result<Outcome> {
    let magic = magic();
    let eof = Arc::new(AtomicBool::new(false));
    let mut writer = conn.writer()?;
    let sender_eof = Arc::clone(&eof);
    let sender = std::thread::spawn(move || -> io::Result<()> {
        let mut input = input;
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let n = match input.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    eprintln!("Error reading from stdin: {}", error_text(&e));
                    std::process::exit(1);
                }
            };
            if let Err(e) = writer.write_all(&chunk[..n]) {
                eprintln!("Error writing to the server: {}", error_text(&e));
                std::process::exit(1);
            }
        }
        sender_eof.store(true, Ordering::SeqCst);
        println!("All data transferred. Waiting for the last reply...");
        io::stdout().flush()?;
        writer.write_all(&echo_request(&magic))?;
        writer.flush()
    });

    // Wake up regularly so that a silent server can be given up on.
    conn.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut outcome = Outcome::default();
    let mut last_reply = Instant::now();
    loop {
        match conn.read_frame() {
            Ok(frame) => {
                last_reply = Instant::now();
                match &frame {
                    Frame::Error(text) | Frame::BlobError(text) => {
                        eprintln!("{}", String::from_utf8_lossy(text));
                        outcome.errors += 1;
                    }
                    Frame::Bulk(data) if eof.load(Ordering::SeqCst) && data.as_ref() == magic => {
                        println!("Last reply received from server.");
                        break;
                    }
                    _ => {}
                }
                outcome.replies += 1;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if eof.load(Ordering::SeqCst)
                    && !timeout.is_zero()
                    && last_reply.elapsed() > timeout
                {
                    eprintln!("No replies for {} seconds: exiting.", timeout.as_secs());
                    outcome.errors += 1;
                    break;
                }
            }
            Err(e) => {
                eprintln!("Error reading replies from server");
                return Err(e);
            }
        }
    }
    if sender.is_finished() {
        // The sender has printed and flushed; surface a failure of its final write.
        match sender.join() {
            Ok(result) => result?,
            Err(_) => return Err(io::Error::other("pipe sender panicked")),
        }
    }
    println!("errors: {}, replies: {}", outcome.errors, outcome.replies);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_is_valid_resp() {
        let m = magic();
        let req = echo_request(&m);
        let (frame, used) = oxidis_protocol::parse_frame(&req[2..]).unwrap().unwrap();
        assert_eq!(used, req.len() - 2);
        assert_eq!(
            frame,
            Frame::Array(vec![Frame::bulk("ECHO"), Frame::bulk(m)])
        );
    }

    #[test]
    fn magics_differ() {
        assert_ne!(magic(), magic());
    }
}
