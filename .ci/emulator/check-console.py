#!/usr/bin/env python3
"""Checks a WS63 console captured by the emulator lane (.ci/emulate).

    check-console.py app  LOG [--version V] [--poll]
    check-console.py test LOG [--poll] [--stack-limits gateway=N,ota=M]
    check-console.py --self-test

app: the product image (the SDK's ws63-liteos-app with the firmware library, emulator cut).
  Passes when the log shows
  - the firmware's start line `INFO  gateway: ws63-bms-gateway <version> starting`
    (the version given with --version, when given);
  - the SDK's `entering scheduler`, once;
  - the gateway thread running: its WiFi join failing and retrying, at least 2 lines
    `WARN  gateway: WiFi: ...; retrying in <ms> ms` whose delays grow, never exceed 30000 and
    stay at 30000 once they reach it. (Reaching the cap is not required: in the cut image
    WiFi never initialises, each join waits out its own 20 s timeout, and the cap comes only
    after about 170 emulated seconds; it is reported when seen.);
  - at least 3 `[SYS INFO]` lines of the SDK's app task after the start line (it prints one
    every 10 s: 30 emulated seconds);
  - no crash marker (CPU exception dump, LiteOS/SDK fault or panic output, a reboot) and no
    second boot.
test: the on-target test image (the firmware library built with --features on-target-tests).
  The runner prints `[test] NAME ... ok` or `[test] NAME ... FAILED: why` per test and then
  `[test] N passed, M failed`; its last test panics on purpose. Passes when that final line
  appears once with M = 0 and N > 0, every counted test has its line (N ok, M FAILED, no name
  twice), and after the final line the panic handler's `[ws63-rt] PANIC` and then
  `[ws63-rt] rebooting` appear; no CPU exception dump, no other panic, no reboot before that.
  Before the final line: `[water] NAME stack S peak P` for the gateway and OTA threads with
  0 < P < S (LiteOS's stack water line), P at most the static worst case given with
  --stack-limits (from `cargo stack-check`), and the logger test's 20 lines from two threads,
  each whole.

Prints what matched and what is missing. Exit status: 0 pass, 1 fail. With --poll (used by
.ci/emulate while QEMU runs) it prints nothing and exits 0 when the log already passes,
1 when it can no longer pass (a crash marker, a second boot, a wrong delay; for app also:
6 or more `[SYS INFO]` lines after the start, 60 emulated seconds, and still failing), 2 when
it is not complete yet.
"""

import re
import sys

CAP_MS = 30000
SYS_INFO_NEEDED = 3
RETRIES_NEEDED = 2
# For --poll: this many [SYS INFO] lines (emulated seconds / 10) and still failing: give up.
SYS_INFO_GIVE_UP = 6

START_RE = re.compile(r"\bINFO\s+gateway: ws63-bms-gateway (\S+) starting")
SCHED_RE = re.compile(r"entering scheduler")
# The SDK's first console line of every boot (main.c, before the kernel starts).
BOOT_RE = re.compile(r"dbg uart init ok\.")
SYS_INFO_RE = re.compile(r"\[SYS INFO\]")
HEAP_RE = re.compile(r"\[SYS INFO\] mem: used:(\d+), free:(\d+)")
RETRY_RE = re.compile(r"\bWARN\s+gateway: WiFi: (.*?);? retrying in (\d+) ms")
STAMP_RE = re.compile(r"^\[\s*(\d+\.\d+)\]\s+(?:TRACE|DEBUG|INFO|WARN|ERROR)\b")

TEST_RE = re.compile(r"\[test\] (\S.*?) \.\.\. (ok|FAILED(?::\s*(.*))?)\s*$")
TOTAL_RE = re.compile(r"\[test\] (\d+) passed, (\d+) failed")
RT_PANIC_RE = re.compile(r"\[ws63-rt\] PANIC")
RT_REBOOT_RE = re.compile(r"\[ws63-rt\] rebooting")
WATER_RE = re.compile(r"^\[water\] (\S+) stack (\d+) peak (\d+)\s*$")
WATER_THREADS = ("gateway", "ota")
TWO_THREADS_RE = re.compile(r"\bINFO\s+two-threads: line ([AB]) (\d) of ten, whole\s*$")

