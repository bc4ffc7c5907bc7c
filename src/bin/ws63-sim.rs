//! `ws63-sim`: the simulated WS63 board.
//!
//! ```text
//! ws63-sim pkg --version V --size N --out FILE [--flip-bit B | --truncate LEN]
//!     an update package in the SDK's layout (SHA-256 mode) whose app image is N bytes and
//!     carries version V; optionally corrupted, for tests
//! ws63-sim info --flash FILE
//!     what a board's flash holds: installed version, pending upgrade, last upgrade result
//! ws63-sim run [--config FILE] [--broker HOST:PORT] [--device-id ID]
//!              [--device-secret S | --username U --password P] [--topic-root ROOT]
//!              [--flash FILE] [--ota-url TEMPLATE] [--fw-version V]
//!              [--ap-ssid S --ap-passphrase P] [--max-boots N] [fault options]
//!     the board running the gateway firmware against a broker, across reboots
//! ```
use std::process::ExitCode;

use std::path::PathBuf;
use std::process::Command;

use ws63_sim::faults::Faults;
use ws63_sim::supervisor::{FirmwareEnv, RunEnd, Supervisor};
use ws63_sim::{flash::Flash, package, upgrade};

const USAGE: &str = "usage:
  ws63-sim pkg --version V --size N --out FILE [--flip-bit B | --truncate LEN]
  ws63-sim info --flash FILE
  ws63-sim run [--config FILE] [--broker HOST:PORT] [--device-id ID]
               [--device-secret S | --username U --password P] [--topic-root ROOT]
               [--flash FILE] [--ota-url TEMPLATE] [--fw-version V]
               [--ap-ssid S --ap-passphrase P] [--max-boots N]
               [--power-cut-at-write N] [--flash-write-error-at N] [--wifi-fail N]
               [--dns-fail] [--dns-delay-ms MS] [--thread-fail N]";

/// Settings the firmware process applies over the configuration file.
const ENV_SETTINGS: &str = "WS63SIM_SETTINGS";
/// The configuration file the firmware process reads (empty: the embedded one).
const ENV_CONFIG: &str = "WS63SIM_CONFIG_FILE";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("pkg") => pkg(args),
        Some("info") => info(args),
        Some("run") => run(args),
        Some("__firmware") => firmware(),
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

/// The board: boots the gateway firmware (this program, as `__firmware`) again and again.
fn run(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let mut config_file: Option<String> = None;
    let mut settings: Vec<(String, String)> = Vec::new();
    let mut flash = "board.flash".to_string();
    let mut fw_version = "1.0.0".to_string();
    let mut ap: Option<(String, String)> = None;
    let mut max_boots: Option<u32> = None;
    let mut faults = Faults::default();
    while let Some(a) = args.next() {
        let mut set = |key: &str, v: String| settings.push((key.to_string(), v));
        match a.as_str() {
            "--config" => config_file = Some(value(&mut args, &a)?),
            "--broker" => {
                let v = value(&mut args, &a)?;
                let (h, p) = v.rsplit_once(':').ok_or("--broker takes HOST:PORT")?;
                set("mqtt.host", h.to_string());
                set("mqtt.port", p.to_string());
            }
            "--device-id" => set("mqtt.device_id", value(&mut args, &a)?),
            "--device-secret" => set("mqtt.device_secret", value(&mut args, &a)?),
            "--username" => set("mqtt.username", value(&mut args, &a)?),
            "--password" => set("mqtt.password", value(&mut args, &a)?),
            "--topic-root" => set("mqtt.topic_root", value(&mut args, &a)?),
            "--ota-url" => set("ota.url", value(&mut args, &a)?),
            "--flash" => flash = value(&mut args, &a)?,
            "--fw-version" => fw_version = value(&mut args, &a)?,
            "--ap-ssid" => ap = Some((value(&mut args, &a)?, ap.map(|x| x.1).unwrap_or_default())),
            "--ap-passphrase" => {
                let p = value(&mut args, &a)?;
                ap = Some((ap.map(|x| x.0).unwrap_or_default(), p));
            }
            "--max-boots" => max_boots = Some(number(&mut args, &a)? as u32),
            _ => {
                if !faults.parse_arg(&a, &mut args)? {
                    return Err(format!("unknown option `{a}`"));
                }
            }
        }
    }
    // Check the configuration here, so a mistake is reported once, not at every boot.
    let cfg = load_config(config_file.as_deref(), &settings)?;
    let ap = ap.unwrap_or((cfg.wifi.ssid.clone(), cfg.wifi.passphrase.clone()));
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut board =
        Supervisor::new(&PathBuf::from(&flash), &fw_version).with_access_point(&ap.0, &ap.1);
    board.next_faults = faults;
    let settings_env: String = settings.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let mut boots = 0;
    loop {
        boots += 1;
        let rec = board
            .boot(&mut |env: &FirmwareEnv| {
                Command::new(&me)
                    .arg("__firmware")
                    .envs(env.to_env())
                    .env(ENV_SETTINGS, &settings_env)
                    .env(ENV_CONFIG, config_file.as_deref().unwrap_or(""))
                    .spawn()
            })
            .map_err(|e| e.to_string())?;
        eprintln!(
            "[ws63-sim] boot {} ran version {} and ended: {:?}",
            rec.boot,
            rec.version.as_deref().unwrap_or("?"),
            rec.end
        );
        if let RunEnd::Exited(c) = rec.end {
            return Err(format!("the firmware exited with status {c}"));
        }
        if max_boots.is_some_and(|m| boots >= m) {
            return Ok(());
        }
    }
}

/// The gateway configuration: the file (or the embedded one), then the settings.
fn load_config(
    file: Option<&str>,
    settings: &[(String, String)],
) -> Result<gateway::config::Config, String> {
    let text = match file.filter(|f| !f.is_empty()) {
        Some(f) => std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?,
        None => ws63_bms_gateway::CONFIG_TOML.to_string(),
    };
    let mut cfg =
        gateway::config::Config::parse(&text).map_err(|e| format!("configuration: {e}"))?;
    for (k, v) in settings {
        cfg.set(k, v)?;
    }
    cfg.check().map_err(|e| format!("configuration: {e}"))?;
    Ok(cfg)
}

/// One firmware run on the board (started by `run`).
fn firmware() -> Result<(), String> {
    let env = FirmwareEnv::from_env().ok_or("__firmware is started by `ws63-sim run`")?;
    env.start().map_err(|e| e.to_string())?;
    let settings: Vec<(String, String)> = std::env::var(ENV_SETTINGS)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let file = std::env::var(ENV_CONFIG).ok();
    let cfg = load_config(file.as_deref(), &settings)?;
    ws63_hal::log::init(log::LevelFilter::Info);
    log::info!(target: "board", "boot {}: firmware {} starting", env.boot, env.version);
    ws63_bms_gateway::run_gateway(&cfg, &env.version)
}
