//! Measuring instruments for tests and benchmarks: a thread's peak heap (through the board's
//! heap, [`crate::heap`]), and a stack high-water mark by painting a thread's stack.
//!
//! Both measure the host build (x86-64), not the chip: the figures show how the firmware's
//! memory grows (or does not) with its input, and bound it from above for a 32-bit target,
//! whose pointers and frames are smaller.

/// Runs `f` on this thread and returns its result with the peak of heap bytes it held live
/// (allocated and not yet freed) at any moment, counted as LiteOS's allocator counts them
/// (with its block headers; see [`crate::heap`], which is the firmware's heap on this board).
pub fn heap_peak<R>(f: impl FnOnce() -> R) -> (R, usize) {
    crate::heap::thread_peak(f)
}

/// Runs `f` on this thread and returns its result with the heap bytes it allocated and did
/// not free (a leak, or what it meant to keep), counted as [`heap_peak`] counts.
pub fn heap_kept<R>(f: impl FnOnce() -> R) -> (R, isize) {
    crate::heap::thread_kept(f)
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
