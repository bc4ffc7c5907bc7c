//! lwIP sockets on the simulated board, called through `lwip-sys` as the firmware does, against
//! real host sockets on loopback.

use std::ffi::{c_int, c_void};
use std::io::{Read, Write};
use std::mem::size_of;
use std::net::TcpListener;

use lwip_sys as lw;
use ws63_sim as _;

mod common;
use common::{errno, sockaddr};

fn connect_to(port: u16) -> (c_int, c_int) {
    let a = sockaddr(port);
    // SAFETY: plain socket calls with a valid sockaddr_in of the right length.
    unsafe {
        let s = lw::socket(lw::AF_INET as _, lw::SOCK_STREAM as _, 0);
        assert!(s >= 0);
        let r = lw::connect(
            s,
            (&a as *const lw::sockaddr_in).cast(),
            size_of::<lw::sockaddr_in>() as _,
        );
        (s, if r == 0 { 0 } else { errno() })
    }
}

fn network_up() -> std::sync::MutexGuard<'static, ()> {
    ws63_sim::test_board()
}

#[test]
fn a_connection_sends_and_receives_and_sees_the_peer_close() {
    let _g = network_up();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (s, e) = connect_to(port);
    assert_eq!(e, 0);
    let (mut peer, _) = l.accept().unwrap();
    // SAFETY: buffers are valid for the lengths given.
    unsafe {
        assert_eq!(lw::send(s, b"GET".as_ptr().cast(), 3, 0), 3);
        let mut got = [0u8; 3];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"GET");
        peer.write_all(b"200").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(lw::recv(s, buf.as_mut_ptr().cast(), 8, 0), 3);
        assert_eq!(&buf[..3], b"200");
        drop(peer);
        assert_eq!(lw::recv(s, buf.as_mut_ptr().cast(), 8, 0), 0, "end of stream");
        assert_eq!(lw::closesocket(s), 0);
        assert_eq!(lw::closesocket(s), -1);
        assert_eq!(errno(), lw::EBADF as c_int);
    }
}

#[test]
fn a_refused_connection_is_econnrefused() {
    let _g = network_up();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (s, e) = connect_to(port);
    assert_eq!(e, lw::ECONNREFUSED as c_int);
    // SAFETY: closing a descriptor made here.
    unsafe { lw::closesocket(s) };
}

#[test]
fn so_rcvtimeo_uses_the_sdks_option_and_timeval_and_times_out_with_eagain() {
    let _g = network_up();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let (s, _) = connect_to(l.local_addr().unwrap().port());
    let _peer = l.accept().unwrap();
    let tv = lw::timeval { tv_sec: 0, tv_usec: 50_000 };
    // SAFETY: option buffers of the sizes given.
    unsafe {
        assert_eq!(
            lw::setsockopt(
                s,
                lw::SOL_SOCKET as _,
                lw::SO_RCVTIMEO as _,
                (&tv as *const lw::timeval).cast(),
                size_of::<lw::timeval>() as _
            ),
            0
        );
        let mut back = lw::timeval::default();
        let mut len = size_of::<lw::timeval>() as lw::socklen_t;
        assert_eq!(
            lw::getsockopt(
                s,
                lw::SOL_SOCKET as _,
                lw::SO_RCVTIMEO as _,
                (&mut back as *mut lw::timeval).cast(),
                &mut len
            ),
            0
        );
        assert_eq!((back.tv_sec, back.tv_usec), (0, 50_000));
        let mut buf = [0u8; 4];
        assert_eq!(lw::recv(s, buf.as_mut_ptr().cast(), 4, 0), -1);
        assert_eq!(errno(), lw::EAGAIN as c_int);
        // Short option buffers and unknown options are refused.
        assert_eq!(
            lw::setsockopt(
                s,
                lw::SOL_SOCKET as _,
                lw::SO_RCVTIMEO as _,
                (&tv as *const lw::timeval).cast(),
                2
            ),
            -1
        );
        assert_eq!(errno(), lw::EINVAL as c_int);
        assert_eq!(
            lw::setsockopt(
                s,
                lw::SOL_SOCKET as _,
                20,
                (&tv as *const lw::timeval).cast(),
                size_of::<lw::timeval>() as _
            ),
            -1
        );
        assert_eq!(errno(), 92, "Linux's SO_RCVTIMEO number is no lwIP option here");
        lw::closesocket(s);
    }
}

