//! The worst-case stack of each firmware thread, computed from the chip library itself.
//!
//! The chip build (`cargo +nightly ws63`) emits every function's frame size into
//! `.stack_sizes` sections. [`Program`] reads the library's objects: frames, direct calls
//! (call relocations), indirect call sites, calls into the SDK (symbols the library leaves
//! undefined). [`analyse`] then walks each thread's call graph from its entry, with what the
//! configuration ([`Config`], `stacks.toml`) says the analysis cannot see:
//!
//! - which functions an indirect call may reach (`[[indirect]]` rules by caller; a site no
//!   rule covers is an error);
//! - how deep each recursion may go (`[[recursion]]`: a cycle no rule bounds is an error);
//! - what each SDK function adds on the thread's stack (`sdk-frames.txt`, estimated from the
//!   SDK image: its frame and its deepest callees; an SDK function without an estimate is an
//!   error), and what the kernel adds (a task switch saves the context on the task's stack;
//!   an interrupt's frame lands on the interrupted task's stack).
//!
//! Each thread's worst case, with the required margin, must fit its stack.

pub mod program;
pub mod riscv;

use std::collections::{BTreeMap, BTreeSet};

pub use program::{Function, Program};

/// What the analysis is told (`stacks.toml`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The margin each thread's stack must leave above its worst case (0.25: 25 %).
    pub margin: f64,
    /// Bytes a task switch saves on the task's own stack (a thread that blocks).
    pub context_switch: u32,
    /// Bytes an interrupt's entry saves on the interrupted task's stack.
    pub interrupt: u32,
    /// The panic handler (a name pattern). A panic ends in it and never returns; it is
    /// counted once on top of the path that panicked, and a panic inside it (which would
    /// recurse until the stack overflows, on any target) is not. None for code that cannot
    /// panic (the SDK's, in `ws63-stack sdk-frames`).
    #[serde(default)]
    pub panic_handler: Option<String>,
    /// The firmware's threads.
    pub thread: Vec<Thread>,
    /// What indirect calls may reach.
    #[serde(default)]
    pub indirect: Vec<IndirectRule>,
    /// How deep recursions go.
    #[serde(default)]
    pub recursion: Vec<RecursionRule>,
    /// Which of the firmware's functions SDK functions call back.
    #[serde(default)]
    pub callback: Vec<CallbackRule>,
}

/// The SDK functions named in `sdk` call back the firmware's address-taken functions whose
/// names contain any of `callees` (the callbacks the firmware registered with them), with
/// the SDK's frames of `name@callbacks` in `sdk-frames.txt` below them.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackRule {
    /// SDK function names (exact).
    pub sdk: Vec<String>,
    /// Callee name patterns.
    pub callees: Vec<String>,
    /// Why (shown in the report).
    pub why: String,
}

/// The key under which `sdk-frames.txt` keeps the SDK's frames below the firmware's callbacks
/// when the SDK function `name` calls them: `name@callbacks`.
pub fn callbacks_key(name: &str) -> String {
    format!("{name}{CALLBACKS}")
}

const CALLBACKS: &str = "@callbacks";

/// The name prefix of the call graph's stand-ins for an SDK function on its way to the
/// firmware's callbacks (their frames are the SDK's).
const SDK_STANDIN: &str = "(SDK) ";

/// One thread.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thread {
    /// Its name.
    pub name: String,
    /// Its stack size in bytes (as the code creates it).
    pub stack: u32,
    /// The function the kernel starts it in (a name pattern matching one function).
    pub entry: String,
    /// What the entry's indirect call runs (patterns): the thread's closure.
    pub runs: Vec<String>,
}

/// Indirect calls in functions whose name contains `caller` may reach the address-taken
/// functions whose names contain any of `callees`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndirectRule {
    /// Caller name pattern.
    pub caller: String,
    /// Callee name patterns.
    pub callees: Vec<String>,
    /// Why (shown in the report).
    pub why: String,
}

/// A call cycle one of whose functions' names contains `member` runs at most `depth` rounds.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecursionRule {
    /// Name pattern of a function in the cycle.
    pub member: String,
    /// Rounds at most.
    pub depth: u32,
    /// What bounds it.
    pub why: String,
}

