//! The firehose's WebSocket wire (RFC 6455, server side, for a one-way stream).
//!
//! Why not a general WebSocket library: a server's frames are never masked, so the bytes
//! of one event on the wire are the same for every subscriber. The hub builds them once
//! per batch of events, and each subscriber writes a slice of that shared buffer straight
//! to its socket; a library would copy and re-frame every event for every subscriber.
//! What a consumer may send is small and ignorable (the event-stream spec says servers
//! ignore client frames), so reading needs only the control frames: ping (answered with
//! pong), close (answered and ended), and limits on everything else.
//!
//! This module only frames and parses bytes; it owns no socket and no policy.

use tokio::io::{AsyncRead, AsyncReadExt};

const FIN: u8 = 0x80;
const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// Close codes used here.
pub const CLOSE_NORMAL: u16 = 1000;
pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const CLOSE_PROTOCOL: u16 = 1002;
pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_INTERNAL: u16 = 1011;

/// Append the header of an unmasked, final frame of `op` with `len` payload bytes.
fn push_header(out: &mut Vec<u8>, op: u8, len: usize) {
    out.push(FIN | op);
    if len < 126 {
        out.push(len as u8);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// Append one binary message (header and payload) to `out`.
pub fn push_binary(out: &mut Vec<u8>, payload: &[u8]) {
    push_header(out, OP_BINARY, payload.len());
    out.extend_from_slice(payload);
}

/// One binary message, header and payload.
pub fn binary(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    push_binary(&mut out, payload);
    out
}

/// A close frame with a status code and a short reason (cut to fit a control frame).
pub fn close(code: u16, reason: &str) -> Vec<u8> {
    let mut r = reason.as_bytes();
    if r.len() > 123 {
        let mut end = 123;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        r = &r[..end];
    }
    let mut out = Vec::with_capacity(4 + r.len());
    push_header(&mut out, OP_CLOSE, 2 + r.len());
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(r);
    out
}

/// The answer to a ping: a pong with the same payload.
pub fn pong(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + payload.len());
    push_header(&mut out, OP_PONG, payload.len());
    out.extend_from_slice(payload);
    out
}

/// The length (header and payload) of the server message that starts `buf`, read from
/// its header; `None` when `buf` is too short to hold the header.
pub fn message_len(buf: &[u8]) -> Option<usize> {
    let b1 = *buf.get(1)?;
    let (len, head) = match b1 & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            4,
        ),
        127 => {
            let b: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            (u64::from_be_bytes(b), 10)
        }
        n => (u64::from(n), 2),
    };
    usize::try_from(len).ok()?.checked_add(head)
}

/// Where the message holding byte `pos` of `buf` ends, given that `buf` starts with a
/// message and holds whole messages back to back (as the hub builds them).
pub fn end_of_message_at(buf: &[u8], pos: usize) -> usize {
    let mut start = 0;
    while start < buf.len() {
        let Some(len) = buf.get(start..).and_then(message_len) else {
            return buf.len();
        };
        let end = start.saturating_add(len).min(buf.len());
        if pos < end {
            return end;
        }
        start = end;
    }
    buf.len()
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
pub fn accept_key(key: &[u8]) -> String {
    tungstenite::handshake::derive_accept_key(key)
}

/// What a consumer sent, as far as the server cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// Must be answered with a pong carrying the same payload.
    Ping(Vec<u8>),
    /// Unsolicited or answering; ignored.
    Pong,
    /// The consumer is closing (with its code, if any).
    Close(Option<u16>),
    /// A data frame (or part of one); ignored.
    Data,
}

/// Why reading from a consumer stopped.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("a client frame was not masked")]
    Unmasked,
    #[error("reserved bits set")]
    Reserved,
    #[error("unknown opcode {0:#x}")]
    Opcode(u8),
    #[error("a control frame was fragmented or longer than 125 bytes")]
    BadControl,
    #[error("a frame of {0} bytes is over the limit")]
    TooLarge(u64),
}

