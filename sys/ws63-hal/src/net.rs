//! A TCP stream over lwIP's sockets, with a connect timeout and read/write timeouts, as
//! `embedded-io` `Read`/`Write`. Dropping it closes the socket.

use alloc::ffi::CString;
use core::ffi::{c_int, c_ulong, c_void};
use core::mem::size_of;
use core::time::Duration;

use lwip_sys as lw;

use crate::error::{Error, NetError};

/// A connected TCP socket.
#[derive(Debug)]
pub struct TcpStream {
    fd: c_int,
}

fn timeval(d: Duration) -> lw::timeval {
    lw::timeval { tv_sec: d.as_secs().min(i32::MAX as u64) as _, tv_usec: d.subsec_micros() as _ }
}

fn fd_set_of(fd: c_int) -> lw::fd_set {
    let mut set = lw::fd_set::default();
    let bits = c_ulong::BITS as usize;
    let fd = fd as usize;
    if let Some(w) = set.fds_bits.get_mut(fd / bits) {
        *w |= 1 << (fd % bits);
    }
    set
}

/// Resolves `host` (a name or dotted quad) to an IPv4 socket address.
///
/// # Errors
/// [`Error::Dns`] with the `EAI_*` code, or `InvalidArgument` for a host with a NUL byte.
pub fn resolve(host: &str, port: u16) -> Result<lw::sockaddr_in, Error> {
    let name = CString::new(host).map_err(|_| Error::InvalidArgument("host name with a NUL"))?;
    let hints = lw::addrinfo {
        ai_family: lw::AF_INET as c_int,
        ai_socktype: lw::SOCK_STREAM as c_int,
        ..Default::default()
    };
    let mut res: *mut lw::addrinfo = core::ptr::null_mut();
    // SAFETY: valid NUL-terminated name, valid hints, and an out-pointer.
    let rc = unsafe { lw::getaddrinfo(name.as_ptr(), core::ptr::null(), &hints, &mut res) };
    if rc != 0 || res.is_null() {
        return Err(Error::Dns(if rc != 0 { rc } else { lw::EAI_FAIL }));
    }
    // SAFETY: on success `res` points to a valid addrinfo list owned by us until freed.
    let found = unsafe {
        let ai = &*res;
        let sin = if ai.ai_addr.is_null() || (ai.ai_addrlen as usize) < size_of::<lw::sockaddr_in>()
        {
            None
        } else {
            Some(core::ptr::read_unaligned(ai.ai_addr.cast::<lw::sockaddr_in>()))
        };
        lw::freeaddrinfo(res);
        sin
    };
    let mut sin = found.ok_or(Error::Dns(lw::EAI_FAIL))?;
    if u32::from(sin.sin_family) != lw::AF_INET {
        return Err(Error::Dns(lw::EAI_FAMILY));
    }
    sin.sin_port = port.to_be();
    Ok(sin)
}

impl TcpStream {
    /// Connects to `host:port` (resolving the name first), giving up after `timeout`.
    ///
    /// # Errors
    /// [`Error::Dns`], [`Error::TimedOut`], or the socket error (`ECONNREFUSED`,
    /// `ENETUNREACH`, ...).
    pub fn connect(host: &str, port: u16, timeout: Duration) -> Result<Self, Error> {
        let addr = resolve(host, port)?;
        // SAFETY: plain socket creation.
        let fd = unsafe { lw::socket(lw::AF_INET as c_int, lw::SOCK_STREAM as c_int, 0) };
        if fd < 0 {
            return Err(NetError::last().into());
        }
        let stream = TcpStream { fd };
        stream.set_nonblocking(true)?;
        // SAFETY: `addr` is a valid sockaddr_in of the length given.
        let rc = unsafe {
            lw::connect(
                fd,
                (&addr as *const lw::sockaddr_in).cast(),
                size_of::<lw::sockaddr_in>() as lw::socklen_t,
            )
        };
        if rc != 0 {
            let e = NetError::last();
            if e.errno() != lw::EINPROGRESS as i32 {
                return Err(e.into());
            }
            let mut wset = fd_set_of(fd);
            let mut tv = timeval(timeout);
            // SAFETY: valid fd_set and timeval; NULL for the unused sets.
            let n = unsafe {
                lw::select(fd + 1, core::ptr::null_mut(), &mut wset, core::ptr::null_mut(), &mut tv)
            };
            if n == 0 {
                return Err(Error::TimedOut);
            }
            if n < 0 {
                return Err(NetError::last().into());
            }
            let mut err: c_int = 0;
            let mut len = size_of::<c_int>() as lw::socklen_t;
            // SAFETY: `err` and `len` are valid for an int option.
            let rc = unsafe {
                lw::getsockopt(
                    fd,
                    lw::SOL_SOCKET as c_int,
                    lw::SO_ERROR as c_int,
                    (&mut err as *mut c_int).cast::<c_void>(),
                    &mut len,
                )
            };
            if rc != 0 {
                return Err(NetError::last().into());
            }
            if err != 0 {
                return Err(NetError::from_errno(err).into());
            }
        }
        stream.set_nonblocking(false)?;
        Ok(stream)
    }