impl Config {
    /// Parses `stacks.toml`.
    ///
    /// # Errors
    /// A TOML or shape error.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// The SDK functions' worst-case stack, by name (`sdk-frames.txt`: `name bytes` per line, or
/// `name bytes callbacks N` for a function that calls the firmware back with `N` bytes of its
/// own frames below the callback, kept as `name@callbacks`;
/// `#` comments).
///
/// # Errors
/// A malformed line.
pub fn parse_sdk_frames(text: &str) -> Result<BTreeMap<String, u32>, String> {
    let mut m = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let number = |w: &str| w.parse().map_err(|_| format!("line {}: {w} is no number", n + 1));
        match words[..] {
            [name, bytes] => {
                m.insert(name.to_string(), number(bytes)?);
            }
            [name, bytes, "callbacks", at] => {
                m.insert(name.to_string(), number(bytes)?);
                m.insert(callbacks_key(name), number(at)?);
            }
            _ => return Err(format!("line {}: expected `name bytes [callbacks N]`", n + 1)),
        }
    }
    Ok(m)
}

/// One thread's worst case.
#[derive(Debug, Clone)]
pub struct ThreadReport {
    /// The thread.
    pub name: String,
    /// Its stack.
    pub stack: u32,
    /// The deepest path: (function, its frame), outermost first; the last element may be
    /// an SDK function with its estimate.
    pub path: Vec<(String, u32)>,
    /// The library's own frames on that path.
    pub ours: u32,
    /// The SDK's part of that path.
    pub sdk: u32,
    /// The kernel's part (task switch and interrupt frames).
    pub kernel: u32,
}

impl ThreadReport {
    /// The worst case in all.
    pub fn total(&self) -> u32 {
        self.ours + self.sdk + self.kernel
    }

    /// Whether the worst case plus `margin` fits the stack.
    pub fn fits(&self, margin: f64) -> bool {
        f64::from(self.total()) * (1.0 + margin) <= f64::from(self.stack)
    }
}

/// Why the analysis could not give a bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A thread's entry or closure pattern matches no function (or several entries).
    NoFunction(String),
    /// An indirect call site no rule covers.
    UnresolvedIndirect(String),
    /// A call cycle no rule bounds (its functions).
    UnboundedRecursion(Vec<String>),
    /// An SDK function with no estimate.
    UnknownSdkFunction(String),
    /// A function that moves the stack pointer by a register (a large or variable frame)
    /// and has no exact frame size.
    UnknownFrame(String),
    /// An SDK function that calls the firmware back with no figure for the depth of its
    /// callbacks (`name bytes callbacks N` in sdk-frames.txt), or one with such a figure that
    /// no `[[callback]]` rule names (the callbacks would go uncounted).
    UncountedCallbacks(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NoFunction(p) => write!(f, "no single function matches `{p}`"),
            Problem::UnresolvedIndirect(c) => {
                write!(f, "an indirect call in `{c}` that no [[indirect]] rule covers")
            }
            Problem::UnboundedRecursion(c) => {
                write!(f, "a call cycle no [[recursion]] rule bounds: {}", c.join(" -> "))
            }
            Problem::UnknownSdkFunction(s) => {
                write!(f, "the SDK function `{s}` has no estimate in sdk-frames.txt")
            }
            Problem::UnknownFrame(s) => {
                write!(f, "`{s}` moves the stack pointer by a register: its frame is not known")
            }
            Problem::UncountedCallbacks(s) => write!(
                f,
                "the SDK function `{s}` calls the firmware back: it needs both a [[callback]] \
                 rule and `{s} BYTES callbacks N` in sdk-frames.txt"
            ),
        }
    }
}

/// Computes each thread's worst case.
///
/// # Errors
/// Every [`Problem`] found (all of them, not just the first).
pub fn analyse(
    p: &Program,
    cfg: &Config,
    sdk: &BTreeMap<String, u32>,
) -> Result<Vec<ThreadReport>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut reports = Vec::new();
    let p = &with_callbacks(p, cfg, sdk, &mut problems);
    for t in &cfg.thread {
        match analyse_thread(p, cfg, sdk, t) {
            Ok(r) => reports.push(r),
            Err(mut e) => problems.append(&mut e),
        }
    }
    problems.sort_by_key(|p| p.to_string());
    problems.dedup();
    if problems.is_empty() {
        Ok(reports)
    } else {
        Err(problems)
    }
}