# What a crash prints on this image. The SDK's exception hook (exception_riscv.c) prints
# `exception:<type>` and a register dump (`mcause:0x..`, `mepc:0x..`), LiteOS names the trap
# (`Load access fault`, ...), the SDK's backtrace, `Reboot core:<n> cause 0x..` before a
# reset (cpu_utils.c), LiteOS's panic/overflow checks, libc's assert, and the firmware's
# panic handler (`[ws63-rt] PANIC`). Checked against real crash consoles of the cut and uncut
# images (see .ci/emulate).
PANIC_MARKER = "panic (PANIC)"
CRASH_MARKERS = [
    (re.compile(r"\bexception:\s*(?:0x)?[0-9a-fA-F]+\b"), "SDK exception hook (exception:N)"),
    (re.compile(r"\bmcause:\s*0x[0-9a-fA-F]+"), "trap register dump (mcause:)"),
    (re.compile(r"\bmepc:\s*0x[0-9a-fA-F]+"), "trap register dump (mepc:)"),
    (re.compile(r"\b(?:Load|Store/AMO|Instruction|CMO|CSR|PMP|ITCM write|Memory map region) "
                r"access fault"), "access fault"),
    (re.compile(r"\b(?:Load|Store|Instruction) page fault|\bHard fault\b"), "fault"),
    (re.compile(r"\bIllegal instruction\b"), "illegal instruction"),
    (re.compile(r"\baddress misaligned\b"), "misaligned access"),
    (re.compile(r"backtrace begin"), "SDK backtrace"),
    (re.compile(r"\bReboot core:\s*\d+"), "SDK reboot (Reboot core)"),
    (re.compile(r"\bOops\b"), "Oops"),
    (re.compile(r"\bPANIC\b|\bLOS_Panic\b"), PANIC_MARKER),
    (re.compile(r"stack overflow|magic word changed"), "stack overflow"),
    (re.compile(r"Assertion failed"), "assertion"),
]


def console_lines(text):
    """The console's lines: CRLF, LF and lone CR all end a line; NULs dropped."""
    text = text.replace("\0", "")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def crash_hits(lines, start=0, end=None, skip=()):
    """[(line number, marker, line)] for every crash marker in lines[start:end]."""
    hits = []
    for i, line in enumerate(lines[start:end], start):
        for rx, what in CRASH_MARKERS:
            if what not in skip and rx.search(line):
                hits.append((i, what, line.strip()))
                break
    return hits


class Report:
    def __init__(self):
        self.ok, self.missing, self.info = [], [], []
        self.fatal = False  # the log can no longer pass, however long the run goes on

    def good(self, msg):
        self.ok.append(msg)

    def bad(self, msg, fatal=False):
        self.missing.append(msg)
        self.fatal = self.fatal or fatal

    def passed(self):
        return not self.missing

    def show(self, title, out=sys.stdout):
        print(f"{title}: {'PASS' if self.passed() else 'FAIL'}", file=out)
        for m in self.ok:
            print(f"  ok       {m}", file=out)
        for m in self.info:
            print(f"  info     {m}", file=out)
        for m in self.missing:
            print(f"  MISSING  {m}", file=out)


def show_hits(hits, limit=6):
    s = "; ".join(f"line {i + 1}: {line[:100]!r} [{what}]" for i, what, line in hits[:limit])
    return s + (f"; ... ({len(hits)} in all)" if len(hits) > limit else "")


def check_boots(r, lines, end=None):
    boots = [i for i, l in enumerate(lines[:end]) if BOOT_RE.search(l)]
    if len(boots) > 1:
        r.bad(f"the board booted {len(boots)} times (a reset at line {boots[1] + 1})", fatal=True)
        return False
    return True