impl WireError {
    /// The close code to answer with (none when the connection itself failed).
    pub fn close_code(&self) -> Option<u16> {
        match self {
            WireError::Io(_) => None,
            WireError::TooLarge(_) => Some(CLOSE_TOO_BIG),
            _ => Some(CLOSE_PROTOCOL),
        }
    }
}

/// Read one frame from a consumer, refusing payloads over `max` bytes. Data payloads
/// are read and dropped.
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max: u64,
) -> Result<ClientFrame, WireError> {
    let mut head = [0u8; 2];
    r.read_exact(&mut head).await?;
    let (b0, b1) = (head[0], head[1]);
    if b0 & 0x70 != 0 {
        return Err(WireError::Reserved);
    }
    let op = b0 & 0x0f;
    if b1 & 0x80 == 0 {
        return Err(WireError::Unmasked);
    }
    let len = match b1 & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).await?;
            u16::from_be_bytes(b) as u64
        }
        127 => {
            let mut b = [0u8; 8];
            r.read_exact(&mut b).await?;
            u64::from_be_bytes(b)
        }
        n => n as u64,
    };
    let control = op & 0x8 != 0;
    if control && (b0 & FIN == 0 || len > 125) {
        return Err(WireError::BadControl);
    }
    if len > max {
        return Err(WireError::TooLarge(len));
    }
    let mut mask = [0u8; 4];
    r.read_exact(&mut mask).await?;
    match op {
        OP_PING | OP_CLOSE => {
            let mut payload = vec![0u8; len as usize];
            r.read_exact(&mut payload).await?;
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= mask[i % 4];
            }
            if op == OP_PING {
                return Ok(ClientFrame::Ping(payload));
            }
            let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
            Ok(ClientFrame::Close(code))
        }
        OP_PONG | OP_TEXT | OP_BINARY | OP_CONTINUATION => {
            let mut left = len;
            let mut scratch = [0u8; 1024];
            while left > 0 {
                let n = left.min(scratch.len() as u64) as usize;
                r.read_exact(&mut scratch[..n]).await?;
                left -= n as u64;
            }
            Ok(if op == OP_PONG {
                ClientFrame::Pong
            } else {
                ClientFrame::Data
            })
        }
        other => Err(WireError::Opcode(other)),
    }
}

