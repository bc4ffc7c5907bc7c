//! The few RV32IMC instructions the analysis needs to recognise: register-indirect calls and
//! jumps, and the stack pointer's decrements (frame sizes of code without `.stack_sizes`).

/// The `ra` register.
const RA: u32 = 1;
/// The `sp` register.
const SP: u32 = 2;

/// The length of the instruction whose first half-word is `half` (2 or 4 bytes).
pub fn insn_len(half: u16) -> usize {
    if half & 0b11 == 0b11 {
        4
    } else {
        2
    }
}

/// What a register-indirect control transfer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indirect {
    /// A call through a register (`jalr ra, 0(rs1)`, `c.jalr rs1`).
    Call,
    /// A return (`jalr x0, 0(ra)`, `c.jr ra`).
    Return,
    /// A jump through a register that is not a return: a jump table inside the function, or
    /// a tail call through a pointer.
    Jump,
}

/// Classifies the instruction at the start of `code` if it is a register-indirect call or
/// jump (a `jalr` that no call relocation explains).
pub fn indirect(code: &[u8]) -> Option<Indirect> {
    let half = u16::from_le_bytes([*code.first()?, *code.get(1)?]);
    if insn_len(half) == 2 {
        let funct4 = half >> 12;
        let rs1 = u32::from((half >> 7) & 0x1F);
        let rs2 = (half >> 2) & 0x1F;
        if half & 0b11 == 0b10 && rs2 == 0 && rs1 != 0 {
            return match funct4 {
                0b1001 => Some(Indirect::Call),
                0b1000 if rs1 == RA => Some(Indirect::Return),
                0b1000 => Some(Indirect::Jump),
                _ => None,
            };
        }
        return None;
    }
    let w = u32::from_le_bytes([code[0], code[1], *code.get(2)?, *code.get(3)?]);
    if w & 0x7F != 0x67 || (w >> 12) & 0b111 != 0 {
        return None;
    }
    let rd = (w >> 7) & 0x1F;
    let rs1 = (w >> 15) & 0x1F;
    Some(match (rd, rs1) {
        (0, RA) => Indirect::Return,
        (0, _) => Indirect::Jump,
        _ => Indirect::Call,
    })
}

/// A call whose target the code itself holds (no relocation: a call inside one section, which
/// with a section per function is a function calling itself): `jal ra, off`, `c.jal off`,
/// or `auipc rX, hi` followed by `jalr ra, lo(rX)`. Returns the target's offset from the
/// instruction and the length of the instruction(s).
pub fn pc_relative_call(code: &[u8]) -> Option<(i64, usize)> {
    let half = u16::from_le_bytes([*code.first()?, *code.get(1)?]);
    if insn_len(half) == 2 {
        // c.jal (RV32 only): funct3 001, op 01; offset[11|4|9:8|10|6|7|3:1|5].
        if half >> 13 != 0b001 || half & 0b11 != 0b01 {
            return None;
        }
        let b = |bit: u16, to: u32| u32::from((half >> bit) & 1) << to;
        let raw = b(12, 11)
            | b(11, 4)
            | b(10, 9)
            | b(9, 8)
            | b(8, 10)
            | b(7, 6)
            | b(6, 7)
            | b(5, 3)
            | b(4, 2)
            | b(3, 1)
            | b(2, 5);
        return Some((i64::from(sign_extend(raw, 12)), 2));
    }
    let w = u32::from_le_bytes([code[0], code[1], *code.get(2)?, *code.get(3)?]);
    let (opcode, rd) = (w & 0x7F, (w >> 7) & 0x1F);
    if opcode == 0x6F && rd == RA {
        // jal: imm[20|10:1|11|19:12] in bits 31|30:21|20|19:12.
        let raw = ((w >> 31) << 20)
            | (((w >> 21) & 0x3FF) << 1)
            | (((w >> 20) & 1) << 11)
            | (w & 0xF_F000);
        return Some((i64::from(sign_extend(raw, 21)), 4));
    }
    if opcode == 0x17 {
        let hi = i64::from((w & 0xFFFF_F000) as i32);
        let j = code.get(4..8)?;
        let j = u32::from_le_bytes([j[0], j[1], j[2], j[3]]);
        let (jop, jrd, jf3, jrs1) = (j & 0x7F, (j >> 7) & 0x1F, (j >> 12) & 7, (j >> 15) & 0x1F);
        if jop == 0x67 && jf3 == 0 && jrd == RA && jrs1 == rd {
            let lo = i64::from((j as i32) >> 20);
            return Some((hi + lo, 8));
        }
    }
    None
}

