//! `ws63-sim`: the simulated WS63 board.
//!
//! ```text
//! ws63-sim pkg --version V --size N --out FILE [--flip-bit B | --truncate LEN]
//!     an update package in the SDK's layout (SHA-256 mode) whose app image is N bytes and
//!     carries version V; optionally corrupted, for tests
//! ws63-sim info --flash FILE
//!     what a board's flash holds: installed version, pending upgrade, last upgrade result
//! ```
use std::process::ExitCode;

use ws63_sim::{flash::Flash, package, upgrade};

const USAGE: &str = "usage:
  ws63-sim pkg --version V --size N --out FILE [--flip-bit B | --truncate LEN]
  ws63-sim info --flash FILE";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("pkg") => pkg(args),
        Some("info") => info(args),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command `{other}`")),
        None => Err("a command is needed".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ws63-sim: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    args.next().ok_or_else(|| format!("{flag} needs a value"))
}

fn number(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<usize, String> {
    let v = value(args, flag)?;
    v.parse().map_err(|_| format!("{flag}: `{v}` is not a number"))
}

fn pkg(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let (mut version, mut size, mut out, mut flip, mut cut) = (None, None, None, None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--version" => version = Some(value(&mut args, &a)?),
            "--size" => size = Some(number(&mut args, &a)?),
            "--out" => out = Some(value(&mut args, &a)?),
            "--flip-bit" => flip = Some(number(&mut args, &a)?),
            "--truncate" => cut = Some(number(&mut args, &a)?),
            _ => return Err(format!("unknown option `{a}`")),
        }
    }
    let version = version.ok_or("--version is required")?;
    let size = size.ok_or("--size is required")?;
    let out = out.ok_or("--out is required")?;
    if version.is_empty() || version.len() > package::MAX_VERSION_LEN {
        return Err(format!("--version must be 1 to {} bytes", package::MAX_VERSION_LEN));
    }
    if size < 32 {
        return Err("--size must be at least 32 bytes".into());
    }
    let mut p = package::build_app(&version, size);
    if (p.len() as u64) > u64::from(upgrade::STORAGE_SIZE) {
        eprintln!(
            "ws63-sim: note: {} bytes is more than the board's upgrade storage ({}): the device \
             will refuse it",
            p.len(),
            upgrade::STORAGE_SIZE
        );
    }
    if let Some(bit) = flip {
        if bit >= p.len() * 8 {
            return Err(format!("--flip-bit {bit}: the package has {} bits", p.len() * 8));
        }
        p = package::flip_bit(&p, bit);
    }
    if let Some(len) = cut {
        p = package::truncate(&p, len);
    }
    std::fs::write(&out, &p).map_err(|e| format!("{out}: {e}"))?;
    println!("{out}: {} bytes, version {version}, app image {size} bytes", p.len());
    Ok(())
}

fn info(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let mut path = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--flash" => path = Some(value(&mut args, &a)?),
            _ => return Err(format!("unknown option `{a}`")),
        }
    }
    let path = path.ok_or("--flash is required")?;
    if !std::path::Path::new(&path).exists() {
        return Err(format!("{path}: no such flash file"));
    }
    let mut f = Flash::open(std::path::Path::new(&path)).map_err(|e| e.to_string())?;
    println!("flash:             {path}");
    println!(
        "installed version: {}",
        upgrade::installed_version(&mut f).unwrap_or_else(|| "(none)".into())
    );
    println!("upgrade pending:   {}", upgrade::pending(&mut f));
    match upgrade::last_result(&mut f) {
        Some(r) => println!("last upgrade:      result {r}"),
        None => println!("last upgrade:      (none)"),
    }
    Ok(())
}
