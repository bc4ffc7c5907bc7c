//! The chip runtime of the WS63 firmware: what a `no_std` static library needs to live in the
//! SDK's `ws63-liteos-app` image.
//!
//! - [`app_run!`] registers the firmware's entry point the way the SDK's `app_run()` macro does:
//!   a function pointer in section `.zinitcall.app_run0.init`, which the SDK's `main()` calls
//!   (through `app_tasks_init()`) before the scheduler starts. The entry must not block: it
//!   creates its threads and returns.
//! - [`console::print`] writes to the SDK's console UART (`printf`) on the chip, to stderr on
//!   the host.
//! - [`heap::SdkHeap`]: the global allocator over the LiteOS system heap (`malloc`, or
//!   `memalign` for alignments above the heap's 4 bytes); installed by the chip build, and by
//!   the simulated board over its own `malloc`.
//! - [`critical`]: the `critical-section` implementation on the kernel's scheduler lock,
//!   correct under LiteOS's lock semantics (nesting, and before the scheduler starts), used
//!   on the chip and on the simulated board alike.
//! - On the chip: a panic handler that prints the location and message, then reboots.
//! - [`version`]: the firmware's version record.
#![no_std]
#![warn(missing_docs)]

#[cfg(not(target_os = "none"))]
extern crate std;

/// Registers `$entry` (a `fn()`) as the firmware's application entry point, as the SDK's
/// `app_run($entry)` does in C. Only the chip build registers anything; on the host the
/// simulated board calls the entry itself.
///
/// The static library must be linked whole-archive (`WHOLE_LINK true` in the SDK component),
/// since nothing else refers to the registration.
#[macro_export]
macro_rules! app_run {
    ($entry:path) => {
        #[cfg(target_os = "none")]
        #[used]
        #[link_section = ".zinitcall.app_run0.init"]
        static WS63_APP_RUN_ENTRY: extern "C" fn() = {
            extern "C" fn ws63_app_run_entry() {
                $entry()
            }
            ws63_app_run_entry
        };
    };
}

pub mod version;

pub mod console {
    //! The console: the SDK's `printf` (UART, 115200 8N1) on the chip, stderr on the host.

    /// Writes `s` to the console as it is (no newline added).
    pub fn print(s: &str) {
        #[cfg(target_os = "none")]
        {
            let len = i32::try_from(s.len()).unwrap_or(i32::MAX);
            // SAFETY: "%.*s" reads exactly `len` bytes from `s.as_ptr()`, which points to a
            // live `&str` of at least that length; the format string is NUL-terminated.
            unsafe {
                ws63_sdk_sys::printf(c"%.*s".as_ptr(), len, s.as_ptr());
            }
        }
        #[cfg(not(target_os = "none"))]
        {
            use std::io::Write as _;
            let _ = std::io::stderr().write_all(s.as_bytes());
        }
    }

    /// A [`core::fmt::Write`] sink that formats into a fixed buffer and prints it in pieces,
    /// so formatting needs no heap (usable from the panic handler).
    pub struct Writer {
        buf: [u8; 128],
        len: usize,
    }

    impl Writer {
        /// An empty writer.
        pub const fn new() -> Self {
            Self { buf: [0; 128], len: 0 }
        }

        /// Prints what is buffered.
        pub fn flush(&mut self) {
            let mut end = self.len;
            // Never split a UTF-8 sequence; the rest stays for the next flush.
            while end > 0 && core::str::from_utf8(&self.buf[..end]).is_err() {
                end -= 1;
            }
            if let Ok(s) = core::str::from_utf8(&self.buf[..end]) {
                print(s);
            }
            self.buf.copy_within(end..self.len, 0);
            self.len -= end;
        }
    }

    impl Default for Writer {
        fn default() -> Self {
            Self::new()
        }
    }

    impl core::fmt::Write for Writer {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for &b in s.as_bytes() {
                if self.len == self.buf.len() {
                    self.flush();
                    if self.len == self.buf.len() {
                        self.len = 0;
                    }
                }
                self.buf[self.len] = b;
                self.len += 1;
            }
            Ok(())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Writer;
        use core::fmt::Write as _;

        #[test]
        fn writer_keeps_utf8_sequences_whole_across_flushes() {
            let mut w = Writer::new();
            // 127 ASCII bytes then a 3-byte character: the buffer fills mid-character, the
            // automatic flush prints the 127 bytes and keeps the started character.
            let s = "a".repeat(127) + "€";
            w.write_str(&s).unwrap();
            assert_eq!(&w.buf[..w.len], "€".as_bytes());
            w.flush();
            assert_eq!(w.len, 0);
        }
    }
}

pub mod heap {
    //! The heap: LiteOS's system heap through the SDK's C library (`malloc`, or `memalign` for
    //! alignments above its 4 bytes). The chip build installs it as the global allocator; the
    //! simulated board installs the same allocator over its own `malloc`, so the firmware's
    //! allocations take one path on both.

