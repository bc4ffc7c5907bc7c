//! lwIP's socket API (as the SDK builds it) over host sockets.
//!
//! Descriptors are small numbers from 0, at most [`MAX_SOCKETS`] open at once, like lwIP's
//! socket table. Arguments arrive in the SDK's layouts and constants as our bindings give them
//! (`sockaddr_in` without `sin_len`, `SO_RCVTIMEO` = 66 with the SDK's `timeval`, ...) and are
//! translated to the host's. Failures return -1 with `errno` (`__errno_location`, per thread)
//! set to the lwIP/musl code; the host's Linux errno numbers are the same numbers. Sends never
//! raise SIGPIPE (lwIP has no signals): a send on a closed connection fails with `EPIPE`.
//! `getaddrinfo` uses the host resolver and, like lwIP's, returns one IPv4 address.
//! The netif API models the station interface `wlan0`, with the loopback address once WiFi
//! is connected and DHCP has bound.
//!
//! lwIP's limits and behaviour in this build: 12 sockets (`ENFILE` beyond), of which at most
//! [`MAX_TCP_PCBS`] TCP ones (`MEMP_NUM_TCP_PCB 6`; `socket()` fails with `ENOBUFS`
//! beyond). When the WiFi link goes down the driver sets the interface's address to 0.0.0.0,
//! and lwIP aborts every TCP connection on the old address: from then on `recv` and `send`
//! fail with `ECONNABORTED` at once ([`abort_all`]). Without a route (no link, no address)
//! `connect` fails with `EHOSTUNREACH`.
//!
//! Calls that wait (a `recv` with nothing to read, a blocking `connect`, `select`, a slow
//! DNS lookup) count as waiting for the app's watchdog; one that finds its data ready does
//! not.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_long, c_void, CStr};
use std::mem::{size_of, MaybeUninit};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use lw::{addrinfo, err_t, fd_set, ip4_addr_t, netif, sockaddr, sockaddr_in, socklen_t, timeval};
use lwip_sys as lw;
use socket2::{Domain, Socket, Type};

use crate::rtos::{gate, watchdog::Waiting};
use crate::{faults, wifi};

/// Sockets open at once, as in the SDK's lwIP configuration.
pub const MAX_SOCKETS: usize = 12;

/// TCP connections at once (`MEMP_NUM_TCP_PCB`), in the whole system.
pub const MAX_TCP_PCBS: usize = 6;

/// `ECONNABORTED`: lwIP aborted the connection (the link went down).
const ECONNABORTED: c_int = 103;
/// `EHOSTUNREACH`: no route (lwIP's `ERR_RTE`).
const EHOSTUNREACH: c_int = 113;
/// `ENOBUFS`: no PCB or netconn left.
const ENOBUFS: c_int = 105;

/// `ENOPROTOOPT`: an option the stack does not know.
const ENOPROTOOPT: c_int = 92;
/// `EAFNOSUPPORT`: an address family the stack does not support.
const EAFNOSUPPORT: c_int = 97;

struct SimSocket {
    sock: Socket,
    rcv_timeout: Mutex<Option<Duration>>,
    snd_timeout: Mutex<Option<Duration>>,
    nonblocking: AtomicBool,
    /// lwIP aborted the connection (`ERR_ABRT`): every later call fails.
    aborted: AtomicBool,
}

static SOCKETS: Mutex<Vec<Option<Arc<SimSocket>>>> = Mutex::new(Vec::new());

thread_local! {
    static ERRNO: Cell<c_int> = const { Cell::new(0) };
}

fn table() -> MutexGuard<'static, Vec<Option<Arc<SimSocket>>>> {
    SOCKETS.lock().unwrap_or_else(|p| p.into_inner())
}

fn fail<T: From<i8>>(errno: c_int) -> T {
    ERRNO.with(|e| e.set(errno));
    T::from(-1)
}

fn io_errno(e: &std::io::Error) -> c_int {
    e.raw_os_error().unwrap_or(lw::EIO as c_int)
}

fn lookup(fd: c_int) -> Option<Arc<SimSocket>> {
    usize::try_from(fd).ok().and_then(|i| table().get(i).cloned().flatten())
}

/// Open descriptors (for tests and the board's shutdown).
pub fn open_sockets() -> usize {
    table().iter().filter(|s| s.is_some()).count()
}

