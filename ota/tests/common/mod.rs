//! Test helpers: the firmware server (`ws63_sim::fwserver`) and a simulated board to
//! download onto.
#![allow(dead_code)]

pub use ws63_sim::fwserver::{FirmwareServer, ServerFaults as Faults};

/// The tests' root key: every test board holds its public half, so packages signed with it
/// (in the SDK's default configuration) verify, as do SHA-256-mode ones.
pub fn root_key() -> ws63_sim::keys::SigningKey {
    ws63_sim::keys::test_key("ws63 tests root key")
}

/// A package in the SDK's default configuration: signed with [`root_key`], the app (of
/// `app_size` bytes, carrying `version`) and a flashboot image, both LZMA-compressed.
pub fn default_pkg(version: &str, app_size: usize) -> Vec<u8> {
    ws63_sim::package::Spec::sdk_default(version, app_size, &root_key()).build()
}

/// A simulated board with a fresh flash (factory version 1.0.0, the tests' root key) and the
/// network up; holds the simulator's lock for the test.
pub struct Board {
    pub flash: std::path::PathBuf,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl Board {
    pub fn new(name: &str) -> Self {
        let lock = ws63_sim::test_lock();
        ws63_sim::faults::clear();
        ws63_sim::wifi::bring_up();
        let flash = std::env::temp_dir().join(format!("ota-{name}-{}.flash", std::process::id()));
        let _ = std::fs::remove_file(&flash);
        ws63_sim::flash::open(&flash).unwrap();
        ws63_sim::flash::with(|f| {
            ws63_sim::upgrade::factory_install(f, "1.0.0")?;
            ws63_sim::upgrade::set_root_key(f, Some(root_key().verifying_key()))
        })
        .unwrap();
        ws63_sim::upgrade::reset_ram_state();
        Self { flash, _lock: lock }
    }

    /// Whether the upgrade was requested (the package is marked for flashboot).
    pub fn requested(&self) -> bool {
        ws63_sim::flash::with(|f| Ok(ws63_sim::upgrade::pending(f))).unwrap()
    }

    /// Whether the upgrade storage was ever prepared (the flag area's head magic).
    pub fn prepared(&self) -> bool {
        let v = ws63_sim::flash::with(|f| Ok(f.read_vec(ws63_sim::upgrade::FLAG_AREA, 4))).unwrap();
        v == ws63_sim::upgrade::HEAD_MAGIC.to_le_bytes()
    }

    /// Plays flashboot (resetting as it does) and returns the version of the app it starts.
    pub fn reboot_and_version(&self) -> Option<String> {
        ws63_sim::flash::with(|f| Ok(ws63_sim::upgrade::flashboot_until_app(f).1)).unwrap()
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.flash);
    }
}

/// SHA-256 in hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}