/// Split the WebSocket messages in `wire` (as the hub builds them) into their payloads;
/// for tests and tools.
#[cfg(test)]
pub fn payloads(mut wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while wire.len() >= 2 {
        let op = wire[0] & 0x0f;
        let (len, hl) = match wire[1] & 0x7f {
            126 => (u16::from_be_bytes([wire[2], wire[3]]) as usize, 4),
            127 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&wire[2..10]);
                (u64::from_be_bytes(b) as usize, 10)
            }
            n => (n as usize, 2),
        };
        out.push((op, wire[hl..hl + len].to_vec()));
        wire = &wire[hl + len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(op: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut out = vec![if fin { FIN | op } else { op }];
        if payload.len() < 126 {
            out.push(0x80 | payload.len() as u8);
        } else {
            out.push(0x80 | 126);
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[test]
    fn binary_headers_use_the_shortest_length_form() {
        for (len, head) in [
            (0usize, 2usize),
            (125, 2),
            (126, 4),
            (65_535, 4),
            (65_536, 10),
        ] {
            let payload = vec![7u8; len];
            let f = binary(&payload);
            assert_eq!(f.len(), head + len, "len {len}");
            assert_eq!(f[0], 0x82);
            assert_eq!(payloads(&f), vec![(OP_BINARY, payload)]);
        }
        // What tungstenite (an independent implementation) reads back.
        let f = binary(b"hello");
        let mut codec = tungstenite::protocol::WebSocket::from_raw_socket(
            std::io::Cursor::new(f),
            tungstenite::protocol::Role::Client,
            None,
        );
        assert_eq!(
            codec.read().expect("frame"),
            tungstenite::Message::Binary(bytes::Bytes::from_static(b"hello"))
        );
    }

    #[test]
    fn message_boundaries_are_found_from_the_headers() {
        let mut buf = Vec::new();
        push_binary(&mut buf, &[1u8; 10]); // 12 bytes
        push_binary(&mut buf, &[2u8; 300]); // 304 bytes
        push_binary(&mut buf, &[3u8; 70_000]); // 70,010 bytes
        assert_eq!(message_len(&buf), Some(12));
        assert_eq!(message_len(&buf[12..]), Some(304));
        assert_eq!(message_len(&buf[316..]), Some(70_010));
        assert_eq!(message_len(&buf[..1]), None);
        assert_eq!(end_of_message_at(&buf, 0), 12);
        assert_eq!(end_of_message_at(&buf, 11), 12);
        assert_eq!(end_of_message_at(&buf, 12), 316);
        assert_eq!(end_of_message_at(&buf, 400), buf.len());
    }

    #[test]
    fn close_frames_carry_code_and_a_bounded_reason() {
        let f = close(CLOSE_POLICY, "ConsumerTooSlow");
        assert_eq!(f[0], 0x88);
        assert_eq!(&f[2..4], &1008u16.to_be_bytes());
        let long = close(CLOSE_NORMAL, &"é".repeat(100));
        assert!(long.len() <= 2 + 125);
        assert!(std::str::from_utf8(&long[4..]).is_ok());
    }

    #[test]
    fn accept_key_matches_the_rfc_example() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[tokio::test]
    async fn reads_control_frames_and_skips_data() {
        let mut input = Vec::new();
        input.extend(masked(OP_BINARY, true, &[1u8; 300]));
        input.extend(masked(OP_PING, true, b"are you there"));
        input.extend(masked(OP_PONG, true, b""));
        input.extend(masked(OP_CLOSE, true, &1000u16.to_be_bytes()));
        let mut r = input.as_slice();
        assert_eq!(
            read_frame(&mut r, 1024).await.expect("data"),
            ClientFrame::Data
        );
        assert_eq!(
            read_frame(&mut r, 1024).await.expect("ping"),
            ClientFrame::Ping(b"are you there".to_vec())
        );
        assert_eq!(
            read_frame(&mut r, 1024).await.expect("pong"),
            ClientFrame::Pong
        );
        assert_eq!(
            read_frame(&mut r, 1024).await.expect("close"),
            ClientFrame::Close(Some(1000))
        );
        assert!(matches!(
            read_frame(&mut r, 1024).await,
            Err(WireError::Io(_))
        ));
    }

    #[tokio::test]
    async fn refuses_what_a_client_must_not_send() {
        let unmasked = [FIN | OP_BINARY, 1, 0];
        assert!(matches!(
            read_frame(&mut &unmasked[..], 1024).await,
            Err(WireError::Unmasked)
        ));
        let big = masked(OP_BINARY, true, &[0u8; 2000]);
        let e = read_frame(&mut big.as_slice(), 1024).await;
        assert!(matches!(e, Err(WireError::TooLarge(2000))));
        assert_eq!(e.err().and_then(|e| e.close_code()), Some(CLOSE_TOO_BIG));
        let fragmented_ping = masked(OP_PING, false, b"x");
        assert!(matches!(
            read_frame(&mut fragmented_ping.as_slice(), 1024).await,
            Err(WireError::BadControl)
        ));
        let reserved = masked(0x3, true, b"");
        assert!(matches!(
            read_frame(&mut reserved.as_slice(), 1024).await,
            Err(WireError::Opcode(3))
        ));
        let rsv = [FIN | 0x40 | OP_BINARY, 0x80];
        assert!(matches!(
            read_frame(&mut &rsv[..], 1024).await,
            Err(WireError::Reserved)
        ));
    }
}
