//! The lab bench: things done to a running board from outside, at a moment the test chooses
//! (`ws63-sim run --control FILE`). Write commands to the file, one per line; the board
//! carries them out and deletes the file, which is the acknowledgement.
//!
//! ```text
//! heap-spare BYTES    the heap's limit becomes what the firmware uses now, plus BYTES
//! heap-limit BYTES    the heap's limit becomes BYTES
//! wifi-drop MS        the access point goes out of reach for MS milliseconds
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

/// One command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// The heap's limit becomes what is in use now plus this many bytes.
    HeapSpare(usize),
    /// The heap's limit becomes this many bytes.
    HeapLimit(usize),
    /// The access point goes away for this long.
    WifiDrop(Duration),
}

impl Command {
    /// Parses one line.
    ///
    /// # Errors
    /// An unknown command or a malformed number.
    pub fn parse(line: &str) -> Result<Command, String> {
        let mut it = line.split_whitespace();
        let (Some(cmd), Some(arg), None) = (it.next(), it.next(), it.next()) else {
            return Err(format!("`{line}`: expected `command number`"));
        };
        let n: u64 = arg.parse().map_err(|_| format!("`{line}`: {arg} is no number"))?;
        match cmd {
            "heap-spare" => Ok(Command::HeapSpare(n as usize)),
            "heap-limit" => Ok(Command::HeapLimit(n as usize)),
            "wifi-drop" => Ok(Command::WifiDrop(Duration::from_millis(n))),
            _ => Err(format!("`{line}`: unknown command {cmd}")),
        }
    }

    /// Carries it out on this board.
    pub fn apply(self) {
        match self {
            Command::HeapSpare(n) => crate::heap::set_limit(Some(crate::heap::used() + n)),
            Command::HeapLimit(n) => crate::heap::set_limit(Some(n)),
            Command::WifiDrop(d) => crate::wifi::drop_link(d),
        }
    }
}

/// Watches `path` for commands for the rest of this firmware run.
pub fn watch(path: PathBuf) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(20));
        run_file(&path);
    });
}

fn run_file(path: &Path) {
    let Ok(text) = std::fs::read_to_string(path) else { return };
    if text.is_empty() {
        return;
    }
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match Command::parse(line) {
            Ok(c) => {
                eprintln!("[ws63-sim] control: {line}");
                c.apply();
            }
            Err(e) => eprintln!("[ws63-sim] control: {e}"),
        }
    }
    let _ = std::fs::remove_file(path);
}

/// Writes `commands` for the board watching `path` and waits until it has carried them out.
///
/// # Errors
/// When the file cannot be written, or the board does not take it within `timeout`.
pub fn send(path: &Path, commands: &str, timeout: Duration) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, commands).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())?;
    let t = std::time::Instant::now();
    while path.exists() {
        if t.elapsed() > timeout {
            return Err(format!("the board did not take `{commands}`"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(Command::parse("heap-spare 2048"), Ok(Command::HeapSpare(2048)));
        assert_eq!(
            Command::parse("wifi-drop 1500"),
            Ok(Command::WifiDrop(Duration::from_millis(1500)))
        );
        assert!(Command::parse("heap-spare").is_err());
        assert!(Command::parse("heap-spare x").is_err());
        assert!(Command::parse("reboot 1").is_err());
    }
}
