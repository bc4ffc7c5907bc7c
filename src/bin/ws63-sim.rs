//! `ws63-sim`: the simulated WS63 board. `ws63-sim --help` and `ws63-sim <command> --help`
//! tell the options and their defaults.
//!
//! ```text
//! ws63-sim demo        the main job in one command: a broker, a firmware server and the board;
//!                      an OTA from 1.0.0 to 2.0.0 through MQTT, shown as a timeline
//! ws63-sim run         the board running the gateway firmware against a broker, across reboots
//! ws63-sim pkg         an update package in the SDK's layout (its default configuration:
//!                      signed, compressed, with flashboot; or SHA-256 mode), for tests
//! ws63-sim info        what a board's flash holds
//! ws63-sim version     the firmware version a chip library (or an image) carries
//! ```
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ws63_sim::faults::Faults;
use ws63_sim::supervisor::{FirmwareEnv, RunEnd, Supervisor};
use ws63_sim::{flash::Flash, keys, package, upgrade};

/// The simulated WS63 board: the gateway firmware on the host, with the SDK's behaviour,
/// flash, reboots, flashboot and faults.
#[derive(Parser)]
#[command(name = "ws63-sim", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The main job in one command: an MQTT broker, an HTTP firmware server and the board on
    /// this machine; the C original's `ota_upgrade` command takes the board from 1.0.0 to
    /// 2.0.0, shown as a timeline; exits 0 when the board runs 2.0.0.
    Demo {
        /// Show the firmware's own log too.
        #[arg(long)]
        verbose: bool,
    },
    /// Run the board with the gateway firmware against an MQTT broker, boot after boot (an
    /// OTA ends in a reboot; flashboot installs the package; the next boot runs it).
    Run(Box<RunArgs>),
    /// Write an update package in the SDK's layout whose app image carries a version: in the
    /// SDK's default configuration (--sign KEY.pem --lzma --with-flashboot) or in SHA-256
    /// mode (without --sign), optionally corrupted, for tests.
    Pkg(PkgArgs),
    /// Show what a board's flash holds: installed app and flashboot versions, root key,
    /// pending upgrade, last result.
    Info {
        /// The board's flash file.
        #[arg(long, value_name = "FILE")]
        flash: PathBuf,
    },
    /// Print the firmware version a file carries in its version record (a chip library, a
    /// simulator image).
    Version {
        /// The file to read.
        file: PathBuf,
    },
    /// One firmware run (started by `run` and `demo`).
    #[command(name = "__firmware", hide = true)]
    Firmware,
}

#[derive(Args)]
struct PkgArgs {
    /// The version the app image carries (1 to 16 of A-Z a-z 0-9 . _ -).
    #[arg(long)]
    version: String,
    /// The app image's size in bytes (at least 288).
    #[arg(long, value_name = "BYTES")]
    size: usize,
    /// Where to write the package.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Sign it (ECDSA, brainpool P-256, KeyAlg 0x2A13C812) with this private key in PEM as
    /// OpenSSL writes it (PKCS#8 or SEC1): the root key, whose public half the board needs
    /// (`run --root-key`) [default: SHA-256 mode, no signature].
    #[arg(long, value_name = "KEY.pem")]
    sign: Option<PathBuf>,
    /// The sub-key that signs the FOTA info area (the SDK's application key) [default: the
    /// --sign key].
    #[arg(long, value_name = "KEY.pem", requires = "sign")]
    sub_key: Option<PathBuf>,
    /// Store the images LZMA-compressed (decompress_flag 0x3C7896E1), as the SDK does.
    #[arg(long)]
    lzma: bool,
    /// Add a flashboot image after the application, as the SDK's packager always does.
    #[arg(long)]
    with_flashboot: bool,
    /// The flashboot image's size in bytes (at most 65536, its partition).
    #[arg(long, value_name = "BYTES", default_value_t = 16384, requires = "with_flashboot")]
    flashboot_size: usize,
    /// Flip this bit of the package (0 is the lowest bit of byte 0).
    #[arg(long, value_name = "BIT", conflicts_with = "truncate")]
    flip_bit: Option<usize>,
    /// Cut the package to this many bytes.
    #[arg(long, value_name = "LEN")]
    truncate: Option<usize>,
}

