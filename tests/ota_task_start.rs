//! `ota_task_start()`, the C original's entry point: 0 when the OTA thread starts, -1 while
//! one runs.

use std::time::Duration;

use ws63_sim as _;

#[test]
fn the_c_entry_point_starts_one_ota_and_refuses_a_second() {
    let _g = ws63_sim::test_lock();
    ws63_sim::wifi::bring_up();
    // The configured host resolves slowly, so the first OTA is certainly still running when
    // the second call comes.
    ws63_sim::faults::Faults { dns_delay: Some(Duration::from_secs(30)), ..Default::default() }
        .install();
    assert_eq!(ws63_bms_gateway::ota_task_start(), 0);
    assert_eq!(ws63_bms_gateway::ota_task_start(), -1, "busy: no second thread");
    let ota_threads =
        ws63_sim::rtos::threads().into_iter().filter(|(_, t)| t.name() == "ota").count();
    assert_eq!(ota_threads, 1);
    assert!(ws63_bms_gateway::config().unwrap().ota.url.contains("{version}"));
}
