//! The firmware's build script:
//! - embeds the gateway configuration (`config/gateway.toml`, or the committed example when
//!   there is none) as Rust constants in `$OUT_DIR/config.rs`;
//! - guards the chip build: the WS63 core is RV32IMFC with no A extension and the SDK uses the
//!   `ilp32f` ABI, so a build for any other RISC-V flavour would link and then trap or mis-pass
//!   floats on the chip.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    embed_config();
    check_target();
}

/// Reads `key = "value"` lines of a `[section]` (the subset of TOML the configuration uses).
fn value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = s.trim().to_string();
            continue;
        }
        let Some((k, v)) = line.split_once('=') else { continue };
        if current == section && k.trim() == key {
            let v = v.trim();
            let v = v.split_once(" #").map_or(v, |(v, _)| v).trim();
            return v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).map(str::to_string);
        }
    }
    None
}

fn embed_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let real = dir.join("gateway.toml");
    let example = dir.join("gateway.example.toml");
    println!("cargo:rerun-if-changed={}", real.display());
    println!("cargo:rerun-if-changed={}", example.display());
    let path = if real.exists() { real } else { example };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read the gateway configuration {}: {e}", path.display())
    });
    let get = |section: &str, key: &str| {
        value(&text, section, key).unwrap_or_else(|| {
            eprintln!("error: {}: [{section}] {key} = \"...\" is missing", path.display());
            std::process::exit(1)
        })
    };
    let out = format!(
        "/// Where update packages are (`[ota] url`, with a `{{version}}` placeholder).\n\
         pub const OTA_URL_TEMPLATE: &str = {:?};\n\
         /// The version `ota_task_start()` asks for (`[ota] default_version`).\n\
         pub const OTA_DEFAULT_VERSION: &str = {:?};\n\
         /// The configuration file this was read from.\n\
         pub const SOURCE: &str = {:?};\n",
        get("ota", "url"),
        get("ota", "default_version"),
        path.file_name().unwrap_or_default().to_string_lossy(),
    );
    let out_dir = std::env::var("OUT_DIR").expect("run by cargo");
    std::fs::write(Path::new(&out_dir).join("config.rs"), out).expect("write config.rs");
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