/// What lwIP does to connections when the interface loses its address (the WiFi link went
/// down): aborts them. Each aborted socket fails every later call with `ECONNABORTED`, and a
/// call waiting in it returns.
pub fn abort_all() {
    for s in table().iter().flatten() {
        if !s.aborted.swap(true, SeqCst) {
            let _ = s.sock.shutdown(Shutdown::Both);
        }
    }
}

fn check_aborted(s: &SimSocket) -> Result<(), c_int> {
    if s.aborted.load(SeqCst) {
        Err(ECONNABORTED)
    } else {
        Ok(())
    }
}

/// While the link is lost and the driver has not noticed (see [`crate::wifi`]), nothing
/// comes in: a wait for data lasts until the driver reports the link down (the connection
/// is then aborted) or the socket's receive timeout runs out (`EAGAIN`).
fn wait_out_silence(s: &SimSocket) -> Result<(), c_int> {
    if !wifi::radio_silent() {
        return Ok(());
    }
    let timeout = *s.rcv_timeout.lock().unwrap_or_else(|p| p.into_inner());
    let start = std::time::Instant::now();
    let _waiting = Waiting::new();
    while wifi::radio_silent() && !s.aborted.load(SeqCst) {
        if timeout.is_some_and(|t| start.elapsed() >= t) || s.nonblocking.load(SeqCst) {
            return Err(lw::EAGAIN as c_int);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    check_aborted(s)
}

/// Runs a socket call that may wait: first without waiting; if it would block (and the
/// socket is a blocking one), again, counted as waiting for the watchdog.
fn maybe_waiting<T>(
    s: &SimSocket,
    flags: c_int,
    mut call: impl FnMut(c_int) -> std::io::Result<T>,
) -> std::io::Result<T> {
    if s.nonblocking.load(SeqCst) || flags & libc::MSG_DONTWAIT != 0 {
        return call(flags);
    }
    match call(flags | libc::MSG_DONTWAIT) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            let _waiting = Waiting::new();
            call(flags)
        }
        r => r,
    }
}

/// `__errno_location`: this thread's errno.
#[export_name = "ws63sim___errno_location"]
pub extern "C" fn __errno_location() -> *mut c_int {
    ERRNO.with(Cell::as_ptr)
}

/// `socket`: only `AF_INET` stream sockets (all the firmware uses).
#[export_name = "ws63sim_socket"]
pub extern "C" fn socket(domain: c_int, ty: c_int, _protocol: c_int) -> c_int {
    gate();
    if domain != lw::AF_INET as c_int {
        return fail(EAFNOSUPPORT);
    }
    if ty != lw::SOCK_STREAM as c_int {
        return fail(lw::EINVAL as c_int);
    }
    let mut t = table();
    let slot = match t.iter().position(Option::is_none) {
        Some(i) => i,
        None if t.len() < MAX_SOCKETS => {
            t.push(None);
            t.len() - 1
        }
        None => return fail(lw::ENFILE as c_int),
    };
    if t.iter().flatten().count() >= MAX_TCP_PCBS {
        return fail(ENOBUFS);
    }
    match Socket::new(Domain::IPV4, Type::STREAM, None) {
        Ok(sock) => {
            t[slot] = Some(Arc::new(SimSocket {
                sock,
                rcv_timeout: Mutex::new(None),
                snd_timeout: Mutex::new(None),
                nonblocking: AtomicBool::new(false),
                aborted: AtomicBool::new(false),
            }));
            slot as c_int
        }
        Err(e) => fail(io_errno(&e)),
    }
}

fn read_sockaddr(addr: *const sockaddr, len: socklen_t) -> Result<SocketAddrV4, c_int> {
    if addr.is_null() || (len as usize) < size_of::<sockaddr_in>() {
        return Err(lw::EINVAL as c_int);
    }
    // SAFETY: the caller passes `len` readable bytes at `addr`, at least a sockaddr_in
    // (checked above); read_unaligned makes no alignment assumption.
    let sin = unsafe { std::ptr::read_unaligned(addr.cast::<sockaddr_in>()) };
    if u32::from(sin.sin_family) != lw::AF_INET {
        return Err(EAFNOSUPPORT);
    }
    Ok(SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
        u16::from_be(sin.sin_port),
    ))
}

