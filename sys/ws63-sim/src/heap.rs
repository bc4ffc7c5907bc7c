//! The LiteOS system heap: `malloc`, `calloc`, `free` and `memalign` as the SDK's libc has them,
//! every block counted against the board's heap, which may be given a limit.
//!
//! On the chip everything comes out of one pool (`g_intheap`, about 356 KiB, shared with the
//! SDK's WiFi, lwIP and every task's stack): the firmware's Rust allocations (through
//! `ws63_rt::heap::SdkHeap`, which this board installs as the host's global allocator, so the
//! firmware takes the very path it takes on the chip), thread stacks and message-queue
//! buffers. The simulated board charges each of them what LiteOS's best-fit allocator would
//! take (the size rounded up to 4, plus its 16-byte node header; `memalign` adds `align - 4`
//! for the worst placement), and with [`set_limit`] refuses what would go past the limit,
//! as the chip's exhausted pool does: `malloc` returns NULL.
//!
//! LiteOS's answers to odd requests are kept: `malloc(0)` and `calloc` with a zero argument
//! or a 32-bit overflow return NULL; `memalign` refuses an alignment below 4 or not a power of
//! two, and a size of 0; requests of 1 GiB or more fail. `free(NULL)` does nothing.
//!
//! What is counted is the host's allocation sizes of the firmware's data structures, which
//! on x86-64 (8-byte pointers) are larger than on the chip: a figure here bounds the chip's
//! from above.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};

/// The heap a firmware run may use unless told otherwise, in bytes: what the SDK's
/// `ws63-liteos-app` leaves the app, estimated. The LiteOS heap is what SRAM (548,608 bytes)
/// leaves after the SDK's data and bss, about 356 KiB; the WS63 emulator, running the image
/// without its WiFi and BT tasks, shows about 301 KB still free after start-up with the
/// firmware's threads running. The WiFi and BT tasks, their stacks and the WiFi driver's
/// buffers, which it does not run, take an estimated 170 KB of that on a board. That leaves
/// the firmware about 128 KiB (a board's figure replaces this estimate).
pub const FIRMWARE_HEAP: usize = 128 * 1024;

/// LiteOS's best-fit node header.
pub const NODE_HEADER: usize = 16;

/// Requests at or above this fail (LiteOS: `n >= 0x40000000`).
const TOO_LARGE: usize = 0x4000_0000;

static USED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
static REFUSED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static MEASURE: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static THREAD_PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Sets the heap's limit in bytes (what the pool has free for the firmware); `None`: no limit.
pub fn set_limit(limit: Option<usize>) {
    LIMIT.store(limit.unwrap_or(usize::MAX), SeqCst);
}

/// The limit, if one is set.
pub fn limit() -> Option<usize> {
    Some(LIMIT.load(SeqCst)).filter(|l| *l != usize::MAX)
}

/// Bytes in use (as LiteOS counts them: with node headers).
pub fn used() -> usize {
    USED.load(SeqCst)
}

/// The most bytes in use at any moment since the board started (or [`reset_peak`]).
pub fn peak() -> usize {
    PEAK.load(SeqCst)
}

/// Restarts [`peak`] from what is in use now.
pub fn reset_peak() {
    PEAK.store(USED.load(SeqCst), SeqCst);
}

/// Allocations refused because the heap was exhausted.
pub fn refused() -> u64 {
    REFUSED.load(SeqCst)
}

/// What LiteOS takes from the pool for `size` bytes aligned to `align`.
pub fn charge_of(size: usize, align: usize) -> usize {
    let extra = align.saturating_sub(4);
    size.div_ceil(4) * 4 + NODE_HEADER + extra
}

fn count_thread(delta: isize) {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    if MEASURE.try_with(Cell::get).unwrap_or(false) {
        let live = LIVE.with(|l| {
            l.set(l.get() + delta);
            l.get()
        });
        THREAD_PEAK.with(|p| p.set(p.get().max(live)));
    }
}

/// Takes `n` bytes from the pool; false (and nothing taken) when the limit would be passed.
pub(crate) fn charge(n: usize) -> bool {
    let limit = LIMIT.load(SeqCst);
    let taken = USED.fetch_update(SeqCst, SeqCst, |u| u.checked_add(n).filter(|t| *t <= limit));
    match taken {
        Ok(before) => {
            PEAK.fetch_max(before + n, SeqCst);
            count_thread(n as isize);
            true
        }
        Err(_) => {
            REFUSED.fetch_add(1, SeqCst);
            false
        }
    }
}

/// Gives `n` bytes back to the pool.
pub(crate) fn uncharge(n: usize) {
    USED.fetch_sub(n, SeqCst);
    count_thread(-(n as isize));
}

/// Runs `f` on this thread and returns its result with the peak of heap bytes this thread
/// held (charged and not yet freed) at any moment, as LiteOS counts them. Only allocations
/// through the board's heap count (the firmware's, once this board is linked).
pub fn thread_peak<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LIVE.with(|l| l.set(0));
    THREAD_PEAK.with(|p| p.set(0));
    MEASURE.with(|m| m.set(true));
    let r = f();
    MEASURE.with(|m| m.set(false));
    (r, THREAD_PEAK.with(Cell::get).max(0) as usize)
}

