/* WiFi station API of the WS63 SDK: the subset used to join a network. */
#ifndef WS63_DECLS_WIFI_DEVICE_H
#define WS63_DECLS_WIFI_DEVICE_H

#include <stdint.h>
#include "errcode.h"

#define WIFI_MAX_SSID_LEN 33
#define WIFI_MAX_KEY_LEN 65
#define WIFI_MAC_LEN 6

typedef enum {
    IFTYPE_STA,
    IFTYPE_AP,
    IFTYPE_P2P_CLIENT,
    IFTYPE_P2P_GO,
    IFTYPE_P2P_DEVICE,
    IFTYPES_BUTT
} wifi_if_type_enum;

typedef enum {
    WIFI_SEC_TYPE_INVALID = -1,
    WIFI_SEC_TYPE_OPEN,
    WIFI_SEC_TYPE_WEP,
    WIFI_SEC_TYPE_WPA2PSK,
    WIFI_SEC_TYPE_WPA2_WPA_PSK_MIX,
    WIFI_SEC_TYPE_WPAPSK,
    WIFI_SEC_TYPE_WPA,
    WIFI_SEC_TYPE_WPA2,
    WIFI_SEC_TYPE_SAE,
    WIFI_SEC_TYPE_WPA3_WPA2_PSK_MIX,
    WIFI_SEC_TYPE_WPA3,
    WIFI_SEC_TYPE_OWE,
    WIFI_SEC_TYPE_WAPI_PSK,
    WIFI_SEC_TYPE_WAPI_CERT,
    WIFI_SEC_TYPE_WPA3_WPA2_MIX,
    WIFI_SEC_TYPE_WEP_OPEN,
    WIFI_SEC_TYPE_UNKNOWN
} wifi_security_enum;

typedef enum {
    STATIC_IP,
    DHCP,
    UNKNOWN
} ip_type_stru_enum;

typedef enum {
    WIFI_DISCONNECTED,
    WIFI_CONNECTED,
    WIFI_CONNECTING,
    WIFI_CONN_STATUS_BUTT
} wifi_conn_state_enum;

typedef struct {
    uint32_t ip_address;
    uint32_t gateway;
    uint32_t dns_servers[2];
    uint32_t netmask;
} ip_config_stru;

typedef struct {
    uint8_t ipv6_address[16];
    uint8_t ipv6_dns_servers[2][16];
} ipv6_config_stru;

typedef struct {
    int8_t ssid[WIFI_MAX_SSID_LEN];
    uint8_t bssid[WIFI_MAC_LEN];
    int8_t pre_shared_key[WIFI_MAX_KEY_LEN];
    wifi_security_enum security_type;
    int8_t wifi_psk_type;
    int8_t strengthen_verify;
    uint8_t channel;
    int8_t rsv;
    ip_type_stru_enum ip_type;
    ip_config_stru static_ip;
    ipv6_config_stru static_ipv6;
} wifi_sta_config_stru;

typedef struct {
    int8_t ssid[WIFI_MAX_SSID_LEN];
    uint8_t bssid[WIFI_MAC_LEN];
    int8_t wpa_state;
    int32_t rssi;
    int16_t disconn_state;
    int16_t channel_num;
    int32_t snr;
    wifi_conn_state_enum conn_state;
} wifi_linked_info_stru;

typedef struct {
    uint8_t mac_addr[WIFI_MAC_LEN];
    int8_t rssi;
    int8_t rsv;
    uint32_t best_rate;
} wifi_sta_info_stru;

typedef struct {
    int32_t operation_channel;
    uint8_t mode;
    uint8_t wpa_state;
    int8_t group_ssid[WIFI_MAX_SSID_LEN];
    uint8_t group_bssid[WIFI_MAC_LEN];
    int8_t reserved[3];
} p2p_status_info_stru;

typedef struct {
    uint8_t gc_bssid[WIFI_MAC_LEN];
    uint8_t gc_device_bssid[WIFI_MAC_LEN];
    int8_t gc_device_name[WIFI_MAX_SSID_LEN];
    int8_t reserved[3];
} p2p_client_info_stru;

typedef struct {
    void (*wifi_event_connection_changed)(int32_t state, const wifi_linked_info_stru *info,
                                          int32_t reason_code);
    void (*wifi_event_scan_state_changed)(int32_t state, int32_t size);
    void (*wifi_event_softap_state_changed)(int32_t state);
    void (*wifi_event_softap_sta_join)(const wifi_sta_info_stru *info);
    void (*wifi_event_softap_sta_leave)(const wifi_sta_info_stru *info);
    void (*wifi_event_p2p_receive_connect)(const uint8_t *bssid, int8_t wps_method);
    void (*wifi_event_p2p_go_neg_result)(int32_t state, int32_t mode);
    void (*wifi_event_p2p_go_start)(int32_t state);
    void (*wifi_event_p2p_invitation_result)(int32_t state);
    void (*wifi_event_p2p_gc_connection_changed)(int32_t state,
                                                 const p2p_status_info_stru *status);
    void (*wifi_event_p2p_go_connection_changed)(int32_t state,
                                                 const p2p_client_info_stru *client);
    void (*wifi_event_wps_result)(int32_t state, wifi_if_type_enum wifi_if_type);
} wifi_event_stru;

int32_t wifi_is_wifi_inited(void);
errcode_t wifi_sta_enable(void);
errcode_t wifi_sta_disable(void);
int32_t wifi_is_sta_enabled(void);
errcode_t wifi_sta_connect(const wifi_sta_config_stru *config);
errcode_t wifi_sta_disconnect(void);
errcode_t wifi_sta_get_ap_info(wifi_linked_info_stru *result);
errcode_t wifi_register_event_cb(const wifi_event_stru *event);
errcode_t wifi_unregister_event_cb(const wifi_event_stru *event);

#endif
