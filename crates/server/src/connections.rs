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
                headers: Some(HeaderDeadline {
                    sleep: Box::pin(tokio::time::sleep(self.limits.header_timeout)),
                    tail: [0; 3],
                }),
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

/// Until the first blank line (`\r\n\r\n`, the end of the first request's headers) has been
/// read, the deadline runs.
struct HeaderDeadline {
    sleep: Pin<Box<tokio::time::Sleep>>,
    /// The last bytes read, to find the blank line across reads.
    tail: [u8; 3],
}

impl HeaderDeadline {
    /// Whether `bytes`, read after what came before, complete the header block.
    fn ends_headers(&mut self, bytes: &[u8]) -> bool {
        let mut window: Vec<u8> = self.tail.to_vec();
        window.extend_from_slice(bytes);
        let done = window.windows(4).any(|w| w == b"\r\n\r\n");
        let keep = window.len().saturating_sub(3);
        self.tail.copy_from_slice(&window[keep..]);
        done
    }
}

/// An accepted connection: the TCP stream, its place in its address's count, and the header
/// deadline while it runs.
pub struct Stream {
    tcp: TcpStream,
    slot: Slot,
    headers: Option<HeaderDeadline>,
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
            if deadline.ends_headers(&buf.filled()[before..]) {
                this.headers = None;
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
        let mut d = HeaderDeadline {
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(1))),
            tail: [0; 3],
        };
        assert!(!d.ends_headers(b"GET / HTTP/1.1\r\nHost: x\r"));
        assert!(!d.ends_headers(b"\n"));
        assert!(d.ends_headers(b"\r\n"));
    }
}
