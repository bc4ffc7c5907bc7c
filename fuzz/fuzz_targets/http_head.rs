//! HTTP response heads and chunked bodies from the network: never a panic, and a parsed head
//! never claims more bytes than it was given.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ota::http::{parse_head, ChunkDecoder};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, len))) = parse_head(data) {
        assert!(len <= data.len());
        if let Some((a, b, total)) = head.content_range {
            assert!(a <= b && total.is_none_or(|t| b < t));
        }
    }
    let mut d = ChunkDecoder::default();
    let mut out = 0usize;
    for piece in data.chunks(7) {
        if d.feed::<()>(piece, &mut |p| {
            out += p.len();
            Ok(())
        })
        .is_err()
        {
            break;
        }
    }
    assert!(out <= data.len());
});