/// The program with a stand-in for each SDK function that calls the firmware back: a
/// function of the SDK's frames below the callbacks that calls them, called wherever the SDK
/// function is.
fn with_callbacks(
    p: &Program,
    cfg: &Config,
    sdk: &BTreeMap<String, u32>,
    problems: &mut Vec<Problem>,
) -> Program {
    let mut out = p.clone();
    let called: BTreeSet<&String> = p.functions.iter().flat_map(|f| f.external.iter()).collect();
    for name in &called {
        let rule = cfg.callback.iter().find(|r| r.sdk.contains(name));
        let at = sdk.get(&callbacks_key(name));
        let (rule, at) = match (rule, at) {
            (None, None) => continue,
            (Some(r), Some(at)) => (r, *at),
            _ => {
                problems.push(Problem::UncountedCallbacks((*name).clone()));
                continue;
            }
        };
        let callees = p
            .address_taken
            .iter()
            .copied()
            .filter(|j| rule.callees.iter().any(|c| p.functions[*j].demangled.contains(c)))
            .collect();
        let standin = out.functions.len();
        out.functions.push(Function {
            name: format!("{SDK_STANDIN}{name} to the firmware's callbacks"),
            demangled: format!("{SDK_STANDIN}{name} to the firmware's callbacks"),
            frame: at,
            exact_frame: true,
            calls: callees,
            external: BTreeSet::new(),
            indirect_calls: 0,
        });
        for f in &mut out.functions[..standin] {
            if f.external.contains(*name) {
                f.calls.insert(standin);
            }
        }
    }
    out
}

/// A function's worst case: (stack bytes, the path to it as (function, frame) pairs, the
/// bytes of it spent in the SDK's frames).
type Worst = (u32, Vec<(String, u32)>, u32);

/// The call graph as seen from one thread: every function's callees, indirect calls
/// resolved.
fn edges(
    p: &Program,
    cfg: &Config,
    t: &Thread,
    entry: usize,
    problems: &mut Vec<Problem>,
) -> Vec<BTreeSet<usize>> {
    let matches =
        |i: usize, pats: &[String]| pats.iter().any(|s| p.functions[i].demangled.contains(s));
    let mut out: Vec<BTreeSet<usize>> = p.functions.iter().map(|f| f.calls.clone()).collect();
    for (i, f) in p.functions.iter().enumerate() {
        if f.indirect_calls == 0 {
            continue;
        }
        if i == entry && !t.runs.is_empty() {
            let runs: BTreeSet<usize> =
                (0..p.functions.len()).filter(|j| matches(*j, &t.runs)).collect();
            if runs.is_empty() {
                problems.push(Problem::NoFunction(t.runs.join(" | ")));
            }
            out[i].extend(runs);
            continue;
        }
        match cfg.indirect.iter().find(|r| f.demangled.contains(&r.caller)) {
            Some(rule) => {
                out[i]
                    .extend(p.address_taken.iter().copied().filter(|j| matches(*j, &rule.callees)));
            }
            None => problems.push(Problem::UnresolvedIndirect(f.demangled.clone())),
        }
    }
    out
}

