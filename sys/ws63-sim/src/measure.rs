//! Measuring instruments for tests and benchmarks: a heap counter to install as the global
//! allocator, and a stack high-water mark by painting a thread's stack.
//!
//! Both measure the host build (x86-64), not the chip: the figures show how the firmware's
//! memory grows (or does not) with its input, and bound it from above for a 32-bit target,
//! whose pointers and frames are smaller.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// A global allocator that counts live heap bytes, per thread, on threads that ask for it
/// ([`heap_peak`]). Install it with `#[global_allocator] static A: CountingAlloc = CountingAlloc;`.
pub struct CountingAlloc;

thread_local! {
    static MEASURE: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    if MEASURE.try_with(Cell::get).unwrap_or(false) {
        let live = LIVE.with(|l| {
            l.set(l.get() + delta);
            l.get()
        });
        PEAK.with(|p| p.set(p.get().max(live)));
    }
}

// SAFETY: forwards to the system allocator unchanged; the counters are const-initialised
// thread-local cells that allocate nothing.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` on this thread and returns its result with the peak of heap bytes it held live
/// (allocated and not yet freed) at any moment. Counts only when [`CountingAlloc`] is the
/// global allocator; otherwise the peak is 0.
pub fn heap_peak<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    MEASURE.with(|m| m.set(true));
    let r = f();
    MEASURE.with(|m| m.set(false));
    (r, PEAK.with(Cell::get).max(0) as usize)
}

const PAINT: u8 = 0xA5;

/// Runs `f` on a new thread with a `stack` -byte stack and returns its result with the most
/// stack it used, in bytes: the stack below the measuring frame is painted before `f` runs
/// and scanned for the deepest overwritten byte after. `f` must fit in `stack` less 64 KiB
/// (kept unpainted, for the thread's own start-up frames and the guard).
pub fn stack_peak<R: Send + 'static>(
    stack: usize,
    f: impl FnOnce() -> R + Send + 'static,
) -> (R, usize) {
    assert!(stack >= 128 * 1024, "stack_peak wants at least 128 KiB");
    let depth = stack - 64 * 1024;
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let top = paint(depth);
            let r = f();
            let used = scan(top, depth);
            (r, used)
        })
        .expect("spawn the measured thread")
        .join()
        .expect("the measured thread panicked")
}

/// Paints `depth` bytes below the caller's frame; returns the address painting started at.
#[inline(never)]
fn paint(depth: usize) -> usize {
    let marker = 0u8;
    // 512 bytes of slack for this function's own frame and the call that follows.
    let top = std::ptr::addr_of!(marker) as usize - 512;
    for a in (top - depth)..top {
        // SAFETY: [top - depth, top) is unused stack of this thread: below the live frames
        // (the thread is `depth + 64 KiB` deep and only its start-up frames are above), above
        // the guard page; nothing else references it, and volatile keeps the writes.
        unsafe { std::ptr::write_volatile(a as *mut u8, PAINT) };
    }
    top
}

/// How many bytes below `top` were overwritten since [`paint`].
#[inline(never)]
fn scan(top: usize, depth: usize) -> usize {
    for a in (top - depth)..top {
        // SAFETY: the same region [paint] wrote, still this thread's stack.
        if unsafe { std::ptr::read_volatile(a as *const u8) } != PAINT {
            return top - a;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn burn(n: usize) -> u8 {
        let buf = [n as u8; 8192];
        std::hint::black_box(&buf);
        if n == 0 {
            buf[0]
        } else {
            burn(n - 1).wrapping_add(buf[100])
        }
    }

    #[test]
    fn deeper_calls_measure_more_stack() {
        let (_, shallow) = stack_peak(256 * 1024, || burn(1));
        let (_, deep) = stack_peak(256 * 1024, || burn(8));
        assert!(shallow >= 12 * 1024, "two 8 KiB frames, less the slack: {shallow}");
        assert!(deep >= shallow + 7 * 8192, "shallow {shallow}, deep {deep}");
    }
}
