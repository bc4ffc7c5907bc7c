//! Threads on `osThreadNew`, running Rust closures.
//!
//! ```no_run
//! use ws63_hal::thread::Builder;
//! Builder::new(c"ota").stack_size(0x2000).spawn(|| { /* ... */ }).unwrap();
//! ```
//!
//! Names are `&'static CStr`: LiteOS keeps the pointer in the task, it does not copy the name.

use alloc::boxed::Box;
use core::ffi::{c_void, CStr};
use core::time::Duration;

use cmsis_rtos2_sys as os;

use crate::error::Error;
use crate::time;

/// `osPriorityNormal`, the default, as the C original's OTA thread.
pub const PRIORITY_NORMAL: os::osPriority_t = os::osPriorityNormal;

/// Configures and spawns a thread.
#[derive(Debug, Clone)]
pub struct Builder {
    name: &'static CStr,
    stack_size: u32,
    priority: os::osPriority_t,
}

/// A spawned thread (CMSIS threads are detached: there is nothing to join).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thread(os::osThreadId_t);

type Job = Box<dyn FnOnce() + Send + 'static>;

extern "C" fn trampoline(arg: *mut c_void) {
    // SAFETY: `arg` is the Box<Job> leaked by `spawn` for exactly this thread, and only
    // this thread turns it back into a Box, once.
    let job: Box<Job> = unsafe { Box::from_raw(arg.cast::<Job>()) };
    job();
}

impl Builder {
    /// A thread called `name`, with a 4 KiB stack at normal priority.
    pub fn new(name: &'static CStr) -> Self {
        Self { name, stack_size: 0x1000, priority: PRIORITY_NORMAL }
    }

    /// Stack size in bytes.
    pub fn stack_size(mut self, bytes: u32) -> Self {
        self.stack_size = bytes;
        self
    }

    /// CMSIS priority: LiteOS takes `osPriorityLow3` (11) to `osPriorityHigh` (40) only, and
    /// refuses the thread otherwise.
    pub fn priority(mut self, priority: os::osPriority_t) -> Self {
        self.priority = priority;
        self
    }

    /// Starts `f` on a new thread.
    ///
    /// # Errors
    /// [`Error::ThreadCreate`] when the kernel refuses (no memory, too many tasks, a bad
    /// priority); `f` is then dropped, not leaked.
    pub fn spawn<F: FnOnce() + Send + 'static>(self, f: F) -> Result<Thread, Error> {
        let job: Box<Job> = Box::new(Box::new(f));
        let arg = Box::into_raw(job).cast::<c_void>();
        let attr = os::osThreadAttr_t {
            name: self.name.as_ptr(),
            stack_size: self.stack_size,
            priority: self.priority,
            ..Default::default()
        };
        // SAFETY: `trampoline` is a valid thread function; `arg` is a leaked Box<Job> that
        // the new thread owns; `attr` outlives the call and the name is 'static.
        let id = unsafe { os::osThreadNew(Some(trampoline), arg, &attr) };
        if id.is_null() {
            // SAFETY: the thread was not created, so `arg` is still ours: free it once.
            drop(unsafe { Box::from_raw(arg.cast::<Job>()) });
            return Err(Error::ThreadCreate);
        }
        Ok(Thread(id))
    }
}

impl Thread {
    /// The kernel's id of the thread.
    pub fn id(self) -> os::osThreadId_t {
        self.0
    }
}

/// Sleeps at least `d` (whole ticks, rounded up); a zero duration yields.
pub fn sleep(d: Duration) {
    let ticks = time::to_ticks(d);
    // SAFETY: plain kernel calls.
    unsafe {
        if ticks == 0 {
            os::osThreadYield();
        } else {
            os::osDelay(ticks);
        }
    }
}