/// `connect`: blocking unless the socket was made non-blocking (`EINPROGRESS` then).
#[export_name = "ws63sim_connect"]
pub extern "C" fn connect(s: c_int, name: *const sockaddr, namelen: socklen_t) -> c_int {
    gate();
    let Some(sock) = lookup(s) else { return fail(lw::EBADF as c_int) };
    let addr = match read_sockaddr(name, namelen) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    if let Err(e) = check_aborted(&sock) {
        return fail(e);
    }
    if !wifi::dhcp_bound() {
        return fail(EHOSTUNREACH);
    }
    let _waiting = (!sock.nonblocking.load(SeqCst)).then(Waiting::new);
    while wifi::radio_silent() {
        std::thread::sleep(Duration::from_millis(10));
    }
    if !wifi::dhcp_bound() {
        return fail(EHOSTUNREACH);
    }
    match sock.sock.connect(&SocketAddr::V4(addr).into()) {
        Ok(()) => 0,
        Err(e) => fail(io_errno(&e)),
    }
}

fn host_flags(flags: c_int) -> c_int {
    let mut f = libc::MSG_NOSIGNAL;
    if flags & lw::MSG_DONTWAIT as c_int != 0 {
        f |= libc::MSG_DONTWAIT;
    }
    if flags & lw::MSG_PEEK as c_int != 0 {
        f |= libc::MSG_PEEK;
    }
    f
}

/// `send`.
#[export_name = "ws63sim_send"]
pub extern "C" fn send(s: c_int, data: *const c_void, size: usize, flags: c_int) -> isize {
    gate();
    let Some(sock) = lookup(s) else { return fail(lw::EBADF as c_int) };
    if let Err(e) = check_aborted(&sock) {
        return fail(e);
    }
    if data.is_null() && size > 0 {
        return fail(lw::EINVAL as c_int);
    }
    let buf: &[u8] = if size == 0 {
        &[]
    } else {
        // SAFETY: the caller passes `size` readable bytes at `data` (checked non-null).
        unsafe { std::slice::from_raw_parts(data.cast::<u8>(), size) }
    };
    if wifi::radio_silent() {
        // Queued by lwIP; nothing leaves the radio, and the connection will be aborted.
        return buf.len() as isize;
    }
    let r = maybe_waiting(&sock, host_flags(flags), |f| sock.sock.send_with_flags(buf, f));
    if let Err(e) = check_aborted(&sock) {
        return fail(e);
    }
    match r {
        Ok(n) => n as isize,
        Err(e) => fail(io_errno(&e)),
    }
}

/// `recv`: 0 at the peer's end of stream; `EAGAIN` when `SO_RCVTIMEO` runs out.
#[export_name = "ws63sim_recv"]
pub extern "C" fn recv(s: c_int, mem: *mut c_void, len: usize, flags: c_int) -> isize {
    gate();
    let Some(sock) = lookup(s) else { return fail(lw::EBADF as c_int) };
    if let Err(e) = check_aborted(&sock) {
        return fail(e);
    }
    if mem.is_null() && len > 0 {
        return fail(lw::EINVAL as c_int);
    }
    let buf: &mut [MaybeUninit<u8>] = if len == 0 {
        &mut []
    } else {
        // SAFETY: the caller passes `len` writable bytes at `mem` (checked non-null); they are
        // treated as uninitialised, so no read happens before the kernel writes them.
        unsafe { std::slice::from_raw_parts_mut(mem.cast::<MaybeUninit<u8>>(), len) }
    };
    if let Err(e) = wait_out_silence(&sock) {
        return fail(e);
    }
    let r = maybe_waiting(&sock, host_flags(flags), |f| sock.sock.recv_with_flags(buf, f));
    if let Err(e) = check_aborted(&sock) {
        return fail(e);
    }
    match r {
        Ok(n) => {
            faults::count_rx(n);
            n as isize
        }
        Err(e) => fail(io_errno(&e)),
    }
}

/// `shutdown`.
#[export_name = "ws63sim_shutdown"]
pub extern "C" fn shutdown(s: c_int, how: c_int) -> c_int {
    gate();
    let Some(sock) = lookup(s) else { return fail(lw::EBADF as c_int) };
    let how = match how as u32 {
        lw::SHUT_RD => Shutdown::Read,
        lw::SHUT_WR => Shutdown::Write,
        lw::SHUT_RDWR => Shutdown::Both,
        _ => return fail(lw::EINVAL as c_int),
    };
    match sock.sock.shutdown(how) {
        Ok(()) => 0,
        Err(e) => fail(io_errno(&e)),
    }
}