#[test]
fn non_blocking_connect_with_select_and_so_error() {
    let _g = network_up();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = sockaddr(l.local_addr().unwrap().port());
    // SAFETY: valid descriptors, fd_sets and option buffers.
    unsafe {
        let s = lw::socket(lw::AF_INET as _, lw::SOCK_STREAM as _, 0);
        let mut on: c_int = 1;
        assert_eq!(
            lw::ioctlsocket(s, lw::FIONBIO as _, (&mut on as *mut c_int).cast::<c_void>()),
            0
        );
        let r = lw::connect(
            s,
            (&a as *const lw::sockaddr_in).cast(),
            size_of::<lw::sockaddr_in>() as _,
        );
        assert!(r == 0 || errno() == lw::EINPROGRESS as c_int);
        let mut w = lw::fd_set::default();
        let bits = std::ffi::c_ulong::BITS as usize;
        w.fds_bits[s as usize / bits] |= 1 << (s as usize % bits);
        let mut tv = lw::timeval { tv_sec: 2, tv_usec: 0 };
        assert_eq!(
            lw::select(s + 1, std::ptr::null_mut(), &mut w, std::ptr::null_mut(), &mut tv),
            1
        );
        let mut err: c_int = -1;
        let mut len = size_of::<c_int>() as lw::socklen_t;
        assert_eq!(
            lw::getsockopt(
                s,
                lw::SOL_SOCKET as _,
                lw::SO_ERROR as _,
                (&mut err as *mut c_int).cast(),
                &mut len
            ),
            0
        );
        assert_eq!(err, 0);
        // Nothing to read yet: select times out with 0 and an emptied set.
        let mut rset = lw::fd_set::default();
        rset.fds_bits[s as usize / bits] |= 1 << (s as usize % bits);
        let mut tv = lw::timeval { tv_sec: 0, tv_usec: 10_000 };
        assert_eq!(
            lw::select(s + 1, &mut rset, std::ptr::null_mut(), std::ptr::null_mut(), &mut tv),
            0
        );
        assert_eq!(rset.fds_bits[0], 0);
        let mut buf = [0u8; 1];
        assert_eq!(lw::recv(s, buf.as_mut_ptr().cast(), 1, 0), -1);
        assert_eq!(errno(), lw::EAGAIN as c_int);
        lw::closesocket(s);
    }
}

#[test]
fn the_socket_table_is_lwips_size_and_bad_arguments_fail() {
    let _g = network_up();
    // SAFETY: plain socket calls.
    unsafe {
        assert_eq!(lw::socket(10, lw::SOCK_STREAM as _, 0), -1, "AF_INET6 is not configured");
        assert_eq!(lw::socket(lw::AF_INET as _, 2, 0), -1, "datagram sockets are not simulated");
        assert_eq!(errno(), lw::EINVAL as c_int);
        let open = ws63_sim::net::open_sockets();
        let mut fds = Vec::new();
        loop {
            let s = lw::socket(lw::AF_INET as _, lw::SOCK_STREAM as _, 0);
            if s < 0 {
                // Six TCP PCBs in the whole system (MEMP_NUM_TCP_PCB), before the twelve
                // sockets run out.
                assert_eq!(errno(), lw::ENOBUFS as c_int);
                break;
            }
            fds.push(s);
        }
        assert_eq!(open + fds.len(), ws63_sim::net::MAX_TCP_PCBS);
        for s in fds {
            assert_eq!(lw::closesocket(s), 0);
        }
        assert_eq!(lw::send(999, b"x".as_ptr().cast(), 1, 0), -1);
        assert_eq!(errno(), lw::EBADF as c_int);
    }
}

#[test]
fn a_send_to_a_closed_peer_is_epipe_not_a_signal() {
    let _g = network_up();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let (s, _) = connect_to(l.local_addr().unwrap().port());
    drop(l.accept().unwrap());
    let chunk = [0u8; 4096];
    // SAFETY: valid buffer.
    let failed = (0..200).find_map(|_| unsafe {
        (lw::send(s, chunk.as_ptr().cast(), chunk.len(), 0) < 0).then(errno)
    });
    assert!(
        matches!(failed, Some(e) if e == lw::EPIPE as c_int || e == lw::ECONNRESET as c_int),
        "{failed:?}"
    );
    // SAFETY: closing our descriptor.
    unsafe { lw::closesocket(s) };
}

#[test]
fn getaddrinfo_resolves_one_ipv4_address_and_faults_make_it_fail() {
    let _g = network_up();
    // SAFETY: valid C strings and out-pointer; the result is freed once.
    unsafe {
        let mut res: *mut lw::addrinfo = std::ptr::null_mut();
        assert_eq!(
            lw::getaddrinfo(c"localhost".as_ptr(), c"8080".as_ptr(), std::ptr::null(), &mut res),
            0
        );
        let ai = &*res;
        assert!(ai.ai_next.is_null());
        assert_eq!(ai.ai_family, lw::AF_INET as c_int);
        let sin = &*ai.ai_addr.cast::<lw::sockaddr_in>();
        assert_eq!(u16::from_be(sin.sin_port), 8080);
        assert_eq!(u32::from_be(sin.sin_addr.s_addr), u32::from(std::net::Ipv4Addr::LOCALHOST));
        lw::freeaddrinfo(res);

        assert_eq!(
            lw::getaddrinfo(c"localhost".as_ptr(), c"http".as_ptr(), std::ptr::null(), &mut res),
            lw::EAI_SERVICE
        );
        assert_eq!(
            lw::getaddrinfo(std::ptr::null(), std::ptr::null(), std::ptr::null(), &mut res),
            lw::EAI_NONAME
        );
        assert_eq!(
            lw::getaddrinfo(
                c"no-such-host.invalid".as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                &mut res
            ),
            lw::EAI_NONAME
        );
        ws63_sim::faults::Faults { dns_fail: true, ..Default::default() }.install();
        assert_eq!(
            lw::getaddrinfo(c"localhost".as_ptr(), std::ptr::null(), std::ptr::null(), &mut res),
            lw::EAI_FAIL
        );
        ws63_sim::faults::clear();
    }
}
