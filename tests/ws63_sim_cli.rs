//! The `ws63-sim` command line: packages for tests and demos.

use std::process::Command;

use ws63_sim::package;

fn sim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ws63-sim")).args(args).output().unwrap()
}

#[test]
fn pkg_writes_a_package_the_device_accepts_with_the_asked_size_and_version() {
    let dir = std::env::temp_dir().join(format!("ws63sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("update.fwpkg");
    let o = sim(&["pkg", "--version", "1.0.1", "--size", "50000", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = std::fs::read(&out).unwrap();
    let images = package::verify_bytes(&p).unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].id, package::APP_IMAGE_ID);
    assert_eq!(images[0].data_len, 50000, "already a multiple of 16");
    assert_eq!(package::package_version(&p).as_deref(), Some("1.0.1"));

    let bad = dir.join("bad.fwpkg");
    let o = sim(&[
        "pkg",
        "--version",
        "1.0.1",
        "--size",
        "50000",
        "--out",
        bad.to_str().unwrap(),
        "--flip-bit",
        "40000",
    ]);
    assert!(o.status.success());
    assert!(package::verify_bytes(&std::fs::read(&bad).unwrap()).is_err());
    let o = sim(&[
        "pkg",
        "--version",
        "1.0.1",
        "--size",
        "50000",
        "--out",
        bad.to_str().unwrap(),
        "--truncate",
        "1000",
    ]);
    assert!(o.status.success());
    assert_eq!(std::fs::read(&bad).unwrap().len(), 1000);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_arguments_are_explained_and_exit_2() {
    for (args, says) in [
        (&["pkg", "--size", "10"][..], "--version is required"),
        (
            &["pkg", "--version", "12345678901234567", "--size", "100", "--out", "x"][..],
            "1 to 16 bytes",
        ),
        (&["pkg", "--version", "1", "--size", "ten", "--out", "x"][..], "not a number"),
        (&["frobnicate"][..], "unknown command"),
        (&["info", "--flash", "/nonexistent/board.flash"][..], "no such flash file"),
    ] {
        let o = sim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