/// Runs `f` on this thread and returns its result with what this thread allocated in it and
/// did not free (negative if it freed more than it took), as LiteOS counts it.
pub fn thread_kept<R>(f: impl FnOnce() -> R) -> (R, isize) {
    LIVE.with(|l| l.set(0));
    MEASURE.with(|m| m.set(true));
    let r = f();
    MEASURE.with(|m| m.set(false));
    (r, LIVE.with(Cell::get))
}

/// Room kept before each block for what `free` needs: the host layout and the charge.
const PAD: usize = 32;

/// Allocates `size` bytes aligned to `align` (a power of two, at least 4), charged as LiteOS
/// would; NULL when refused.
fn alloc(size: usize, align: usize, zeroed: bool) -> *mut c_void {
    alloc_charging(size, align, zeroed, charge_of(size, align))
}

/// `calloc` of `n * size` bytes whose block the chip's heap would size as `chip_size` (a
/// structure whose size differs between the chip's build of a library and the host's): the
/// board's heap is charged for the chip's block, now and when it is freed.
pub(crate) fn calloc_as(n: usize, size: usize, chip_size: usize) -> *mut c_void {
    match n.checked_mul(size).filter(|t| *t <= u32::MAX as usize) {
        Some(total) if n != 0 && size != 0 && chip_size != 0 => {
            alloc_charging(total, 4, true, charge_of(chip_size, 4))
        }
        _ => std::ptr::null_mut(),
    }
}

fn alloc_charging(size: usize, align: usize, zeroed: bool, charged: usize) -> *mut c_void {
    if size == 0 || size >= TOO_LARGE {
        return std::ptr::null_mut();
    }
    if !charge(charged) {
        return std::ptr::null_mut();
    }
    let pad = align.max(PAD);
    let Ok(layout) = Layout::from_size_align(size + pad, pad) else {
        uncharge(charged);
        return std::ptr::null_mut();
    };
    // SAFETY: a non-zero size and a valid layout.
    let base = unsafe {
        if zeroed {
            System.alloc_zeroed(layout)
        } else {
            System.alloc(layout)
        }
    };
    if base.is_null() {
        uncharge(charged);
        return std::ptr::null_mut();
    }
    // SAFETY: `base` has `size + pad` bytes; the block starts `pad` (>= 32) bytes in, and the
    // three words just before it are inside the allocation and suitably aligned (pad is a
    // multiple of 8).
    unsafe {
        let user = base.add(pad);
        let meta = user.cast::<usize>().sub(3);
        meta.write(layout.size());
        meta.add(1).write(layout.align());
        meta.add(2).write(charged);
        user.cast()
    }
}

/// `malloc`: at least 4-byte aligned, as LiteOS's; NULL for 0 or when the heap is exhausted.
#[export_name = "ws63sim_malloc"]
pub extern "C" fn malloc(size: usize) -> *mut c_void {
    alloc(size, 4, false)
}

/// `calloc`: NULL when either argument is 0 or their product overflows 32 bits.
#[export_name = "ws63sim_calloc"]
pub extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    match n.checked_mul(size).filter(|t| *t <= u32::MAX as usize) {
        Some(total) if n != 0 && size != 0 => alloc(total, 4, true),
        _ => std::ptr::null_mut(),
    }
}

/// `memalign`: NULL for an alignment below 4 or not a power of two, or a size of 0.
#[export_name = "ws63sim_memalign"]
pub extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    if align < 4 || !align.is_power_of_two() {
        return std::ptr::null_mut();
    }
    alloc(size, align, false)
}

/// `free`: NULL does nothing.
#[export_name = "ws63sim_free"]
pub extern "C" fn free(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` came from `alloc` above (the C contract of free), which put the host
    // layout and the charge in the three words before it and the block `align` bytes into
    // the host allocation.
    unsafe {
        let meta = ptr.cast::<usize>().sub(3);
        let (size, align, charged) = (meta.read(), meta.add(1).read(), meta.add(2).read());
        let base = ptr.cast::<u8>().sub(align);
        System.dealloc(base, Layout::from_size_align_unchecked(size, align));
        uncharge(charged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liteos_answers_to_odd_requests() {
        assert!(malloc(0).is_null());
        assert!(calloc(0, 8).is_null() && calloc(8, 0).is_null());
        assert!(calloc(0x1_0000, 0x1_0000).is_null(), "32-bit overflow");
        assert!(memalign(2, 8).is_null() && memalign(12, 8).is_null() && memalign(8, 0).is_null());
        assert!(malloc(TOO_LARGE).is_null());
        free(std::ptr::null_mut());
        let p = memalign(64, 100);
        assert_eq!(p as usize % 64, 0);
        free(p);
        let z = calloc(10, 10).cast::<u8>();
        // SAFETY: 100 zeroed bytes from calloc.
        assert!(unsafe { std::slice::from_raw_parts(z, 100) }.iter().all(|b| *b == 0));
        free(z.cast());
    }

    #[test]
    fn blocks_are_charged_with_liteos_overheads() {
        assert_eq!(charge_of(1, 4), 20);
        assert_eq!(charge_of(100, 4), 116);
        assert_eq!(charge_of(100, 64), 176);
        let ((), held) = thread_peak(|| {
            let p = malloc(1000);
            let q = malloc(24);
            free(p);
            free(q);
        });
        assert_eq!(held, 1016 + 40);
    }
}
