//! The tests themselves (chip only).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::ffi::{c_char, c_int, c_void, CStr};
use core::fmt::Write as _;
use core::time::Duration;

use cmsis_rtos2_sys as os;
use ws63_hal::sync::{Mutex, Queue, Semaphore};
use ws63_hal::thread::{sleep, Builder};
use ws63_hal::Error;

/// What the firmware lends the runner.
#[derive(Clone, Copy)]
pub struct Hooks {
    /// Starts the gateway thread (as the product's entry does).
    pub start_gateway: fn(),
    /// Whether an OTA thread is running.
    pub ota_running: fn() -> bool,
}

// LiteOS's task and memory introspection (`los_task.h`, `los_memory.h`), and the emulator
// variant's C test component: declared here, in the test image only.
#[repr(C)]
struct TaskInfo {
    _name: [c_char; 32],
    task_id: u32,
    status: u16,
    priority: u16,
    sem: *mut c_void,
    mux: *mut c_void,
    event: [u32; 3],
    event_mask: u32,
    stack_size: u32,
    top_of_stack: u32,
    bottom_of_stack: u32,
    sp: u32,
    curr_used: u32,
    peak_used: u32,
    overflow: u32,
}

#[repr(C)]
#[derive(Default)]
struct MemStatus {
    total_used: u32,
    total_free: u32,
    max_free_node: u32,
    used_nodes: u32,
    free_nodes: u32,
}

unsafe extern "C" {
    fn LOS_TaskInfoGet(task_id: u32, info: *mut TaskInfo) -> u32;
    fn LOS_MemInfoGet(pool: *mut c_void, status: *mut MemStatus) -> u32;
    static m_aucSysMem0: *mut u8;
    static g_osTaskCBArray: *mut u8;
    fn osThreadGetName(thread: *mut c_void) -> *const c_char;
    fn ws63_test_call_ota_task_start(out: *mut c_int) -> c_int;
}

/// LiteOS's task limit (`g_taskMaxNum`).
const TASK_LIMIT: u32 = 28;

/// The size of LiteOS's task control block in this kernel build (`LOS_TaskInfoGet` indexes
/// `g_osTaskCBArray` by `id * 96`); a CMSIS thread id is the block's address.
const TCB_SIZE: usize = 96;

/// The name of task `id`, read through CMSIS (`osThreadGetName` on its control block).
/// `LOS_TaskInfoGet` copies the name with a ROM `strncpy_s` that leaves it empty in the
/// emulator, so the runner does not rely on that copy.
fn task_name(id: u32) -> String {
    // SAFETY: g_osTaskCBArray points at LiteOS's array of TASK_LIMIT control blocks of
    // TCB_SIZE bytes, allocated at kernel start and never freed; `id < TASK_LIMIT`.
    // osThreadGetName checks the block and answers NULL (in an interrupt) or the name
    // pointer the task was created with, which lives as long as the task.
    let p = unsafe { osThreadGetName(g_osTaskCBArray.add(id as usize * TCB_SIZE).cast()) };
    if p.is_null() {
        return String::new();
    }
    // SAFETY: task names are NUL-terminated C strings (CMSIS attr name or a kernel literal).
    String::from_utf8_lossy(unsafe { CStr::from_ptr(p) }.to_bytes()).into()
}

fn print(s: &str) {
    ws63_rt::console::print(s);
}

/// Every live task: (id, name, stack, peak use), as LiteOS records them.
fn tasks() -> Vec<(u32, String, u32, u32)> {
    let mut out = Vec::new();
    for id in 0..TASK_LIMIT {
        // SAFETY: TaskInfo is plain integers, pointers and bytes: all zeros is a valid value.
        let mut info: TaskInfo = unsafe { core::mem::zeroed() };
        // SAFETY: `info` is a writable TSK_INFO_S (as water_line).
        let rc = unsafe { LOS_TaskInfoGet(id, &mut info) };
        if rc != 0 {
            continue;
        }
        out.push((id, task_name(id), info.stack_size, info.peak_used));
    }
    out
}