/// How many bytes the instruction at the start of `code` takes off the stack pointer
/// (`addi sp, sp, -N`, `c.addi16sp sp, -N`, `c.addi sp, -N`), if it does.
pub fn stack_decrement(code: &[u8]) -> Option<u32> {
    let half = u16::from_le_bytes([*code.first()?, *code.get(1)?]);
    if insn_len(half) == 2 {
        let funct3 = half >> 13;
        let rd = u32::from((half >> 7) & 0x1F);
        if half & 0b11 != 0b01 || rd != SP {
            return None;
        }
        let imm = match funct3 {
            // c.addi16sp: nzimm[9|4|6|8:7|5] in bits 12|6|5|4:3|2.
            0b011 => {
                let b = |bit: u16, to: u32| u32::from((half >> bit) & 1) << to;
                let raw = b(12, 9) | b(6, 4) | b(5, 6) | b(4, 8) | b(3, 7) | b(2, 5);
                sign_extend(raw, 10)
            }
            // c.addi sp, imm: nzimm[5] in bit 12, nzimm[4:0] in bits 6:2.
            0b000 => {
                let raw = (u32::from((half >> 12) & 1) << 5) | u32::from((half >> 2) & 0x1F);
                sign_extend(raw, 6)
            }
            _ => return None,
        };
        return (imm < 0).then(|| imm.unsigned_abs());
    }
    let w = u32::from_le_bytes([code[0], code[1], *code.get(2)?, *code.get(3)?]);
    let (opcode, rd, funct3, rs1) = (w & 0x7F, (w >> 7) & 0x1F, (w >> 12) & 7, (w >> 15) & 0x1F);
    if opcode != 0x13 || funct3 != 0 || rd != SP || rs1 != SP {
        return None;
    }
    let imm = (w as i32) >> 20;
    (imm < 0).then(|| imm.unsigned_abs())
}

/// Whether the instruction at the start of `code` moves the stack pointer by a register
/// (`add sp, sp, rX`, `sub sp, sp, rX`, `c.add sp, rX`): a frame whose size the prologue's
/// immediates do not show (a large frame, or a variable-size allocation).
pub fn register_stack_adjust(code: &[u8]) -> bool {
    let Some(half) = code.get(..2).map(|h| u16::from_le_bytes([h[0], h[1]])) else {
        return false;
    };
    if insn_len(half) == 2 {
        // c.add rd, rs2: funct4 1001, op 10, rs2 != 0; rd = sp.
        let (rd, rs2) = (u32::from((half >> 7) & 0x1F), (half >> 2) & 0x1F);
        return half & 0b11 == 0b10 && half >> 12 == 0b1001 && rd == SP && rs2 != 0;
    }
    let Some(w) = code.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])) else {
        return false;
    };
    let (opcode, rd, funct3, rs1, funct7) =
        (w & 0x7F, (w >> 7) & 0x1F, (w >> 12) & 7, (w >> 15) & 0x1F, w >> 25);
    opcode == 0x33 && funct3 == 0 && (funct7 == 0 || funct7 == 0x20) && rd == SP && rs1 == SP
}