def check_app(text, version=None):
    r = Report()
    lines = console_lines(text)
    start = next((i for i, l in enumerate(lines) if START_RE.search(l)), None)
    if start is None:
        r.bad("the firmware's start line `INFO  gateway: ws63-bms-gateway <version> starting`")
    else:
        got = START_RE.search(lines[start]).group(1)
        if version is not None and got != version:
            r.bad(f"firmware version {version!r} in the start line: it says {got!r} "
                  f"(line {start + 1})", fatal=True)
        else:
            r.good(f"start line (line {start + 1}): {lines[start].strip()}")

    sched = [i for i, l in enumerate(lines) if SCHED_RE.search(l)]
    if len(sched) == 1:
        r.good(f"SDK scheduler started (line {sched[0] + 1}): {lines[sched[0]].strip()}")
    elif not sched:
        r.bad("the SDK's `entering scheduler`")
    else:
        r.bad(f"`entering scheduler` {len(sched)} times (lines "
              f"{', '.join(str(i + 1) for i in sched[:5])}): the board restarted", fatal=True)
    check_boots(r, lines)

    after = start + 1 if start is not None else len(lines)
    retries = [(i, RETRY_RE.search(l)) for i, l in enumerate(lines) if i >= after]
    retries = [(i, int(m.group(2)), m.group(1)) for i, m in retries if m]
    delays = [d for _, d, _ in retries]
    if not retries:
        r.bad("the gateway thread's WiFi retries (`WARN  gateway: WiFi: ...; retrying in N ms`)")
    else:
        problems = []
        for k in range(1, len(delays)):
            prev, cur = delays[k - 1], delays[k]
            if prev >= CAP_MS and cur != CAP_MS:
                problems.append(f"{cur} ms after the {CAP_MS} ms cap (line {retries[k][0] + 1})")
            elif prev < CAP_MS and cur <= prev:
                problems.append(f"{cur} ms after {prev} ms does not grow (line {retries[k][0] + 1})")
        over = [(i, d) for i, d, _ in retries if d > CAP_MS]
        for i, d in over:
            problems.append(f"{d} ms exceeds the {CAP_MS} ms cap (line {i + 1})")
        shown = ", ".join(str(d) for d in delays)
        if problems:
            r.bad(f"WiFi retry delays grow and stop at {CAP_MS} ms: {shown}; "
                  + "; ".join(problems), fatal=True)
        elif len(retries) < RETRIES_NEEDED:
            r.bad(f"{RETRIES_NEEDED} WiFi retry lines with growing delays: {len(retries)} so far "
                  f"({shown} ms; reason: {retries[0][2]})")
        else:
            cap = (f"cap of {CAP_MS} ms reached and held" if CAP_MS in delays
                   else f"below the {CAP_MS} ms cap so far")
            r.good(f"gateway thread running: {len(retries)} WiFi retries, delays {shown} ms "
                   f"(growing; {cap}); reason: {retries[0][2]}")

    infos = [i for i, l in enumerate(lines) if i >= after and SYS_INFO_RE.search(l)]
    if len(infos) >= SYS_INFO_NEEDED:
        r.good(f"{len(infos)} `[SYS INFO]` lines after the start line "
               f"(>= {SYS_INFO_NEEDED}: 30 emulated seconds)")
    else:
        r.bad(f"{SYS_INFO_NEEDED} `[SYS INFO]` lines after the start line (30 emulated seconds): "
              f"{len(infos)} so far")
    heaps = [HEAP_RE.search(lines[i]) for i in infos]
    heaps = [(int(m.group(1)), int(m.group(2))) for m in heaps if m]
    if heaps:
        r.info.append(f"SDK heap (SYS INFO): first used {heaps[0][0]} free {heaps[0][1]}, "
                      f"last used {heaps[-1][0]} free {heaps[-1][1]}")
    stamps = [float(m.group(1)) for m in (STAMP_RE.search(l) for l in lines) if m]
    if stamps:
        r.info.append(f"last firmware log time stamp: {stamps[-1]:.2f} s")

    hits = crash_hits(lines)
    if hits:
        r.bad("no crash marker: " + show_hits(hits), fatal=True)
    else:
        r.good("no crash marker (exception dump, fault, panic, assert, Reboot core)")
    # Hopeless: twice the emulated time needed and still failing.
    if not r.passed() and len(infos) >= SYS_INFO_GIVE_UP:
        r.fatal = True
    return r


