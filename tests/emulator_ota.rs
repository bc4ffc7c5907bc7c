//! OTAs on the real kernel: the SDK image `ws63-liteos-app` with the firmware (built with
//! `emulator-net`), booted from a flash image in the WS63 emulator (QEMU `-M ws63`, with the
//! lane's ROM flash and NIC patches), commanded over MQTT, downloading over HTTP into flash
//! through the SDK's upgrade API. Run by the emulator lane (`.ci/emulate` step g), which sets
//!
//! - `WS63_EMU_QEMU`: the qemu-system-riscv32 built with `.ci/emulator/qemu/*.patch`;
//! - `WS63_EMU_OTA_ELF`: the OTA image (the emulator-net library linked into the SDK image);
//! - `WS63_EMU_NV_DIR`: the partition table and NV images (partition_params.bin, nv.bin,
//!   nv_factory.bin);
//! - `WS63_EMU_OUT`: where consoles, flash dumps and figures go.
//!
//! Without them every test here says it skipped and passes (plain `cargo test`).
//!
//! The guest reaches only the test's mosquitto (bridged to the test's broker) and firmware
//! server, through QEMU's user-mode network with `restrict=on` and one `guestfwd` each to
//! 127.0.0.1. A guest reset pauses the machine (`-action reboot=shutdown,shutdown=pause`), so
//! the flash the OTA wrote can be saved (QMP `pmemsave` of the XIP window) before anything
//! reloads it. The SDK's own verification runs (the lane's QEMU computes SHA-256 in its
//! hash engine); signatures, flashboot and the flash's timing are not there (the README says
//! what the emulator proves and what it does not).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::fixture::{self, Faults, FirmwareServer};
use common::tls::Mosquitto;
use common::{event_type, version_report, Cloud, ROOT};
use serde_json::{json, Value};

/// The XIP window's base: flash offset 0 is at this address.
const XIP: u64 = 0x20_0000;
/// The flash the lane's ROM emulation models (the WS63 module's 4 MiB part).
const FLASH_SIZE: usize = 0x40_0000;
/// The FOTA partition of the SDK's default layout (param_sector.json).
const FOTA: usize = 0x27_0000;
const FOTA_SIZE: usize = 0x18_3000;
/// The NV partition (the SDK's key-value store): the flash's last 16 KiB.
const NV: usize = 0x3F_C000;
/// The upgrade flag area: the FOTA partition's last 4 KiB (upg_common_porting.c).
const FLAGS: usize = FOTA + FOTA_SIZE - 0x1000;
/// The loader's pieces: `-device loader` refuses a raw file larger than the machine's RAM.
const PIECE: usize = 0x8_0000;
/// The guest's view of the test's services (`guestfwd`), as .ci/emulator/gateway.toml says.
const GUEST_BROKER_PORT: u16 = 1883;
const GUEST_HTTP_PORT: u16 = 8080;
/// The emulated gateway's boot to its version report, and an OTA, in wall-clock seconds.
const BOOT_SECS: u64 = 240;
const OTA_SECS: u64 = 600;

const STARTED: &str =
    r#"{"result_code":0,"response_name":"ota_upgrade","paras":{"result":"ota_started"}}"#;

struct Inputs {
    qemu: PathBuf,
    elf: PathBuf,
    nv: PathBuf,
    out: PathBuf,
}

fn inputs() -> Option<Inputs> {
    let var = |name: &str| std::env::var_os(name).map(PathBuf::from);
    let (Some(qemu), Some(elf), Some(nv)) =
        (var("WS63_EMU_QEMU"), var("WS63_EMU_OTA_ELF"), var("WS63_EMU_NV_DIR"))
    else {
        eprintln!(
            "skipped: no emulator inputs (WS63_EMU_QEMU, WS63_EMU_OTA_ELF, WS63_EMU_NV_DIR; \
             .ci/emulate sets them)"
        );
        return None;
    };
    let out = var("WS63_EMU_OUT").unwrap_or_else(|| std::env::temp_dir().join("ws63-emu-ota"));
    std::fs::create_dir_all(&out).unwrap();
    Some(Inputs { qemu, elf, nv, out })
}

