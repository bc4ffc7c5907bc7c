//! probe
#![no_std]
#[no_mangle]
pub extern "C" fn probe_add(a: u32, b: u32) -> u32 { a.wrapping_add(b) }
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! { loop {} }
