//! The wrappers on the simulated board: success and error paths.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use embedded_io::{Read, Write};
use ws63_hal::net::TcpStream;
use ws63_hal::partition::{self, Partition, PartitionId};
use ws63_hal::sync::{Mutex, Queue, Semaphore};
use ws63_hal::thread::{self, Builder};
use ws63_hal::upgrade::{self, Upgrade};
use ws63_hal::wifi::{self, Security, StaConfig};
use ws63_hal::{Error, ErrorKind};
use ws63_sim as _;
use ws63_sim::package;

/// Counts drops, to prove values are neither leaked nor dropped twice.
#[derive(Debug)]
struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn board() -> std::sync::MutexGuard<'static, ()> {
    ws63_sim::test_board()
}

#[test]
fn a_thread_runs_its_closure_with_its_name_stack_and_priority() {
    let _g = board();
    let (tx, rx) = mpsc::channel();
    Builder::new(c"ota")
        .stack_size(0x2000)
        .spawn(move || {
            let t = ws63_sim::rtos::current_thread().unwrap();
            tx.send((t.name(), t.stack_size, t.priority)).unwrap();
        })
        .unwrap();
    let got = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got, ("ota".to_string(), 0x2000, thread::PRIORITY_NORMAL));
}

#[test]
fn a_refused_thread_is_an_error_and_its_closure_is_dropped_not_leaked() {
    let _g = board();
    let drops = Arc::new(AtomicUsize::new(0));
    let t = Tracked(drops.clone());
    ws63_sim::faults::fail_thread_creates(1);
    let r = Builder::new(c"x").spawn(move || drop(t));
    assert_eq!(r.unwrap_err(), Error::ThreadCreate);
    assert_eq!(r.unwrap_err().kind(), ErrorKind::OutOfResources);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let bad = Builder::new(c"y").priority(99).spawn(|| {});
    assert_eq!(bad.unwrap_err(), Error::ThreadCreate);
}

#[test]
fn sleep_waits_at_least_the_duration_in_whole_ticks() {
    let start = Instant::now();
    thread::sleep(Duration::from_millis(25));
    assert!(start.elapsed() >= Duration::from_millis(25));
    assert_eq!(ws63_hal::time::to_ticks(Duration::from_millis(25)), 3);
    assert_eq!(ws63_hal::time::to_ticks(Duration::from_millis(30)), 3);
    assert_eq!(ws63_hal::time::to_ticks(Duration::ZERO), 0);
    thread::sleep(Duration::ZERO);
}

#[test]
fn a_mutex_excludes_and_times_out() {
    let m = Arc::new(Mutex::new(5u32).unwrap());
    let mut g = m.lock().unwrap();
    *g += 1;
    let m2 = m.clone();
    let other = std::thread::spawn(move || {
        let e1 = m2.lock_timeout(Some(Duration::ZERO)).err();
        let e2 = m2.lock_timeout(Some(Duration::from_millis(20))).err();
        (e1.map(|e| e.kind()), e2.map(|e| e.kind()))
    })
    .join()
    .unwrap();
    assert_eq!(other, (Some(ErrorKind::Busy), Some(ErrorKind::TimedOut)));
    drop(g);
    assert_eq!(*m.lock().unwrap(), 6);
}

#[test]
fn a_relock_by_the_holder_is_refused_although_the_kernel_mutex_is_recursive() {
    let m = Arc::new(Mutex::new(vec![1u32]).unwrap());
    let mut g = m.lock().unwrap();
    // LiteOS (and the board) lets the owner in again; the wrapper must not hand out a
    // second guard (a second `&mut`).
    assert!(matches!(m.lock(), Err(Error::WouldDeadlock)));
    assert!(matches!(m.lock_timeout(Some(Duration::ZERO)), Err(Error::WouldDeadlock)));
    g.push(2);
    // The refused relocks left the kernel mutex held exactly once: after the guard goes,
    // another thread gets it at once.
    drop(g);
    let m2 = m.clone();
    let seen = std::thread::spawn(move || m2.lock_timeout(Some(Duration::ZERO)).map(|g| g.clone()))
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(seen, [1, 2]);
    // And this thread can lock it again.
    m.lock().unwrap().push(3);
    assert_eq!(m.lock().unwrap().len(), 3);
}

