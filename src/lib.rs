//! The BMS gateway firmware for the HiSilicon WS63, as the static library the SDK links into
//! its `ws63-liteos-app` image (`cargo +nightly ws63`).
//!
//! This crate only assembles the layers: the chip runtime (`ws63-rt`: entry registration, heap,
//! panic handler) and, above the `-sys` crates and their wrappers, the application
//! (`gateway`, with `ota` and `mqtt_cmd`). See README.md for how the library joins the image.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

/// The firmware's version record, made at build time from the configuration's
/// `[firmware] version` (checked by `build.rs`): what the firmware reports to the cloud, what
/// the SDK packager gets as `--ver`, and what `ws63-sim version <library>` reads back.
#[used]
pub static FW_VERSION: ws63_rt::version::Record =
    ws63_rt::version::Record::new(env!("WS63_FW_VERSION"));

/// The running firmware's version (read from [`FW_VERSION`]).
pub fn version() -> &'static str {
    FW_VERSION.version()
}

#[cfg(feature = "link-probe")]
pub use {cmsis_rtos2_sys, lwip_sys, mbedtls_sys, ws63_sdk_sys};

ws63_rt::app_run!(app_main);

/// The gateway configuration file embedded at build time (`config/gateway.toml`, or the
/// committed example; `build.rs` has already checked that it parses).
pub const CONFIG_TOML: &str = include_str!(concat!(env!("OUT_DIR"), "/gateway.toml"));

/// The embedded configuration, parsed.
///
/// # Errors
/// Never for a firmware that built (the build checks the same file with the same parser).
pub fn config() -> Result<gateway::config::Config, gateway::config::ConfigError> {
    gateway::config::Config::parse(CONFIG_TOML)
}

/// Logs how the C-started OTA goes.
struct LogReporter;

impl ota::engine::Progress for LogReporter {
    fn phase(&mut self, phase: ota::Phase) {
        log::info!(target: "ota", "{phase:?}");
    }
    fn bytes(&mut self, written: u32, total: u32) {
        log::debug!(target: "ota", "{written}/{total}");
    }
}

impl ota::board::Reporter for LogReporter {
    fn finished(&mut self, result: &Result<ota::Downloaded, ota::OtaError>) {
        if let Err(e) = result {
            log::error!(target: "ota", "result {}: {e}", e.result_code());
        }
    }
}

/// The C original's entry point, same ABI: starts the OTA thread for the configured URL
/// (`[ota] url` with `[ota] default_version`). Returns 0 when the thread
/// was started, -1 when not (an OTA is running, the URL is invalid, no thread). Declared in
/// `include/ota_task.h`.
#[no_mangle]
pub extern "C" fn ota_task_start() -> core::ffi::c_int {
    let cfg = match config() {
        Ok(c) => c,
        Err(e) => {
            log::error!(target: "ota", "ota_task_start: configuration: {e}");
            return -1;
        }
    };
    let url = match ota::request::expand_url(&cfg.ota.url, &cfg.ota.default_version) {
        Ok(u) => u,
        Err(e) => {
            log::error!(target: "ota", "ota_task_start: {e}");
            return -1;
        }
    };
    let req = ota::OtaRequest {
        version: cfg.ota.default_version.clone(),
        url,
        sha256: None,
        size: None,
        token: None,
    };
    match ota::board::start(req, ota::board::TaskConfig::default(), LogReporter) {
        Ok(()) => 0,
        Err(e) => {
            log::warn!(target: "ota", "ota_task_start: {e}");
            -1
        }
    }
}

/// Measurement only (`--features mqtt-size-probe`): an MQTT session's connect, subscribe,
/// publish and poll over lwIP, so the chip library carries the MQTT stack.
#[cfg(feature = "mqtt-size-probe")]
#[no_mangle]
pub extern "C" fn ws63_mqtt_size_probe() -> core::ffi::c_int {
    use gateway::mqtt::{Clock, Options, Session};
    struct Ticks;
    impl Clock for Ticks {
        fn now_ms(&self) -> u64 {
            ws63_hal::time::uptime().as_millis() as u64
        }
    }
    let Ok(s) =
        ws63_hal::net::TcpStream::connect("broker", 1883, core::time::Duration::from_secs(5))
    else {
        return -1;
    };
    let opts = Options { client_id: "c".into(), username: None, password: None, keep_alive: 60 };
    let Ok(mut m) = Session::connect(s, Ticks, &opts, 5000) else { return -2 };
    if m.subscribe("t/#", 5000).is_err() || m.publish("t/x", b"x", true).is_err() {
        return -3;
    }
    match m.poll() {
        Ok(Some(msg)) => msg.payload.len() as core::ffi::c_int,
        _ => 0,
    }
}