/// The peak stack use LiteOS records for the live task called `name`: (stack, peak).
fn water_line(name: &str) -> Option<(u32, u32)> {
    for id in 0..TASK_LIMIT {
        // SAFETY: TaskInfo is plain integers, pointers and bytes: all zeros is a valid value.
        let mut info: TaskInfo = unsafe { core::mem::zeroed() };
        // SAFETY: `info` is a writable TSK_INFO_S (92 bytes, the layout of los_task.h in this
        // build); LiteOS fills it or returns an error for an unused id.
        if unsafe { LOS_TaskInfoGet(id, &mut info) } != 0 {
            continue;
        }
        if task_name(id) == name {
            return Some((info.stack_size, info.peak_used));
        }
    }
    None
}

fn heap() -> MemStatus {
    let mut st = MemStatus::default();
    // SAFETY: m_aucSysMem0 is the system heap pool LiteOS initialised at start-up; `st` is a
    // writable LOS_MEM_POOL_STATUS.
    unsafe { LOS_MemInfoGet(m_aucSysMem0.cast(), &mut st) };
    st
}

/// What a section did before the scheduler started: (kernel state inside, state after).
static BEFORE: critical_section::Mutex<Cell<Option<(i32, i32)>>> =
    critical_section::Mutex::new(Cell::new(None));

fn kernel_state() -> i32 {
    // SAFETY: a plain kernel call.
    unsafe { os::osKernelGetState() as i32 }
}

/// Runs in the app entry, before the scheduler starts: a critical section there (LiteOS's
/// lock answers -1 then and locks nothing).
pub fn before_scheduler() {
    let inside = critical_section::with(|_| critical_section::with(|_| kernel_state()));
    let after = kernel_state();
    // Nothing else runs before the scheduler: a plain store through the section is fine.
    critical_section::with(|cs| BEFORE.borrow(cs).set(Some((inside, after))));
}

/// Starts the runner thread.
pub fn start(hooks: Hooks) {
    let r = Builder::new(c"target-tests").stack_size(0x3000).spawn(move || run(hooks));
    if r.is_err() {
        print("[test] cannot start the runner thread\r\n");
    }
}

type TestFn = fn() -> Result<(), String>;

fn run(hooks: Hooks) {
    let h = heap();
    print(&format!("[heap] at start: used {} free {}\r\n", h.total_used, h.total_free));
    // The gateway as the product runs it (its WiFi join fails without a radio; it retries).
    (hooks.start_gateway)();
    sleep(Duration::from_secs(12));
    // An OTA started from C, watched for its stack water line while it lives.
    let mut out: [c_int; 2] = [9, 9];
    // SAFETY: `out` has the two ints the C function writes.
    let rc = unsafe { ws63_test_call_ota_task_start(out.as_mut_ptr()) };
    let mut ota_peak = None;
    for _ in 0..600 {
        if let Some(w) = water_line("ota") {
            ota_peak = Some(ota_peak.map_or(w, |p: (u32, u32)| (w.0, p.1.max(w.1))));
        }
        if !(hooks.ota_running)() {
            break;
        }
        sleep(Duration::from_millis(100));
    }
    for (id, name, size, peak) in tasks() {
        print(&format!("[task] {id} {name} stack {size} peak {peak}\r\n"));
    }
    for (name, w) in [("gateway", water_line("gateway")), ("ota", ota_peak)] {
        match w {
            Some((size, peak)) => {
                print(&format!("[water] {name} stack {size} peak {peak}\r\n"));
            }
            None => print(&format!("[water] {name} not found\r\n")),
        }
    }
    let h = heap();
    print(&format!(
        "[heap] with the gateway running: used {} free {} max-free-block {}\r\n",
        h.total_used, h.total_free, h.max_free_node
    ));
    let c_result = (rc, out);
    let tests: &[(&str, TestFn)] = &[
        ("threads_have_their_name_stack_and_priority", threads),
        ("liteos_refuses_bad_thread_attributes", refusals),
        ("sleep_counts_ticks", sleep_ticks),
        ("mutex_relock_is_refused_on_a_recursive_kernel_mutex", mutex),
        ("semaphores_binary_and_counting", semaphores),
        ("queue_moves_values_in_order", queue),
        ("critical_sections_nest", critical_nested),
        ("critical_sections_before_the_scheduler", critical_before),
        ("allocator_alignments_and_out_of_memory", allocator),
        ("logger_from_two_threads", logger),
        ("tls_client_on_the_sdks_mbedtls", tls_client),
    ];
    let (mut passed, mut failed) = (0, 0);
    let mut report = |name: &str, r: Result<(), String>| match r {
        Ok(()) => {
            passed += 1;
            print(&format!("[test] {name} ... ok\r\n"));
        }
        Err(why) => {
            failed += 1;
            print(&format!("[test] {name} ... FAILED: {why}\r\n"));
        }
    };
    for (name, f) in tests {
        report(name, f());
    }
    report(
        "ota_task_start_from_c_is_0_then_minus_1",
        if c_result == (0, [0, -1]) {
            Ok(())
        } else {
            Err(format!("returned {} with {:?}", c_result.0, c_result.1))
        },
    );
    print(&format!("[test] {passed} passed, {failed} failed\r\n"));
    // Last: a panic in a thread. The chip's handler prints and reboots.
    print("[test] panic_in_a_thread: expecting a reset\r\n");
    let _ = Builder::new(c"panics").stack_size(0x1000).spawn(|| {
        let v: Vec<u8> = Vec::new();
        let i = core::hint::black_box(3usize);
        let _ = v[i];
    });
    loop {
        sleep(Duration::from_secs(1));
    }
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.into())
    }
}

