//! Every SDK function the `-sys` crates bind is implemented by the simulator with the same
//! signature: each pair below must coerce to one function-pointer type (a compile error
//! otherwise), and the test binary links only if the simulator defines every symbol.

macro_rules! same {
    ($n:tt; $sys:path, $sim:path) => {
        let _: same!(@ty $n) = if std::hint::black_box(false) { $sys } else { $sim };
    };
    (@ty 0) => { unsafe extern "C" fn() -> _ };
    (@ty 1) => { unsafe extern "C" fn(_) -> _ };
    (@ty 2) => { unsafe extern "C" fn(_, _) -> _ };
    (@ty 3) => { unsafe extern "C" fn(_, _, _) -> _ };
    (@ty 4) => { unsafe extern "C" fn(_, _, _, _) -> _ };
    (@ty 5) => { unsafe extern "C" fn(_, _, _, _, _) -> _ };
}

#[test]
fn the_simulator_implements_every_bound_function_with_its_signature() {
    same!(0; cmsis_rtos2_sys::osKernelLock, ws63_sim::rtos::osKernelLock);
    same!(0; cmsis_rtos2_sys::osKernelUnlock, ws63_sim::rtos::osKernelUnlock);
    same!(1; cmsis_rtos2_sys::osKernelRestoreLock, ws63_sim::rtos::osKernelRestoreLock);
    same!(0; cmsis_rtos2_sys::osKernelGetState, ws63_sim::rtos::osKernelGetState);
    same!(0; cmsis_rtos2_sys::osKernelGetTickCount, ws63_sim::rtos::osKernelGetTickCount);
    same!(0; cmsis_rtos2_sys::osKernelGetTickFreq, ws63_sim::rtos::osKernelGetTickFreq);
    same!(3; cmsis_rtos2_sys::osThreadNew, ws63_sim::rtos::osThreadNew);
    same!(1; cmsis_rtos2_sys::osThreadGetName, ws63_sim::rtos::osThreadGetName);
    same!(0; cmsis_rtos2_sys::osThreadGetId, ws63_sim::rtos::osThreadGetId);
    same!(0; cmsis_rtos2_sys::osThreadYield, ws63_sim::rtos::osThreadYield);
    same!(1; cmsis_rtos2_sys::osDelay, ws63_sim::rtos::osDelay);
    same!(1; cmsis_rtos2_sys::osMutexNew, ws63_sim::rtos::osMutexNew);
    same!(2; cmsis_rtos2_sys::osMutexAcquire, ws63_sim::rtos::osMutexAcquire);
    same!(1; cmsis_rtos2_sys::osMutexRelease, ws63_sim::rtos::osMutexRelease);
    same!(1; cmsis_rtos2_sys::osMutexDelete, ws63_sim::rtos::osMutexDelete);
    same!(3; cmsis_rtos2_sys::osSemaphoreNew, ws63_sim::rtos::osSemaphoreNew);
    same!(2; cmsis_rtos2_sys::osSemaphoreAcquire, ws63_sim::rtos::osSemaphoreAcquire);
    same!(1; cmsis_rtos2_sys::osSemaphoreRelease, ws63_sim::rtos::osSemaphoreRelease);
    same!(1; cmsis_rtos2_sys::osSemaphoreGetCount, ws63_sim::rtos::osSemaphoreGetCount);
    same!(1; cmsis_rtos2_sys::osSemaphoreDelete, ws63_sim::rtos::osSemaphoreDelete);
    same!(3; cmsis_rtos2_sys::osMessageQueueNew, ws63_sim::rtos::osMessageQueueNew);
    same!(4; cmsis_rtos2_sys::osMessageQueuePut, ws63_sim::rtos::osMessageQueuePut);
    same!(4; cmsis_rtos2_sys::osMessageQueueGet, ws63_sim::rtos::osMessageQueueGet);
    same!(1; cmsis_rtos2_sys::osMessageQueueGetCount, ws63_sim::rtos::osMessageQueueGetCount);
    same!(1; cmsis_rtos2_sys::osMessageQueueDelete, ws63_sim::rtos::osMessageQueueDelete);
    same!(0; lwip_sys::__errno_location, ws63_sim::net::__errno_location);
    same!(3; lwip_sys::socket, ws63_sim::net::socket);
    same!(3; lwip_sys::connect, ws63_sim::net::connect);
    same!(4; lwip_sys::send, ws63_sim::net::send);
    same!(4; lwip_sys::recv, ws63_sim::net::recv);
    same!(2; lwip_sys::shutdown, ws63_sim::net::shutdown);
    same!(5; lwip_sys::setsockopt, ws63_sim::net::setsockopt);
    same!(5; lwip_sys::getsockopt, ws63_sim::net::getsockopt);
    same!(5; lwip_sys::select, ws63_sim::net::select);
    same!(1; lwip_sys::closesocket, ws63_sim::net::closesocket);
    same!(3; lwip_sys::ioctlsocket, ws63_sim::net::ioctlsocket);
    same!(4; lwip_sys::getaddrinfo, ws63_sim::net::getaddrinfo);
    same!(1; lwip_sys::freeaddrinfo, ws63_sim::net::freeaddrinfo);
    same!(1; lwip_sys::netifapi_netif_find_by_name, ws63_sim::net::netifapi_netif_find_by_name);
    same!(4; lwip_sys::netifapi_netif_get_addr, ws63_sim::net::netifapi_netif_get_addr);
    same!(1; lwip_sys::netifapi_dhcp_start, ws63_sim::net::netifapi_dhcp_start);
    same!(1; lwip_sys::netifapi_dhcp_stop, ws63_sim::net::netifapi_dhcp_stop);
    same!(1; lwip_sys::netifapi_dhcp_is_bound, ws63_sim::net::netifapi_dhcp_is_bound);
    same!(2; ws63_sdk_sys::uapi_partition_get_info, ws63_sim::flash::uapi_partition_get_info);
    same!(0; ws63_sdk_sys::uapi_upg_get_status, ws63_sim::upgrade::uapi_upg_get_status);
    same!(1; ws63_sdk_sys::uapi_upg_prepare, ws63_sim::upgrade::uapi_upg_prepare);
    same!(3; ws63_sdk_sys::uapi_upg_write_package_sync, ws63_sim::upgrade::uapi_upg_write_package_sync);
    same!(3; ws63_sdk_sys::uapi_upg_read_package, ws63_sim::upgrade::uapi_upg_read_package);
    same!(0; ws63_sdk_sys::uapi_upg_get_storage_size, ws63_sim::upgrade::uapi_upg_get_storage_size);
    same!(1; ws63_sdk_sys::uapi_upg_request_upgrade, ws63_sim::upgrade::uapi_upg_request_upgrade);
    same!(0; ws63_sdk_sys::ws63_upg_init, ws63_sim::upgrade::ws63_upg_init);
    same!(0; ws63_sdk_sys::upg_reboot, ws63_sim::board::upg_reboot);
    same!(0; ws63_sdk_sys::upg_watchdog_kick, ws63_sim::board::upg_watchdog_kick);
    same!(0; ws63_sdk_sys::hal_reboot_chip, ws63_sim::board::hal_reboot_chip);
    same!(0; ws63_sdk_sys::wifi_is_wifi_inited, ws63_sim::wifi::wifi_is_wifi_inited);
    same!(0; ws63_sdk_sys::wifi_sta_enable, ws63_sim::wifi::wifi_sta_enable);
    same!(0; ws63_sdk_sys::wifi_sta_disable, ws63_sim::wifi::wifi_sta_disable);
    same!(0; ws63_sdk_sys::wifi_is_sta_enabled, ws63_sim::wifi::wifi_is_sta_enabled);
    same!(1; ws63_sdk_sys::wifi_sta_connect, ws63_sim::wifi::wifi_sta_connect);
    same!(0; ws63_sdk_sys::wifi_sta_disconnect, ws63_sim::wifi::wifi_sta_disconnect);
    same!(1; ws63_sdk_sys::wifi_sta_get_ap_info, ws63_sim::wifi::wifi_sta_get_ap_info);
    same!(1; ws63_sdk_sys::wifi_register_event_cb, ws63_sim::wifi::wifi_register_event_cb);
    same!(1; ws63_sdk_sys::wifi_unregister_event_cb, ws63_sim::wifi::wifi_unregister_event_cb);
}

/// How many pairs the test above checks.
const CHECKED: usize = 63;

#[test]
fn the_list_above_covers_every_function_in_the_committed_bindings() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut bound = 0;
    for file in [
        "cmsis-rtos2-sys/bindings/cmsis_os2.rs",
        "lwip-sys/bindings/lwip.rs",
        "ws63-sdk-sys/bindings/ws63_sdk.rs",
    ] {
        let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        bound += text.lines().filter(|l| l.trim_start().starts_with("pub fn ")).count();
    }
    // printf, malloc, calloc, free and memalign are the host C library's.
    assert_eq!(bound, CHECKED + 5, "a bound function is missing from the signature check");
}