fn analyse_thread(
    p: &Program,
    cfg: &Config,
    sdk: &BTreeMap<String, u32>,
    t: &Thread,
) -> Result<ThreadReport, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut entries = p.find(&t.entry);
    // A C name is also part of longer ones (mbedtls_ssl_write, mbedtls_ssl_write_record): the
    // function of exactly that name, if there is one.
    if entries.len() > 1 && entries.iter().any(|i| p.functions[*i].name == t.entry) {
        entries.retain(|i| p.functions[*i].name == t.entry);
    }
    let [entry] = entries[..] else {
        return Err(vec![Problem::NoFunction(t.entry.clone())]);
    };
    let mut graph = edges(p, cfg, t, entry, &mut problems);
    // The panic handler: a leaf of the graph, whose own cost (with its own panics cut) is
    // charged to each function that calls it.
    let handler = match cfg.panic_handler.as_ref().map(|h| (h, p.find(h))) {
        None => None,
        Some((_, found)) if found.len() == 1 => Some(found[0]),
        Some((h, _)) => {
            problems.push(Problem::NoFunction(h.clone()));
            None
        }
    };
    let mut panics = BTreeSet::new();
    if let Some(h) = handler {
        for (i, callees) in graph.iter_mut().enumerate() {
            if callees.remove(&h) {
                panics.insert(i);
            }
        }
    }
    // Only what the entry reaches counts (an unresolved site elsewhere is someone else's).
    let mut reach = reachable(&graph, entry);
    if let Some(h) = handler {
        if !panics.is_disjoint(&reach) {
            reach.extend(reachable(&graph, h));
        }
    }
    problems.retain(|pr| match pr {
        Problem::UnresolvedIndirect(name) => {
            reach.iter().any(|i| p.functions[*i].demangled == *name)
        }
        _ => true,
    });
    let sccs = strongly_connected(&graph, &reach);
    let mut scc_of = BTreeMap::new();
    for (k, c) in sccs.iter().enumerate() {
        for f in c {
            scc_of.insert(*f, k);
        }
    }
    // Depth bound of each cycle.
    let mut rounds = vec![1u32; sccs.len()];
    for (k, c) in sccs.iter().enumerate() {
        let cyclic = c.len() > 1 || graph[c[0]].contains(&c[0]);
        if !cyclic {
            continue;
        }
        let rule = cfg
            .recursion
            .iter()
            .find(|r| c.iter().any(|f| p.functions[*f].demangled.contains(&r.member)));
        match rule {
            Some(r) => rounds[k] = r.depth,
            None => problems.push(Problem::UnboundedRecursion(
                c.iter().map(|f| p.functions[*f].demangled.clone()).collect(),
            )),
        }
    }
    for f in &reach {
        if p.register_frames.contains(f) {
            problems.push(Problem::UnknownFrame(p.functions[*f].demangled.clone()));
        }
        for e in &p.functions[*f].external {
            if !sdk.contains_key(e) {
                problems.push(Problem::UnknownSdkFunction(e.clone()));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // Worst case from each function, cycles costing their rounds times their heaviest
    // simple path. Memoised; SCCs are visited callee-first (Tarjan's order).
    let mut best: BTreeMap<usize, Worst> = BTreeMap::new();
    // The handler's subgraph first (it calls nothing that panics into it again).
    let handler_cost = |best: &BTreeMap<usize, Worst>| handler.and_then(|h| best.get(&h).cloned());
    let mut order: Vec<usize> = (0..sccs.len()).collect();
    if let Some(h) = handler {
        let below = reachable(&graph, h);
        order.sort_by_key(|k| !sccs[*k].iter().all(|f| below.contains(f)));
    }
    for k in order {
        let c = &sccs[k];
        let members: BTreeSet<usize> = c.iter().copied().collect();
        // The deepest way out of the cycle (or out of a single function).
        let mut exit: Worst = (0, Vec::new(), 0);
        for f in c {
            for callee in &graph[*f] {
                if members.contains(callee) {
                    continue;
                }
                let (cost, path, sdk_part) = &best[callee];
                if *cost > exit.0 {
                    exit = (*cost, path.clone(), *sdk_part);
                }
            }
            for e in &p.functions[*f].external {
                let cost = sdk[e];
                if cost > exit.0 {
                    exit = (cost, vec![(format!("{e} (SDK)"), cost)], cost);
                }
            }
            if panics.contains(f) {
                if let Some((cost, path, sdk_part)) = handler_cost(&best) {
                    if cost > exit.0 {
                        exit = (cost, path, sdk_part);
                    }
                }
            }
        }
        let (round, round_path) = heaviest_simple_path(p, &graph, &members, c);
        let cost = round * rounds[k] + exit.0;
        let standin = match c[..] {
            [f] if p.functions[f].name.starts_with(SDK_STANDIN) => p.functions[f].frame,
            _ => 0,
        };
        let mut path = round_path.clone();
        if rounds[k] > 1 {
            let more = round * (rounds[k] - 1);
            let what = format!(
                "(the {} function(s) above again: {} rounds of the cycle in all)",
                round_path.len(),
                rounds[k]
            );
            path.push((what, more));
        }
        path.extend(exit.1);
        for f in c {
            best.insert(*f, (cost, path.clone(), exit.2 + standin));
        }
    }
    let (total, path, sdk_part) = best[&entry].clone();
    let _ = &handler_cost;
    Ok(ThreadReport {
        name: t.name.clone(),
        stack: t.stack,
        path,
        ours: total - sdk_part,
        sdk: sdk_part,
        kernel: cfg.context_switch + cfg.interrupt,
    })
}

/// The heaviest simple path (sum of frames) inside one strongly connected set, and the path.
fn heaviest_simple_path(
    p: &Program,
    graph: &[BTreeSet<usize>],
    members: &BTreeSet<usize>,
    c: &[usize],
) -> (u32, Vec<(String, u32)>) {
    fn dfs(
        p: &Program,
        graph: &[BTreeSet<usize>],
        members: &BTreeSet<usize>,
        f: usize,
        seen: &mut Vec<usize>,
        budget: &mut u32,
    ) -> (u32, Vec<usize>) {
        let mut best = (0, Vec::new());
        if *budget == 0 {
            // Too many paths to enumerate: charge the rest of the set as if on the path.
            let rest: u32 =
                members.iter().filter(|m| !seen.contains(m)).map(|m| p.functions[*m].frame).sum();
            return (rest, Vec::new());
        }
        *budget -= 1;
        for next in &graph[f] {
            if members.contains(next) && !seen.contains(next) {
                seen.push(*next);
                let (w, mut path) = dfs(p, graph, members, *next, seen, budget);
                seen.pop();
                let w = w + p.functions[*next].frame;
                if w > best.0 {
                    path.insert(0, *next);
                    best = (w, path);
                }
            }
        }
        best
    }
    let mut best = (0, Vec::new());
    let mut budget = 200_000u32;
    for start in c {
        let mut seen = vec![*start];
        let (w, mut path) = dfs(p, graph, members, *start, &mut seen, &mut budget);
        let w = w + p.functions[*start].frame;
        if w > best.0 {
            path.insert(0, *start);
            best = (w, path);
        }
    }
    let named = best.1.iter().map(|f| (p.functions[*f].demangled.clone(), p.functions[*f].frame));
    (best.0, named.collect())
}

fn reachable(graph: &[BTreeSet<usize>], from: usize) -> BTreeSet<usize> {
    let mut seen = BTreeSet::from([from]);
    let mut todo = vec![from];
    while let Some(f) = todo.pop() {
        for c in &graph[f] {
            if seen.insert(*c) {
                todo.push(*c);
            }
        }
    }
    seen
}

/// Tarjan's strongly connected components of the subgraph `nodes`, callees before callers.
fn strongly_connected(graph: &[BTreeSet<usize>], nodes: &BTreeSet<usize>) -> Vec<Vec<usize>> {
    struct State {
        index: BTreeMap<usize, u32>,
        low: BTreeMap<usize, u32>,
        on_stack: BTreeSet<usize>,
        stack: Vec<usize>,
        next: u32,
        out: Vec<Vec<usize>>,
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on_stack: BTreeSet::new(),
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    // Iterative Tarjan: (node, its callees not yet looked at).
    for &root in nodes {
        if s.index.contains_key(&root) {
            continue;
        }
        let mut work: Vec<(usize, Vec<usize>)> = Vec::new();
        let visit = |s: &mut State, v: usize, work: &mut Vec<(usize, Vec<usize>)>| {
            s.index.insert(v, s.next);
            s.low.insert(v, s.next);
            s.next += 1;
            s.stack.push(v);
            s.on_stack.insert(v);
            let callees: Vec<usize> =
                graph[v].iter().copied().filter(|c| nodes.contains(c)).collect();
            work.push((v, callees));
        };
        visit(&mut s, root, &mut work);
        while let Some((v, callees)) = work.last_mut() {
            let v = *v;
            if let Some(w) = callees.pop() {
                if !s.index.contains_key(&w) {
                    visit(&mut s, w, &mut work);
                } else if s.on_stack.contains(&w) {
                    let lw = s.index[&w];
                    let lv = s.low.get_mut(&v).expect("visited");
                    *lv = (*lv).min(lw);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _)) = work.last() {
                let lv = s.low[&v];
                let lp = s.low.get_mut(parent).expect("visited");
                *lp = (*lp).min(lv);
            }
            if s.low[&v] == s.index[&v] {
                let mut comp = Vec::new();
                while let Some(w) = s.stack.pop() {
                    s.on_stack.remove(&w);
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                s.out.push(comp);
            }
        }
    }
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, frame: u32, calls: &[usize], indirect: u32) -> Function {
        Function {
            name: name.into(),
            demangled: name.into(),
            frame,
            exact_frame: true,
            calls: calls.iter().copied().collect(),
            external: BTreeSet::new(),
            indirect_calls: indirect,
        }
    }

    fn cfg(extra: &str) -> Config {
        Config::parse(&format!(
            "margin = 0.25\ncontext_switch = 100\ninterrupt = 0\npanic_handler = \"panic\"\n\
             [[thread]]\nname = \"t\"\n\
             stack = 4096\nentry = \"entry\"\nruns = [\"job\"]\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn the_deepest_path_with_the_sdk_and_the_kernel_on_top() {
        // entry -(indirect)-> job -> a -> b ; job -> c -> sdk_send (300)
        let mut p = Program {
            functions: vec![
                f("entry", 32, &[], 1),
                f("job", 100, &[2, 4], 0),
                f("a", 200, &[3], 0),
                f("b", 50, &[], 0),
                f("c", 16, &[], 0),
                f("panic", 40, &[], 0),
            ],
            ..Default::default()
        };
        p.functions[4].external.insert("send".into());
        p.address_taken.insert(1);
        let sdk = BTreeMap::from([("send".to_string(), 300)]);
        let r = analyse(&p, &cfg(""), &sdk).unwrap();
        assert_eq!(r[0].ours, 32 + 100 + 16);
        assert_eq!(r[0].sdk, 300);
        assert_eq!(r[0].kernel, 100);
        assert_eq!(r[0].total(), 548);
        assert_eq!(r[0].path.last().unwrap().0, "send (SDK)");
        assert!(r[0].fits(0.25));
        assert!(!ThreadReport { stack: 600, ..r[0].clone() }.fits(0.25));
    }

    #[test]
    fn recursion_needs_a_bound_and_costs_its_rounds() {
        // entry -> job -> x <-> y (x 40, y 60), bounded at 3 rounds.
        let mut p = Program {
            functions: vec![
                f("entry", 10, &[], 1),
                f("job", 10, &[2], 0),
                f("x", 40, &[3], 0),
                f("y", 60, &[2], 0),
                f("panic", 40, &[], 0),
            ],
            ..Default::default()
        };
        p.address_taken.insert(1);
        let e = analyse(&p, &cfg(""), &BTreeMap::new()).unwrap_err();
        assert!(matches!(&e[0], Problem::UnboundedRecursion(c) if c.len() == 2), "{e:?}");
        let bounded = cfg("[[recursion]]\nmember = \"x\"\ndepth = 3\nwhy = \"test\"\n");
        let r = analyse(&p, &bounded, &BTreeMap::new()).unwrap();
        assert_eq!(r[0].ours, 10 + 10 + 3 * 100);
    }

    #[test]
    fn indirect_calls_need_a_rule_and_sdk_calls_an_estimate() {
        let mut p = Program {
            functions: vec![
                f("entry", 10, &[], 1),
                f("job", 10, &[2], 0),
                f("core::fmt::write", 30, &[], 1),
                f("<T as core::fmt::Display>::fmt", 70, &[], 0),
                f("panic", 40, &[], 0),
            ],
            ..Default::default()
        };
        p.functions[1].external.insert("printf".into());
        p.address_taken.extend([1, 3]);
        let e = analyse(&p, &cfg(""), &BTreeMap::new()).unwrap_err();
        assert!(e.contains(&Problem::UnresolvedIndirect("core::fmt::write".into())), "{e:?}");
        assert!(e.contains(&Problem::UnknownSdkFunction("printf".into())), "{e:?}");
        let rule = "[[indirect]]\ncaller = \"core::fmt::\"\ncallees = [\"::fmt\"]\nwhy = \"t\"\n";
        let sdk = BTreeMap::from([("printf".to_string(), 500)]);
        let r = analyse(&p, &cfg(rule), &sdk).unwrap();
        assert_eq!((r[0].ours, r[0].sdk), (20, 500), "printf is deeper than fmt");
        let sdk = BTreeMap::from([("printf".to_string(), 5)]);
        let r = analyse(&p, &cfg(rule), &sdk).unwrap();
        assert_eq!((r[0].ours, r[0].sdk), (10 + 10 + 30 + 70, 0));
    }

    #[test]
    fn a_panic_costs_the_handler_once_even_when_the_handler_could_panic_again() {
        // entry -(indirect)-> job -> idx (panics) ; panic -> fmt -> idx2 -> panic (a cycle
        // only a panic inside the handler would take).
        let mut p = Program {
            functions: vec![
                f("entry", 10, &[], 1),
                f("job", 20, &[2], 0),
                f("idx", 30, &[3], 0),
                f("panic", 100, &[4], 0),
                f("fmt", 200, &[5], 0),
                f("idx2", 8, &[3], 0),
            ],
            ..Default::default()
        };
        p.address_taken.insert(1);
        let r = analyse(&p, &cfg(""), &BTreeMap::new()).unwrap();
        assert_eq!(r[0].ours, 10 + 20 + 30 + 100 + 200 + 8);
        assert_eq!(r[0].path.iter().filter(|(n, _)| n == "panic").count(), 1);
    }

    #[test]
    fn sdk_functions_that_call_the_firmware_back_count_the_callbacks_on_top() {
        // entry -(indirect)-> job -> ssl_read (SDK: 1000 deep, 300 below its callbacks);
        // bio (address-taken, the callback) -> recv (SDK: 900).
        let mut p = Program {
            functions: vec![
                f("entry", 10, &[], 1),
                f("job", 20, &[], 0),
                f("bio", 40, &[], 0),
                f("panic", 8, &[], 0),
            ],
            ..Default::default()
        };
        p.functions[1].external.insert("ssl_read".into());
        p.functions[2].external.insert("recv".into());
        p.address_taken.extend([1, 2]);
        let rule = "[[callback]]\nsdk = [\"ssl_read\"]\ncallees = [\"bio\"]\nwhy = \"t\"\n";
        let sdk = parse_sdk_frames("ssl_read 1000 callbacks 300\nrecv 900\n").unwrap();
        let r = analyse(&p, &cfg(rule), &sdk).unwrap();
        assert_eq!((r[0].ours, r[0].sdk), (10 + 20 + 40, 300 + 900), "{:?}", r[0].path);
        // The SDK's own path is deeper than its callbacks': the callbacks change nothing.
        let sdk = parse_sdk_frames("ssl_read 3000 callbacks 300\nrecv 900\n").unwrap();
        let r = analyse(&p, &cfg(rule), &sdk).unwrap();
        assert_eq!((r[0].ours, r[0].sdk), (10 + 20, 3000));
        // A figure without a rule, or a rule without a figure: the callbacks would go
        // uncounted.
        let sdk = parse_sdk_frames("ssl_read 1000 callbacks 300\nrecv 900\n").unwrap();
        let e = analyse(&p, &cfg(""), &sdk).unwrap_err();
        assert_eq!(e, vec![Problem::UncountedCallbacks("ssl_read".into())]);
        let sdk = parse_sdk_frames("ssl_read 1000\nrecv 900\n").unwrap();
        let e = analyse(&p, &cfg(rule), &sdk).unwrap_err();
        assert_eq!(e, vec![Problem::UncountedCallbacks("ssl_read".into())]);
    }

    #[test]
    fn an_entry_without_runs_is_an_sdk_function_whose_calls_follow_the_rules() {
        // `sdk-frames`: ssl_write's own indirect call goes by the rules; a C name that is part
        // of a longer one (ssl_write_record) still picks its own function.
        let p = Program {
            functions: vec![f("ssl_write", 10, &[1], 1), f("ssl_write_record", 20, &[], 0)],
            address_taken: [1].into(),
            ..Default::default()
        };
        let c = Config::parse(
            "margin = 0.0\ncontext_switch = 0\ninterrupt = 0\n[[thread]]\nname = \"ssl_write\"\n\
             stack = 0\nentry = \"ssl_write\"\nruns = []\n[[indirect]]\ncaller = \"ssl_\"\n\
             callees = [\"record\"]\nwhy = \"t\"\n",
        )
        .unwrap();
        let r = analyse(&p, &c, &BTreeMap::new()).unwrap();
        assert_eq!(r[0].total(), 30);
        assert_eq!(r[0].path[0], ("ssl_write".to_string(), 10));
    }

    #[test]
    fn sdk_frames_file() {
        let m = parse_sdk_frames("# c\nprintf 900\n\nsend 420 # lwip\n").unwrap();
        assert_eq!(m["printf"], 900);
        assert_eq!(m["send"], 420);
        assert!(parse_sdk_frames("printf\n").is_err());
        assert!(parse_sdk_frames("printf x\n").is_err());
        let m = parse_sdk_frames("ssl_read 3696 callbacks 688\n").unwrap();
        assert_eq!((m["ssl_read"], m[&callbacks_key("ssl_read")]), (3696, 688));
        assert!(parse_sdk_frames("ssl_read 3696 callbacks\n").is_err());
        assert!(parse_sdk_frames("ssl_read 3696 calls 5\n").is_err());
    }
}
