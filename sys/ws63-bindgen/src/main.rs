//! `ws63-bindgen`: regenerate and check the committed bindings of the WS63 `-sys` crates.
//!
//! ```text
//! cargo bindings regen            # rewrite sys/*/bindings/*.rs from decls/
//! cargo bindings check            # fail if regenerating would change them (CI)
//! cargo bindings compare [--dump DIR]
//!                                 # with an SDK: every committed item must have the same
//!                                 # name and type in the bindings of the real SDK headers
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use ws63_bindgen::{compare_bindings, find_sdk, generate, workspace_root, HeaderSource, ALL};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("regen") => regen(),
        Some("check") => check(),
        Some("compare") => {
            let dump = match args.get(1).map(String::as_str) {
                Some("--dump") => match args.get(2) {
                    Some(d) => Some(PathBuf::from(d)),
                    None => return usage("--dump needs a folder"),
                },
                Some(other) => return usage(&format!("unknown argument `{other}`")),
                None => None,
            };
            compare(dump)
        }
        Some(other) => return usage(&format!("unknown command `{other}`")),
        None => return usage("a command is needed"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("ws63-bindgen: {msg}\nusage: ws63-bindgen regen | check | compare [--dump DIR]");
    ExitCode::from(2)
}

fn regen() -> Result<(), String> {
    let root = workspace_root();
    for k in &ALL {
        let dir = root.join("sys").join(k.dir);
        let text = generate(k, &dir, &HeaderSource::Decls)?;
        let path = dir.join(k.committed);
        std::fs::create_dir_all(path.parent().expect("committed file has a folder"))
            .map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn check() -> Result<(), String> {
    let root = workspace_root();
    let mut stale = Vec::new();
    for k in &ALL {
        let dir = root.join("sys").join(k.dir);
        let fresh = generate(k, &dir, &HeaderSource::Decls)?;
        let path = dir.join(k.committed);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == fresh {
            println!("{}: up to date", path.display());
        } else {
            let line = committed
                .lines()
                .zip(fresh.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()))
                + 1;
            println!("{}: STALE (first difference at line {line})", path.display());
            stale.push(path.display().to_string());
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "committed bindings differ from what decls/ generates: {}; run `cargo bindings \
             regen` and commit the result",
            stale.join(", ")
        ))
    }
}

fn compare(dump: Option<PathBuf>) -> Result<(), String> {
    let root = workspace_root();
    let sdk = find_sdk(&root)?.ok_or_else(|| {
        "no SDK: set WS63_SDK_PATH (or `sdk_path` in vendor-sdk-path.toml) to an extracted \
         WS63 SDK"
            .to_string()
    })?;
    let mut failures = 0usize;
    for k in &ALL {
        let dir = root.join("sys").join(k.dir);
        let sdk_text = generate(k, &dir, &HeaderSource::Sdk(sdk.clone()))?;
        if let Some(d) = &dump {
            std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
            let out = d.join(format!("{}.rs", k.dir));
            std::fs::write(&out, &sdk_text).map_err(|e| e.to_string())?;
        }
        let path = dir.join(k.committed);
        let committed =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let diffs = compare_bindings(&committed, &sdk_text)?;
        let total = committed.matches("pub ").count();
        if diffs.is_empty() {
            println!("{}: every committed item matches the SDK ({total} items)", k.dir);
        }
        for d in &diffs {
            println!("{}: {d}", k.dir);
        }
        failures += diffs.len();
    }
    if failures == 0 {
        Ok(())
    } else {
        Err(format!("{failures} committed item(s) differ from the SDK's bindings"))
    }
}
