//! The firmware's build script:
//! - picks the gateway configuration (the file `WS63_GATEWAY_CONFIG` names, else
//!   `config/gateway.toml`, else the committed example), checks it with the firmware's own parser (`gateway/src/config.rs`), and
//!   puts it in `$OUT_DIR/gateway.toml` for the firmware to embed;
//! - for the chip build, puts the CA certificates its `ca_file`s name (checked to hold PEM
//!   certificates) in `$OUT_DIR/mqtt-ca.pem` and `$OUT_DIR/ota-ca.pem` (empty when unset);
//! - hands its `[firmware] version` (checked by the same parser: 1 to 16 characters, the SDK
//!   packager's `--ver`) to the firmware as `WS63_FW_VERSION`, from which the library's
//!   version record is made;
//! - guards the chip build: the WS63 core is RV32IMFC with no A extension and the SDK uses the
//!   `ilp32f` ABI, so a build for any other RISC-V flavour would link and then trap or mis-pass
//!   floats on the chip.
extern crate alloc;

use std::path::Path;

#[allow(dead_code)]
#[path = "gateway/src/config.rs"]
mod config;
#[allow(dead_code)]
#[path = "sys/ws63-rt/src/version.rs"]
mod version;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=gateway/src/config.rs");
    println!("cargo:rerun-if-changed=sys/ws63-rt/src/version.rs");
    embed_config();
    check_target();
}

fn embed_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let real = dir.join("gateway.toml");
    let example = dir.join("gateway.example.toml");
    println!("cargo:rerun-if-changed={}", real.display());
    println!("cargo:rerun-if-changed={}", example.display());
    // WS63_GATEWAY_CONFIG names another file (one build per device configuration).
    println!("cargo:rerun-if-env-changed=WS63_GATEWAY_CONFIG");
    let chosen = std::env::var_os("WS63_GATEWAY_CONFIG").map(std::path::PathBuf::from);
    if let Some(c) = &chosen {
        println!("cargo:rerun-if-changed={}", c.display());
    }
    let path = match chosen {
        Some(c) => c,
        None if real.exists() => real,
        None => example,
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read the gateway configuration {}: {e}", path.display())
    });
    let cfg = match config::Config::parse(&text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            std::process::exit(1);
        }
    };
    let chip = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none");
    let out_dir = std::env::var("OUT_DIR").expect("run by cargo");
    // The chip embeds the CA certificates the configuration names (the simulated board reads
    // them at each boot): `$OUT_DIR/{mqtt,ota}-ca.pem`, empty when not set.
    for (key, file, name) in [
        ("[mqtt] ca_file", &cfg.mqtt.ca_file, "mqtt-ca.pem"),
        ("[ota] ca_file", &cfg.ota.ca_file, "ota-ca.pem"),
    ] {
        let mut pem = Vec::new();
        if chip && !file.is_empty() {
            let at = path.parent().unwrap_or(Path::new(".")).join(file);
            println!("cargo:rerun-if-changed={}", at.display());
            pem = std::fs::read(&at).unwrap_or_else(|e| {
                eprintln!("error: {}: {key} {}: {e}", path.display(), at.display());
                std::process::exit(1);
            });
            if !config::holds_pem_certificate(&pem) {
                eprintln!(
                    "error: {}: {key} {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
                    path.display(),
                    at.display()
                );
                std::process::exit(1);
            }
        }
        std::fs::write(Path::new(&out_dir).join(name), pem).expect("write the CA file");
    }
    // The firmware's version record is made from this (`ws63_rt::version`).
    println!("cargo:rustc-env=WS63_FW_VERSION={}", cfg.firmware.version);
    std::fs::write(Path::new(&out_dir).join("gateway.toml"), text).expect("write gateway.toml");
    println!(
        "cargo:rustc-env=WS63_CONFIG_FILE={}",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
}

fn check_target() {
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
    for (f, why) in [
        ("m", "the target lacks the M extension"),
        ("c", "the target lacks the C extension"),
        ("f", "the target lacks the F extension (the SDK is built for ilp32f)"),
    ] {
        if !has(f) {
            problems.push(why);
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
