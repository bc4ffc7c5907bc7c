/*
 * Emulator lane only (.ci/emulate): an lwIP network interface over the WS63 emulator's
 * synthetic Ethernet NIC `ws63-netmac` (QEMU machine `ws63`; registers in the emulator's
 * README). It is never installed by sdk/install.sh, is not part of the product, and does not
 * exist on a chip: there the radio and the SDK's WiFi driver give the firmware `wlan0`.
 *
 * struct netif *ws63_emu_net_up(void): starts lwIP's tcpip thread if nothing has (on a chip
 * the WiFi driver does; the emulator image has no WiFi task), registers the interface with the SDK's lwIP the way
 * the SDK's drivers do (a LiteOS `driverif`: link_layer_type, hwaddr, drv_send, then
 * netifapi_netif_add, which runs driverif_init and sets tcpip_input), makes it the default
 * interface, brings it and its link up, enables the NIC and starts the receive thread. Returns
 * the interface (the firmware then starts DHCP on it: QEMU's user-mode network answers), or
 * NULL. A second call returns the same interface. It also starts the lane's measurements
 * (emu_watch.c), which only the emulator-net images need.
 *
 * Receive: a thread polls RX_READY every tick and drains the NIC (one frame in RX_BUF at a
 * time; with the netmac-flush fix QEMU delivers the next queued frame at RX_ACK), each frame
 * copied into a PBUF_RAM pbuf after lwIP's ETH_PAD_SIZE padding and handed to driverif_input.
 * The SDK's lwIP has LWIP_TCPIP_CORE_LOCKING_INPUT: the whole input path (TCP, the ACKs it
 * sends, DHCP) runs on this thread under the core lock, so it gets a stack like the tcpip
 * thread's share of that work (8 KiB; its water line is printed with the lane's figures). Send: the pbuf
 * chain is gathered into TX_BUF and sent with TX_GO (synchronous in the model). The NIC takes
 * 32-bit accesses only, so both copies go word by word.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "cmsis_os2.h"
#include "lwip/netifapi.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "netif/driverif.h"

#define NETMAC_BASE      0x44210000u
#define NETMAC_CTRL      0x000u
#define NETMAC_INT_STAT  0x004u
#define NETMAC_TX_LEN    0x00Cu
#define NETMAC_TX_GO     0x010u
#define NETMAC_RX_LEN    0x014u
#define NETMAC_RX_ACK    0x018u
#define NETMAC_MAC_LO    0x020u
#define NETMAC_MAC_HI    0x024u
#define NETMAC_TX_BUF    0x1000u
#define NETMAC_RX_BUF    0x2000u
#define NETMAC_BUF_SIZE  2048u
#define CTRL_ENABLE      0x1u
#define RX_READY         0x1u

struct netif *ws63_emu_net_up(void);
void ws63_emu_watch_start(void); /* emu_watch.c */

static struct netif g_emu_netif;
static int g_emu_netif_added; /* registered with lwIP: never again (a retry must not re-add) */
static int g_emu_netif_up;
/* Word-aligned staging buffers: the NIC's buffers take 32-bit accesses only. */
static uint32_t g_tx_words[NETMAC_BUF_SIZE / 4];
static uint32_t g_rx_words[NETMAC_BUF_SIZE / 4];

static inline uint32_t reg_read(uint32_t off)
{
    return *(volatile uint32_t *)(uintptr_t)(NETMAC_BASE + off);
}

static inline void reg_write(uint32_t off, uint32_t val)
{
    *(volatile uint32_t *)(uintptr_t)(NETMAC_BASE + off) = val;
}