def check_test(text, limits=None):
    r = Report()
    lines = console_lines(text)
    totals = [(i, TOTAL_RE.search(l)) for i, l in enumerate(lines)]
    totals = [(i, int(m.group(1)), int(m.group(2))) for i, m in totals if m]
    final = totals[0][0] if totals else None
    results = [(i, TEST_RE.search(l)) for i, l in enumerate(lines[:final])]
    results = [(i, m.group(1), m.group(2) == "ok", m.group(3) or "") for i, m in results if m]
    oks = [n for _, n, ok, _ in results if ok]
    fails = [(i, n, why) for i, n, ok, why in results if not ok]
    for i, n, why in fails:
        r.info.append(f"FAILED {n}: {why} (line {i + 1})")
    for l in lines:
        if l.startswith("[water]") or l.startswith("[heap]") or "cannot start the runner" in l:
            r.info.append(l.strip())
    end0 = final if final is not None else len(lines)
    check_water(r, lines[:end0], final is not None, limits)
    check_two_threads(r, lines[:end0], final is not None)

    if final is None:
        started = [l.strip() for l in lines if l.startswith("[test]")]
        r.bad("the final line `[test] N passed, M failed`"
              + (f" (last test output: {started[-1]!r})" if started else " (no [test] output)"))
    else:
        _, n, m = totals[0]
        if len(totals) > 1:
            r.bad(f"one final line: {len(totals)} (the tests ran more than once)", fatal=True)
        if m != 0 or n == 0:
            r.bad(f"`[test] N passed, 0 failed` with N > 0: the log says {n} passed, {m} failed "
                  f"(line {final + 1})", fatal=True)
        else:
            r.good(f"final line (line {final + 1}): {lines[final].strip()}")
        dup = sorted({x for x in [nm for _, nm, _, _ in results]
                      if [nm for _, nm, _, _ in results].count(x) > 1})
        if len(oks) != n or len(fails) != m or dup:
            r.bad(f"a line per counted test: {len(oks)} ok and {len(fails)} FAILED lines for "
                  f"{n} passed, {m} failed" + (f"; reported twice: {', '.join(dup)}" if dup else ""),
                  fatal=True)
        else:
            r.good(f"{len(oks)} test lines, all ok: {', '.join(oks)}")

    end = final if final is not None else len(lines)
    if check_boots(r, lines, end + 1):
        r.good("one boot up to the final line")
    early = crash_hits(lines, 0, end)
    if early:
        r.bad("no crash marker before the final line: " + show_hits(early), fatal=True)
    if final is not None:
        late = crash_hits(lines, final + 1, skip=(PANIC_MARKER,))
        if late:
            r.bad("no CPU exception after the final line: " + show_hits(late), fatal=True)
        panic = next((i for i in range(final + 1, len(lines)) if RT_PANIC_RE.search(lines[i])),
                     None)
        reboot = None
        if panic is not None:
            reboot = next((i for i in range(panic, len(lines)) if RT_REBOOT_RE.search(lines[i])),
                          None)
        if panic is None:
            r.bad("the deliberate panic after the final line: `[ws63-rt] PANIC`")
        elif reboot is None:
            r.bad(f"`[ws63-rt] rebooting` after the panic (line {panic + 1}: "
                  f"{lines[panic].strip()!r})")
        else:
            r.good(f"deliberate panic (line {panic + 1}): {lines[panic].strip()}; then "
                   f"`{lines[reboot].strip()}` (line {reboot + 1})")
    return r