fn threads() -> Result<(), String> {
    static NAME: &CStr = c"t-named";
    let q: &'static Queue<(usize, usize)> =
        Box::leak(Box::new(Queue::new(1).map_err(|e| format!("{e}"))?));
    Builder::new(NAME)
        .stack_size(0x1800)
        .priority(os::osPriorityBelowNormal)
        .spawn(move || {
            // SAFETY: plain kernel calls; the name pointer is the thread's own.
            let name = unsafe { os::osThreadGetName(os::osThreadGetId()) };
            let _ = q.send((name as usize, 1), None);
        })
        .map_err(|e| format!("{e}"))?;
    let (name, ran) = q.recv(Some(Duration::from_secs(2))).map_err(|e| format!("{e}"))?;
    check(ran == 1, "the thread did not run")?;
    check(name == NAME.as_ptr() as usize, "LiteOS must keep the name pointer, not a copy")
}

fn refusals() -> Result<(), String> {
    for (what, prio) in [
        ("osPriorityNone", os::osPriorityNone),
        ("osPriorityLow2", os::osPriorityLow2),
        ("osPriorityHigh1", os::osPriorityHigh1),
    ] {
        let r = Builder::new(c"refused").priority(prio).spawn(|| {});
        check(matches!(r, Err(Error::ThreadCreate)), what)?;
    }
    let r = Builder::new(c"refused").stack_size(1008).spawn(|| {});
    check(matches!(r, Err(Error::ThreadCreate)), "a 1008-byte stack")?;
    extern "C" fn never(_: *mut c_void) {}
    let attr = os::osThreadAttr_t {
        name: core::ptr::null(),
        stack_size: 2048,
        priority: os::osPriorityNormal,
        ..Default::default()
    };
    // SAFETY: valid arguments but the NULL name, which LiteOS must refuse.
    let id = unsafe { os::osThreadNew(Some(never), core::ptr::null_mut(), &attr) };
    check(id.is_null(), "attributes with a NULL name")
}

fn sleep_ticks() -> Result<(), String> {
    // SAFETY: plain kernel calls.
    let t0 = unsafe { os::osKernelGetTickCount() };
    sleep(Duration::from_millis(100));
    // SAFETY: as above.
    let dt = unsafe { os::osKernelGetTickCount() }.wrapping_sub(t0);
    check((10..=13).contains(&dt), &format!("100 ms took {dt} ticks of 10 ms"))
}

