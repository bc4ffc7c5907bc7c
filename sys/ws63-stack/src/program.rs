//! The chip library as a call graph: its functions, their frame sizes (`.stack_sizes`, which
//! the chip build emits, or the prologue's stack-pointer decrements), their direct calls
//! (call and jump relocations), their indirect call sites, and what they leave to the SDK.

use std::collections::{BTreeMap, BTreeSet};

use object::read::archive::ArchiveFile;
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionIndex,
    SymbolIndex, SymbolKind,
};

use crate::riscv;

// RISC-V ELF relocation types.
const R_RISCV_32: u32 = 1;
const R_RISCV_JAL: u32 = 17;
const R_RISCV_CALL: u32 = 18;
const R_RISCV_CALL_PLT: u32 = 19;
const R_RISCV_RVC_JUMP: u32 = 45;

/// A function of the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Its (mangled) symbol name; local symbols of different objects keep their own entry.
    pub name: String,
    /// Its demangled name.
    pub demangled: String,
    /// Its frame size in bytes.
    pub frame: u32,
    /// Whether the frame size comes from `.stack_sizes` (else from the prologue).
    pub exact_frame: bool,
    /// Functions it calls directly (indices), or jumps to (tail calls).
    pub calls: BTreeSet<usize>,
    /// External functions it calls (defined by no object of the library: the SDK's).
    pub external: BTreeSet<String>,
    /// Indirect call sites (calls through a register).
    pub indirect_calls: u32,
}

/// The whole library.
#[derive(Debug, Default, Clone)]
pub struct Program {
    /// Every function.
    pub functions: Vec<Function>,
    /// Functions whose address is taken (a relocation outside a call refers to them): the
    /// candidates of indirect calls.
    pub address_taken: BTreeSet<usize>,
    /// Functions that move the stack pointer by a register: their frames are not known.
    pub register_frames: BTreeSet<usize>,
}

struct ObjFunction {
    name: String,
    global: bool,
    weak: bool,
    section: SectionIndex,
    offset: u64,
    size: u64,
}

impl Program {
    /// Reads a static library (`.a`) or a single relocatable object.
    ///
    /// # Errors
    /// When the bytes are neither, or an object cannot be parsed.
    pub fn read(bytes: &[u8]) -> Result<Program, String> {
        Program::read_all(&[bytes])
    }

