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
        (
            &["pkg", "--version", "1", "--size", "300", "--out", "x", "--sub-key", "k.pem"][..],
            "--sign",
        ),
        (
            &["pkg", "--version", "1", "--size", "300", "--out", "x", "--sign", "Cargo.toml"][..],
            "not a brainpoolP256r1 private key",
        ),
        (
            &[
                "pkg",
                "--version",
                "1",
                "--size",
                "300",
                "--out",
                "x",
                "--sign",
                "tests/keys/root-pub.pem",
            ][..],
            "private key",
        ),
        (
            &["run", "--root-key", "Cargo.toml", "--max-boots", "1"][..],
            "not a brainpoolP256r1 public key",
        ),
        // MQTT over TLS: always verified, so never without CA certificates.
        (&["run", "--broker", "mqtts://localhost:8883"][..], "needs --ca-file"),
        (&["run", "--broker", "h:1883", "--ca-file", "Cargo.toml"][..], "mqtts://"),
        (&["run", "--broker", "ws://h:80"][..], "neither mqtt:// nor mqtts://"),
        (
            &["run", "--broker", "mqtts://h:8883", "--ca-file", "Cargo.toml", "--max-boots", "1"][..],
            "no PEM certificate",
        ),
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
        "--broker <[mqtts://]HOST:PORT>",
        "--ca-file <FILE>",
        "--ota-ca-file <FILE>",
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

#[test]
fn pkg_makes_the_sdks_default_package_with_keys_openssl_wrote() {
    use ws63_sim::keys;
    let dir = std::env::temp_dir().join(format!("ws63sim-sign-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("update.fwpkg");
    let o = sim(&[
        "pkg",
        "--version",
        "2.1.0",
        "--size",
        "80000",
        "--out",
        out.to_str().unwrap(),
        "--sign",
        "tests/keys/root-sec1.pem",
        "--sub-key",
        "tests/keys/sub-pkcs8.pem",
        "--lzma",
        "--with-flashboot",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = std::fs::read(&out).unwrap();
    let text = |f: &str| std::fs::read_to_string(f).unwrap();
    let root = keys::verifying_key_from_pem(&text("tests/keys/root-pub.pem")).unwrap();
    let sub = keys::verifying_key_from_pem(&text("tests/keys/sub-pkcs8.pem")).unwrap();
    // The sub-key in the key area; both signatures verify with OpenSSL's keys.
    assert_eq!(&p[0x80..0xC0], &keys::raw_public_key(&sub));
    let images = package::verify_bytes_with(&p, &keys::raw_public_key(&root)).unwrap();
    let ids: Vec<u32> = images.iter().map(|i| i.id).collect();
    assert_eq!(ids, [package::APP_IMAGE_ID, package::FLASHBOOT_IMAGE_ID]);
    assert!(images.iter().all(|i| i.decompress_flag == package::DECOMPRESS_ZIP));
    assert_eq!((images[0].original_len, images[1].original_len), (80_000, 16_384));
    assert!(package::verify_bytes(&p).is_err(), "a board without the root key refuses it");
    let sub_only = keys::raw_public_key(&sub);
    assert!(package::verify_bytes_with(&p, &sub_only).is_err(), "the key area is the root's");
    // Without --sign: SHA-256 mode, which any board takes.
    let o = sim(&[
        "pkg",
        "--version",
        "2.1.0",
        "--size",
        "80000",
        "--out",
        out.to_str().unwrap(),
        "--lzma",
    ]);
    assert!(o.status.success());
    assert_eq!(package::verify_bytes(&std::fs::read(&out).unwrap()).unwrap().len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn run_gives_the_board_its_root_key_and_info_shows_it() {
    let dir = std::env::temp_dir().join(format!("ws63sim-rootkey-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let flash = dir.join("board.flash");
    // One boot, against no broker: the board writes its flash and runs until stopped.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ws63-sim"))
        .args(["run", "--broker", "127.0.0.1:9", "--flash", flash.to_str().unwrap()])
        .args(["--root-key", "tests/keys/root-pub.pem", "--max-boots", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    let info = loop {
        let o = sim(&["info", "--flash", flash.to_str().unwrap()]);
        let s = String::from_utf8_lossy(&o.stdout).into_owned();
        if s.lines().any(|l| l.starts_with("root key:") && l.ends_with("...")) {
            break s;
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "{s}");
        std::thread::yield_now();
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let root = ws63_sim::keys::verifying_key_from_pem(
        &std::fs::read_to_string("tests/keys/root-pub.pem").unwrap(),
    )
    .unwrap();
    let xy = ws63_sim::keys::raw_public_key(&root);
    let hex: String = xy[..8].iter().map(|b| format!("{b:02x}")).collect();
    assert!(info.contains(&format!("root key:          {hex}...")), "{info}");
    assert!(info.contains("flashboot:         1.0.0"), "{info}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_demo_upgrades_the_board_and_shows_the_answer_as_it_went_over_the_wire() {
    let out = sim(&["demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // The C original's key order, byte for byte: the gateway's bytes, not a re-serialisation
    // (which would sort the keys).
    assert!(
        stdout.contains(
            r#"<- {"result_code":0,"response_name":"ota_upgrade","paras":{"result":"ota_started"}}"#
        ),
        "{stdout}"
    );
    assert!(stdout.contains(r#"-> {"command_name":"ota_upgrade","paras":{"version":"#), "{stdout}");
    assert!(stdout.contains("DEMO OK"), "{stdout}");
}