fn mutex() -> Result<(), String> {
    let m: &'static Mutex<u32> = Box::leak(Box::new(Mutex::new(1).map_err(|e| format!("{e}"))?));
    let g = m.lock().map_err(|e| format!("{e}"))?;
    check(matches!(m.lock(), Err(Error::WouldDeadlock)), "a relock by the holder")?;
    let q: &'static Queue<bool> = Box::leak(Box::new(Queue::new(2).map_err(|e| format!("{e}"))?));
    Builder::new(c"mutex-other")
        .spawn(move || {
            let busy = m.lock_timeout(Some(Duration::ZERO)).is_err();
            let _ = q.send(busy, None);
            let got = m.lock_timeout(Some(Duration::from_secs(2))).is_ok();
            let _ = q.send(got, None);
        })
        .map_err(|e| format!("{e}"))?;
    check(q.recv(Some(Duration::from_secs(2))) == Ok(true), "held: another thread is refused")?;
    drop(g);
    check(q.recv(Some(Duration::from_secs(3))) == Ok(true), "released: another thread gets it")
}

fn semaphores() -> Result<(), String> {
    let b = Semaphore::new(1, 0).map_err(|e| format!("{e}"))?;
    check(b.release().is_ok(), "binary: first release")?;
    check(b.release().is_err(), "binary: a second release is refused")?;
    check(b.acquire(Some(Duration::ZERO)).is_ok(), "binary: acquire")?;
    check(b.acquire(Some(Duration::ZERO)).is_err(), "binary: empty")?;
    // LiteOS makes any other max a counting semaphore capped at 0xFFFE.
    let c = Semaphore::new(3, 0).map_err(|e| format!("{e}"))?;
    for i in 0..4 {
        check(c.release().is_ok(), &format!("counting: release {i} (max 3 is not kept)"))?;
    }
    check(c.count() == 4, "counting: 4 after 4 releases")
}

fn queue() -> Result<(), String> {
    let q = Queue::<u32>::new(2).map_err(|e| format!("{e}"))?;
    check(q.send(1, None).is_ok() && q.send(2, None).is_ok(), "two sends")?;
    check(matches!(q.send(3, Some(Duration::ZERO)), Err((3, _))), "full: the value comes back")?;
    check(q.recv(None) == Ok(1) && q.recv(None) == Ok(2), "in order")?;
    check(q.recv(Some(Duration::ZERO)).is_err(), "empty")
}

fn critical_nested() -> Result<(), String> {
    let (running, locked) = (os::osKernelRunning, os::osKernelLocked);
    let inner = critical_section::with(|_| {
        let outer = kernel_state();
        let inner = critical_section::with(|_| kernel_state());
        (outer, inner, kernel_state())
    });
    check(inner == (locked, locked, locked), &format!("inside: {inner:?}"))?;
    check(kernel_state() == running, "after nested sections the scheduler is unlocked")?;
    // And a thread can wait again.
    sleep(Duration::from_millis(10));
    Ok(())
}

fn critical_before() -> Result<(), String> {
    let seen = critical_section::with(|cs| BEFORE.borrow(cs).get());
    let ready = os::osKernelReady;
    check(seen == Some((ready, ready)), &format!("before the scheduler: {seen:?}"))
}

fn allocator() -> Result<(), String> {
    use alloc::alloc::{alloc, alloc_zeroed, dealloc, Layout};
    for align in [1usize, 2, 4, 8, 16, 32, 64] {
        let layout = Layout::from_size_align(40, align).map_err(|e| format!("{e}"))?;
        // SAFETY: a non-zero-sized layout; the block is written within its size and freed
        // with the same layout.
        unsafe {
            let p = if align == 64 { alloc_zeroed(layout) } else { alloc(layout) };
            check(!p.is_null(), &format!("align {align}: NULL"))?;
            check(p as usize % align == 0, &format!("align {align}: {p:p}"))?;
            if align == 64 {
                check((0..40).all(|i| *p.add(i) == 0), "zeroed")?;
            }
            core::ptr::write_bytes(p, 0xA5, 40);
            dealloc(p, layout);
        }
    }
    // More than the heap has: an error, not a panic.
    let mut v: Vec<u8> = Vec::new();
    check(v.try_reserve(512 * 1024).is_err(), "512 KiB from a ~300 KiB heap")?;
    let b = Box::new([7u8; 1000]);
    check(b.iter().all(|x| *x == 7), "a boxed array")
}

