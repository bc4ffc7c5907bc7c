//! Guards the chip build: the WS63 core is RV32IMFC with no A extension and the SDK uses the
//! `ilp32f` ABI, so a build for any other RISC-V flavour would link and then trap or
//! mis-pass floats on the chip. Host builds pass through.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if arch != "riscv32" {
        return;
    }
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let has = |f: &str| features.split(',').any(|x| x == f);
    let mut problems = Vec::new();
    if has("a") {
        problems.push("the target enables the A extension (the WS63 traps on lr/sc/amo)");
    }
    for f in ["m", "c", "f"] {
        if !has(f) {
            problems.push(match f {
                "m" => "the target lacks the M extension",
                "c" => "the target lacks the C extension",
                _ => "the target lacks the F extension (the SDK is built for ilp32f)",
            });
        }
    }
    if !problems.is_empty() {
        eprintln!(
            "error: not a WS63 target ({}); build with `cargo +nightly ws63`, which uses \
             targets/riscv32imfc-ws63-elf.json",
            problems.join("; ")
        );
        std::process::exit(1);
    }
}