/// `closesocket`.
#[export_name = "ws63sim_closesocket"]
pub extern "C" fn closesocket(s: c_int) -> c_int {
    gate();
    let taken = usize::try_from(s).ok().and_then(|i| table().get_mut(i).and_then(Option::take));
    match taken {
        Some(_) => 0,
        None => fail(lw::EBADF as c_int),
    }
}

fn read_timeval(optval: *const c_void, optlen: socklen_t) -> Result<Option<Duration>, c_int> {
    if optval.is_null() || (optlen as usize) < size_of::<timeval>() {
        return Err(lw::EINVAL as c_int);
    }
    // SAFETY: the caller passes `optlen` readable bytes, at least a timeval (checked above).
    let tv = unsafe { std::ptr::read_unaligned(optval.cast::<timeval>()) };
    if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(lw::EINVAL as c_int);
    }
    let d = Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64);
    Ok((!d.is_zero()).then_some(d))
}

fn read_int(optval: *const c_void, optlen: socklen_t) -> Result<c_int, c_int> {
    if optval.is_null() || (optlen as usize) < size_of::<c_int>() {
        return Err(lw::EINVAL as c_int);
    }
    // SAFETY: the caller passes `optlen` readable bytes, at least an int (checked above).
    Ok(unsafe { std::ptr::read_unaligned(optval.cast::<c_int>()) })
}

/// `setsockopt`: `SO_RCVTIMEO`, `SO_SNDTIMEO` (a `timeval`; zero clears), `SO_KEEPALIVE`,
/// `TCP_NODELAY`; anything else is `ENOPROTOOPT`.
#[export_name = "ws63sim_setsockopt"]
pub extern "C" fn setsockopt(
    s: c_int,
    level: c_int,
    optname: c_int,
    optval: *const c_void,
    optlen: socklen_t,
) -> c_int {
    gate();
    let Some(sock) = lookup(s) else { return fail(lw::EBADF as c_int) };
    let r = match (level as u32, optname as u32) {
        (lw::SOL_SOCKET, lw::SO_RCVTIMEO) => read_timeval(optval, optlen).and_then(|d| {
            *sock.rcv_timeout.lock().unwrap_or_else(|p| p.into_inner()) = d;
            sock.sock.set_read_timeout(d).map_err(|e| io_errno(&e))
        }),
        (lw::SOL_SOCKET, lw::SO_SNDTIMEO) => read_timeval(optval, optlen).and_then(|d| {
            *sock.snd_timeout.lock().unwrap_or_else(|p| p.into_inner()) = d;
            sock.sock.set_write_timeout(d).map_err(|e| io_errno(&e))
        }),
        (lw::SOL_SOCKET, lw::SO_KEEPALIVE) => read_int(optval, optlen)
            .and_then(|v| sock.sock.set_keepalive(v != 0).map_err(|e| io_errno(&e))),
        (lw::IPPROTO_TCP, lw::TCP_NODELAY) => read_int(optval, optlen)
            .and_then(|v| sock.sock.set_nodelay(v != 0).map_err(|e| io_errno(&e))),
        _ => Err(ENOPROTOOPT),
    };
    match r {
        Ok(()) => 0,
        Err(e) => fail(e),
    }
}