#[derive(Args)]
struct RunArgs {
    /// The gateway configuration file [default: the one embedded in the firmware].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The broker, overriding the configuration's [mqtt] host and port: HOST:PORT or
    /// mqtt://HOST:PORT for plain MQTT, mqtts://HOST:PORT for MQTT over TLS (with --ca-file).
    #[arg(long, value_name = "[mqtts://]HOST:PORT")]
    broker: Option<String>,
    /// The CA certificates (PEM) the broker's certificate must lead to: MQTT over TLS
    /// (overrides the configuration's [mqtt] ca_file). They also serve https:// downloads
    /// unless --ota-ca-file or the configuration's [ota] ca_file names others.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// The device id.
    #[arg(long)]
    device_id: Option<String>,
    /// IoTDA's device secret (the login then is IoTDA's).
    #[arg(long)]
    device_secret: Option<String>,
    /// A plain MQTT user name.
    #[arg(long)]
    username: Option<String>,
    /// A plain MQTT password.
    #[arg(long)]
    password: Option<String>,
    /// The topic root ({device_id} is replaced), e.g. 'oc/devices/{device_id}/sys' for
    /// brokers that refuse $-topics.
    #[arg(long, value_name = "ROOT")]
    topic_root: Option<String>,
    /// Where update packages are: an http:// or https:// URL template with {version}.
    #[arg(long, value_name = "TEMPLATE")]
    ota_url: Option<String>,
    /// The CA certificates (PEM) https:// download servers must lead to (overrides the
    /// configuration's [ota] ca_file).
    #[arg(long, value_name = "FILE")]
    ota_ca_file: Option<PathBuf>,
    /// The board's flash file (kept across runs; a missing one is a factory-fresh board).
    #[arg(long, value_name = "FILE", default_value = "board.flash")]
    flash: PathBuf,
    /// The version installed on a factory-fresh board [default: the configuration's
    /// [firmware] version].
    #[arg(long, value_name = "V")]
    fw_version: Option<String>,
    /// The SSID of the access point the board can see [default: the configuration's].
    #[arg(long, value_name = "SSID")]
    ap_ssid: Option<String>,
    /// Its passphrase (empty: an open network) [default: the configuration's].
    #[arg(long, value_name = "PASSPHRASE")]
    ap_passphrase: Option<String>,
    /// Stop after this many boots [default: never].
    #[arg(long, value_name = "N")]
    max_boots: Option<u32>,
    /// The heap the firmware may use, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = ws63_sim::heap::FIRMWARE_HEAP)]
    heap_limit: usize,
    /// Make the flash instant instead of taking the chip's time.
    #[arg(long)]
    no_flash_timing: bool,
    /// The lab bench: a file the board watches for commands during its runs (`heap-spare
    /// BYTES`, `heap-limit BYTES`, `wifi-drop MS`, one per line); it deletes the file when
    /// done.
    #[arg(long, value_name = "FILE")]
    control: Option<PathBuf>,
    /// The board's root public key, in PEM (a public key, or the private key it belongs
    /// to), written to its flash: packages signed with it verify. Without it the flash keeps
    /// the key it has (none on a factory-fresh board, which then accepts SHA-256-mode
    /// packages only).
    #[arg(long, value_name = "PUB.pem")]
    root_key: Option<PathBuf>,
    /// Faults of the first boot.
    #[command(flatten)]
    faults: Faults,
}

/// Settings the firmware process applies over the configuration file.
const ENV_SETTINGS: &str = "WS63SIM_SETTINGS";
/// The configuration file the firmware process reads (empty: the embedded one).
const ENV_CONFIG: &str = "WS63SIM_CONFIG_FILE";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Pkg(a) => pkg(a),
        Cmd::Info { flash } => info(&flash),
        Cmd::Version { file } => version(&file),
        Cmd::Run(a) => run(*a),
        Cmd::Demo { verbose } => demo(verbose),
        Cmd::Firmware => firmware(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ws63-sim: {e}");
            ExitCode::from(2)
        }
    }
}