/// The gateway thread's stack.
pub const GATEWAY_STACK: u32 = 0x3800;

/// Runs the gateway (WiFi, MQTT, commands, OTA) on the calling thread, for ever; the gateway
/// thread ([`start_gateway`]) runs this.
///
/// `tls`: the CA certificates (PEM) of `[mqtt] ca_file` and of `[ota] ca_file`.
pub fn run_gateway(cfg: &gateway::config::Config, version: &str, tls: TlsFiles) -> ! {
    let TlsFiles { mqtt_ca, ota_ca } = tls;
    let ota_cfg = ota::board::TaskConfig { ca: ota_ca, ..Default::default() };
    let board = gateway::board::Board::new(version, ota_cfg)
        .map_err(|e| alloc::format!("{e}"))
        .and_then(|b| match mqtt_ca {
            Some(ca) => b.with_mqtt_tls(ca),
            None => Ok(b),
        });
    let mut board = match board {
        Ok(b) => b,
        Err(e) => {
            log::error!(target: "gateway", "cannot start: {e}");
            ws63_rt::console::print("[ws63-bms-gateway] no memory for the gateway\r\n");
            loop {
                ws63_hal::thread::sleep(core::time::Duration::from_secs(3600));
            }
        }
    };
    gateway::app::run(cfg, &mut board)
}

/// Starts the gateway thread (stack [`GATEWAY_STACK`], normal priority) for firmware
/// `version` with `cfg`. The chip's entry calls this with the embedded configuration and
/// [`version()`]; the simulated board with its configuration and the installed image's
/// version; `tls` as [`run_gateway`] takes it.
///
/// # Errors
/// When the kernel refuses the thread.
pub fn start_gateway(
    cfg: gateway::config::Config,
    version: alloc::string::String,
    tls: TlsFiles,
) -> Result<(), ws63_hal::Error> {
    ws63_hal::thread::Builder::new(c"gateway")
        .stack_size(GATEWAY_STACK)
        .spawn(move || run_gateway(&cfg, &version, tls))
        .map(|_| ())
}

/// The CA certificates (PEM) the configuration's `ca_file`s name. The chip build embeds them
/// (build.rs, [`TlsFiles::embedded`]); the simulated board reads the files at each boot.
#[derive(Debug, Default)]
pub struct TlsFiles {
    /// `[mqtt] ca_file`: MQTT over TLS.
    pub mqtt_ca: Option<alloc::vec::Vec<u8>>,
    /// `[ota] ca_file`: `https://` downloads (kept for the firmware's lifetime).
    pub ota_ca: Option<&'static [u8]>,
}

/// `[mqtt] ca_file` as the chip build embedded it (empty: not set).
static MQTT_CA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mqtt-ca.pem"));
/// `[ota] ca_file` as the chip build embedded it (empty: not set).
static OTA_CA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ota-ca.pem"));

impl TlsFiles {
    /// The CA certificates built into the chip library from the configuration's `ca_file`s
    /// (none in host builds, whose boards read the files themselves).
    pub fn embedded() -> TlsFiles {
        TlsFiles {
            mqtt_ca: (!MQTT_CA.is_empty()).then(|| MQTT_CA.to_vec()),
            ota_ca: (!OTA_CA.is_empty()).then_some(OTA_CA),
        }
    }
}

/// The application entry: called once by the SDK's `main()` before the scheduler starts. It
/// starts the gateway thread and returns.
pub fn app_main() {
    ws63_hal::log::init(log::LevelFilter::Info);
    log::info!(target: "gateway", "ws63-bms-gateway {} starting", version());
    let cfg = match config() {
        Ok(c) => c,
        Err(e) => {
            log::error!(target: "gateway", "configuration: {e}");
            return;
        }
    };
    #[cfg(feature = "on-target-tests")]
    {
        // The emulator lane's test image: the tests start the gateway themselves.
        let _ = cfg;
        ws63_target_tests::before_scheduler();
        ws63_target_tests::start(ws63_target_tests::Hooks {
            start_gateway: || {
                if let Ok(cfg) = config() {
                    let _ = start_gateway(cfg, version().into(), TlsFiles::embedded());
                }
            },
            ota_running: ota::board::running,
        });
    }
    #[cfg(not(feature = "on-target-tests"))]
    if let Err(e) = start_gateway(cfg, version().into(), TlsFiles::embedded()) {
        log::error!(target: "gateway", "cannot start the gateway thread: {e}");
    }
}