def check_water(r, lines, complete, limits=None):
    """Every firmware thread has its LiteOS water line, below its stack size (and below the
    static worst case in `limits`, when given)."""
    seen = {}
    for l in lines:
        m = WATER_RE.search(l)
        if m:
            seen[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    for name in WATER_THREADS:
        if name not in seen:
            if complete:
                r.bad(f"`[water] {name} stack S peak P` (LiteOS's water line of the {name} "
                      "thread)", fatal=True)
            else:
                r.bad(f"`[water] {name} ...` not yet")
            continue
        size, peak = seen[name]
        if not 0 < peak < size:
            r.bad(f"{name}: a water line inside its stack: peak {peak} of {size}", fatal=True)
        elif limits and name in limits and peak > limits[name]:
            r.bad(f"{name}: peak {peak} B within the static worst case {limits[name]} B "
                  "(the stack analysis missed something)", fatal=True)
        else:
            bound = f", static worst case {limits[name]} B" if limits and name in limits else ""
            r.good(f"{name}: water line {peak} of {size} B ({100 * peak // size}%){bound}")


def check_two_threads(r, lines, complete):
    """The logger test's 20 lines from two threads, each whole on its own line."""
    got = [m for m in (TWO_THREADS_RE.search(l) for l in lines) if m]
    torn = [l.strip() for l in lines if "two-threads" in l and not TWO_THREADS_RE.search(l)]
    keys = sorted((m.group(1), int(m.group(2))) for m in got)
    want = sorted((t, i) for t in "AB" for i in range(10))
    if torn:
        r.bad("whole log lines from two threads; torn: " + "; ".join(repr(t) for t in torn[:3]),
              fatal=True)
    elif keys != want:
        if complete:
            r.bad(f"the 20 `two-threads` log lines (A and B, 0..9): {len(got)} found",
                  fatal=True)
        else:
            r.bad("the 20 `two-threads` log lines: not yet")
    else:
        r.good("20 whole log lines from two threads")


def check(mode, text, version=None, limits=None):
    return check_app(text, version) if mode == "app" else check_test(text, limits)


# ---- self-test -------------------------------------------------------------------------

APP_OK = """APP|dbg uart init ok.
[UPG] init OK!\r
xo_trim_temp_comp::nv read sw fail!\r
los_at_plt_cmd_register EXCUTE\r
APP|thread[9] func null\r
[   0.00] INFO  gateway: ws63-bms-gateway 0.1.0 starting\r
cpu 0 entering scheduler
Srv:890\r
Srv:1634:sta_start failed\r
[   0.00] WARN  gateway: WiFi: SDK: ERRCODE_FAIL (0xffffffff); retrying in 500 ms\r
[RADAR_LOG] radar_timer_init succ\r
[   0.50] WARN  gateway: WiFi: SDK: ERRCODE_FAIL (0xffffffff); retrying in 1000 ms\r
[   1.50] WARN  gateway: WiFi: SDK: ERRCODE_FAIL (0xffffffff); retrying in 2000 ms\r
[   3.50] WARN  gateway: WiFi: SDK: ERRCODE_FAIL (0xffffffff); retrying in 4000 ms\r
[   7.50] WARN  gateway: WiFi: SDK: ERRCODE_FAIL (0xffffffff); retrying in 8000 ms\r
APP|[SYS INFO] mem: used:73156, free:301072; log: drop/all[0/0], at_recv 0.\r
[  15.50] WARN  gateway: WiFi: SDK: ERRCODE_FAIL (0xffffffff); retrying in 16000 ms\r
APP|[SYS INFO] mem: used:73156, free:301072; log: drop/all[0/0], at_recv 0.\r
APP|[SYS INFO] mem: used:73156, free:301072; log: drop/all[0/0], at_recv 0.\r
[  31.50] WARN  gateway: WiFi: SDK: ERRCODE_FAIL (0xffffffff); retrying in 30000 ms\r
"""

CRASH_DUMP = """Load access fault\r
APP|exception:5\r
task:bt
mcause:0x5
mtval:0x1
mepc:0x329490
APP|*******backtrace begin*******\r
APP|Reboot core:2 cause 0x2004"""

TEST_OK = """APP|dbg uart init ok.
[   0.00] INFO  gateway: ws63-bms-gateway 0.1.0 starting\r
cpu 0 entering scheduler
[heap] at start: used 70000 free 300000\r
[water] gateway stack 12288 peak 3200\r
[water] ota stack 10240 peak 4100\r
""" + "".join(f"[  27.61] INFO  two-threads: line {t} {i} of ten, whole\r\n"
              for t in "AB" for i in range(10)) + """\
[test] threads_have_their_name_stack_and_priority ... ok\r
[test] sleep_counts_ticks ... ok\r
[test] ota_task_start_from_c_is_0_then_minus_1 ... ok\r
[test] 3 passed, 0 failed\r
[test] panic_in_a_thread: expecting a reset\r
\r
[ws63-rt] PANIC at sys/ws63-target-tests/src/chip.rs:200:17: index out of bounds\r
[ws63-rt] rebooting\r
"""


def self_test():
    def swap(text, old, new):
        assert old in text, old
        return text.replace(old, new, 1)

    cases = [
        # (name, mode, log, version, expect pass, expected poll status or None)
        ("app: the boot-notes console", "app", APP_OK, "0.1.0", True, 0),
        ("app: another version", "app", APP_OK, "0.2.0", False, 1),
        ("app: no start line", "app",
         swap(APP_OK, "ws63-bms-gateway 0.1.0 starting", "something else"), None, False, 2),
        ("app: no scheduler", "app", swap(APP_OK, "entering scheduler", "..."), None, False, 2),
        ("app: two SYS INFO only (20 s)", "app",
         APP_OK.replace("APP|[SYS INFO]", "APP|[SYS", 1), None, False, 2),
        ("app: SYS INFO before the start line only", "app",
         APP_OK.replace("APP|[SYS INFO]", "x").replace(
             "APP|thread[9]", "APP|[SYS INFO] a\nAPP|[SYS INFO] b\nAPP|[SYS INFO] c\nAPP|t"),
         None, False, 2),
        ("app: over the cap", "app",
         APP_OK.replace("retrying in 30000 ms", "retrying in 32000 ms"), None, False, 1),
        ("app: cap not reached yet", "app",
         APP_OK[:APP_OK.index("[  31.50]")], None, True, 0),
        ("app: one retry only (the cut image: each join waits 20 s for WiFi)", "app",
         "\n".join(l for l in APP_OK.split("\n") if "retrying" not in l or " 500 ms" in l),
         None, False, 2),
        ("app: one retry only, 60 emulated seconds", "app",
         "\n".join(l for l in APP_OK.split("\n") if "retrying" not in l or " 500 ms" in l)
         + "APP|[SYS INFO] x\r\n" * 3, None, False, 1),
        ("app: delay shrinks", "app",
         swap(APP_OK, "retrying in 4000 ms", "retrying in 1000 ms"), None, False, 1),
        ("app: delay after the cap changes", "app",
         APP_OK + "[  61.50] WARN  gateway: WiFi: x; retrying in 500 ms\r\n", None, False, 1),
        ("app: cap held", "app",
         APP_OK + "[  61.50] WARN  gateway: WiFi: x; retrying in 30000 ms\r\n", None, True, 0),
        ("app: no WiFi retries", "app",
         "\n".join(l for l in APP_OK.split("\n") if "retrying" not in l), None, False, 2),
        ("app: crash dump", "app", APP_OK + CRASH_DUMP, None, False, 1),
        ("app: rust panic", "app",
         APP_OK + "\r\n[ws63-rt] PANIC at src/lib.rs:1:1: boom\r\n[ws63-rt] rebooting\r\n",
         None, False, 1),
        ("app: a second boot", "app", APP_OK + APP_OK[:60], None, False, 1),
        ("app: four SYS INFO, no retries yet", "app",
         "\n".join(l for l in APP_OK.split("\n") if "retrying" not in l)
         + "APP|[SYS INFO] mem\r\n", None, False, 2),
        ("test: the expected run", "test", TEST_OK, None, True, 0),
        ("test: one failed", "test",
         swap(swap(TEST_OK, "sleep_counts_ticks ... ok", "sleep_counts_ticks ... FAILED: slow"),
              "3 passed, 0 failed", "2 passed, 1 failed"), None, False, 1),
        ("test: a counted test without its line", "test",
         swap(TEST_OK, "[test] sleep_counts_ticks ... ok\r\n", ""), None, False, 1),
        ("test: a test reported twice", "test",
         swap(TEST_OK, "[test] 3 passed", "[test] sleep_counts_ticks ... ok\r\n[test] 4 passed"),
         None, False, 1),
        ("test: nothing ran", "test",
         "\n".join(l for l in TEST_OK.split("\n") if " ... ok" not in l).replace(
             "3 passed", "0 passed"), None, False, 1),
        ("test: no final line (hung)", "test",
         TEST_OK[:TEST_OK.index("[test] 3 passed")], None, False, 2),
        ("test: no panic", "test", TEST_OK[:TEST_OK.index("\r\n[ws63-rt] PANIC")], None, False, 2),
        ("test: panic without reboot line", "test",
         TEST_OK[:TEST_OK.index("[ws63-rt] rebooting")], None, False, 2),
        ("test: panic before the final line", "test",
         swap(TEST_OK, "[test] sleep_counts_ticks ... ok\r\n",
              "[ws63-rt] PANIC at a.rs:1:1: early\r\n[ws63-rt] rebooting\r\n"), None, False, 1),
        ("test: CPU exception after the summary", "test",
         TEST_OK + CRASH_DUMP, None, False, 1),
        ("test: no OTA water line", "test",
         swap(TEST_OK, "[water] ota stack 10240 peak 4100\r\n", ""), None, False, 1),
        ("test: a water line at the stack's end", "test",
         swap(TEST_OK, "peak 4100", "peak 10240"), None, False, 1),
        ("test: water lines within the static worst cases", "test", TEST_OK, None, True, 0,
         {"gateway": 3200, "ota": 9000}),
        ("test: a water line over its static worst case", "test", TEST_OK, None, False, 1,
         {"gateway": 3199, "ota": 9000}),
        ("test: a torn log line", "test",
         swap(TEST_OK, "line A 3 of ten, whole", "line A 3 of tline B"), None, False, 1),
        ("test: a lost log line", "test",
         swap(TEST_OK, "[  27.61] INFO  two-threads: line B 9 of ten, whole\r\n", ""),
         None, False, 1),
        ("test: reset in the middle", "test",
         swap(TEST_OK, "[test] sleep_counts_ticks", "APP|dbg uart init ok.\r\n[test] sleep_counts_ticks"),
         None, False, 1),
    ]
    bad = 0
    for name, mode, log, version, want, want_poll, *limits in cases:
        r = check(mode, log, version, limits[0] if limits else None)
        got_poll = 0 if r.passed() else (1 if r.fatal else 2)
        good = r.passed() == want and (want_poll is None or got_poll == want_poll)
        bad += not good
        print(f"{'ok  ' if good else 'BAD '} {name}: {'pass' if r.passed() else 'fail'}"
              f" (poll {got_poll})" + ("" if good else f", expected {'pass' if want else 'fail'}"
                                       f" (poll {want_poll})"))
        if not good:
            r.show("    " + mode)
    print(f"self-test: {len(cases) - bad} of {len(cases)} as expected")
    return 1 if bad else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    args = argv[1:]
    poll = "--poll" in args
    args = [a for a in args if a != "--poll"]
    limits = None
    if "--stack-limits" in args:
        k = args.index("--stack-limits")
        try:
            limits = {n: int(v) for n, v in (p.split("=") for p in args[k + 1].split(",") if p)}
        except (IndexError, ValueError):
            print(__doc__, file=sys.stderr)
            return 1
        del args[k:k + 2]
    version = None
    if "--version" in args:
        k = args.index("--version")
        if k + 1 >= len(args):
            print(__doc__, file=sys.stderr)
            return 1
        version = args[k + 1]
        del args[k:k + 2]
    if len(args) != 2 or args[0] not in ("app", "test"):
        print(__doc__, file=sys.stderr)
        return 1
    mode, path = args
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        if poll:
            return 2
        print(f"{mode} console: FAIL: cannot read {path}: {e}")
        return 1
    r = check(mode, text, version, limits)
    if poll:
        return 0 if r.passed() else (1 if r.fatal else 2)
    r.show(f"{mode} console ({path})")
    return 0 if r.passed() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
