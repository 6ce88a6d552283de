//! What one client may hold of the server's connections: at most so many open connections per
//! address, and a deadline for the first request's headers, so that slow or idle clients
//! (slowloris) cannot take every connection. Applied where connections are accepted, around the
//! TCP listener that `axum::serve` runs on.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The limits (`tandem serve --max-connections-per-address`, `--header-timeout-secs`).
#[derive(Debug, Clone, Copy)]
pub struct Connections {
    /// Open connections one client address may hold; more are closed at once. A proxy or a
    /// load test shares one address, so the default is generous.
    pub per_address: usize,
    /// How long a new connection may take to send its first request's headers.
    pub header_timeout: Duration,
}

/// The default cap on connections per address.
pub const PER_ADDRESS: usize = 512;
/// The default deadline for the first request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for Connections {
    fn default() -> Self {
        Self {
            per_address: PER_ADDRESS,
            header_timeout: HEADER_TIMEOUT,
        }
    }
}

type Open = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// The TCP listener with the limits applied.
pub struct Guarded {
    inner: TcpListener,
    limits: Connections,
    open: Open,
}

impl Guarded {
    pub fn new(inner: TcpListener, limits: Connections) -> Self {
        Self {
            inner,
            limits,
            open: Arc::default(),
        }
    }
}

impl axum::serve::Listener for Guarded {
    type Io = Stream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Stream, SocketAddr) {
        loop {
            let (tcp, addr) = match self.inner.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let ip = addr.ip();
            {
                let Ok(mut open) = self.open.lock() else {
                    continue;
                };
                let n = open.entry(ip).or_default();
                if *n >= self.limits.per_address {
                    // Dropping the stream closes it.
                    tracing::debug!("a client address is over its connection limit");
                    continue;
                }
                *n += 1;
            }
            let stream = Stream {
                tcp,
                slot: Slot {
                    open: self.open.clone(),
                    ip,
                },
                headers: Some(HeaderDeadline::new(self.limits.header_timeout)),
                closed: false,
            };
            return (stream, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// The client's socket address, as the request handlers see it (`ConnectInfo<Peer>`).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Guarded>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, Guarded>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A place in an address's count, given back when the connection ends.
struct Slot {
    open: Open,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock() {
            if let Some(n) = open.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&self.ip);
                }
            }
        }
    }
}

/// The longest request line answered (longer: 414), and the longest header block (longer: 431),
/// for a connection's first request. Both answers carry a JSON error body, which the HTTP layer
/// beneath would not give them.
pub const MAX_REQUEST_LINE: usize = 8 * 1024;
pub const MAX_HEAD: usize = 64 * 1024;

/// Until the first blank line (`\r\n\r\n`, the end of the first request's headers) has been
/// read, the deadline runs and the head's size is watched.
struct HeaderDeadline {
    sleep: Pin<Box<tokio::time::Sleep>>,
    /// The last bytes read, to find the blank line across reads.
    tail: [u8; 3],
    /// Bytes of the head read so far, and whether its first line has ended.
    read: usize,
    line_ended: bool,
}

/// What the head read so far says.
#[derive(Debug, PartialEq, Eq)]
enum Head {
    Complete,
    Partial,
    /// Too long: answer with this status and close.
    TooLong(u16),
}

impl HeaderDeadline {
    fn new(timeout: Duration) -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(timeout)),
            tail: [0; 3],
            read: 0,
            line_ended: false,
        }
    }

    /// Where the head stands after `bytes`, read after what came before.
    fn take(&mut self, bytes: &[u8]) -> Head {
        let mut window: Vec<u8> = self.tail.to_vec();
        window.extend_from_slice(bytes);
        // Where the head ends in `bytes`, counting from their start (the window begins with
        // the three bytes kept from before).
        let end = window
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| (i + 4).saturating_sub(3));
        if !self.line_ended {
            match bytes.iter().position(|&b| b == b'\n') {
                Some(i) if self.read + i <= MAX_REQUEST_LINE => self.line_ended = true,
                Some(_) => return Head::TooLong(414),
                None if self.read + bytes.len() > MAX_REQUEST_LINE => return Head::TooLong(414),
                None => {}
            }
        }
        let keep = window.len().saturating_sub(3);
        self.tail.copy_from_slice(&window[keep..]);
        let head = self.read + end.unwrap_or(bytes.len());
        self.read += bytes.len();
        if head > MAX_HEAD {
            Head::TooLong(431)
        } else if end.is_some() {
            Head::Complete
        } else {
            Head::Partial
        }
    }
}

/// The whole answer to a head that is too long, written straight to the socket.
fn too_long(status: u16) -> Vec<u8> {
    let (reason, code, message) = match status {
        414 => (
            "URI Too Long",
            "uri_too_long",
            "the request line is too long",
        ),
        _ => (
            "Request Header Fields Too Large",
            "headers_too_large",
            "the request headers are too large",
        ),
    };
    let body = format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#);
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// An accepted connection: the TCP stream, its place in its address's count, and the header
/// deadline while it runs.
pub struct Stream {
    tcp: TcpStream,
    slot: Slot,
    headers: Option<HeaderDeadline>,
    /// Answered by us (a head too long): the HTTP layer reads nothing more.
    closed: bool,
}

impl Stream {
    /// The client's address, as counted.
    pub fn ip(&self) -> IpAddr {
        self.slot.ip
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.closed {
            return Poll::Ready(Ok(()));
        }
        if let Some(deadline) = this.headers.as_mut() {
            if deadline.sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request headers took too long",
                )));
            }
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(deadline)) = (&res, this.headers.as_mut()) {
            match deadline.take(&buf.filled()[before..]) {
                Head::Complete => this.headers = None,
                Head::Partial => {}
                Head::TooLong(status) => {
                    // Read away what has arrived of the head, so that closing does not reset
                    // the connection before the client reads the answer; a short answer fits
                    // the socket's buffer.
                    let mut scratch = [0u8; 16 * 1024];
                    let mut drained = 0;
                    while drained < 4 * MAX_HEAD {
                        match this.tcp.try_read(&mut scratch) {
                            Ok(n) if n > 0 => drained += n,
                            _ => break,
                        }
                    }
                    let _ = this.tcp.try_write(&too_long(status));
                    this.closed = true;
                    // Nothing of this head reaches the HTTP layer: it sees the end instead.
                    buf.set_filled(before);
                }
            }
        }
        res
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_blank_line_is_found_across_reads() {
        let mut d = HeaderDeadline::new(Duration::from_secs(1));
        assert_eq!(d.take(b"GET / HTTP/1.1\r\nHost: x\r"), Head::Partial);
        assert_eq!(d.take(b"\n"), Head::Partial);
        assert_eq!(d.take(b"\r\n"), Head::Complete);
        let mut long_line = HeaderDeadline::new(Duration::from_secs(1));
        let line = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(long_line.take(line.as_bytes()), Head::TooLong(414));
        let mut big = HeaderDeadline::new(Duration::from_secs(1));
        assert_eq!(big.take(b"GET / HTTP/1.1\r\n"), Head::Partial);
        let header = format!("X-Big: {}\r\n", "b".repeat(1000));
        let mut last = Head::Partial;
        for _ in 0..70 {
            last = big.take(header.as_bytes());
        }
        assert_eq!(last, Head::TooLong(431));
        let answer = String::from_utf8(too_long(431)).expect("utf-8");
        assert!(
            answer.starts_with("HTTP/1.1 431 ") && answer.ends_with("}}"),
            "{answer}"
        );
    }
}
