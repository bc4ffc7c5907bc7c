//! The first bytes of a download: the header check and the length it implies never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ota::package::{check_header, package_len, package_version};

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = check_header(data) {
        assert!((1..=20).contains(&info.image_num));
        let _ = package_len(data, &info);
        let _ = package_version(data);
    }
});
