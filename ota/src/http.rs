//! The HTTP/1.1 client side the OTA needs: one GET per connection, the response head parsed
//! by `httparse` from a fixed buffer (an over-long head is an error, never an overflow), and
//! the body framed by `Content-Length` or chunked transfer coding.

use alloc::format;
use alloc::string::{String, ToString};

use crate::request::Url;

/// Most headers a response may carry.
pub const MAX_HEADERS: usize = 32;
/// Longest chunk-size line (size, extensions) accepted.
pub const MAX_CHUNK_LINE: usize = 128;

/// The parts of a response head the OTA uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Head {
    /// Status code.
    pub status: u16,
    /// `Content-Length`.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// `Content-Range: bytes start-end/total` (total `None` for `*`).
    pub content_range: Option<(u64, u64, Option<u64>)>,
    /// `Location`.
    pub location: Option<String>,
}

/// Why a response head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// The head does not fit the buffer.
    TooLong,
    /// The connection ended before the head did.
    Closed,
    /// Not HTTP/1.x, or malformed.
    Malformed(&'static str),
}

/// The GET request for `url`, from `offset` when resuming, with an optional bearer token.
pub fn request(url: &Url, offset: u32, token: Option<&str>) -> String {
    let host = if url.port == 80 { url.host.clone() } else { format!("{}:{}", url.host, url.port) };
    let mut r = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ws63-bms-ota/{}\r\nAccept: */*\r\n\
         Connection: close\r\n",
        url.path,
        env!("CARGO_PKG_VERSION")
    );
    if offset > 0 {
        r.push_str(&format!("Range: bytes={offset}-\r\n"));
    }
    if let Some(t) = token {
        r.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    r.push_str("\r\n");
    r
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    let s = core::str::from_utf8(v).ok()?.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 19 {
        return None;
    }
    s.parse().ok()
}

fn parse_content_range(v: &[u8]) -> Option<(u64, u64, Option<u64>)> {
    let s = core::str::from_utf8(v).ok()?.trim();
    let rest = s.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b) = (parse_u64(a.as_bytes())?, parse_u64(b.as_bytes())?);
    if b < a {
        return None;
    }
    let total = if total.trim() == "*" { None } else { Some(parse_u64(total.as_bytes())?) };
    if total.is_some_and(|t| b >= t) {
        return None;
    }
    Some((a, b, total))
}

/// Parses a complete head from `buf`: `Ok(Some((head, head_len)))` once the blank line is
/// there, `Ok(None)` while more is needed.
///
/// # Errors
/// A malformed head, conflicting or unparsable framing headers.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let n = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HeadError::Malformed("too many headers"))
        }
        Err(_) => return Err(HeadError::Malformed("not an HTTP/1.x response")),
    };
    let mut head = Head { status: resp.code.unwrap_or(0), ..Head::default() };
    for h in resp.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            let v = parse_u64(h.value).ok_or(HeadError::Malformed("bad Content-Length"))?;
            if head.content_length.is_some_and(|c| c != v) {
                return Err(HeadError::Malformed("conflicting Content-Length"));
            }
            head.content_length = Some(v);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let v = core::str::from_utf8(h.value)
                .map_err(|_| HeadError::Malformed("bad Transfer-Encoding"))?;
            let last = v.rsplit(',').next().unwrap_or("").trim();
            if last.eq_ignore_ascii_case("chunked") {
                head.chunked = true;
            } else if !last.eq_ignore_ascii_case("identity") {
                return Err(HeadError::Malformed("unsupported Transfer-Encoding"));
            }
        } else if name.eq_ignore_ascii_case("content-range") {
            head.content_range = Some(
                parse_content_range(h.value).ok_or(HeadError::Malformed("bad Content-Range"))?,
            );
        } else if name.eq_ignore_ascii_case("location") {
            let v =
                core::str::from_utf8(h.value).map_err(|_| HeadError::Malformed("bad Location"))?;
            head.location = Some(v.trim().to_string());
        }
    }
    if head.chunked {
        // RFC 9112 6.3: Transfer-Encoding overrides Content-Length.
        head.content_length = None;
    }
    Ok(Some((head, n)))
}

/// Decodes chunked transfer coding incrementally, in place: [`ChunkDecoder::feed`] hands
/// the data parts of its input to a sink and keeps only a few counters between calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkDecoder {
    state: ChunkState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading a chunk-size line: size so far, digits seen, in extensions, line length.
    Size {
        size: u64,
        digits: u8,
        ext: bool,
        len: usize,
    },
    SizeLf {
        size: u64,
    },
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// Reading trailer lines: bytes on the current line.
    Trailer {
        len: usize,
    },
    TrailerLf {
        len: usize,
    },
    Done,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        Self { state: ChunkState::Size { size: 0, digits: 0, ext: false, len: 0 } }
    }
}

impl ChunkDecoder {
    /// Whether the last chunk and trailers have been read.
    pub fn done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Feeds `input`; every data part goes to `out`. Bytes after the end are an error.
    ///
    /// # Errors
    /// `Err(why)` for malformed framing, or the sink's error text.
    pub fn feed<E>(
        &mut self,
        mut input: &[u8],
        out: &mut dyn FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), Result<E, &'static str>> {
        use ChunkState::*;
        while !input.is_empty() {
            match self.state {
                Data { left } => {
                    let n = (left.min(input.len() as u64)) as usize;
                    out(&input[..n]).map_err(Ok)?;
                    input = &input[n..];
                    let left = left - n as u64;
                    self.state = if left == 0 { DataCr } else { Data { left } };
                    continue;
                }
                Done => return Err(Err("bytes after the last chunk")),
                _ => {}
            }
            let b = input[0];
            input = &input[1..];
            self.state = match (self.state, b) {
                (Size { len, .. }, _) if len >= MAX_CHUNK_LINE => {
                    return Err(Err("chunk-size line too long"))
                }
                (Size { size, digits, ext: false, len }, b) if b.is_ascii_hexdigit() => {
                    if digits >= 15 {
                        return Err(Err("chunk size too large"));
                    }
                    let d = u64::from((b as char).to_digit(16).unwrap_or(0));
                    Size { size: size * 16 + d, digits: digits + 1, ext: false, len: len + 1 }
                }
                (Size { size, digits, len, .. }, b';') if digits > 0 => {
                    Size { size, digits, ext: true, len: len + 1 }
                }
                (Size { size, digits, ext: true, len }, b) if b != b'\r' && b != b'\n' => {
                    Size { size, digits, ext: true, len: len + 1 }
                }
                (Size { size, digits, .. }, b'\r') if digits > 0 => SizeLf { size },
                (SizeLf { size }, b'\n') => {
                    if size == 0 {
                        Trailer { len: 0 }
                    } else {
                        Data { left: size }
                    }
                }
                (DataCr, b'\r') => DataLf,
                (DataLf, b'\n') => Size { size: 0, digits: 0, ext: false, len: 0 },
                (Trailer { len }, b'\r') => TrailerLf { len },
                (Trailer { len }, _) if len < MAX_CHUNK_LINE => Trailer { len: len + 1 },
                (TrailerLf { len: 0 }, b'\n') => Done,
                (TrailerLf { .. }, b'\n') => Trailer { len: 0 },
                _ => return Err(Err("malformed chunked encoding")),
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn heads_parse_and_framing_headers_are_checked() {
        let wire = b"HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nContent-Range: bytes 90-99/100\r\n\r\nBODY";
        let (h, n) = parse_head(wire).unwrap().unwrap();
        assert_eq!(&wire[n..], b"BODY", "the head ends after the blank line");
        assert_eq!(
            (h.status, h.content_length, h.content_range),
            (206, Some(10), Some((90, 99, Some(100))))
        );
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap(), None);
        let (h, _) = parse_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(h.chunked && h.content_length.is_none());
        let (h, _) = parse_head(b"HTTP/1.1 302 Found\r\nLocation: /next\r\n\r\n").unwrap().unwrap();
        assert_eq!(h.location.as_deref(), Some("/next"));
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            b"HTTP/1.1 206 OK\r\nContent-Range: bytes 9-1/100\r\n\r\n",
            b"HTTP/1.1 206 OK\r\nContent-Range: bytes 0-100/100\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
        ] {
            assert!(parse_head(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let mut many = Vec::from(&b"HTTP/1.1 200 OK\r\n"[..]);
        for i in 0..40 {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse_head(&many), Err(HeadError::Malformed("too many headers")));
    }

    fn decode_in_pieces(wire: &[u8], piece: usize) -> Result<(Vec<u8>, bool), &'static str> {
        let mut d = ChunkDecoder::default();
        let mut out = Vec::new();
        for p in wire.chunks(piece) {
            d.feed::<()>(p, &mut |b| {
                out.extend_from_slice(b);
                Ok(())
            })
            .map_err(|e| e.err().unwrap_or("sink"))?;
        }
        Ok((out, d.done()))
    }

    #[test]
    fn chunked_bodies_decode_whatever_the_read_boundaries() {
        let wire = b"4;name=v\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n";
        for piece in 1..wire.len() {
            let (out, done) = decode_in_pieces(wire, piece).unwrap();
            assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
            assert!(done);
        }
        let (_, done) = decode_in_pieces(b"4\r\nWiki\r\n", 3).unwrap();
        assert!(!done, "not finished without the last chunk");
        for bad in
            [&b"x\r\n"[..], b"4\r\nWikiX\r\n", b"\r\n", b"0\r\n\r\nextra", b"1234567890abcdef0\r\n"]
        {
            assert!(decode_in_pieces(bad, 2).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let long = [b"1;".as_slice(), &[b'a'; 200]].concat();
        assert_eq!(decode_in_pieces(&long, 7), Err("chunk-size line too long"));
    }

    #[test]
    fn the_request_has_host_range_and_token() {
        let u = Url::parse("http://h:8080/f?x=1").unwrap();
        let r = request(&u, 0, None);
        assert!(r.starts_with("GET /f?x=1 HTTP/1.1\r\nHost: h:8080\r\n"));
        assert!(!r.contains("Range") && r.ends_with("\r\n\r\n"));
        let r = request(&Url::parse("http://h/f").unwrap(), 4096, Some("tok"));
        assert!(r.contains("Host: h\r\n") && r.contains("Range: bytes=4096-\r\n"));
        assert!(r.contains("Authorization: Bearer tok\r\n"));
    }
}