    use core::alloc::{GlobalAlloc, Layout};

    /// The LiteOS system heap, through the C library.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct SdkHeap;

    /// `malloc` returns 4-byte aligned blocks on the WS63 (and `memalign` refuses less).
    const HEAP_ALIGN: usize = 4;

    // SAFETY: malloc/calloc/memalign return blocks of at least `size` bytes with at least the
    // asked alignment (or null), and free releases blocks from any of them; the SDK heap is
    // thread-safe. Sizes are never 0 (GlobalAlloc callers never ask for 0 bytes), which
    // LiteOS's malloc would answer with NULL.
    unsafe impl GlobalAlloc for SdkHeap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if layout.align() <= HEAP_ALIGN {
                // SAFETY: plain C allocation of `layout.size()` bytes.
                unsafe { ws63_sdk_sys::malloc(layout.size()).cast() }
            } else {
                // SAFETY: `layout.align()` is a power of two above 4, as memalign requires.
                unsafe { ws63_sdk_sys::memalign(layout.align(), layout.size()).cast() }
            }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            if layout.align() <= HEAP_ALIGN {
                // SAFETY: plain C allocation of one zeroed block of `layout.size()` bytes.
                unsafe { ws63_sdk_sys::calloc(1, layout.size()).cast() }
            } else {
                // SAFETY: as `alloc`; the block is then zeroed over its whole size.
                unsafe {
                    let p = self.alloc(layout);
                    if !p.is_null() {
                        core::ptr::write_bytes(p, 0, layout.size());
                    }
                    p
                }
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
            // SAFETY: `ptr` came from malloc, calloc or memalign above (GlobalAlloc contract).
            unsafe { ws63_sdk_sys::free(ptr.cast()) }
        }
    }
}

pub mod critical {
    //! Critical sections (the `critical-section` crate's implementation, on the chip and on
    //! the simulated board alike) on the kernel's scheduler lock. Firmware code runs in
    //! tasks, never in interrupts, so excluding the other tasks is what a section needs.
    //!
    //! LiteOS's CMSIS layer is not nesting-safe the way the CMSIS API reference suggests:
    //! `osKernelLock` returns 1 *without* locking again when the scheduler is already locked,
    //! and `osKernelRestoreLock(1)` locks one level *more*, so pairing them as the reference
    //! shows leaves the scheduler locked for good. And before `osKernelStart` (where the
    //! SDK's `main()` runs the `app_run` entries) `osKernelLock` returns -1 and locks nothing.
    //! So a section remembers whether *it* took the lock: only a section that found the
    //! scheduler unlocked (`osKernelLock` returned 0) unlocks it, with `osKernelUnlock`, which
    //! removes exactly one level. Sections nested in it, and sections before the scheduler
    //! runs (one thread of execution, nothing to exclude), leave the lock as they found it.
    //!
    //! Inside a section the firmware must not wait: LiteOS fails `osDelay` and every wait on
    //! a mutex, semaphore or queue while the scheduler is locked.

    /// The state a section restores: it took the lock.
    const TOOK_LOCK: u32 = 1;
    /// The state a section restores: the lock was already held, or there is no scheduler yet.
    const LEFT_AS_IS: u32 = 0;

    struct SchedulerLock;
    critical_section::set_impl!(SchedulerLock);

    // SAFETY: a section that took the scheduler lock (osKernelLock returned 0) holds it until
    // its release, and only that release unlocks it, one level: no other task runs in
    // between. Nested sections run inside it, under the same lock, and change nothing. Before
    // the kernel starts, only the SDK's main() runs, so there is nothing to exclude.
    unsafe impl critical_section::Impl for SchedulerLock {
        unsafe fn acquire() -> critical_section::RawRestoreState {
            // SAFETY: a plain kernel call from task context (or from main() before start).
            match unsafe { cmsis_rtos2_sys::osKernelLock() } {
                0 => TOOK_LOCK,
                _ => LEFT_AS_IS,
            }
        }

        unsafe fn release(state: critical_section::RawRestoreState) {
            if state == TOOK_LOCK {
                // SAFETY: this section locked the scheduler; unlock removes that one level.
                unsafe { cmsis_rtos2_sys::osKernelUnlock() };
            }
        }
    }
}

#[cfg(target_os = "none")]
mod chip {
    #[global_allocator]
    static HEAP: crate::heap::SdkHeap = crate::heap::SdkHeap;

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        use core::fmt::Write as _;
        let mut w = crate::console::Writer::new();
        let _ = write!(w, "\r\n[ws63-rt] PANIC");
        if let Some(loc) = info.location() {
            let _ = write!(w, " at {}:{}", loc.file(), loc.line());
        }
        let _ = write!(w, ": {}\r\n[ws63-rt] rebooting\r\n", info.message());
        w.flush();
        // SAFETY: resets the chip; nothing runs after it.
        unsafe { ws63_sdk_sys::hal_reboot_chip() };
        #[allow(clippy::empty_loop)]
        loop {}
    }
}