/// `getsockopt`: `SO_ERROR` (and clears it), `SO_RCVTIMEO`, `SO_SNDTIMEO`, `SO_KEEPALIVE`.
#[export_name = "ws63sim_getsockopt"]
pub extern "C" fn getsockopt(
    s: c_int,
    level: c_int,
    optname: c_int,
    optval: *mut c_void,
    optlen: *mut socklen_t,
) -> c_int {
    gate();
    let Some(sock) = lookup(s) else { return fail(lw::EBADF as c_int) };
    if optval.is_null() || optlen.is_null() {
        return fail(lw::EINVAL as c_int);
    }
    // SAFETY: `optlen` is a valid, writable socklen_t (checked non-null, caller's contract).
    let room = unsafe { *optlen } as usize;
    let tv = |d: Option<Duration>| {
        let d = d.unwrap_or_default();
        timeval { tv_sec: d.as_secs() as _, tv_usec: d.subsec_micros() as _ }
    };
    enum Val {
        Int(c_int),
        Tv(timeval),
    }
    let v = match (level as u32, optname as u32) {
        (lw::SOL_SOCKET, lw::SO_ERROR) => Val::Int(match sock.sock.take_error() {
            _ if sock.aborted.load(SeqCst) => ECONNABORTED,
            Ok(None) => 0,
            Ok(Some(e)) | Err(e) => io_errno(&e),
        }),
        (lw::SOL_SOCKET, lw::SO_KEEPALIVE) => {
            Val::Int(c_int::from(sock.sock.keepalive().unwrap_or(false)))
        }
        (lw::SOL_SOCKET, lw::SO_RCVTIMEO) => {
            Val::Tv(tv(*sock.rcv_timeout.lock().unwrap_or_else(|p| p.into_inner())))
        }
        (lw::SOL_SOCKET, lw::SO_SNDTIMEO) => {
            Val::Tv(tv(*sock.snd_timeout.lock().unwrap_or_else(|p| p.into_inner())))
        }
        _ => return fail(ENOPROTOOPT),
    };
    let (ptr, size) = match &v {
        Val::Int(i) => ((i as *const c_int).cast::<u8>(), size_of::<c_int>()),
        Val::Tv(t) => ((t as *const timeval).cast::<u8>(), size_of::<timeval>()),
    };
    if room < size {
        return fail(lw::EINVAL as c_int);
    }
    // SAFETY: `optval` has `room >= size` writable bytes (caller's contract, checked above);
    // `ptr` points to `size` bytes of `v`, alive here.
    unsafe {
        std::ptr::copy_nonoverlapping(ptr, optval.cast::<u8>(), size);
        *optlen = size as socklen_t;
    }
    0
}

/// `ioctlsocket`: `FIONBIO` (an `int`, non-zero for non-blocking).
#[export_name = "ws63sim_ioctlsocket"]
pub extern "C" fn ioctlsocket(s: c_int, cmd: c_long, argp: *mut c_void) -> c_int {
    gate();
    let Some(sock) = lookup(s) else { return fail(lw::EBADF as c_int) };
    if cmd != lw::FIONBIO as c_long {
        return fail(lw::EINVAL as c_int);
    }
    let on = match read_int(argp.cast_const(), size_of::<c_int>() as socklen_t) {
        Ok(v) => v != 0,
        Err(e) => return fail(e),
    };
    match sock.sock.set_nonblocking(on) {
        Ok(()) => {
            sock.nonblocking.store(on, SeqCst);
            0
        }
        Err(e) => fail(io_errno(&e)),
    }
}

const FD_BITS: usize = std::ffi::c_ulong::BITS as usize;

fn fd_isset(set: &fd_set, fd: usize) -> bool {
    set.fds_bits.get(fd / FD_BITS).is_some_and(|w| w & (1 << (fd % FD_BITS)) != 0)
}

fn fd_set_bit(set: &mut fd_set, fd: usize) {
    if let Some(w) = set.fds_bits.get_mut(fd / FD_BITS) {
        *w |= 1 << (fd % FD_BITS);
    }
}

