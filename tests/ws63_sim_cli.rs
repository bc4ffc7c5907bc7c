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
fn bad_arguments_are_explained_with_the_usage_and_exit_2() {
    for (args, says) in [
        (&["pkg", "--size", "10"][..], "required arguments were not provided"),
        (&["pkg", "--version", "12345678901234567", "--size", "300", "--out", "x"][..], "1 to 16"),
        (&["pkg", "--version", "1", "--size", "ten", "--out", "x"][..], "invalid value 'ten'"),
        (&["pkg", "--version", "1", "--size", "100", "--out", "x"][..], "at least 288"),
        (&["frobnicate"][..], "unrecognized subcommand 'frobnicate'"),
        (&["run", "--power-cut-at-write"][..], "a value is required"),
        (&["run", "--power-cut-at-write", "0"][..], "invalid value '0'"),
        (&["run", "--wifi-drop-at-ms", "soon"][..], "not a number"),
        (&["info", "--flash", "/nonexistent/board.flash"][..], "no such flash file"),
        (&["version", "/nonexistent/lib.a"][..], "/nonexistent/lib.a"),
    ] {
        let o = sim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        // One line says what is wrong (clap adds the usage for option errors).
        assert!(err.lines().next().is_some_and(|l| l.contains("error") || l.contains("ws63-sim:")));
    }
}

#[test]
fn every_command_has_help_with_its_options_and_defaults() {
    let o = sim(&["--help"]);
    assert!(o.status.success());
    let top = String::from_utf8_lossy(&o.stdout);
    for cmd in ["demo", "run", "pkg", "info", "version"] {
        assert!(top.contains(&format!("  {cmd} ")), "{cmd} in the overview: {top}");
        let o = sim(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd} --help");
        let help = String::from_utf8_lossy(&o.stdout);
        assert!(help.contains(&format!("Usage: ws63-sim {cmd}")), "{cmd}: {help}");
    }
    assert!(!top.contains("__firmware"), "the internal command stays hidden");
    let run = String::from_utf8_lossy(&sim(&["run", "--help"]).stdout).into_owned();
    for opt in [
        "--broker <HOST:PORT>",
        "--flash <FILE>",
        "[default: board.flash]",
        "--heap-limit <BYTES>",
        "[default: 131072]",
        "--no-flash-timing",
        "--power-cut-at-write <N>",
        "--wifi-drop-after-rx <BYTES>",
    ] {
        assert!(run.contains(opt), "run --help lacks {opt}: {run}");
    }
}

#[test]
fn version_reads_the_record_a_simulator_image_carries() {
    let dir = std::env::temp_dir().join(format!("ws63sim-ver-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("app.bin");
    std::fs::write(&img, package::sim_app_image("3.1.4-rc1", 4096)).unwrap();
    let o = sim(&["version", img.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "3.1.4-rc1\n");
    // Two different records are an error, not a guess.
    let mut two = package::sim_app_image("1.0.0", 4096);
    two.extend(package::sim_app_image("2.0.0", 4096));
    std::fs::write(&img, two).unwrap();
    let o = sim(&["version", img.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("1.0.0, 2.0.0"));
    std::fs::remove_dir_all(dir).unwrap();
}
