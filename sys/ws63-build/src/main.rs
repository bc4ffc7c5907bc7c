//! `ws63-build`: the chip build (`cargo +nightly ws63 [CARGO OPTIONS]`).
//!
//! 1. Builds the firmware's static library for the WS63 (`cargo rustc` on the nightly
//!    toolchain: release, `staticlib`, fat LTO, `opt-level = "s"`, one codegen unit,
//!    `panic = "abort"`, core and alloc rebuilt for `targets/riscv32imfc-ws63-elf.json`,
//!    every function's frame size in `.stack_sizes`); extra options (`--features ...`,
//!    `--target-dir ...`) go to cargo.
//! 2. Keeps local, in every object of the library, the symbols the SDK's C runtime defines
//!    (`sys/ws63-bindgen/decls/sdk-runtime-symbols.txt`: libgcc, LiteOS's libc, libm,
//!    libcsysdeps). The library's `compiler_builtins` defines some 150 of them weakly
//!    (`__udivdi3`, the soft-float routines, `sqrt`, `pow`...). The SDK links the component
//!    whole-archive before its runtime libraries, so a weak definition would satisfy every
//!    reference in the image, and the SDK's own would never be pulled: the WiFi stack and
//!    every other C caller would run Rust's versions. Local, they serve nobody; the
//!    library's own calls then go to the SDK's, as everyone else's.
//!
//! The objcopy used is `$WS63_OBJCOPY`, or the toolchain's `rust-objcopy`, or
//! `riscv64-unknown-elf-objcopy`.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ws63-build: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the workspace")
}

fn run() -> Result<(), String> {
    let root = root();
    let extra: Vec<String> = std::env::args().skip(1).collect();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = root.join("targets/riscv32imfc-ws63-elf.json");
    let mut c = Command::new(cargo);
    c.current_dir(&root)
        .args(["rustc", "--release", "--lib", "-p", "ws63-bms-gateway"])
        .args(["--crate-type", "staticlib", "--target"])
        .arg(&target)
        .args(["-Zbuild-std=core,alloc", "-Zjson-target-spec"])
        .args(["--config", "profile.release.opt-level='s'"])
        .args(["--config", "profile.release.lto=true"])
        .args(["--config", "profile.release.codegen-units=1"])
        .args(["--config", "profile.release.panic='abort'"])
        // Every function's frame size, for the stack check (`cargo stack-check`).
        .args(["--config", "build.rustflags=['-Zemit-stack-sizes']"])
        .args(["--message-format", "json-render-diagnostics"])
        .args(&extra)
        .stdout(Stdio::piped());
    let mut child = c.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut libs = Vec::new();
    let out = child.stdout.take().expect("piped");
    for line in std::io::BufReader::new(out).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            println!("{line}");
            continue;
        };
        if msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "ws63_bms_gateway" {
            for f in msg["filenames"].as_array().into_iter().flatten() {
                if let Some(f) = f.as_str().filter(|f| f.ends_with(".a")) {
                    libs.push(PathBuf::from(f));
                }
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("cargo failed ({status})"));
    }
    let [lib] = &libs[..] else {
        return Err(format!("expected one static library from cargo, got {libs:?}"));
    };
    localize(&root, lib)?;
    println!("chip library: {}", lib.display());
    Ok(())
}

/// Makes the SDK's runtime symbols local in every object of `lib`.
fn localize(root: &Path, lib: &Path) -> Result<(), String> {
    let list = root.join("sys/ws63-bindgen/decls/sdk-runtime-symbols.txt");
    let text = std::fs::read_to_string(&list).map_err(|e| format!("{}: {e}", list.display()))?;
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    let plain =
        std::env::temp_dir().join(format!("ws63-runtime-symbols-{}.txt", std::process::id()));
    std::fs::write(&plain, names.join("\n") + "\n").map_err(|e| e.to_string())?;
    let objcopy = objcopy()?;
    let status = Command::new(&objcopy)
        .arg(format!("--localize-symbols={}", plain.display()))
        .arg(lib)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", objcopy.display()));
    let _ = std::fs::remove_file(&plain);
    match status? {
        s if s.success() => {
            println!(
                "kept local whatever the library defines of the {} symbols the SDK's C runtime \
                 defines (libgcc, libc, libm; {})",
                names.len(),
                list.strip_prefix(root).unwrap_or(&list).display()
            );
            Ok(())
        }
        s => Err(format!("{} failed ({s})", objcopy.display())),
    }
}

/// The objcopy to use.
fn objcopy() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("WS63_OBJCOPY") {
        return Ok(PathBuf::from(p));
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc).args(["--print", "sysroot"]).output().ok();
    let host = Command::new(&rustc).args(["--print", "host-tuple"]).output().ok();
    if let (Some(s), Some(h)) = (sysroot, host) {
        let s = String::from_utf8_lossy(&s.stdout).trim().to_string();
        let h = String::from_utf8_lossy(&h.stdout).trim().to_string();
        let p = Path::new(&s).join("lib/rustlib").join(h).join("bin/rust-objcopy");
        if p.is_file() {
            return Ok(p);
        }
    }
    let gnu = "riscv64-unknown-elf-objcopy";
    if Command::new(gnu).arg("--version").stdout(Stdio::null()).status().is_ok() {
        return Ok(PathBuf::from(gnu));
    }
    Err("no objcopy: set WS63_OBJCOPY, or install binutils-riscv64-unknown-elf".into())
}
