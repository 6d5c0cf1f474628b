//! A lean WebSocket reader for the benchmark's 1,000 subscribers (RFC 6455, client side,
//! reading only).
//!
//! The driver shares the machine with the pdsd it measures, so what each subscriber
//! costs is CPU taken from pdsd and queueing added to the lags it reports. A general
//! client (tokio-tungstenite) zeroes and copies every read and every message; this one
//! reads into one warm buffer per driver thread and hands each message's payload to a
//! callback in place. It checks what it relies on (status 101, unmasked final frames,
//! lengths) and fails loudly on anything else; it answers pings and sends a close.

use std::pin::Pin;
use std::task::Poll;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// Bytes read at most per system call, and the largest message accepted.
const BUF: usize = 256 * 1024;
const MAX_MESSAGE: usize = 8 * 1024 * 1024;

/// One message read from the stream, its payload borrowed for the callback.
#[derive(Debug)]
pub enum Msg<'a> {
    Binary(&'a [u8]),
    /// A text message (the firehose sends none).
    Text,
    /// The server closed the stream.
    Close,
}

/// What the callback wants next.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

thread_local! {
    /// Reads land here: one buffer per driver thread, so that the kernel copies into
    /// memory that is already in this core's cache rather than into one of a thousand
    /// cold per-connection buffers. Only an incomplete last message is kept aside.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; BUF]);
}

pub struct WsReader {
    stream: TcpStream,
    /// The start of a message whose end has not arrived yet.
    partial: Vec<u8>,
}

impl WsReader {
    /// Connect to `ws://host:port/path` and complete the upgrade handshake.
    pub async fn connect(url: &str) -> Result<WsReader, String> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| format!("not a ws:// URL: {url}"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let mut stream = TcpStream::connect(authority)
            .await
            .map_err(|e| format!("connect {authority}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let key = "YmVuY2gtZmlyZWhvc2Uta2V5"; // any 16 bytes, base64
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream
            .write_all(req.as_bytes())
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        // Byte by byte up to the blank line, so no frame is read with the head.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let b = stream
                .read_u8()
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            head.push(b);
            if head.len() > 16 * 1024 {
                return Err("handshake answer too long".into());
            }
        }
        let head = String::from_utf8_lossy(&head).to_string();
        if !head.starts_with("HTTP/1.1 101") {
            return Err(format!("upgrade refused: {head}"));
        }
        Ok(WsReader {
            stream,
            partial: Vec::new(),
        })
    }

    /// Wait for data, read what has arrived, and hand each complete message to `f`
    /// (all of them arrived at the same moment). Returns the bytes read, 0 at end of
    /// stream, or at once after `f` says [`Flow::Stop`].
    pub async fn read_with<F: FnMut(Msg<'_>) -> Flow>(
        &mut self,
        mut f: F,
    ) -> Result<usize, String> {
        let mut pongs = Vec::new();
        // Read through `poll_read` (not readiness + `try_read`): Tokio takes a short read
        // to mean the socket is drained, which spares a system call that would only say
        // "would block" before every wait.
        let n = std::future::poll_fn(|cx| {
            SCRATCH.with(|cell| {
                let mut scratch = cell.borrow_mut();
                let kept = self.partial.len();
                if scratch.len() < kept * 2 {
                    scratch.resize(kept * 2, 0);
                }
                scratch[..kept].copy_from_slice(&self.partial);
                let mut rb = ReadBuf::new(&mut scratch[kept..]);
                match Pin::new(&mut self.stream).poll_read(cx, &mut rb) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.to_string())),
                    Poll::Ready(Ok(())) => {}
                }
                let n = rb.filled().len();
                if n == 0 {
                    return Poll::Ready(Ok(0));
                }
                let data = &scratch[..kept + n];
                let mut at = 0;
                loop {
                    match parse(&data[at..], &mut pongs) {
                        Err(e) => return Poll::Ready(Err(e)),
                        Ok(None) => break,
                        Ok(Some((msg, used))) => {
                            at += used;
                            if let Some(m) = msg
                                && f(m) == Flow::Stop
                            {
                                return Poll::Ready(Ok(n));
                            }
                        }
                    }
                }
                self.partial.clear();
                self.partial.extend_from_slice(&data[at..]);
                Poll::Ready(Ok(n))
            })
        })
        .await?;
        for p in pongs {
            self.stream
                .write_all(&p)
                .await
                .map_err(|e| format!("pong: {e}"))?;
        }
        Ok(n)
    }

    /// Send a close frame (best effort).
    pub async fn close(&mut self) {
        let _ = self.stream.write_all(&[0x88, 0x80, 0, 0, 0, 0]).await;
        let _ = self.stream.shutdown().await;
    }
}

/// The message at the start of `b` and the bytes it takes, or None when it has not all
/// arrived. Control frames other than close yield no message (pings queue a pong).
#[allow(clippy::type_complexity)]
fn parse<'a>(
    b: &'a [u8],
    pongs: &mut Vec<Vec<u8>>,
) -> Result<Option<(Option<Msg<'a>>, usize)>, String> {
    if b.len() < 2 {
        return Ok(None);
    }
    let (fin, opcode) = (b[0] & 0x80 != 0, b[0] & 0x0f);
    if b[1] & 0x80 != 0 {
        return Err("the server masked a frame".into());
    }
    let (len, head) = match b[1] & 0x7f {
        126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
        127 if b.len() >= 10 => {
            let mut n = [0u8; 8];
            n.copy_from_slice(&b[2..10]);
            (u64::from_be_bytes(n) as usize, 10)
        }
        126 | 127 => return Ok(None),
        n => (n as usize, 2),
    };
    if len > MAX_MESSAGE {
        return Err(format!("message of {len} bytes"));
    }
    if b.len() < head + len {
        return Ok(None);
    }
    if !fin {
        return Err("fragmented message (pdsd sends whole messages)".into());
    }
    let payload = &b[head..head + len];
    let msg = match opcode {
        0x2 => Some(Msg::Binary(payload)),
        0x1 => Some(Msg::Text),
        0x8 => Some(Msg::Close),
        0x9 => {
            let mut pong = vec![0x8a, 0x80 | payload.len() as u8, 0, 0, 0, 0];
            pong.extend_from_slice(payload); // a mask of zeros leaves the payload as is
            pongs.push(pong);
            None
        }
        0xa => None,
        op => return Err(format!("unexpected opcode {op}")),
    };
    Ok(Some((msg, head + len)))
}