#[test]
fn a_queue_moves_owned_values_in_order_and_drops_what_is_left() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q: Queue<(String, Tracked)> = Queue::new(2).unwrap();
    assert!(Queue::<u8>::new(0).is_err());
    q.send(("a".into(), Tracked(drops.clone())), None).unwrap();
    q.send(("b".into(), Tracked(drops.clone())), Some(Duration::ZERO)).unwrap();
    let (back, e) =
        q.send(("c".into(), Tracked(drops.clone())), Some(Duration::from_millis(20))).unwrap_err();
    assert_eq!(back.0, "c", "a refused value comes back");
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let (first, _t) = q.recv(Some(Duration::ZERO)).unwrap();
    assert_eq!(first, "a");
    assert_eq!(q.len(), 1);
    drop(_t);
    drop(q);
    assert_eq!(drops.load(Ordering::SeqCst), 3, "the value left in the queue was dropped once");

    let q = Arc::new(Queue::<u64>::new(1).unwrap());
    let q2 = q.clone();
    let t = std::thread::spawn(move || q2.recv(Some(Duration::from_secs(5))));
    q.send(7, None).unwrap();
    assert_eq!(t.join().unwrap().unwrap(), 7);
    assert_eq!(q.recv(Some(Duration::ZERO)).unwrap_err().kind(), ErrorKind::Busy);
}

#[test]
fn a_semaphore_counts() {
    assert!(Semaphore::new(0, 0).is_err());
    let s = Semaphore::new(1, 0).unwrap();
    assert_eq!(s.acquire(Some(Duration::from_millis(20))).unwrap_err().kind(), ErrorKind::TimedOut);
    s.release().unwrap();
    assert_eq!(s.release().unwrap_err().kind(), ErrorKind::Busy);
    assert_eq!(s.count(), 1);
    s.acquire(None).unwrap();
}

#[test]
fn a_tcp_stream_talks_and_its_read_times_out() {
    let _g = board();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut s = TcpStream::connect("localhost", port, Duration::from_secs(2)).unwrap();
    let (mut peer, _) = l.accept().unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    let mut got = [0u8; 16];
    std::io::Read::read_exact(&mut peer, &mut got).unwrap();
    assert_eq!(&got, b"GET / HTTP/1.1\r\n");
    std::io::Write::write_all(&mut peer, b"HTTP/1.1 200").unwrap();
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
    s.set_read_timeout(Some(Duration::from_millis(30))).unwrap();
    let e = s.read(&mut buf).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    assert_eq!(embedded_io::Error::kind(&e), embedded_io::ErrorKind::TimedOut);
    drop(peer);
    assert_eq!(s.read(&mut buf).unwrap(), 0, "end of stream");
}

#[test]
fn connect_errors_have_kinds() {
    let _g = board();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e = TcpStream::connect("127.0.0.1", port, Duration::from_secs(2)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    ws63_sim::faults::Faults { dns_fail: true, ..Default::default() }.install();
    let e = TcpStream::connect("localhost", port, Duration::from_secs(2)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Dns, "{e}");
    ws63_sim::faults::clear();
    assert!(TcpStream::connect("bad\0host", 80, Duration::from_secs(1)).is_err());
    ws63_sim::wifi::reset();
    let e = TcpStream::connect("127.0.0.1", port, Duration::from_secs(2)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Dns, "no link, no DNS: {e}");
}

#[test]
fn partitions_are_the_boards() {
    assert_eq!(
        partition::info(PartitionId::App).unwrap(),
        Partition { offset: 0x3_0000, size: 0x24_0000 }
    );
    assert_eq!(
        partition::info(PartitionId::FotaData).unwrap(),
        Partition { offset: 0x27_0000, size: 0x18_3000 }
    );
}

fn fresh_flash(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("ws63hal-{name}-{}.flash", std::process::id()));
    let _ = std::fs::remove_file(&p);
    ws63_sim::flash::open(&p).unwrap();
    ws63_sim::upgrade::reset_ram_state();
    p
}

fn pending() -> bool {
    ws63_sim::flash::with(|f| Ok(ws63_sim::upgrade::pending(f))).unwrap()
}