    /// Reads several libraries (or objects) as one program, as a link would join them: a
    /// call one of them leaves undefined reaches the function another defines.
    ///
    /// # Errors
    /// When some bytes are neither a library nor an object, or an object cannot be parsed.
    pub fn read_all(libraries: &[&[u8]]) -> Result<Program, String> {
        let mut members = Vec::new();
        for bytes in libraries {
            let bytes: &[u8] = bytes;
            if let Ok(ar) = ArchiveFile::parse(bytes) {
                for m in ar.members() {
                    let m = m.map_err(|e| e.to_string())?;
                    let data = m.data(bytes).map_err(|e| e.to_string())?;
                    let name = String::from_utf8_lossy(m.name()).into_owned();
                    if data.starts_with(b"\x7fELF") {
                        members.push((name, data));
                    }
                }
            } else {
                members.push(("object".into(), bytes));
            }
        }
        let objects: Vec<(String, object::File<'_>)> = members
            .into_iter()
            .map(|(n, d)| object::File::parse(d).map(|f| (n, f)).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        let mut p = Program::default();
        // Pass 1: the functions of every object, and the global names.
        let mut per_object: Vec<Vec<(ObjFunction, usize)>> = Vec::new();
        let mut globals: BTreeMap<String, (usize, bool)> = BTreeMap::new();
        for (_, obj) in &objects {
            let mut fns = Vec::new();
            for s in obj.symbols() {
                if s.kind() != SymbolKind::Text || s.is_undefined() || s.size() == 0 {
                    continue;
                }
                let Some(section) = s.section_index() else { continue };
                let Ok(name) = s.name() else { continue };
                let f = ObjFunction {
                    name: name.to_string(),
                    global: s.is_global(),
                    weak: s.is_weak(),
                    section,
                    offset: s.address(),
                    size: s.size(),
                };
                let idx = p.functions.len();
                if f.global {
                    // A weak definition and a strong one: the link takes the strong one (a
                    // weak stub may be far smaller than the real code); of two alike, the first.
                    let strong = !f.weak;
                    match globals.get(&f.name) {
                        Some(&(_, true)) => {}
                        Some(&(_, false)) if !strong => {}
                        _ => {
                            globals.insert(f.name.clone(), (idx, strong));
                        }
                    }
                }
                p.functions.push(Function {
                    name: f.name.clone(),
                    demangled: format!("{:#}", rustc_demangle::demangle(&f.name)),
                    frame: 0,
                    exact_frame: false,
                    calls: BTreeSet::new(),
                    external: BTreeSet::new(),
                    indirect_calls: 0,
                });
                fns.push((f, idx));
            }
            per_object.push(fns);
        }
        let globals: BTreeMap<String, usize> =
            globals.into_iter().map(|(name, (idx, _))| (name, idx)).collect();
        // Pass 2: frames, calls, indirect sites, address-taken functions.
        for ((_, obj), fns) in objects.iter().zip(&per_object) {
            read_object(obj, fns, &globals, &mut p)?;
        }
        Ok(p)
    }

    /// The functions whose demangled (or mangled) name contains `pattern`.
    pub fn find(&self, pattern: &str) -> Vec<usize> {
        (0..self.functions.len())
            .filter(|i| {
                let f = &self.functions[*i];
                f.demangled.contains(pattern) || f.name == pattern
            })
            .collect()
    }
}

/// Where a relocation points: a function of this library, or an external name.
enum Target {
    Function(usize),
    External(String),
    Other,
}

fn resolve(
    obj: &object::File<'_>,
    fns: &[(ObjFunction, usize)],
    globals: &BTreeMap<String, usize>,
    sym: SymbolIndex,
    addend: i64,
) -> Target {
    let Ok(s) = obj.symbol_by_index(sym) else { return Target::Other };
    let name = s.name().unwrap_or("");
    if s.is_undefined() {
        return match globals.get(name) {
            Some(i) => Target::Function(*i),
            None if !name.is_empty() => Target::External(name.to_string()),
            None => Target::Other,
        };
    }
    let Some(section) = s.section_index() else { return Target::Other };
    // A function symbol, or a section symbol plus the addend.
    let at = (s.address() as i64 + if s.kind() == SymbolKind::Section { addend } else { 0 }) as u64;
    let local = fns
        .iter()
        .find(|(f, _)| f.section == section && f.offset <= at && at < f.offset + f.size.max(1));
    match local {
        Some((f, i)) => Target::Function(if f.global { globals[&f.name] } else { *i }),
        None => Target::Other,
    }
}

fn read_object(
    obj: &object::File<'_>,
    fns: &[(ObjFunction, usize)],
    globals: &BTreeMap<String, usize>,
    p: &mut Program,
) -> Result<(), String> {
    for section in obj.sections() {
        let name = section.name().unwrap_or("");
        if name == ".stack_sizes" || name.starts_with(".stack_sizes.") {
            let data = section.data().map_err(|e| e.to_string())?;
            for (at, rel) in section.relocations() {
                let RelocationTarget::Symbol(sym) = rel.target() else { continue };
                let Target::Function(i) = resolve(obj, fns, globals, sym, rel.addend()) else {
                    continue;
                };
                if let Some(size) = uleb128(data.get(at as usize + 4..).unwrap_or(&[])) {
                    p.functions[i].frame = size;
                    p.functions[i].exact_frame = true;
                }
            }
        }
    }
    for (f, idx) in fns {
        let section = obj.section_by_index(f.section).map_err(|e| e.to_string())?;
        let code = section.data().map_err(|e| e.to_string())?;
        let start = (f.offset - section.address()) as usize;
        let end = (start + f.size as usize).min(code.len());
        let body = &code[start.min(end)..end];
        // Calls and jumps by relocation; the `jalr` right after a call's `auipc` is its second
        // half, not an indirect call.
        let mut call_halves = BTreeSet::new();
        for (at, rel) in section.relocations() {
            let at = at.wrapping_sub(section.address());
            if at < start as u64 || at >= end as u64 {
                continue;
            }
            let RelocationFlags::Elf { r_type } = rel.flags() else { continue };
            if !matches!(r_type, R_RISCV_CALL | R_RISCV_CALL_PLT | R_RISCV_JAL | R_RISCV_RVC_JUMP) {
                continue;
            }
            if matches!(r_type, R_RISCV_CALL | R_RISCV_CALL_PLT) {
                call_halves.insert(at - start as u64 + 4);
            }
            let RelocationTarget::Symbol(sym) = rel.target() else { continue };
            match resolve(obj, fns, globals, sym, rel.addend()) {
                Target::Function(callee) => {
                    p.functions[*idx].calls.insert(callee);
                }
                Target::External(name) => {
                    p.functions[*idx].external.insert(name);
                }
                _ => {}
            }
        }
        let mut off = 0usize;
        let mut decrements = 0u32;
        // Every relocated offset, and where the code takes a jump table's address (LLVM names
        // them `.LJTI*`): the `jr` a few instructions on is the table's jump, inside the
        // function.
        let mut relocated = BTreeSet::new();
        let mut jump_tables = Vec::new();
        for (at, rel) in section.relocations() {
            let at = at.wrapping_sub(section.address());
            relocated.insert(at);
            let RelocationTarget::Symbol(sym) = rel.target() else { continue };
            let name = obj.symbol_by_index(sym).ok().and_then(|s| s.name().ok());
            if name.is_some_and(|n| n.starts_with(".LJTI")) {
                jump_tables.push(at);
            }
        }
        while off + 2 <= body.len() {
            let len = riscv::insn_len(u16::from_le_bytes([body[off], body[off + 1]]));
            let insn = &body[off..(off + len).min(body.len())];
            let at = (start + off) as u64;
            if !relocated.contains(&at) {
                if let Some((delta, n)) = riscv::pc_relative_call(&body[off..]) {
                    // A call inside the section: the function itself, or another one in it.
                    let target = at as i64 + delta + section.address() as i64;
                    let callee = fns.iter().find(|(g, _)| {
                        g.section == f.section
                            && g.offset as i64 <= target
                            && target < (g.offset + g.size.max(1)) as i64
                    });
                    if let Some((g, i)) = callee {
                        let i = if g.global { globals[&g.name] } else { *i };
                        p.functions[*idx].calls.insert(i);
                    }
                    off += n;
                    continue;
                }
            }
            let site = match riscv::indirect(insn) {
                Some(riscv::Indirect::Call) => true,
                // A jump through a register that is not a jump table's is a tail call through
                // a pointer: an indirect call that returns to our caller.
                Some(riscv::Indirect::Jump) => {
                    !jump_tables.iter().any(|t| *t < at && at - *t <= JUMP_TABLE_WINDOW)
                }
                _ => false,
            };
            if !call_halves.contains(&(off as u64)) && site {
                p.functions[*idx].indirect_calls += 1;
            }
            decrements += riscv::stack_decrement(insn).unwrap_or(0);
            if riscv::register_stack_adjust(insn) && !p.functions[*idx].exact_frame {
                p.register_frames.insert(*idx);
            }
            off += len;
        }
        if !p.functions[*idx].exact_frame {
            p.functions[*idx].frame = p.functions[*idx].frame.max(decrements);
        }
    }
    // Functions whose address is taken: referenced by a relocation that is no call or jump
    // (vtables, function pointers in data, address materialisation in code).
    for section in obj.sections() {
        let name = section.name().unwrap_or("");
        if name.starts_with(".stack_sizes") || name.starts_with(".debug") {
            continue;
        }
        for (_, rel) in section.relocations() {
            let RelocationFlags::Elf { r_type } = rel.flags() else { continue };
            if matches!(r_type, R_RISCV_CALL | R_RISCV_CALL_PLT | R_RISCV_JAL | R_RISCV_RVC_JUMP)
                || (16..=17).contains(&r_type)
                || r_type == 44
            {
                // Branches (16 R_RISCV_BRANCH, 44 R_RISCV_RVC_BRANCH) stay inside a function.
                continue;
            }
            let RelocationTarget::Symbol(sym) = rel.target() else { continue };
            if let Target::Function(i) = resolve(obj, fns, globals, sym, rel.addend()) {
                // A data word pointing at a function, or code materialising its address.
                if r_type == R_RISCV_32
                    || section.kind() != object::SectionKind::Text
                    || is_address_reloc(r_type)
                {
                    p.address_taken.insert(i);
                }
            }
        }
    }
    Ok(())
}

/// How far before a `jr` the code that takes its jump table's address may be (bytes): LLVM
/// emits `lui`, `addi`, `add`, `lw`, `jr` (with a shift before them).
const JUMP_TABLE_WINDOW: u64 = 32;

/// `R_RISCV_HI20`, `LO12_I/S`, `PCREL_HI20`, `PCREL_LO12_I/S`: code computing an address.
fn is_address_reloc(r_type: u32) -> bool {
    (23..=28).contains(&r_type)
}

fn uleb128(b: &[u8]) -> Option<u32> {
    let mut v: u64 = 0;
    for (i, byte) in b.iter().enumerate().take(5) {
        v |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return u32::try_from(v).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::uleb128;

    #[test]
    fn uleb128_reads_what_llvm_writes() {
        assert_eq!(uleb128(&[0x10]), Some(16));
        assert_eq!(uleb128(&[0x80, 0x01]), Some(128));
        assert_eq!(uleb128(&[0xE0, 0x12, 0xFF]), Some(0x960));
        assert_eq!(uleb128(&[0x80]), None);
    }
}
