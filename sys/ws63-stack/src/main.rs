//! `ws63-stack`: the worst-case stack of each firmware thread in the chip library.
//!
//! ```text
//! cargo stack-check [LIB]          the report; fails when a thread's worst case plus the
//!                                  margin exceeds its stack, or the analysis cannot bound it
//! cargo stack-check LIB --functions N   the N largest frames and the indirect call sites
//! cargo stack-check sdk-frames [--check] RULES LIB...   figures for sdk-frames.txt,
//!                                  computed from the SDK's own libraries (rules in
//!                                  sys/ws63-stack/sdk-rules/); --check fails when one is above
//!                                  the committed figure
//! ```
//! LIB defaults to the chip build's `target/riscv32imfc-ws63-elf/release/libws63_bms_gateway.a`.
//! The configuration is `sys/ws63-stack/stacks.toml`, the SDK's frames
//! `sys/ws63-stack/sdk-frames.txt`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ws63_stack::{analyse, parse_sdk_frames, Config, Function, Program};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ws63-stack: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("sdk-frames") {
        return sdk_frames(here, &args[1..]);
    }
    let mut lib = here.join("../../target/riscv32imfc-ws63-elf/release/libws63_bms_gateway.a");
    let mut functions = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--functions" => {
                let n = it.next().ok_or("--functions needs a count")?;
                functions = Some(n.parse::<usize>().map_err(|_| format!("{n}: not a count"))?);
            }
            "-h" | "--help" => {
                println!("usage: ws63-stack [LIB] [--functions N]");
                return Ok(true);
            }
            other => lib = PathBuf::from(other),
        }
    }
    let bytes = std::fs::read(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    let p = Program::read(&bytes)?;
    if let Some(n) = functions {
        let mut fs: Vec<_> = p.functions.iter().collect();
        fs.sort_by_key(|f| std::cmp::Reverse(f.frame));
        for f in fs.iter().take(n) {
            let exact = if f.exact_frame { "" } else { " (prologue)" };
            println!("{:>6}{exact}  {}", f.frame, f.demangled);
        }
        println!("indirect call sites:");
        for f in p.functions.iter().filter(|f| f.indirect_calls > 0) {
            println!("{:>6}  {}", f.indirect_calls, f.demangled);
        }
        return Ok(true);
    }
    let read =
        |name: &str| std::fs::read_to_string(here.join(name)).map_err(|e| format!("{name}: {e}"));
    let cfg = Config::parse(&read("stacks.toml")?).map_err(|e| format!("stacks.toml: {e}"))?;
    let sdk =
        parse_sdk_frames(&read("sdk-frames.txt")?).map_err(|e| format!("sdk-frames.txt: {e}"))?;
    let exact = p.functions.iter().filter(|f| f.exact_frame).count();
    println!(
        "{}: {} functions ({exact} with .stack_sizes), {} address-taken",
        lib.display(),
        p.functions.len(),
        p.address_taken.len()
    );
    if exact == 0 {
        return Err("no .stack_sizes in the library: build it with `cargo +nightly ws63`".into());
    }
    let reports = match analyse(&p, &cfg, &sdk) {
        Ok(r) => r,
        Err(problems) => {
            for pr in &problems {
                println!("PROBLEM: {pr}");
            }
            return Ok(false);
        }
    };
    let mut ok = true;
    for r in &reports {
        let fits = r.fits(cfg.margin);
        ok &= fits;
        println!(
            "\nthread {}: worst case {} bytes = ours {} + SDK {} + kernel {}; stack {} ({:.0} % \
             used{}) -> {}",
            r.name,
            r.total(),
            r.ours,
            r.sdk,
            r.kernel,
            r.stack,
            100.0 * f64::from(r.total()) / f64::from(r.stack),
            format_args!(", {:.0} % margin required", cfg.margin * 100.0),
            if fits { "OK" } else { "TOO SMALL" }
        );
        for (name, frame) in &r.path {
            println!("  {frame:>6}  {name}");
        }
    }
    Ok(ok)
}

/// The firmware's callbacks as the SDK's code sees them: one address-taken function that
/// `[[indirect]]` rules of the SDK's rules file may name.
const FIRMWARE: &str = "(the firmware's callback)";

/// A frame no real path comes near: a path through the callback stand-in of this size shows
/// how deep the SDK's frames below the callbacks go.
const PROBE: u32 = 1_000_000;

/// `sdk-frames RULES LIB...`: each `[[thread]]` of RULES is an SDK function; prints its figure
/// for sdk-frames.txt (with `callbacks N` when it calls the firmware back) and its path.
fn sdk_frames(here: &Path, args: &[String]) -> Result<bool, String> {
    let check = args.first().map(String::as_str) == Some("--check");
    let args = if check { &args[1..] } else { args };
    let [rules, libs @ ..] = args else {
        return Err("usage: ws63-stack sdk-frames [--check] RULES.toml LIB.a...".into());
    };
    if libs.is_empty() {
        return Err("sdk-frames: name the SDK's libraries (.a)".into());
    }
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let cfg = Config::parse(&String::from_utf8_lossy(&read(Path::new(rules))?))
        .map_err(|e| format!("{rules}: {e}"))?;
    let bytes: Vec<Vec<u8>> = libs.iter().map(|l| read(Path::new(l))).collect::<Result<_, _>>()?;
    let slices: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
    let mut p = Program::read_all(&slices)?;
    let known = parse_sdk_frames(&String::from_utf8_lossy(&read(&here.join("sdk-frames.txt"))?))
        .map_err(|e| format!("sdk-frames.txt: {e}"))?;
    let firmware = p.functions.len();
    p.functions.push(Function {
        name: FIRMWARE.into(),
        demangled: FIRMWARE.into(),
        frame: 0,
        exact_frame: true,
        calls: Default::default(),
        external: Default::default(),
        indirect_calls: 0,
    });
    p.address_taken.insert(firmware);
    let run = |p: &Program| match analyse(p, &cfg, &known) {
        Ok(r) => Ok(r),
        Err(problems) => {
            Err(problems.iter().map(|pr| format!("PROBLEM: {pr}")).collect::<Vec<_>>().join("\n"))
        }
    };
    let plain = run(&p)?;
    p.functions[firmware].frame = PROBE;
    let probed = run(&p)?;
    println!("# computed by `cargo stack-check sdk-frames {rules} ...` from:");
    for l in libs {
        println!("#   {l}");
    }
    let mut fits = true;
    for (r, q) in plain.iter().zip(&probed) {
        let total = r.total();
        let at = q.total().checked_sub(PROBE);
        let callbacks = at.map(|at| format!(" callbacks {at}"));
        println!("{} {total}{}", r.name, callbacks.unwrap_or_default());
        for (name, frame) in &r.path {
            println!("#   {frame:>6}  {name}");
        }
        if check {
            // The committed figures must bound these libraries' (callbacks included).
            let committed = known.get(&r.name).copied();
            let committed_at = known.get(&ws63_stack::callbacks_key(&r.name)).copied();
            if committed.is_none_or(|c| c < total)
                || at.is_some_and(|a| committed_at.is_none_or(|c| c < a))
            {
                println!(
                    "ABOVE sdk-frames.txt: {} {total}{} (committed: {committed:?}, callbacks \
                     {committed_at:?})",
                    r.name,
                    at.map(|a| format!(" callbacks {a}")).unwrap_or_default()
                );
                fits = false;
            }
        }
    }
    Ok(fits)
}