fn sign_extend(v: u32, bits: u32) -> i32 {
    let shift = 32 - bits;
    ((v << shift) as i32) >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(x: u32) -> [u8; 4] {
        x.to_le_bytes()
    }

    fn h(x: u16) -> [u8; 2] {
        x.to_le_bytes()
    }

    #[test]
    fn indirect_calls_returns_and_jumps() {
        // jalr ra, 0(a5) = 0x000780e7; ret = jalr x0, 0(ra) = 0x00008067; jr a0 = 0x00050067.
        assert_eq!(indirect(&w(0x0007_80e7)), Some(Indirect::Call));
        assert_eq!(indirect(&w(0x0000_8067)), Some(Indirect::Return));
        assert_eq!(indirect(&w(0x0005_0067)), Some(Indirect::Jump));
        // c.jalr a5 = 0x9782; c.jr ra (ret) = 0x8082; c.jr a0 = 0x8502.
        assert_eq!(indirect(&h(0x9782)), Some(Indirect::Call));
        assert_eq!(indirect(&h(0x8082)), Some(Indirect::Return));
        assert_eq!(indirect(&h(0x8502)), Some(Indirect::Jump));
        // c.mv a0, a1 = 0x852e (rs2 != 0) and c.ebreak = 0x9002 (rs1 = 0) are neither.
        assert_eq!(indirect(&h(0x852e)), None);
        assert_eq!(indirect(&h(0x9002)), None);
        // addi a0, a0, 1 = 0x00150513.
        assert_eq!(indirect(&w(0x0015_0513)), None);
    }

    #[test]
    fn calls_whose_target_the_code_holds() {
        // From binutils: at 0x00 `jal ra, 0x40` = 0x040000ef; at 0x04 `c.jal -4` (to 0x00)
        // = 0x3ff5; auipc ra, 0 + jalr -394(ra) = 0x00000097 0xe76080e7.
        assert_eq!(pc_relative_call(&w(0x0400_00ef)), Some((0x40, 4)));
        assert_eq!(pc_relative_call(&h(0x3ff5)), Some((-4, 2)));
        let mut pair = w(0x0000_0097).to_vec();
        pair.extend(w(0xe760_80e7));
        assert_eq!(pc_relative_call(&pair), Some((-394, 8)));
        // jal x0 (a jump) and an auipc not followed by a call are not calls.
        assert_eq!(pc_relative_call(&w(0x0400_006f)), None);
        let mut other = w(0x0000_0097).to_vec();
        other.extend(w(0x0015_0513));
        assert_eq!(pc_relative_call(&other), None);
    }

    #[test]
    fn stack_pointer_moved_by_a_register() {
        // sub sp, sp, a0 = 0x40a10133; add sp, sp, a0 = 0x00a10133; c.add sp, a0 = 0x912a.
        assert!(register_stack_adjust(&w(0x40a1_0133)));
        assert!(register_stack_adjust(&w(0x00a1_0133)));
        assert!(register_stack_adjust(&h(0x912a)));
        // mv sp, s0 (c.mv, restoring the frame) = 0x8122; sub a0, a0, a1 = 0x40b50533.
        assert!(!register_stack_adjust(&h(0x8122)));
        assert!(!register_stack_adjust(&w(0x40b5_0533)));
    }

    #[test]
    fn stack_pointer_decrements() {
        // addi sp, sp, -2032 = 0x81010113; addi sp, sp, 16 = 0x01010113.
        assert_eq!(stack_decrement(&w(0x8101_0113)), Some(2032));
        assert_eq!(stack_decrement(&w(0x0101_0113)), None);
        // c.addi16sp sp, -64 = 0x7139; c.addi16sp sp, -496 = 0x7141; c.addi16sp sp, 32 = 0x6105
        // (encodings from binutils' assembler).
        assert_eq!(stack_decrement(&h(0x7139)), Some(64));
        assert_eq!(stack_decrement(&h(0x7141)), Some(496));
        assert_eq!(stack_decrement(&h(0x6105)), None);
        // c.addi sp, -16 = 0x1141; c.addi sp, 16 = 0x0141.
        assert_eq!(stack_decrement(&h(0x1141)), Some(16));
        assert_eq!(stack_decrement(&h(0x0141)), None);
        // addi a0, sp, -16 (not sp) = 0xff010513.
        assert_eq!(stack_decrement(&w(0xff01_0513)), None);
    }
}