/* lwIP's tcpip thread, through driverif_output. */
static void netmac_send(struct netif *netif, struct pbuf *p)
{
    (void)netif;
    uint32_t len = p->tot_len;
    if (len > NETMAC_BUF_SIZE) {
        return; /* larger than the MTU allows: dropped, as a NIC would */
    }
    (void)pbuf_copy_partial(p, g_tx_words, (u16_t)len, 0);
    for (uint32_t i = 0; i < (len + 3) / 4; i++) {
        reg_write(NETMAC_TX_BUF + i * 4, g_tx_words[i]);
    }
    reg_write(NETMAC_TX_LEN, len);
    reg_write(NETMAC_TX_GO, 1);
}

#if LWIP_NETIF_PROMISC
static void netmac_config(struct netif *netif, u32_t config_flags, u8_t setbit)
{
    (void)netif;
    (void)config_flags;
    (void)setbit;
}
#endif

static void netmac_rx_thread(void *arg)
{
    (void)arg;
    for (;;) {
        while ((reg_read(NETMAC_INT_STAT) & RX_READY) != 0) {
            uint32_t len = reg_read(NETMAC_RX_LEN);
            if (len > NETMAC_BUF_SIZE) {
                len = NETMAC_BUF_SIZE;
            }
            for (uint32_t i = 0; i < (len + 3) / 4; i++) {
                g_rx_words[i] = reg_read(NETMAC_RX_BUF + i * 4);
            }
            /* Frees RX_BUF; QEMU may put the next queued frame there at once. */
            reg_write(NETMAC_RX_ACK, 1);
            /* lwIP's frames start with ETH_PAD_SIZE bytes of padding (2 in the SDK's
             * options, so the IP header is word-aligned); struct eth_hdr includes them. */
            struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(len + ETH_PAD_SIZE), PBUF_RAM);
            if (p == NULL) {
                continue; /* no memory: the frame is lost, TCP sends it again */
            }
            (void)pbuf_take_at(p, g_rx_words, (u16_t)len, ETH_PAD_SIZE);
            driverif_input(&g_emu_netif, p);
        }
        (void)osDelay(1);
    }
}

struct netif *ws63_emu_net_up(void)
{
    if (g_emu_netif_up) {
        return &g_emu_netif;
    }
    /* On a chip the WiFi driver's init (wifi_main) starts lwIP; the emulator image has no
     * WiFi task, so the driver does it here. A no-op once lwIP runs. */
    tcpip_init(NULL, NULL);
    struct netif *n = &g_emu_netif;
    if (g_emu_netif_added) {
        goto added;
    }
    (void)memset(n, 0, sizeof(*n));
    uint32_t lo = reg_read(NETMAC_MAC_LO);
    uint32_t hi = reg_read(NETMAC_MAC_HI);
    n->hwaddr[0] = (u8_t)lo;
    n->hwaddr[1] = (u8_t)(lo >> 8);
    n->hwaddr[2] = (u8_t)(lo >> 16);
    n->hwaddr[3] = (u8_t)(lo >> 24);
    n->hwaddr[4] = (u8_t)hi;
    n->hwaddr[5] = (u8_t)(hi >> 8);
    n->hwaddr_len = 6;
    n->link_layer_type = ETHERNET_DRIVER_IF;
    n->drv_send = netmac_send;
#if LWIP_NETIF_PROMISC
    n->drv_config = netmac_config;
#endif
    ip4_addr_t none;
    ip4_addr_set_zero(&none);
    if (netifapi_netif_add(n, &none, &none, &none) != ERR_OK) {
        return NULL;
    }
    g_emu_netif_added = 1;
added:
    reg_write(NETMAC_CTRL, CTRL_ENABLE); /* RX and TX on; RX by polling, no interrupt */
    osThreadAttr_t attr = {
        .name = "emu_netmac_rx",
        .stack_size = 8192,
        .priority = osPriorityAboveNormal,
    };
    if (osThreadNew(netmac_rx_thread, NULL, &attr) == NULL) {
        return NULL;
    }
    (void)netifapi_netif_set_default(n);
    (void)netifapi_netif_set_up(n);
    (void)netifapi_netif_set_link_up(n);
    g_emu_netif_up = 1;
    ws63_emu_watch_start();
    return n;
}
