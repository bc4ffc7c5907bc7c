//! `ws63-bindgen`: regenerate and check the committed bindings of the WS63 `-sys` crates.
//!
//! ```text
//! cargo bindings regen            # rewrite sys/*/bindings/*.rs from decls/
//! cargo bindings check            # fail if regenerating would change them (CI)
//! cargo bindings compare [--dump DIR]
//!                                 # with an SDK: every committed item must have the same
//!                                 # name and type in the bindings of the real SDK headers
//! cargo bindings undefined FILE   # FILE: the symbols the chip library leaves undefined, one
//!                                 # a line; each must be one the SDK image provides
//! cargo bindings runtime-symbols [--write]
//!                                 # with an SDK: the committed list of the symbols its C
//!                                 # runtime defines must be the SDK's (--write: rewrite it)
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use ws63_bindgen::{
    compare_bindings, find_sdk, foreign_functions, generate, parse_runtime_symbols,
    runtime_symbols_file, sdk_runtime_symbols, sdk_symbols, workspace_root, HeaderSource, ALL,
    C_RUNTIME_SYMBOLS,
};

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
        Some("runtime-symbols") => match args.get(1).map(String::as_str) {
            None => runtime_symbols(false),
            Some("--write") => runtime_symbols(true),
            Some(other) => return usage(&format!("unknown argument `{other}`")),
        },
        Some("undefined") => match args.get(1) {
            Some(f) => undefined(&PathBuf::from(f)),
            None => return usage("undefined needs the file that lists the symbols"),
        },
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
    eprintln!(
        "ws63-bindgen: {msg}\nusage: ws63-bindgen regen | check | compare [--dump DIR] | \
         undefined FILE | runtime-symbols [--write]"
    );
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

/// Checks the symbols the chip library leaves undefined. Without an SDK: each must be a
/// function our committed bindings declare, or one of the C runtime functions the compiler
/// emits calls to (`memcpy` & co., and every symbol of the SDK's runtime list: the chip build
/// leaves `__udivdi3` & co. to the SDK's libgcc). With an SDK: each must be provided by the SDK image (defined by a prebuilt
/// `ws63-liteos-app` library or by an SDK C source), and declared under that name by the real
/// headers when it is one of ours.
fn undefined(list: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(list).map_err(|e| format!("{}: {e}", list.display()))?;
    let symbols: Vec<&str> = text.split_whitespace().collect();
    let root = workspace_root();
    let sdk = find_sdk(&root)?;
    let mut declared = std::collections::BTreeSet::new();
    for k in &ALL {
        let dir = root.join("sys").join(k.dir);
        let src = match &sdk {
            Some(s) => generate(k, &dir, &HeaderSource::Sdk(s.clone()))?,
            None => std::fs::read_to_string(dir.join(k.committed)).map_err(|e| e.to_string())?,
        };
        declared.extend(foreign_functions(&src)?);
    }
    let provided = match &sdk {
        Some(s) => Some(sdk_symbols(s)?),
        None => None,
    };
    // The SDK's C runtime (libgcc, LiteOS's libc, libm) as its toolchain and kernel ship it:
    // the image links it, so `__udivdi3` & co., which the chip build leaves to it, resolve.
    let sdk_runtime = match &sdk {
        Some(s) => sdk_runtime_symbols(s)?,
        None => Default::default(),
    };
    let runtime_file = runtime_symbols_file();
    let runtime = parse_runtime_symbols(
        &std::fs::read_to_string(&runtime_file)
            .map_err(|e| format!("{}: {e}", runtime_file.display()))?,
    );
    let mut bad = 0;
    for sym in &symbols {
        let ours =
            declared.contains(*sym) || C_RUNTIME_SYMBOLS.contains(sym) || runtime.contains(*sym);
        let verdict = match &provided {
            None if ours => "declared by the committed bindings / C runtime".to_string(),
            None => "NOT declared by any -sys crate".to_string(),
            Some(p) => match p.get(*sym) {
                Some(origin) if ours => format!("provided by the SDK: {origin}"),
                Some(origin) => format!("NOT declared by our bindings (the SDK has it: {origin})"),
                None if sdk_runtime.contains(*sym) => {
                    "provided by the SDK's C runtime (libgcc, libc, libm)".to_string()
                }
                None => "NOT provided by the SDK image".to_string(),
            },
        };
        if verdict.starts_with("NOT") {
            bad += 1;
        }
        println!("  {sym:<32} {verdict}");
    }
    println!(
        "undefined symbols: {} checked against {}",
        symbols.len(),
        if sdk.is_some() { "the SDK" } else { "the committed bindings (no SDK)" }
    );
    if bad == 0 {
        Ok(())
    } else {
        Err(format!("{bad} undefined symbol(s) the SDK image would not resolve"))
    }
}

/// Checks (or with `write`, rewrites) the committed list of the SDK's C runtime symbols
/// against the SDK's libraries.
fn runtime_symbols(write: bool) -> Result<(), String> {
    let sdk = find_sdk(&workspace_root())?
        .ok_or("runtime-symbols needs an SDK: set WS63_SDK_PATH or sdk_path")?;
    let actual = sdk_runtime_symbols(&sdk)?;
    let file = runtime_symbols_file();
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    if write {
        let header: String =
            text.lines().take_while(|l| l.starts_with('#')).map(|l| format!("{l}\n")).collect();
        let body: String = actual.iter().map(|s| format!("{s}\n")).collect();
        std::fs::write(&file, header + &body).map_err(|e| e.to_string())?;
        println!("wrote {} ({} symbols)", file.display(), actual.len());
        return Ok(());
    }
    let committed = parse_runtime_symbols(&text);
    let missing: Vec<_> = actual.difference(&committed).collect();
    let extra: Vec<_> = committed.difference(&actual).collect();
    if missing.is_empty() && extra.is_empty() {
        println!("runtime symbols: the committed {} are the SDK's", committed.len());
        Ok(())
    } else {
        Err(format!(
            "{} differs from the SDK: missing {missing:?}, not in the SDK {extra:?} (rewrite \
             it with `cargo bindings runtime-symbols --write`)",
            file.display()
        ))
    }
}