    fn set_nonblocking(&self, on: bool) -> Result<(), Error> {
        let mut v: c_int = c_int::from(on);
        // SAFETY: FIONBIO takes a pointer to an int.
        let rc =
            unsafe { lw::ioctlsocket(self.fd, lw::FIONBIO as _, (&mut v as *mut c_int).cast()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(NetError::last().into())
        }
    }

    fn set_timeout(&self, opt: u32, d: Option<Duration>) -> Result<(), Error> {
        // Zero would mean "no timeout" to the stack: make it the smallest real one instead.
        let tv = timeval(d.map_or(Duration::ZERO, |d| d.max(Duration::from_millis(1))));
        self.set_option(lw::SOL_SOCKET, opt, &tv)
    }

    /// `setsockopt(level, opt)` with the value `v`, whose type is the one the option takes.
    fn set_option<T>(&self, level: u32, opt: u32, v: &T) -> Result<(), Error> {
        // SAFETY: `v` is a live value of `size_of::<T>()` bytes, which the stack only reads
        // during the call; the callers pass the type their option takes.
        let rc = unsafe {
            lw::setsockopt(
                self.fd,
                level as c_int,
                opt as c_int,
                (v as *const T).cast(),
                size_of::<T>() as lw::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(NetError::last().into())
        }
    }

    /// How long a read may wait for data (`None`: without limit). A read that times out
    /// fails with a [`crate::ErrorKind::TimedOut`] error.
    ///
    /// # Errors
    /// The socket error.
    pub fn set_read_timeout(&self, d: Option<Duration>) -> Result<(), Error> {
        self.set_timeout(lw::SO_RCVTIMEO, d)
    }

    /// Whether small writes go out at once (`TCP_NODELAY`), instead of waiting for the
    /// previous segment's ACK (Nagle). A request-response protocol wants it: an MQTT PUBACK
    /// followed by the command's response would otherwise wait for the peer's delayed ACK.
    ///
    /// # Errors
    /// The socket error.
    pub fn set_nodelay(&self, on: bool) -> Result<(), Error> {
        // TCP_NODELAY takes an int.
        self.set_option(lw::IPPROTO_TCP, lw::TCP_NODELAY, &c_int::from(on))
    }

    /// How long a write may wait for room (`None`: without limit).
    ///
    /// # Errors
    /// The socket error.
    pub fn set_write_timeout(&self, d: Option<Duration>) -> Result<(), Error> {
        self.set_timeout(lw::SO_SNDTIMEO, d)
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        // SAFETY: `fd` is our open socket, closed once here.
        unsafe { lw::closesocket(self.fd) };
    }
}

impl embedded_io::ErrorType for TcpStream {
    type Error = Error;
}

impl embedded_io::Read for TcpStream {
    /// Reads what has arrived; `Ok(0)` at the peer's end of stream.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { lw::recv(self.fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            Err(NetError::last().into())
        } else {
            Ok(n as usize)
        }
    }
}

impl embedded_io::Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: `buf` is valid for reads of its length.
        let n = unsafe { lw::send(self.fd, buf.as_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            Err(NetError::last().into())
        } else {
            Ok(n as usize)
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
}