#[test]
fn an_upgrade_writes_in_order_and_requests_only_a_complete_verified_package() {
    let _g = board();
    let p = fresh_flash("upg");
    let pkg = package::build_app("1.2.3", 150_000);
    let up = Upgrade::take().unwrap();
    assert_eq!(Upgrade::take().unwrap_err(), Error::Busy, "one upgrade at a time");
    assert_eq!(up.storage_size(), 0x18_0000);
    let mut w = up.prepare(pkg.len() as u32).unwrap();
    let kicks = ws63_sim::board::watchdog_kicks();
    // Odd slices, one larger than the API's u16 limit.
    let (a, rest) = pkg.split_at(70_001);
    w.write(a).unwrap();
    assert_eq!(w.written(), 70_001);
    assert_eq!(w.write_at(0, rest).unwrap_err(), Error::OutOfOrder { expected: 70_001, got: 0 });
    let (b, c) = rest.split_at(333);
    w.write_at(70_001, b).unwrap();
    w.write(c).unwrap();
    assert!(ws63_sim::board::watchdog_kicks() >= kicks + 3);
    assert_eq!(w.write(&[0]).unwrap_err(), Error::Overflow { len: pkg.len() as u32 });
    let mut head = [0u8; 8];
    w.read_back(0, &mut head).unwrap();
    assert_eq!(head, pkg[..8]);
    let ready = w.finish().unwrap();
    assert!(pending(), "marked for flashboot");
    assert_eq!(Upgrade::take().unwrap_err(), Error::Busy, "still held until reboot");
    drop(ready);
    drop(Upgrade::take().unwrap());
    std::fs::remove_file(p).unwrap();
}

#[test]
fn an_incomplete_or_corrupt_package_never_reaches_flashboot() {
    let _g = board();
    let p = fresh_flash("bad");
    let pkg = package::build_app("9.9.9", 20_000);

    let mut w = Upgrade::take().unwrap().prepare(pkg.len() as u32).unwrap();
    w.write(&pkg[..10_000]).unwrap();
    let e = w.finish().unwrap_err();
    assert_eq!(e, Error::Incomplete { written: 10_000, len: pkg.len() as u32 });
    assert!(!pending());

    let bad = package::flip_bit(&pkg, 8 * 15_000);
    let mut w = Upgrade::take().unwrap().prepare(bad.len() as u32).unwrap();
    w.write(&bad).unwrap();
    let e = w.finish().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Verification);
    assert_eq!(e.to_string(), "SDK: ERRCODE_FAIL (0xffffffff)");
    assert!(!pending());

    let e = Upgrade::take().unwrap().prepare(0x18_0001).unwrap_err();
    assert_eq!(e, Error::TooLarge { len: 0x18_0001, capacity: 0x18_0000 });
    assert_eq!(upgrade::status().unwrap(), upgrade::Status::None);
    std::fs::remove_file(p).unwrap();
}

#[test]
fn wifi_joins_with_dhcp_and_reports_refusals() {
    let _g = ws63_sim::test_lock();
    ws63_sim::faults::clear();
    ws63_sim::wifi::reset();
    ws63_sim::wifi::set_access_point("bms-lab", "correct horse");
    let cfg = |psk| StaConfig { ssid: "bms-lab", passphrase: psk, security: Security::Wpa2Psk };
    let short = wifi::connect(&cfg("short"), Duration::from_secs(1)).unwrap_err();
    assert_eq!(short.kind(), ErrorKind::InvalidArgument);
    let wrong = wifi::connect(&cfg("wrong horse!"), Duration::from_secs(5)).unwrap_err();
    assert_eq!(wrong, Error::WifiRejected);
    assert!(!wifi::link_up());
    let ip = wifi::connect(&cfg("correct horse"), Duration::from_secs(5)).unwrap();
    assert_eq!(ip, std::net::Ipv4Addr::LOCALHOST);
    assert!(wifi::link_up());
    ws63_sim::wifi::reset();
}

#[test]
fn log_lines_have_uptime_level_and_target() {
    let mut s = String::new();
    let args = format_args!("downloaded {} of {} bytes", 4096, 65536);
    let rec = log::Record::builder().level(log::Level::Info).target("ota").args(args).build();
    ws63_hal::log::write_record(&mut s, 12_345, &rec).unwrap();
    assert_eq!(s, "[  12.34] INFO  ota: downloaded 4096 of 65536 bytes\r\n");
    ws63_hal::log::init(log::LevelFilter::Info);
    assert_eq!(log::max_level(), log::LevelFilter::Info);
    log::info!(target: "test", "the console logger is installed");
}
