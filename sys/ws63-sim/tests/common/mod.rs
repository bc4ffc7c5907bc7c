//! Helpers shared by the socket tests.
#![allow(dead_code)]

use std::ffi::c_int;

use lwip_sys as lw;

/// This thread's errno on the board.
pub fn errno() -> c_int {
    // SAFETY: __errno_location returns this thread's errno cell.
    unsafe { *lw::__errno_location() }
}

/// 127.0.0.1:`port` in the SDK's layout.
pub fn sockaddr(port: u16) -> lw::sockaddr_in {
    lw::sockaddr_in {
        sin_family: lw::AF_INET as _,
        sin_port: port.to_be(),
        sin_addr: lw::in_addr { s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be() },
        sin_zero: [0; 8],
    }
}