/// The board's flash at power-on: erased (0xFF), with the SDK's partition table and NV
/// images where the SDK's own flash image puts them, the application at its load addresses
/// (the ELF's LMAs in the XIP window), and the FOTA partition full of an earlier package's
/// bytes (pseudo-random), as a board that has upgraded before has it: an OTA that skipped an
/// erase would leave them ANDed into the new package. The hart starts at 0x230300, the app
/// partition plus its header, as after flashboot.
fn flash_image(inp: &Inputs) -> Vec<u8> {
    use object::read::elf::{FileHeader, ProgramHeader};

    let mut flash = vec![0xFF; FLASH_SIZE];
    let mut x: u32 = 0x2545_F491;
    for b in &mut flash[FOTA..FOTA + FOTA_SIZE] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    for (file, at) in
        [("partition_params.bin", 0), ("nv_factory.bin", 0xC000), ("nv.bin", 0x3F_C000)]
    {
        let data = std::fs::read(inp.nv.join(file)).unwrap();
        flash[at..at + data.len()].copy_from_slice(&data);
    }
    let elf = std::fs::read(&inp.elf).unwrap();
    let header = object::elf::FileHeader32::<object::Endianness>::parse(&*elf).unwrap();
    let endian = header.endian().unwrap();
    let mut placed = 0;
    for ph in header.program_headers(endian, &*elf).unwrap() {
        if ph.p_type(endian) != object::elf::PT_LOAD || ph.p_filesz(endian) == 0 {
            continue;
        }
        let at = u64::from(ph.p_paddr(endian));
        let data = ph.data(endian, &*elf).unwrap();
        if at < XIP || at + data.len() as u64 > XIP + FLASH_SIZE as u64 {
            continue; // loaded by the startup code from its LMA, or not in flash at all
        }
        let at = (at - XIP) as usize;
        assert!(at >= 0x3_0000 && at + data.len() <= FOTA, "a segment outside the app partition");
        flash[at..at + data.len()].copy_from_slice(data);
        placed += data.len();
    }
    assert!(placed > 0x1_0000, "no application in {}", inp.elf.display());
    flash
}

/// One boot of the emulated board.
struct Emu {
    child: Child,
    dir: PathBuf,
}

impl Emu {
    /// Boots `flash` with the guest's broker and HTTP ports forwarded to these host ports.
    fn boot(inp: &Inputs, name: &str, flash: &[u8], broker: u16, http: u16) -> Emu {
        let dir = inp.out.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut args: Vec<String> = vec![
            "-M".into(),
            "ws63".into(),
            "-nographic".into(),
            "-monitor".into(),
            "none".into(),
            "-serial".into(),
            format!("file:{}", dir.join("console.log").display()),
            // sleep=on: an idle guest waits in real time, so the host's answers arrive in the
            // guest's time as they would on a chip (no warp past its TCP timers).
            "-icount".into(),
            "shift=5,sleep=on".into(),
            "-nic".into(),
            format!(
                "user,restrict=on,guestfwd=tcp:10.0.2.100:{GUEST_BROKER_PORT}-cmd:nc 127.0.0.1 \
                 {broker},guestfwd=tcp:10.0.2.100:{GUEST_HTTP_PORT}-cmd:nc 127.0.0.1 {http}"
            ),
            "-qmp".into(),
            format!("unix:{},server=on,wait=off", dir.join("qmp.sock").display()),
            "-action".into(),
            "reboot=shutdown,shutdown=pause".into(),
        ];
        for (i, piece) in flash.chunks(PIECE).enumerate() {
            let file = dir.join(format!("flash.{i}.bin"));
            std::fs::write(&file, piece).unwrap();
            args.push("-device".into());
            args.push(format!(
                "loader,file={},addr={:#x},force-raw=on",
                file.display(),
                XIP + (i * PIECE) as u64
            ));
        }
        std::fs::write(dir.join("qemu.args"), args.join("\n")).unwrap();
        let log = std::fs::File::create(dir.join("qemu.log")).unwrap();
        let child = Command::new(&inp.qemu)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Emu { child, dir }
    }

