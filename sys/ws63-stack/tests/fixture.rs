//! `Program::read` on a library assembled from `tests/fixture/*.s`: what it counts as an
//! indirect call, which definition a call reaches, which frames it cannot know.

use ws63_stack::Program;

fn find(p: &Program, name: &str) -> usize {
    let found = p.find(name);
    *found.iter().find(|i| p.functions[**i].name == name).expect(name)
}

#[test]
fn tail_calls_jump_tables_weak_stubs_and_register_frames() {
    let p = Program::read(include_bytes!("fixture/fixture.a")).unwrap();
    // `lw a5, 8(a0); jr a5`: a tail call through a pointer, which needs a rule.
    assert_eq!(p.functions[find(&p, "tail")].indirect_calls, 1);
    // The same `jr` after taking `.LJTI0_0`'s address: a jump table inside the function.
    assert_eq!(p.functions[find(&p, "table")].indirect_calls, 0);
    // `sub sp, sp, t0`: a frame the prologue does not show.
    assert!(p.register_frames.contains(&find(&p, "frame")));
    assert!(!p.register_frames.contains(&find(&p, "caller")));
    // `pick` is a weak 16-byte stub in the first object and a 1024-byte function in the last:
    // the call reaches the strong one, as the link does.
    let caller = &p.functions[find(&p, "caller")];
    let callees: Vec<u32> = caller.calls.iter().map(|i| p.functions[*i].frame).collect();
    assert_eq!(callees, vec![1024]);
}
