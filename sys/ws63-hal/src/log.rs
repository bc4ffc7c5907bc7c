//! A `log` backend on the console: the SDK's print path (UART) on the chip, stderr on the
//! host. Lines look like `[ 12.34] INFO ota: downloaded 4096 of 65536 bytes`, the time being
//! the kernel tick's.

use ws63_rt::console::Writer;

struct ConsoleLogger;

static LOGGER: ConsoleLogger = ConsoleLogger;

impl log::Log for ConsoleLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut w = Writer::new();
        let _ = write_record(&mut w, crate::time::uptime().as_millis() as u64, record);
        w.flush();
    }

    fn flush(&self) {}
}

/// Formats one log line (exposed for tests).
///
/// # Errors
/// Only what the writer returns.
pub fn write_record(
    w: &mut dyn core::fmt::Write,
    ms: u64,
    record: &log::Record<'_>,
) -> core::fmt::Result {
    write!(
        w,
        "[{:>4}.{:02}] {:<5} {}: {}\r\n",
        ms / 1000,
        (ms % 1000) / 10,
        record.level(),
        record.target(),
        record.args()
    )
}

/// Installs the console logger at `level` (once; later calls only change the level).
pub fn init(level: log::LevelFilter) {
    critical_section::with(|_| {
        #[cfg(target_has_atomic = "ptr")]
        let _ = log::set_logger(&LOGGER);
        #[cfg(not(target_has_atomic = "ptr"))]
        // SAFETY: inside the critical section no other thread runs set_logger_racy or logs
        // concurrently with the installation; the logger is 'static.
        let _ = unsafe { log::set_logger_racy(&LOGGER) };
        #[cfg(target_has_atomic = "ptr")]
        log::set_max_level(level);
        #[cfg(not(target_has_atomic = "ptr"))]
        // SAFETY: as above.
        unsafe {
            log::set_max_level_racy(level)
        };
    });
}