    fn console(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.join("console.log")).unwrap_or_default())
            .into_owned()
    }

    /// Runs QMP commands on a fresh connection; their `return` values (events skipped).
    fn qmp(&self, commands: &[Value]) -> Vec<Value> {
        let path = self.dir.join("qmp.sock");
        let t = Instant::now();
        let stream = loop {
            match UnixStream::connect(&path) {
                Ok(s) => break s,
                Err(e) => {
                    assert!(t.elapsed() < Duration::from_secs(20), "QMP {}: {e}", path.display());
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        };
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut line = String::new();
        reader.read_line(&mut line).unwrap(); // the greeting
        let mut results = Vec::new();
        for cmd in std::iter::once(&json!({"execute": "qmp_capabilities"})).chain(commands) {
            writeln!(writer, "{cmd}").unwrap();
            loop {
                line.clear();
                assert!(reader.read_line(&mut line).unwrap() > 0, "QMP closed");
                let v: Value = serde_json::from_str(&line).unwrap();
                if let Some(e) = v.get("error") {
                    panic!("QMP {cmd}: {e}");
                }
                if let Some(r) = v.get("return") {
                    results.push(r.clone());
                    break;
                }
            }
        }
        results.remove(0);
        results
    }

    /// Whether the guest asked for a reset (the machine is then paused, not restarted).
    fn reset_requested(&self) -> bool {
        let status = self.qmp(&[json!({"execute": "query-status"})]);
        status[0]["status"] == "shutdown"
    }

    /// The flash as the guest left it.
    fn dump_flash(&self) -> Vec<u8> {
        let file = self.dir.join("flash-dump.bin");
        self.qmp(&[json!({"execute": "pmemsave", "arguments": {
            "val": XIP, "size": FLASH_SIZE, "filename": file.to_str().unwrap()}})]);
        let flash = std::fs::read(&file).unwrap();
        assert_eq!(flash.len(), FLASH_SIZE);
        flash
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The cloud side: the test's broker behind mosquitto, the firmware server.
struct Services {
    cloud: Cloud,
    mosquitto: Mosquitto,
    fw: FirmwareServer,
}

fn services(name: &str, pkg: Vec<u8>, faults: Faults) -> Services {
    let cloud = Cloud::start();
    let mosquitto = Mosquitto::start(None, cloud.port, ROOT, name)
        .expect("the emulator lane needs mosquitto (apt: mosquitto)");
    let fw = FirmwareServer::start(pkg, faults);
    Services { cloud, mosquitto, fw }
}

/// The figures of one run, appended to `WS63_EMU_OUT/figures.txt` for docs/benchmarks.md.
fn record(inp: &Inputs, name: &str, line: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(inp.out.join("figures.txt"))
        .unwrap();
    writeln!(f, "{name}: {line}").unwrap();
    eprintln!("{name}: {line}");
}

/// Boots the board, waits for its 1.0.0 version report, sends `command`, checks the exact
/// `ota_started` answer; returns the emulator, the command-to-answer time and the flash it
/// booted with.
fn start_ota(
    inp: &Inputs,
    name: &str,
    s: &mut Services,
    command: &str,
) -> (Emu, Duration, Vec<u8>) {
    let flash = flash_image(inp);
    let emu = Emu::boot(inp, name, &flash, s.mosquitto.port, s.fw.port);
    let booted = Instant::now();
    let (_, v) = s.cloud.until(BOOT_SECS, |_, v| version_report(v).is_some());
    assert_eq!(version_report(&v), Some("1.0.0"), "console:\n{}", emu.console());
    eprintln!("{name}: logged in and reported 1.0.0 after {:?} wall", booted.elapsed());
    let t = Instant::now();
    s.cloud.command("emu1", command);
    let answer = s.cloud.response("emu1", 60);
    let latency = t.elapsed();
    assert_eq!(answer, STARTED, "console:\n{}", emu.console());
    (emu, latency, flash)
}

/// Outside the FOTA partition only the NV partition (the SDK's key-value store, which it
/// updates at run time) may have changed: the OTA wrote nowhere else.
fn assert_only_nv_changed_outside_fota(before: &[u8], after: &[u8]) {
    let changed: Vec<usize> = (0..FLASH_SIZE)
        .step_by(0x1000)
        .filter(|a| !(FOTA..FOTA + FOTA_SIZE).contains(a))
        .filter(|&a| before[a..a + 0x1000] != after[a..a + 0x1000])
        .collect();
    assert!(
        changed.iter().all(|a| (NV..FLASH_SIZE).contains(a)),
        "sectors changed outside the FOTA and NV partitions: {changed:x?}"
    );
}

/// The flash as the guest left it, against the one it booted with (`before`): the package in
/// the FOTA partition byte for byte, the flags of a requested upgrade, and nothing else
/// changed but NV.
fn assert_flash_holds_the_requested_package(emu: &Emu, pkg: &[u8], before: &[u8]) {
    let flash = emu.dump_flash();
    assert!(flash[FOTA..FOTA + pkg.len()] == *pkg, "the FOTA partition differs from the package");
    assert_requested_flags(&flash, pkg.len());
    assert_only_nv_changed_outside_fota(before, &flash);
}

/// Waits for the guest's reset request, which must follow the firmware's own reboot line
/// (not, say, the watchdog's).
fn wait_for_reboot(emu: &Emu) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !emu.reset_requested() {
        assert!(Instant::now() < deadline, "no reboot asked for; console:\n{}", emu.console());
        std::thread::sleep(Duration::from_millis(200));
    }
    let console = emu.console();
    assert!(
        console.contains("verified, upgrade requested: rebooting"),
        "a reset without the firmware's reboot; console:\n{console}"
    );
}

/// The progress reports until one that `last` accepts, or a failure.
fn progress_until(s: &mut Services, emu: &Emu, last: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(OTA_SECS);
    loop {
        let left = deadline.saturating_duration_since(Instant::now()).as_secs();
        assert!(left > 0, "the OTA did not end in {OTA_SECS} s; console:\n{}", emu.console());
        let (_, v) = s.cloud.until(left, |_, v| event_type(v) == "upgrade_progress_report");
        let p = v["services"][0]["paras"].clone();
        seen.push(p.clone());
        if last(&p) || p["result_code"] != 0 {
            return seen;
        }
    }
}

/// The lane's measurements (.ci/emulator/ws63_test_caller/emu_watch.c): the last
/// `[emu-watch]` line of the console, after `why`.
#[derive(Debug)]
struct Watch {
    /// (calls, instructions retired meanwhile, emulated µs) in uapi_upg_prepare,
    /// uapi_upg_write_package_sync, uapi_upg_request_upgrade.
    prepare: (u64, u64, u64),
    write: (u64, u64, u64),
    request: (u64, u64, u64),
    /// (peak, size) of the threads' stacks, as LiteOS records them: the OTA, the gateway, and
    /// the lane's NIC driver (which runs lwIP's input path).
    ota_stack: (u64, u64),
    gateway_stack: (u64, u64),
    rx_stack: (u64, u64),
    /// The system heap in use: the largest per-tick sample, at the NIC's start, at the end.
    heap_peak: u64,
    heap_start: u64,
}

fn watch(emu: &Emu, why: &str) -> Watch {
    let numbers = |kind: &str| -> Vec<u64> {
        let tag = format!("[emu-watch] {why}: {kind} ");
        let deadline = Instant::now() + Duration::from_secs(30);
        let line = loop {
            let console = emu.console();
            // A whole line: the console's lines end with "\r\n".
            let lines: Vec<&str> = console.split("\r\n").collect();
            let whole = &lines[..lines.len() - 1]; // the last piece may be half written
            let found =
                whole.iter().rev().find_map(|l| l.split_once(&tag).map(|(_, r)| r.to_owned()));
            if let Some(line) = found {
                break line;
            }
            assert!(Instant::now() < deadline, "no `{tag}` line; console:\n{console}");
            std::thread::sleep(Duration::from_millis(100));
        };
        line.split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .map(|w| w.parse().unwrap())
            .collect()
    };
    let c = numbers("calls");
    let m = numbers("memory");
    assert_eq!((c.len(), m.len()), (9, 9), "{c:?} {m:?}");
    Watch {
        prepare: (c[0], c[1], c[2]),
        write: (c[3], c[4], c[5]),
        request: (c[6], c[7], c[8]),
        ota_stack: (m[0], m[1]),
        gateway_stack: (m[2], m[3]),
        rx_stack: (m[4], m[5]),
        heap_peak: m[6],
        heap_start: m[7],
    }
}

impl Watch {
    /// Within their stacks, and the figures docs/benchmarks.md takes.
    fn check_and_describe(&self) -> String {
        for (name, (peak, size)) in [
            ("ota", self.ota_stack),
            ("gateway", self.gateway_stack),
            ("emu_netmac_rx", self.rx_stack),
        ] {
            assert!(peak > 0 && peak < size, "{name} stack {peak} of {size}");
        }
        let call = |(n, i, us): (u64, u64, u64)| format!("{n}x {i} instructions {us} us");
        format!(
            "SDK storage calls (instructions retired, emulated time): prepare {}, write {}, \
             request {}; stack ota {} of {} B, gateway {} of {} B, NIC driver {} of {} B; heap \
             in use {} B at start, peak {} B (+{})",
            call(self.prepare),
            call(self.write),
            call(self.request),
            self.ota_stack.0,
            self.ota_stack.1,
            self.gateway_stack.0,
            self.gateway_stack.1,
            self.rx_stack.0,
            self.rx_stack.1,
            self.heap_start,
            self.heap_peak,
            self.heap_peak.saturating_sub(self.heap_start)
        )
    }
}

fn le32(flash: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(flash[at..at + 4].try_into().unwrap())
}

/// The flag area as `uapi_upg_prepare` and `uapi_upg_request_upgrade` leave it for
/// flashboot (fota_upgrade_flag_area_t): magics, the package's length, one firmware, and
/// every flag still erased.
fn assert_requested_flags(flash: &[u8], pkg_len: usize) {
    let f = &flash[FLAGS..FLAGS + 108];
    assert_eq!(le32(f, 0), 0x55AA_55AA, "head_magic");
    assert_eq!(le32(f, 4), 0, "head_before_offset");
    assert_eq!(le32(f, 8) as usize, pkg_len, "package_length");
    assert_eq!(le32(f, 12), 1, "firmware_num");
    assert!(f[16..80].iter().all(|&b| b == 0xFF), "firmware, NV and version flags erased");
    assert!(f[80..104].iter().all(|&b| b == 0xFF), "result, NV fields, complete_flag erased");
    assert_eq!(le32(f, 104), 0xAA55_AA55, "head_end_magic");
}

fn sha_command(version: &str, sha: &str) -> String {
    format!(
        r#"{{"command_name":"ota_upgrade","paras":{{"version":"{version}","sha256":"{sha}"}}}}"#
    )
}

/// The whole OTA: the C original's command, the package written through the SDK into flash,
/// the upgrade requested, the reboot asked for; the flash holds the package byte for byte.
#[test]
fn an_ota_on_the_real_kernel_writes_the_package_into_flash_byte_for_byte() {
    let Some(inp) = inputs() else { return };
    let pkg = ws63_sim::package::Spec::sha256("2.0.0", 96 * 1024).build();
    let mut s = services("emu-full", pkg.clone(), Faults::default());
    let (emu, latency, before) = start_ota(
        &inp,
        "full",
        &mut s,
        r#"{"command_name":"ota_upgrade","paras":{"version":"2.0.0"}}"#,
    );
    let t = Instant::now();
    let progress = progress_until(&mut s, &emu, |p| p["progress"] == 100);
    let last = progress.last().unwrap();
    assert_eq!(last["progress"], 100, "{progress:?}\nconsole:\n{}", emu.console());
    wait_for_reboot(&emu);
    let ota_wall = t.elapsed();
    assert_flash_holds_the_requested_package(&emu, &pkg, &before);
    let hits = s.fw.hits();
    assert_eq!(hits.len(), 1, "one download, no resume: {hits:?}");
    let w = watch(&emu, "upgrade requested");
    assert_eq!((w.prepare.0, w.request.0), (1, 1), "{w:?}");
    assert!(w.write.0 as usize >= pkg.len().div_ceil(65535), "{w:?}");
    record(
        &inp,
        "full",
        &format!(
            "command to ota_started {} ms (wall); command answer to reboot request {} ms \
             (wall); {} progress reports; package {} B; {}",
            latency.as_millis(),
            ota_wall.as_millis(),
            progress.len(),
            pkg.len(),
            w.check_and_describe()
        ),
    );
    std::fs::write(inp.out.join("full/console.final.log"), emu.console()).unwrap();
}

/// The download cut in the middle: the OTA resumes with Range, and the flash still holds the
/// package byte for byte.
#[test]
fn a_cut_download_resumes_with_range_and_the_flash_holds_the_package() {
    let Some(inp) = inputs() else { return };
    let pkg = ws63_sim::package::Spec::sha256("2.0.0", 96 * 1024).build();
    let cut = (pkg.len() / 2) as u64;
    let faults = Faults { cut_at: vec![cut], ..Faults::default() };
    let mut s = services("emu-cut", pkg.clone(), faults);
    let sha = fixture::sha256_hex(&pkg);
    let (emu, _, before) = start_ota(&inp, "cut", &mut s, &sha_command("2.0.0", &sha));
    let progress = progress_until(&mut s, &emu, |p| p["progress"] == 100);
    assert_eq!(progress.last().unwrap()["progress"], 100, "{progress:?}");
    wait_for_reboot(&emu);
    let hits = s.fw.hits();
    assert!(hits.len() >= 2, "the cut download was not resumed: {hits:?}");
    assert_eq!(hits[0].range, None);
    let resumed = hits[1].range.as_deref().expect("the second request asks for a Range");
    let from: u64 = resumed
        .trim_start_matches("bytes=")
        .trim_end_matches('-')
        .parse()
        .unwrap_or_else(|_| panic!("Range {resumed}"));
    assert!(from > 0 && from <= cut, "resumed from {from}, cut at {cut}");
    assert_flash_holds_the_requested_package(&emu, &pkg, &before);
    let w = watch(&emu, "upgrade requested");
    assert_eq!((w.prepare.0, w.request.0), (1, 1), "one prepare for both requests: {w:?}");
    record(
        &inp,
        "cut",
        &format!(
            "cut at {cut} B, resumed from {from} B, {} requests; {}",
            hits.len(),
            w.check_and_describe()
        ),
    );
}

/// A package whose SHA-256 is not the command's: refused by the firmware's own check, never
/// requested, no reboot, and the board goes on running 1.0.0 (it answers a new command).
#[test]
fn a_package_whose_sha256_does_not_match_is_refused_and_1_0_0_runs_on() {
    let Some(inp) = inputs() else { return };
    let pkg = ws63_sim::package::Spec::sha256("2.0.0", 96 * 1024).build();
    let wrong = fixture::sha256_hex(b"another package");
    let mut s = services("emu-sha", pkg.clone(), Faults::default());
    let (emu, _, _) = start_ota(&inp, "sha", &mut s, &sha_command("2.0.0", &wrong));
    // Downloaded whole (progress reaches 100), then refused by the firmware's check: IoTDA's
    // result 7 with the reason, nothing else (a download or flash failure is not this).
    let progress = progress_until(&mut s, &emu, |_| false);
    let last = progress.last().unwrap();
    assert_eq!(last["result_code"], 7, "{progress:?}");
    assert_eq!(last["description"], "SHA-256 of the package does not match", "{progress:?}");
    assert!(progress.iter().any(|p| p["progress"] == 100 && p["result_code"] == 0), "{progress:?}");
    // Still 1.0.0 and alive: a new command gets its answer, and no reset was asked for.
    s.cloud.command("emu2", r#"{"command_name":"ota_upgrade","paras":{"version":"1.0.0"}}"#);
    let again = s.cloud.response("emu2", 60);
    assert!(again.contains("1.0.0 is running already"), "{again}");
    assert!(!emu.reset_requested(), "the board asked for a reboot; console:\n{}", emu.console());
    let flash = emu.dump_flash();
    let flags = &flash[FLAGS..FLAGS + 108];
    assert_ne!(le32(flags, 104), 0xAA55_AA55, "the upgrade was requested");
    // The SDK's upgrade request was never called: the firmware's own check refused first.
    let w = watch(&emu, "ota ended");
    assert_eq!((w.prepare.0, w.request.0), (1, 0), "{w:?}");
    assert!(!emu.console().contains("[UPG] upg verify"), "the SDK verified the package");
    record(&inp, "sha", &format!("refused with {last}; {}", w.check_and_describe()));
}
