//! The gateway's MQTT session facing a broker that sends any bytes (a hostile broker, or a man
//! in the middle on plain MQTT): login, subscription, a QoS 1 publication and polling, with
//! the broker's side of the stream cut into reads where the input says. Never a panic, and
//! the heap the session holds stays bounded whatever lengths the packets announce.
#![no_main]
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use gateway::mqtt::{Clock, Options, Session, MAX_PACKET};
use libfuzzer_sys::fuzz_target;

/// Counts the heap in use, to bound the session's peak.
struct Counting;
static USED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged, only counting sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = USED.fetch_add(l.size(), Ordering::Relaxed) + l.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        USED.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: `p` came from `alloc` with this layout.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// The broker's side: `reads` in order, then time-outs; what the session writes is dropped.
struct Stream<'a> {
    reads: Vec<&'a [u8]>,
    next: usize,
    clock: &'a Cell<u64>,
}

impl embedded_io::ErrorType for Stream<'_> {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Stream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        // Every read takes a second of the session's clock: keep-alive timers fire.
        self.clock.set(self.clock.get() + 1000);
        let Some(r) = self.reads.get_mut(self.next) else {
            return Err(embedded_io::ErrorKind::TimedOut);
        };
        let n = r.len().min(buf.len());
        buf[..n].copy_from_slice(&r[..n]);
        *r = &r[n..];
        if r.is_empty() {
            self.next += 1;
        }
        Ok(n)
    }
}

impl embedded_io::Write for Stream<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

struct Ticks<'a>(&'a Cell<u64>);
impl Clock for Ticks<'_> {
    fn now_ms(&self) -> u64 {
        self.0.get()
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte sets the read size (1..=256 bytes), so packets split anywhere.
    let Some((&k, rest)) = data.split_first() else { return };
    let size = k as usize + 1;
    let clock = Cell::new(0);
    let io = Stream { reads: rest.chunks(size).collect(), next: 0, clock: &clock };
    let opts = Options { client_id: "gw1".into(), username: None, password: None, keep_alive: 5 };
    let base = USED.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    if let Ok(mut s) = Session::connect(io, Ticks(&clock), &opts, 10_000) {
        if s.subscribe("c/#", 10_000).is_ok() {
            let _ = s.publish("up", b"{}", true);
            // Past the input, a few polls more: the keep-alive runs out.
            for _ in 0..rest.len() / size + 20 {
                match s.poll() {
                    Ok(Some(m)) => assert!(m.topic.len() + m.payload.len() <= MAX_PACKET),
                    Ok(None) => {}
                    Err(_) => break,
                }
            }
        }
    }
    let peak = PEAK.load(Ordering::Relaxed) - base;
    assert!(peak < 64 * 1024, "{peak} bytes of heap for {} bytes of input", data.len());
});
