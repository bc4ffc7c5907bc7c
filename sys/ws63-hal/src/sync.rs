//! Kernel synchronisation: a mutex holding data, a counting semaphore, a typed bounded queue.
//! Timeouts are `Option<Duration>`: `None` waits forever, `Some(Duration::ZERO)` only tries.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::mem::{size_of, MaybeUninit};
use core::ops::{Deref, DerefMut};
use core::time::Duration;

use cmsis_rtos2_sys as os;

use crate::error::{Error, OsError};
use crate::time::timeout_ticks;

/// A kernel mutex owning `T`.
///
/// Every LiteOS mutex is recursive (`osMutexNew` ignores its attributes, and the owner's
/// relock succeeds and counts), so the kernel alone would hand a thread that already holds
/// the mutex a second guard: two `&mut T`. This wrapper marks the data as held while a guard
/// lives (the mark is only touched under the kernel mutex) and refuses a relock by the
/// holder with [`Error::WouldDeadlock`] instead.
pub struct Mutex<T> {
    id: os::osMutexId_t,
    /// A guard exists. Read and written only while holding the kernel mutex.
    held: UnsafeCell<bool>,
    data: UnsafeCell<T>,
}

// SAFETY: the kernel mutex serialises all access to `data`; T moves between threads only
// through the guard, so T: Send suffices (as for std::sync::Mutex).
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Mutex<T> {}

/// Access to a [`Mutex`]'s data; releases the mutex when dropped.
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Mutex<T> {
    /// A new mutex.
    ///
    /// # Errors
    /// When the kernel has no room for one.
    pub fn new(value: T) -> Result<Self, Error> {
        // SAFETY: NULL attributes are the CMSIS defaults.
        let id = unsafe { os::osMutexNew(core::ptr::null()) };
        if id.is_null() {
            return Err(Error::Os(OsError::check(os::osErrorNoMemory).unwrap_err()));
        }
        Ok(Self { id, held: UnsafeCell::new(false), data: UnsafeCell::new(value) })
    }

    /// Locks, waiting at most `timeout`.
    ///
    /// # Errors
    /// `osErrorTimeout` (or `osErrorResource` for a zero timeout) when it stays locked;
    /// [`Error::WouldDeadlock`] when this thread already holds it (the kernel would let it
    /// in again).
    pub fn lock_timeout(&self, timeout: Option<Duration>) -> Result<MutexGuard<'_, T>, Error> {
        // SAFETY: `id` is a live mutex owned by self.
        OsError::check(unsafe { os::osMutexAcquire(self.id, timeout_ticks(timeout)) })?;
        // SAFETY: this thread holds the kernel mutex, so no other thread touches `held`; a
        // guard of this thread does not reference it.
        let held = unsafe { &mut *self.held.get() };
        if *held {
            // The kernel let the holder in again: undo that relock, hand out nothing.
            // SAFETY: this thread holds the mutex one level more than its guard does.
            unsafe { os::osMutexRelease(self.id) };
            return Err(Error::WouldDeadlock);
        }
        *held = true;
        Ok(MutexGuard { mutex: self, _not_send: PhantomData })
    }

    /// Locks, waiting as long as it takes.
    ///
    /// # Errors
    /// Only when the thread already holds it ([`Error::WouldDeadlock`]).
    pub fn lock(&self) -> Result<MutexGuard<'_, T>, Error> {
        self.lock_timeout(None)
    }
}

impl<T> Drop for Mutex<T> {
    fn drop(&mut self) {
        // SAFETY: `id` is live and no guard exists (guards borrow self).
        unsafe { os::osMutexDelete(self.id) };
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the kernel mutex, so no other reference to data exists.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref; &mut self makes this the only reference through the guard.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this thread holds the kernel mutex (for this guard), so it alone touches
        // `held`; then it releases the level it took for the guard.
        unsafe {
            *self.mutex.held.get() = false;
            os::osMutexRelease(self.mutex.id);
        }
    }
}

/// A counting semaphore.
pub struct Semaphore {
    id: os::osSemaphoreId_t,
}

// SAFETY: kernel semaphores are meant to be used from any thread.
unsafe impl Send for Semaphore {}
// SAFETY: as above.
unsafe impl Sync for Semaphore {}

impl Semaphore {
    /// A semaphore starting at `initial`: a binary one (at most 1) for `max` 1; for any other
    /// `max` LiteOS makes a counting semaphore capped at 0xFFFE, whatever `max` says.
    ///
    /// # Errors
    /// `max` 0 or `initial > max`, or no room in the kernel.
    pub fn new(max: u32, initial: u32) -> Result<Self, Error> {
        if max == 0 || initial > max {
            return Err(Error::InvalidArgument("semaphore count"));
        }
        // SAFETY: valid counts, default attributes.
        let id = unsafe { os::osSemaphoreNew(max, initial, core::ptr::null()) };
        if id.is_null() {
            return Err(Error::Os(OsError::check(os::osErrorNoMemory).unwrap_err()));
        }
        Ok(Self { id })
    }

    /// Takes one count, waiting at most `timeout`.
    ///
    /// # Errors
    /// `osErrorTimeout` / `osErrorResource` when none came.
    pub fn acquire(&self, timeout: Option<Duration>) -> Result<(), Error> {
        // SAFETY: `id` is a live semaphore owned by self.
        Ok(OsError::check(unsafe { os::osSemaphoreAcquire(self.id, timeout_ticks(timeout)) })?)
    }

