//! The documentation stays true: every relative link in the README and `docs/` reaches a file
//! of the repository (and a heading, when it names one), the `ws63-sim` reference is the
//! program's own help, and the configuration reference names every key the parser knows.
//!
//! `UPDATE_DOCS=1 cargo test --test docs` rewrites the generated part of
//! `docs/reference/ws63-sim.md` after a change to the command line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown file under docs/.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut out = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut out);
    out.sort();
    out
}

/// The targets of Markdown links `[text](target)` outside code blocks and code spans.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Drop code spans: a `[x](y)` inside backticks is not a link.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, spaces to `-`, punctuation dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn every_relative_link_reaches_a_file_of_the_repository() {
    let mut dead = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match link.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (link.as_str(), None),
            };
            let target =
                if path.is_empty() { page.clone() } else { page.parent().unwrap().join(path) };
            checked += 1;
            let Ok(target) = target.canonicalize() else {
                dead.push(format!("{}: {link}: no such file", page.display()));
                continue;
            };
            if !target.starts_with(root()) {
                dead.push(format!("{}: {link}: outside the repository", page.display()));
            } else if let Some(a) = anchor {
                let md = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&md).contains(a) {
                    dead.push(format!("{}: {link}: no heading #{a}", page.display()));
                }
            }
        }
    }
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
    assert!(checked > 50, "only {checked} links found: is the scan broken?");
}

#[test]
fn the_link_scan_finds_what_it_must() {
    let text = "a [x](b.md) `[not](c.md)` [y](d.md#e)\n```\n[z](f.md)\n```\n";
    assert_eq!(links(text), ["b.md", "d.md#e"]);
    assert_eq!(slug("The OTA (`ota/`): 2 steps"), "the-ota-ota-2-steps");
}

fn help(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_ws63-sim")).args(args).arg("--help").output().unwrap();
    assert!(o.status.success(), "ws63-sim {args:?} --help failed");
    String::from_utf8(o.stdout).unwrap()
}

const BEGIN: &str = "<!-- generated: ws63-sim --help (tests/docs.rs) -->";
const END: &str = "<!-- end of generated -->";

#[test]
fn the_ws63_sim_reference_is_the_programs_help() {
    let top = help(&[]);
    // The subcommands, from the help's own list.
    let cmds: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect();
    assert!(cmds.len() >= 5, "{top}");
    let mut gen = format!("{BEGIN}\n\n## `ws63-sim`\n\n```text\n{top}```\n");
    for c in &cmds {
        gen.push_str(&format!("\n## `ws63-sim {c}`\n\n```text\n{}```\n", help(&[c])));
    }
    gen.push_str(&format!("\n{END}"));
    let path = root().join("docs/reference/ws63-sim.md");
    let page = std::fs::read_to_string(&path).unwrap();
    let (Some(a), Some(b)) = (page.find(BEGIN), page.find(END)) else {
        panic!("{} lacks the generated markers", path.display());
    };
    let current = &page[a..b + END.len()];
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, format!("{}{gen}{}", &page[..a], &page[b + END.len()..])).unwrap();
    } else {
        assert!(
            current == gen,
            "docs/reference/ws63-sim.md is not the program's help: run \
             `UPDATE_DOCS=1 cargo test --test docs` and commit the result"
        );
    }
}

#[test]
fn the_configuration_reference_names_every_key() {
    let page = std::fs::read_to_string(root().join("docs/reference/configuration.md")).unwrap();
    let example = std::fs::read_to_string(root().join("config/gateway.example.toml")).unwrap();
    let mut section = String::new();
    let mut keys = Vec::new();
    for line in example.lines().map(str::trim) {
        if let Some(s) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.to_string();
        } else if let Some((k, _)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
            keys.push(format!("{section}.{}", k.trim()));
        }
    }
    assert!(keys.len() >= 14, "{keys:?}");
    // Every key of the example is one the parser takes, and the reference has its row.
    let mut cfg = gateway::config::Config::default();
    for k in &keys {
        let v = if k.ends_with("port") || k.ends_with("keep_alive") { "1" } else { "x" };
        cfg.set(k, v).unwrap_or_else(|e| panic!("{k}: {e}"));
        assert!(page.contains(&format!("| `{k}` |")), "configuration.md has no row for {k}");
    }
}