/// `select`: readiness of the given descriptors, through the host's `poll`. `timeout` NULL
/// waits without limit. Exception sets are accepted and come back empty.
#[export_name = "ws63sim_select"]
pub extern "C" fn select(
    maxfdp1: c_int,
    readset: *mut fd_set,
    writeset: *mut fd_set,
    exceptset: *mut fd_set,
    timeout: *mut timeval,
) -> c_int {
    use std::os::fd::AsRawFd;
    gate();
    if maxfdp1 < 0 || maxfdp1 as usize > MAX_SOCKETS {
        return fail(lw::EINVAL as c_int);
    }
    // SAFETY: each non-null set points to a valid fd_set owned by the caller, and `timeout`
    // (if non-null) to a timeval (select's contract); no other reference to them exists here.
    let (rs, ws, es, to) =
        unsafe { (readset.as_mut(), writeset.as_mut(), exceptset.as_mut(), timeout.as_ref()) };
    let timeout_ms = match to {
        None => -1,
        Some(t) if t.tv_sec < 0 || t.tv_usec < 0 => return fail(lw::EINVAL as c_int),
        Some(t) => (t.tv_sec as i64 * 1000 + t.tv_usec as i64 / 1000).min(i32::MAX as i64) as c_int,
    };
    let mut polls = Vec::new();
    let mut keep = Vec::new();
    for fd in 0..maxfdp1 as usize {
        let r = rs.as_deref().is_some_and(|s| fd_isset(s, fd));
        let w = ws.as_deref().is_some_and(|s| fd_isset(s, fd));
        if !(r || w) {
            continue;
        }
        let Some(sock) = lookup(fd as c_int) else { return fail(lw::EBADF as c_int) };
        let mut events = 0;
        if r {
            events |= libc::POLLIN;
        }
        if w {
            events |= libc::POLLOUT;
        }
        polls.push(libc::pollfd { fd: sock.sock.as_raw_fd(), events, revents: 0 });
        keep.push((fd, sock));
    }
    let _waiting = (timeout_ms != 0).then(Waiting::new);
    // SAFETY: `polls` is a valid array of pollfd of the given length; the sockets behind the
    // descriptors stay open while `keep` holds them.
    let n = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        return fail(io_errno(&std::io::Error::last_os_error()));
    }
    let (mut r_out, mut w_out) = (fd_set::default(), fd_set::default());
    let mut count = 0;
    for (p, (fd, _)) in polls.iter().zip(&keep) {
        let done = libc::POLLHUP | libc::POLLERR;
        if p.revents & (libc::POLLIN | done) != 0 && p.events & libc::POLLIN != 0 {
            fd_set_bit(&mut r_out, *fd);
            count += 1;
        }
        if p.revents & (libc::POLLOUT | done) != 0 && p.events & libc::POLLOUT != 0 {
            fd_set_bit(&mut w_out, *fd);
            count += 1;
        }
    }
    if let Some(s) = rs {
        *s = r_out;
    }
    if let Some(s) = ws {
        *s = w_out;
    }
    if let Some(s) = es {
        *s = fd_set::default();
    }
    count
}

/// One `getaddrinfo` result: the addrinfo and the address it points to, freed together.
#[repr(C)]
struct AddrInfoBlock {
    ai: addrinfo,
    sin: sockaddr_in,
}

/// `getaddrinfo`: the host resolver, one IPv4 result (as lwIP's). Errors are `EAI_*` codes.
#[export_name = "ws63sim_getaddrinfo"]
pub extern "C" fn getaddrinfo(
    nodename: *const c_char,
    servname: *const c_char,
    hints: *const addrinfo,
    res: *mut *mut addrinfo,
) -> c_int {
    gate();
    if res.is_null() || nodename.is_null() {
        return lw::EAI_NONAME;
    }
    // SAFETY: non-null names are NUL-terminated strings, `hints` (if non-null) an addrinfo
    // (getaddrinfo's contract).
    let (node, serv, hints) = unsafe {
        (
            CStr::from_ptr(nodename).to_string_lossy().into_owned(),
            (!servname.is_null()).then(|| CStr::from_ptr(servname).to_string_lossy().into_owned()),
            hints.as_ref(),
        )
    };
    if let Some(h) = hints {
        if h.ai_family != lw::AF_UNSPEC as c_int && h.ai_family != lw::AF_INET as c_int {
            return lw::EAI_FAMILY;
        }
    }
    let port: u16 = match serv.as_deref() {
        None => 0,
        Some(s) => match s.parse() {
            Ok(p) => p,
            Err(_) => return lw::EAI_SERVICE,
        },
    };
    let (fail_dns, delay) = faults::dns_fault();
    if !delay.is_zero() {
        let _waiting = Waiting::new();
        std::thread::sleep(delay);
    }
    if fail_dns || !wifi::dhcp_bound() {
        return lw::EAI_FAIL;
    }
    let Ok(addrs) = (node.as_str(), port).to_socket_addrs() else { return lw::EAI_NONAME };
    let Some(v4) =
        addrs.filter_map(|a| if let SocketAddr::V4(v) = a { Some(v) } else { None }).next()
    else {
        return lw::EAI_NONAME;
    };
    let mut block = Box::new(AddrInfoBlock {
        ai: addrinfo::default(),
        sin: sockaddr_in {
            sin_family: lw::AF_INET as _,
            sin_port: v4.port().to_be(),
            sin_addr: lw::in_addr { s_addr: u32::from(*v4.ip()).to_be() },
            sin_zero: [0; 8],
        },
    });
    block.ai.ai_family = lw::AF_INET as c_int;
    block.ai.ai_socktype = hints.map_or(lw::SOCK_STREAM as c_int, |h| h.ai_socktype);
    block.ai.ai_addrlen = size_of::<sockaddr_in>() as socklen_t;
    block.ai.ai_addr = (&mut block.sin as *mut sockaddr_in).cast::<sockaddr>();
    let raw = Box::into_raw(block);
    // SAFETY: `res` is a valid out-pointer (checked non-null); `raw` points to the block whose
    // first field is the addrinfo (repr(C)).
    unsafe { *res = raw.cast::<addrinfo>() };
    0
}