fn logger() -> Result<(), String> {
    let done: &'static Semaphore =
        Box::leak(Box::new(Semaphore::new(2, 0).map_err(|e| format!("{e}"))?));
    for (name, tag) in [(c"log-a", "A"), (c"log-b", "B")] {
        Builder::new(name)
            .spawn(move || {
                for i in 0..10 {
                    log::info!(target: "two-threads", "line {tag} {i} of ten, whole");
                }
                let _ = done.release();
            })
            .map_err(|e| format!("{e}"))?;
    }
    let mut w = String::new();
    for _ in 0..2 {
        if done.acquire(Some(Duration::from_secs(5))).is_err() {
            let _ = write!(w, "a logging thread did not finish");
            return Err(w);
        }
    }
    Ok(())
}

/// A transport that keeps what the client sends and answers every read with the end of the
/// stream.
struct Recorder {
    sent: alloc::rc::Rc<core::cell::RefCell<Vec<u8>>>,
}

impl embedded_io::ErrorType for Recorder {
    type Error = Error;
}

impl embedded_io::Read for Recorder {
    fn read(&mut self, _: &mut [u8]) -> Result<usize, Error> {
        Ok(0)
    }
}

impl embedded_io::Write for Recorder {
    fn write(&mut self, b: &[u8]) -> Result<usize, Error> {
        self.sent.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// A CA certificate (P-256) made for this test; only its public half exists.
static TEST_CA: &[u8] = include_bytes!("../test-ca.pem");

/// The TLS client (`ws63_hal::tls`) on the SDK's own mbedTLS, linked into the real image: the
/// contexts in storage of the sizes the bindings reserve, the CA parsed (a parse failure would
/// end the connection before the generator is seeded), then either of the two outcomes the
/// hardware decides: without a TRNG (the emulator models none, so the SDK's driver times out)
/// the generator's seeding fails with its own named error and nothing was sent; with one (the
/// chip), the client sends its ClientHello - TLS 1.2, the server's name, ECDHE-ECDSA with
/// AES-128-GCM, P-256 - and fails at the peer's end of stream.
fn tls_client() -> Result<(), String> {
    use mbedtls_sys as tls;
    use ws63_hal::tls::{connect, TlsConfig};
    const NAME: &[u8] = b"iot.example.test";
    let log = alloc::rc::Rc::new(core::cell::RefCell::new(Vec::new()));
    let r = connect(Recorder { sent: log.clone() }, "iot.example.test", &TlsConfig::new(TEST_CA));
    let e = match r {
        Ok(stream) => {
            drop(stream);
            return Err("a handshake with a peer that sends nothing succeeded".into());
        }
        Err(e) => e,
    };
    let sent = log.borrow();
    if let Error::Tls(t) = e {
        if t.code() == tls::MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED {
            check(sent.is_empty(), "bytes sent before the generator was seeded")?;
            print(&format!("[test]   no entropy here (no TRNG): {e}\r\n"));
            return Ok(());
        }
    }
    let has = |needle: &[u8]| sent.windows(needle.len()).any(|w| w == needle);
    check(sent.starts_with(&[0x16, 0x03]), &format!("no handshake record sent ({e})"))?;
    check(sent.get(5) == Some(&1), "the first message is no ClientHello")?;
    check(has(NAME), "no server name (SNI) in the ClientHello")?;
    check(has(&[0xC0, 0x2B]), "no ECDHE-ECDSA-AES128-GCM-SHA256 offered")?;
    check(has(&[0x00, 0x17]), "no P-256 group offered")?;
    print(&format!("[test]   ClientHello of {} bytes sent, then: {e}\r\n", sent.len()));
    Ok(())
}