    /// Gives one count back.
    ///
    /// # Errors
    /// `osErrorResource` when the count is already at its cap (1 for a binary semaphore).
    pub fn release(&self) -> Result<(), Error> {
        // SAFETY: `id` is a live semaphore owned by self.
        Ok(OsError::check(unsafe { os::osSemaphoreRelease(self.id) })?)
    }

    /// The current count.
    pub fn count(&self) -> u32 {
        // SAFETY: `id` is a live semaphore owned by self.
        unsafe { os::osSemaphoreGetCount(self.id) }
    }
}

impl Drop for Semaphore {
    fn drop(&mut self) {
        // SAFETY: `id` is live; no other owner.
        unsafe { os::osSemaphoreDelete(self.id) };
    }
}

/// A bounded queue of `T`, over a kernel message queue: values move through it by copy of
/// their bytes, each exactly once (sent values are forgotten by the sender, received ones
/// owned by the receiver). Values left in the queue are dropped with it.
pub struct Queue<T> {
    id: os::osMessageQueueId_t,
    _t: PhantomData<T>,
}

// SAFETY: values cross threads only by move through the kernel queue; T: Send is required.
unsafe impl<T: Send> Send for Queue<T> {}
// SAFETY: as above; the kernel queue is thread-safe.
unsafe impl<T: Send> Sync for Queue<T> {}

impl<T: Send> Queue<T> {
    /// A queue holding at most `capacity` values.
    ///
    /// # Errors
    /// A zero capacity, or no room in the kernel.
    pub fn new(capacity: u32) -> Result<Self, Error> {
        if capacity == 0 {
            return Err(Error::InvalidArgument("queue capacity"));
        }
        let size = size_of::<T>().max(1) as u32;
        // SAFETY: valid sizes, default attributes.
        let id = unsafe { os::osMessageQueueNew(capacity, size, core::ptr::null()) };
        if id.is_null() {
            return Err(Error::Os(OsError::check(os::osErrorNoMemory).unwrap_err()));
        }
        Ok(Self { id, _t: PhantomData })
    }

    /// Sends `value`, waiting at most `timeout` for room.
    ///
    /// # Errors
    /// The value comes back with the error when the queue stayed full.
    pub fn send(&self, value: T, timeout: Option<Duration>) -> Result<(), (T, Error)> {
        let slot = MaybeUninit::new(value);
        // SAFETY: the kernel copies the queue's message size from the pointer: size_of::<T>()
        // bytes from `slot`, or for a zero-sized T (message size 1) one byte from `b`.
        let status = unsafe {
            if size_of::<T>() == 0 {
                let b = 0u8;
                os::osMessageQueuePut(self.id, (&b as *const u8).cast(), 0, timeout_ticks(timeout))
            } else {
                os::osMessageQueuePut(self.id, slot.as_ptr().cast(), 0, timeout_ticks(timeout))
            }
        };
        match OsError::check(status) {
            // The bytes now live in the queue: the receiver owns the value.
            Ok(()) => Ok(()),
            // SAFETY: the send failed, so `slot` still holds the only copy.
            Err(e) => Err((unsafe { slot.assume_init() }, Error::Os(e))),
        }
    }

    /// Receives the oldest value, waiting at most `timeout`.
    ///
    /// # Errors
    /// `osErrorTimeout` / `osErrorResource` when nothing came.
    pub fn recv(&self, timeout: Option<Duration>) -> Result<T, Error> {
        let mut slot = MaybeUninit::<T>::uninit();
        let mut zst = 0u8;
        // SAFETY: the kernel writes size_of::<T>() bytes (1 for ZSTs, into `zst`) of a value
        // that `send` moved in; `slot` has room for them.
        let status = unsafe {
            let dst = if size_of::<T>() == 0 {
                (&mut zst as *mut u8).cast()
            } else {
                slot.as_mut_ptr().cast()
            };
            os::osMessageQueueGet(self.id, dst, core::ptr::null_mut(), timeout_ticks(timeout))
        };
        OsError::check(status)?;
        // SAFETY: a successful get wrote a whole T that `send` moved in (for a ZST there are
        // no bytes to write, and any pointer is a valid ZST).
        Ok(unsafe { slot.assume_init() })
    }

    /// Values waiting.
    pub fn len(&self) -> u32 {
        // SAFETY: `id` is a live queue owned by self.
        unsafe { os::osMessageQueueGetCount(self.id) }
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Queue<T> {
    fn drop(&mut self) {
        let mut slot = MaybeUninit::<T>::uninit();
        let mut zst = 0u8;
        loop {
            let dst = if size_of::<T>() == 0 {
                (&mut zst as *mut u8).cast()
            } else {
                slot.as_mut_ptr().cast()
            };
            // SAFETY: as in recv, without waiting.
            let status = unsafe { os::osMessageQueueGet(self.id, dst, core::ptr::null_mut(), 0) };
            if status != os::osOK {
                break;
            }
            // SAFETY: a successful get wrote a whole T, owned now by this drop.
            drop(unsafe { slot.assume_init_read() });
        }
        // SAFETY: `id` is live; no other owner.
        unsafe { os::osMessageQueueDelete(self.id) };
    }
}