/// `freeaddrinfo`: frees what `getaddrinfo` returned.
#[export_name = "ws63sim_freeaddrinfo"]
pub extern "C" fn freeaddrinfo(ai: *mut addrinfo) {
    let mut p = ai;
    while !p.is_null() {
        // SAFETY: every node of the list came from Box::into_raw of an AddrInfoBlock in
        // getaddrinfo, whose first field is the addrinfo; each is freed once.
        let block = unsafe { Box::from_raw(p.cast::<AddrInfoBlock>()) };
        p = block.ai.ai_next;
    }
}

// ---------------------------------------------------------------------------------------------
// netifapi: the station interface

/// The station interface's identity (only its address is handed out).
static WLAN0: u8 = 0;

fn is_wlan0(n: *mut netif) -> bool {
    std::ptr::eq(n.cast_const().cast::<u8>(), &WLAN0)
}

/// `netifapi_netif_find_by_name` (`netifapi_netif_find` in the SDK's source): `wlan0` once the
/// station is enabled, else NULL.
#[export_name = "ws63sim_netifapi_netif_find_by_name"]
pub extern "C" fn netifapi_netif_find_by_name(name: *const c_char) -> *mut netif {
    gate();
    if name.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: a non-null name is a NUL-terminated string (caller's contract).
    let n = unsafe { CStr::from_ptr(name) };
    if n.to_bytes() == b"wlan0" && wifi::sta_enabled() {
        (&WLAN0 as *const u8).cast_mut().cast::<netif>()
    } else {
        std::ptr::null_mut()
    }
}

/// `netifapi_netif_get_addr`: 127.0.0.1/8 once DHCP has bound, 0.0.0.0 before.
#[export_name = "ws63sim_netifapi_netif_get_addr"]
pub extern "C" fn netifapi_netif_get_addr(
    n: *mut netif,
    ipaddr: *mut ip4_addr_t,
    netmask: *mut ip4_addr_t,
    gw: *mut ip4_addr_t,
) -> err_t {
    gate();
    if !is_wlan0(n) {
        return lw::ERR_ARG;
    }
    let bound = wifi::dhcp_bound();
    let v = |a: [u8; 4]| ip4_addr_t { addr: if bound { u32::from_ne_bytes(a) } else { 0 } };
    // SAFETY: each non-null pointer is a writable ip4_addr_t (caller's contract).
    unsafe {
        if let Some(p) = ipaddr.as_mut() {
            *p = v([127, 0, 0, 1]);
        }
        if let Some(p) = netmask.as_mut() {
            *p = v([255, 0, 0, 0]);
        }
        if let Some(p) = gw.as_mut() {
            *p = v([127, 0, 0, 1]);
        }
    }
    lw::ERR_OK
}

/// `netifapi_dhcp_start`.
#[export_name = "ws63sim_netifapi_dhcp_start"]
pub extern "C" fn netifapi_dhcp_start(n: *mut netif) -> err_t {
    gate();
    if !is_wlan0(n) {
        return lw::ERR_ARG;
    }
    wifi::dhcp_start();
    lw::ERR_OK
}

/// `netifapi_dhcp_stop`.
#[export_name = "ws63sim_netifapi_dhcp_stop"]
pub extern "C" fn netifapi_dhcp_stop(n: *mut netif) -> err_t {
    gate();
    if !is_wlan0(n) {
        return lw::ERR_ARG;
    }
    wifi::dhcp_stop();
    lw::ERR_OK
}

/// `netifapi_dhcp_is_bound`: `ERR_OK` when bound, `ERR_INPROGRESS` while not, `ERR_ARG` when
/// DHCP was never started (as lwIP's `dhcp_is_bound`).
#[export_name = "ws63sim_netifapi_dhcp_is_bound"]
pub extern "C" fn netifapi_dhcp_is_bound(n: *mut netif) -> err_t {
    gate();
    if !is_wlan0(n) || !wifi::dhcp_started() {
        return lw::ERR_ARG;
    }
    if wifi::dhcp_bound() {
        lw::ERR_OK
    } else {
        lw::ERR_INPROGRESS
    }
}
