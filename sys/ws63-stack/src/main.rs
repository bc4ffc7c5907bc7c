//! `ws63-stack`: the worst-case stack of each firmware thread in the chip library.
//!
//! ```text
//! cargo stack-check [LIB]          the report; fails when a thread's worst case plus the
//!                                  margin exceeds its stack, or the analysis cannot bound it
//! cargo stack-check LIB --functions N   the N largest frames and the indirect call sites
//! ```
//! LIB defaults to the chip build's `target/riscv32imfc-ws63-elf/release/libws63_bms_gateway.a`.
//! The configuration is `sys/ws63-stack/stacks.toml`, the SDK's frames
//! `sys/ws63-stack/sdk-frames.txt`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ws63_stack::{analyse, parse_sdk_frames, Config, Program};

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
