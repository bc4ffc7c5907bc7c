//! The stack analysis's thread sizes (sys/ws63-stack/stacks.toml, checked against the chip
//! build by `cargo stack-check`) are the sizes the firmware creates its threads with.

#[test]
fn the_analysed_stacks_are_the_ones_the_firmware_creates() {
    let cfg = ws63_stack::Config::parse(include_str!("../sys/ws63-stack/stacks.toml")).unwrap();
    let size = |name: &str| cfg.thread.iter().find(|t| t.name == name).map(|t| t.stack);
    assert_eq!(size("gateway"), Some(ws63_bms_gateway::GATEWAY_STACK));
    assert_eq!(size("ota"), Some(ota::board::TaskConfig::default().stack_size));
    assert!(cfg.margin >= 0.25, "the stacks keep at least 25 % above their worst case");
}