fn pkg(a: PkgArgs) -> Result<(), String> {
    if !ws63_rt::version::is_valid(&a.version) {
        return Err("--version must be 1 to 16 of A-Z a-z 0-9 . _ -".into());
    }
    let min = package::SIM_IMAGE_HEADER_LEN + ws63_rt::version::RECORD_LEN;
    if a.size < min {
        return Err(format!("--size must be at least {min} bytes"));
    }
    if a.with_flashboot && !(min..=0x1_0000).contains(&a.flashboot_size) {
        return Err(format!("--flashboot-size must be {min} to 65536 bytes (its partition)"));
    }
    let read_key = |p: &PathBuf| -> Result<keys::SigningKey, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        keys::signing_key_from_pem(&text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let root = a.sign.as_ref().map(read_key).transpose()?;
    let sub = a.sub_key.as_ref().map(read_key).transpose()?;
    let signing = match (&root, &sub) {
        (Some(r), Some(s)) => package::Signing::Ecdsa { root: r, sub: s },
        (Some(r), None) => package::Signing::Ecdsa { root: r, sub: r },
        _ => package::Signing::Sha256,
    };
    let spec = package::Spec {
        version: &a.version,
        app_size: a.size,
        flashboot_size: a.with_flashboot.then_some(a.flashboot_size),
        lzma: a.lzma,
        signing,
    };
    let mut p = spec.build();
    if (p.len() as u64) > u64::from(upgrade::STORAGE_SIZE) {
        eprintln!(
            "ws63-sim: note: {} bytes is more than the board's upgrade storage ({}): the device \
             will refuse it",
            p.len(),
            upgrade::STORAGE_SIZE
        );
    }
    if let Some(bit) = a.flip_bit {
        if bit >= p.len() * 8 {
            return Err(format!("--flip-bit {bit}: the package has {} bits", p.len() * 8));
        }
        p = package::flip_bit(&p, bit);
    }
    if let Some(len) = a.truncate {
        p = package::truncate(&p, len);
    }
    let out = a.out.display();
    std::fs::write(&a.out, &p).map_err(|e| format!("{out}: {e}"))?;
    println!(
        "{out}: {} bytes, version {}, app image {} bytes{}{}, {}",
        p.len(),
        a.version,
        a.size,
        if a.with_flashboot {
            format!(" and flashboot {} bytes", a.flashboot_size)
        } else {
            String::new()
        },
        if a.lzma { ", LZMA-compressed" } else { "" },
        if root.is_some() { "signed (ECDSA brainpool P-256)" } else { "SHA-256 mode" },
    );
    Ok(())
}

/// Prints the firmware version a file carries (a chip library, an image, a flash dump).
fn version(path: &std::path::Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut found: Vec<&str> = ws63_rt::version::find_all(&bytes).collect();
    found.sort_unstable();
    found.dedup();
    match found.as_slice() {
        [v] => {
            println!("{v}");
            Ok(())
        }
        [] => Err(format!("{}: no firmware version record", path.display())),
        many => Err(format!(
            "{}: several different version records: {}",
            path.display(),
            many.join(", ")
        )),
    }
}

fn info(path: &std::path::Path) -> Result<(), String> {
    if !path.exists() {
        return Err(format!("{}: no such flash file", path.display()));
    }
    let mut f = Flash::open(path).map_err(|e| e.to_string())?;
    println!("flash:             {}", path.display());
    println!(
        "installed version: {}",
        upgrade::installed_version(&mut f)
            .unwrap_or_else(|| "(none: the board cannot boot)".into())
    );
    println!(
        "flashboot:         {}",
        upgrade::flashboot_version(&mut f).unwrap_or_else(|| "(not intact)".into())
    );
    let key = upgrade::root_key(&mut f);
    println!(
        "root key:          {}",
        match keys::from_raw_public_key(&key) {
            Some(_) =>
                format!("{}...", key[..8].iter().map(|b| format!("{b:02x}")).collect::<String>()),
            None if key == package::NO_ROOT_KEY => "(none: SHA-256-mode packages only)".into(),
            None => "(not a brainpool P-256 point: no signed package verifies)".into(),
        }
    );
    println!("upgrade pending:   {}", upgrade::pending(&mut f));
    match upgrade::last_result(&mut f) {
        Some(r) => println!("last upgrade:      result {r}"),
        None => println!("last upgrade:      (none)"),
    }
    Ok(())
}

/// The board: boots the gateway firmware (this program, as `__firmware`) again and again.
fn run(a: RunArgs) -> Result<(), String> {
    let mut settings: Vec<(String, String)> = Vec::new();
    let mut set = |key: &str, v: &Option<String>| {
        if let Some(v) = v {
            settings.push((key.to_string(), v.clone()));
        }
    };
    if let Some(b) = &a.broker {
        let (tls, hp) = match b.split_once("://") {
            Some(("mqtts", rest)) => (true, rest),
            Some(("mqtt", rest)) => (false, rest),
            Some((scheme, _)) => {
                return Err(format!("--broker: {scheme}:// is neither mqtt:// nor mqtts://"))
            }
            None => (false, b.as_str()),
        };
        let (h, p) = hp.rsplit_once(':').ok_or("--broker takes [mqtts://]HOST:PORT")?;
        if tls && a.ca_file.is_none() {
            return Err(
                "--broker mqtts://... needs --ca-file: the broker's certificate is always verified"
                    .into(),
            );
        }
        if !tls && a.ca_file.is_some() {
            return Err(
                "--ca-file is for MQTT over TLS: give the broker as mqtts://HOST:PORT".into()
            );
        }
        set("mqtt.host", &Some(h.to_string()));
        set("mqtt.port", &Some(p.to_string()));
    }
    // Absolute: the firmware runs resolve a relative ca_file against the configuration file's
    // folder.
    for (flag, key, file) in [
        ("--ca-file", "mqtt.ca_file", &a.ca_file),
        ("--ota-ca-file", "ota.ca_file", &a.ota_ca_file),
    ] {
        if let Some(f) = file {
            let abs =
                std::fs::canonicalize(f).map_err(|e| format!("{flag} {}: {e}", f.display()))?;
            set(key, &Some(abs.display().to_string()));
        }
    }
    set("mqtt.device_id", &a.device_id);
    set("mqtt.device_secret", &a.device_secret);
    set("mqtt.username", &a.username);
    set("mqtt.password", &a.password);
    set("mqtt.topic_root", &a.topic_root);
    set("ota.url", &a.ota_url);
    let config_file = a.config.map(|p| p.display().to_string());
    // One CA file for both, unless the downloads have their own.
    if a.ota_ca_file.is_none() {
        // (A configuration that does not load yet, for want of it, is checked again below.)
        let own = load_config(config_file.as_deref(), &settings).map(|c| c.ota.ca_file);
        if own.as_ref().is_ok_and(String::is_empty) || own.is_err() {
            let mqtt_ca =
                settings.iter().find(|(k, _)| k == "mqtt.ca_file").map(|(_, v)| v.clone());
            if let Some(abs) = mqtt_ca {
                settings.push(("ota.ca_file".into(), abs));
            }
        }
    }
    // Check the configuration here, so a mistake is reported once, not at every boot.
    let cfg = load_config(config_file.as_deref(), &settings)?;
    tls_files(&cfg, config_file.as_deref())?;
    let fw_version = a.fw_version.unwrap_or_else(|| cfg.firmware.version.clone());
    let root_key = match &a.root_key {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Some(keys::verifying_key_from_pem(&text).map_err(|e| format!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    if !ws63_rt::version::is_valid(&fw_version) {
        return Err("--fw-version must be 1 to 16 of A-Z a-z 0-9 . _ -".into());
    }
    let ap = (
        a.ap_ssid.unwrap_or_else(|| cfg.wifi.ssid.clone()),
        a.ap_passphrase.unwrap_or_else(|| cfg.wifi.passphrase.clone()),
    );
    let spec = BoardSpec {
        config_file,
        settings,
        flash: a.flash,
        fw_version,
        ap,
        faults: a.faults,
        flash_timing: !a.no_flash_timing,
        heap_limit: a.heap_limit,
        control: a.control,
        root_key,
        quiet: false,
    };
    let mut boots = 0;
    let max_boots = a.max_boots;
    boot_loop(
        spec,
        |_| {},
        |rec| {
            eprintln!(
                "[ws63-sim] boot {}: flashboot {:?}, ran version {}, ended: {:?}",
                rec.boot,
                rec.flashboot,
                rec.version.as_deref().unwrap_or("(none)"),
                rec.end
            );
            boots += 1;
            max_boots.is_none_or(|m| boots < m)
        },
    )
}

/// A board to boot.
struct BoardSpec {
    config_file: Option<String>,
    settings: Vec<(String, String)>,
    flash: PathBuf,
    fw_version: String,
    ap: (String, String),
    faults: Faults,
    flash_timing: bool,
    heap_limit: usize,
    control: Option<PathBuf>,
    root_key: Option<keys::VerifyingKey>,
    quiet: bool,
}

/// Boots the board until `after_boot` says stop (or a firmware exits by itself, or the board
/// halts); `on_start` sees each boot's firmware run before it starts.
fn boot_loop(
    spec: BoardSpec,
    mut on_start: impl FnMut(&FirmwareEnv),
    mut after_boot: impl FnMut(&ws63_sim::supervisor::BootRecord) -> bool,
) -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut board = Supervisor::new(&spec.flash, &spec.fw_version)
        .with_access_point(&spec.ap.0, &spec.ap.1)
        .with_flash_timing(spec.flash_timing);
    board.heap_limit = Some(spec.heap_limit);
    board.control = spec.control.clone();
    board.root_key = spec.root_key;
    board.next_faults = spec.faults;
    let settings_env: String = spec.settings.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    loop {
        let rec = board
            .boot(&mut |env: &FirmwareEnv| {
                on_start(env);
                let mut c = Command::new(&me);
                c.arg("__firmware")
                    .envs(env.to_env())
                    .env(ENV_SETTINGS, &settings_env)
                    .env(ENV_CONFIG, spec.config_file.as_deref().unwrap_or(""));
                if spec.quiet {
                    c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
                }
                c.spawn()
            })
            .map_err(|e| e.to_string())?;
        if let RunEnd::Exited(c) = rec.end {
            return Err(format!("the firmware exited with status {c}"));
        }
        let go_on = after_boot(&rec);
        if rec.end == RunEnd::Halted {
            return Err(format!(
                "boot {}: the board halted: flashboot found no intact app to start ({:?})",
                rec.boot, rec.flashboot
            ));
        }
        if !go_on {
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

/// The CA certificates the configuration's `ca_file`s name (relative to the configuration
/// file's folder): `[mqtt]`'s for MQTT over TLS, `[ota]`'s for `https://` downloads.
fn tls_files(
    cfg: &gateway::config::Config,
    config_file: Option<&str>,
) -> Result<ws63_bms_gateway::TlsFiles, String> {
    let base = config_file
        .filter(|f| !f.is_empty())
        .and_then(|f| std::path::Path::new(f).parent().map(|p| p.to_path_buf()))
        .unwrap_or_default();
    let read = |key: &str, file: &str| -> Result<Option<Vec<u8>>, String> {
        if file.is_empty() {
            return Ok(None);
        }
        let path = base.join(file);
        let pem = std::fs::read(&path).map_err(|e| format!("{key} {}: {e}", path.display()))?;
        if !gateway::config::holds_pem_certificate(&pem) {
            return Err(format!("{key} {}: no PEM certificate in it", path.display()));
        }
        Ok(Some(pem))
    };
    Ok(ws63_bms_gateway::TlsFiles {
        mqtt_ca: read("[mqtt] ca_file", &cfg.mqtt.ca_file)?,
        // The OTA thread borrows it for the firmware run's lifetime.
        ota_ca: read("[ota] ca_file", &cfg.ota.ca_file)?.map(|v| &*Vec::leak(v)),
    })
}

/// One firmware run on the board (started by `run`): the SDK's `main()` up to the app entry,
/// the entry (it starts the gateway thread), then the scheduler.
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
    let tls = tls_files(&cfg, file.as_deref())?;
    ws63_hal::log::init(log::LevelFilter::Info);
    log::info!(target: "board", "boot {}: firmware {} starting", env.boot, env.version);
    // The firmware's `app_run` entry, as on the chip but with this run's configuration and
    // the installed image's version.
    if let Err(e) = ws63_bms_gateway::start_gateway(cfg, env.version.clone(), tls) {
        log::error!(target: "gateway", "cannot start the gateway thread: {e}");
    }
    ws63_sim::rtos::start_kernel();
    // main() never returns: the scheduler runs the tasks from here on.
    loop {
        std::thread::park();
    }
}

/// The demo's device id and versions.
const DEMO_DEVICE: &str = "bms_gw_demo";
const DEMO_FROM: &str = "1.0.0";
const DEMO_TO: &str = "2.0.0";
const DEMO_ROOT: &str = "oc/devices/{device_id}/sys";

/// The main job: everything on this machine, an OTA through MQTT, a timeline.
fn demo(verbose: bool) -> Result<(), String> {
    let t0 = std::time::Instant::now();
    let say =
        |who: &str, what: &str| println!("[{:6.2}s] {who:<9} {what}", t0.elapsed().as_secs_f64());

    // The broker, with an in-process client: the cloud.
    let ws63_sim::broker::Broker { port, tx: mut cloud_tx, rx: mut cloud_rx } =
        ws63_sim::broker::start(10)?;
    let root = DEMO_ROOT.replace("{device_id}", DEMO_DEVICE);
    cloud_tx.subscribe(format!("{root}/events/up")).map_err(|e| format!("{e:?}"))?;
    cloud_tx.subscribe(format!("{root}/commands/response/#")).map_err(|e| format!("{e:?}"))?;
    say("broker", &format!("MQTT on 127.0.0.1:{port}"));

    // The firmware server with a fresh package in the SDK's default configuration, signed
    // with a root key made for the demo, which the board gets in its flash.
    let key = keys::test_key("ws63-sim demo root key");
    let pkg = package::Spec::sdk_default(DEMO_TO, 256 * 1024, &key).build();
    let pkg_len = pkg.len();
    let srv = ws63_sim::fwserver::FirmwareServer::start(pkg, Default::default());
    let url = srv.url("/pkg/{version}");
    say(
        "http",
        &format!(
            "update package {DEMO_TO} ({pkg_len} bytes: signed, app and flashboot \
             LZMA-compressed, as the SDK packs them) at {url}"
        ),
    );

    // The board, on its own thread: boots until it runs the new version.
    let flash = std::env::temp_dir().join(format!("ws63-sim-demo-{}.flash", std::process::id()));
    let _ = std::fs::remove_file(&flash);
    let spec = BoardSpec {
        config_file: None,
        settings: vec![
            ("mqtt.host".into(), "127.0.0.1".into()),
            ("mqtt.port".into(), port.to_string()),
            ("mqtt.device_id".into(), DEMO_DEVICE.into()),
            ("mqtt.topic_root".into(), DEMO_ROOT.into()),
            ("ota.url".into(), url),
        ],
        flash: flash.clone(),
        fw_version: DEMO_FROM.into(),
        ap: {
            let c = load_config(None, &[])?;
            (c.wifi.ssid, c.wifi.passphrase)
        },
        faults: Faults::default(),
        flash_timing: true,
        heap_limit: ws63_sim::heap::FIRMWARE_HEAP,
        control: None,
        root_key: Some(*key.verifying_key()),
        quiet: !verbose,
    };
    let (boot_tx, boot_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let start_tx = boot_tx.clone();
        let mut last = String::new();
        let r = boot_loop(
            spec,
            |env| {
                let what = if last.is_empty() || last == env.version {
                    String::new()
                } else {
                    format!("flashboot installed {} over {last}; ", env.version)
                };
                let _ = start_tx
                    .send(format!("boot {}: {what}firmware {} starting", env.boot, env.version));
                last.clone_from(&env.version);
            },
            |rec| {
                let _ = boot_tx.send(format!(
                    "boot {} ({}) ended: {:?}",
                    rec.boot,
                    rec.version.as_deref().unwrap_or("?"),
                    rec.end,
                ));
                true
            },
        );
        let _ = boot_tx.send(format!("board stopped: {r:?}"));
    });
    say(
        "board",
        &format!(
            "power on: flash {}, factory firmware {DEMO_FROM}, the demo's root key",
            flash.display()
        ),
    );

    let deadline = t0 + Duration::from_secs(120);
    // Each message: its topic, the payload parsed, and the payload exactly as it came over
    // the wire (what the demo shows).
    let mut next = |what: &str| -> Result<(String, serde_json::Value, String), String> {
        loop {
            while let Ok(b) = boot_rx.try_recv() {
                say("board", &b);
            }
            if std::time::Instant::now() >= deadline {
                return Err(format!("timed out waiting for {what}"));
            }
            let step = (std::time::Instant::now() + Duration::from_millis(200)).min(deadline);
            if let Ok(Some(rumqttd::Notification::Forward(f))) = cloud_rx.recv_deadline(step) {
                // What the board did before this message was sent comes first.
                while let Ok(b) = boot_rx.try_recv() {
                    say("board", &b);
                }
                let topic = String::from_utf8_lossy(&f.publish.topic).into_owned();
                let v =
                    serde_json::from_slice(&f.publish.payload).unwrap_or(serde_json::Value::Null);
                let wire = String::from_utf8_lossy(&f.publish.payload).into_owned();
                return Ok((topic, v, wire));
            }
        }
    };
    let version_of = |v: &serde_json::Value| {
        let s = &v["services"][0];
        (s["event_type"] == "version_report")
            .then(|| s["paras"]["fw_version"].as_str().unwrap_or("").to_string())
    };
    loop {
        let (_, v, _) = next("the board's version_report")?;
        if let Some(ver) = version_of(&v) {
            say("gateway", &format!("online, version_report {ver}"));
            break;
        }
    }
    let cmd = format!(r#"{{"command_name":"ota_upgrade","paras":{{"version":"{DEMO_TO}"}}}}"#);
    say("cloud", &format!("-> {cmd}"));
    cloud_tx
        .publish(format!("{root}/commands/request_id=demo-1"), cmd.into_bytes())
        .map_err(|e| format!("{e:?}"))?;
    loop {
        let (topic, v, wire) = next("the new version")?;
        if topic.contains("/commands/response/") {
            say("gateway", &format!("<- {wire}"));
            if v["result_code"] != 0 {
                return Err("the OTA was not started".into());
            }
        } else if v["services"][0]["event_type"] == "upgrade_progress_report" {
            let p = &v["services"][0]["paras"];
            let pc = p["progress"].as_u64().unwrap_or(0) as usize;
            if p["result_code"] != 0 {
                return Err(format!("the OTA failed: {p}"));
            }
            let bar: String = "#".repeat(pc / 5) + &"-".repeat(20 - pc / 5);
            say("ota", &format!("[{bar}] {pc:3}%  {}", p["description"].as_str().unwrap_or("")));
        } else if let Some(ver) = version_of(&v) {
            say("gateway", &format!("online, version_report {ver}"));
            if ver == DEMO_TO {
                while let Ok(b) = boot_rx.try_recv() {
                    say("board", &b);
                }
                println!("DEMO OK: the board was upgraded from {DEMO_FROM} to {ver} over MQTT and HTTP in {:.1} s", t0.elapsed().as_secs_f64());
                let _ = std::fs::remove_file(&flash);
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
