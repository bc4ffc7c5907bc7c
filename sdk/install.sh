#!/usr/bin/env bash
# Installs the firmware's static library into a WS63 SDK tree as the component
# `ws63_bms_gateway` of the `ws63-liteos-app` image. Idempotent: run it again after each
# `cargo +nightly ws63`.
#
#   sdk/install.sh SDK_ROOT [LIBRARY]
#
# SDK_ROOT: the SDK's top folder (the one with src/). LIBRARY defaults to the chip build's
# target/riscv32imfc-ws63-elf/release/libws63_bms_gateway.a.
#
# What it does:
#  1. copies the library to src/application/samples/custom/ws63_bms_gateway/ (it defines no
#     C library function: memcpy & co. come from the SDK's libc, see .ci/check-chip-lib);
#  2. installs the component's CMakeLists.txt there, and hooks the folder into
#     src/application/samples/custom/CMakeLists.txt (the SDK adds `custom` unconditionally);
#  3. adds 'ws63_bms_gateway' to `ram_component` of ws63-liteos-app in
#     src/build/config/target_config/ws63/config.py (an unlisted component is silently not
#     built);
#  4. keeps the ECDHE key exchanges in the SDK's mbedTLS: its hardware configuration
#     (open_source/mbedtls/mbedtls_v3.1.0/harden/platform/connect/
#     mbedtls_platform_hardware_config.h) #undefs MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED and
#     _ECDHE_ECDSA_ENABLED unless CONFIG_SUPPORT_HILINK, which leaves no key exchange Huawei
#     Cloud IoTDA (or most TLS servers) offer; those two lines become comments (DHE-RSA stays
#     off). The rest of the SDK keeps using the same library, now with two more suites;
#  5. limits the records the SDK's mbedTLS sends to 4 KiB of content
#     (MBEDTLS_SSL_OUT_CONTENT_LEN 4096, in the same hardware configuration): each TLS session's
#     send buffer takes 4.4 KB of the heap instead of 16.7 KB, which lets the gateway's MQTT
#     over TLS and an https:// download be open at once. What a session receives is not
#     changed (16 KiB records: the server decides those). mbedtls_ssl_write then takes at most
#     4096 bytes a call, as its API allows; other SDK code that writes more in one call must
#     loop on the count it returns, as the API requires.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sdk=${1:?usage: sdk/install.sh SDK_ROOT [LIBRARY]}
lib=${2:-$here/../target/riscv32imfc-ws63-elf/release/libws63_bms_gateway.a}
[ -d "$sdk/src" ] || { echo "error: $sdk has no src/: not a WS63 SDK root" >&2; exit 1; }
[ -f "$lib" ] || { echo "error: no $lib: build it first with 'cargo +nightly ws63'" >&2; exit 1; }
config="$sdk/src/build/config/target_config/ws63/config.py"
[ -f "$config" ] || { echo "error: no $config" >&2; exit 1; }

dest="$sdk/src/application/samples/custom/ws63_bms_gateway"
mkdir -p "$dest"
cp "$lib" "$dest/libws63_bms_gateway.a"
cp "$here/ws63_bms_gateway/CMakeLists.txt" "$dest/CMakeLists.txt"
echo "installed $dest/libws63_bms_gateway.a"

custom="$sdk/src/application/samples/custom/CMakeLists.txt"
hook='add_subdirectory_if_exist(ws63_bms_gateway)'
if ! grep -qxF "$hook" "$custom" 2>/dev/null; then
    echo "$hook" >> "$custom"
    echo "hooked ws63_bms_gateway into $custom"
fi

python3 - "$config" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
anchor = text.find("'ws63-liteos-app'")
if anchor < 0:
    sys.exit("error: no 'ws63-liteos-app' target in " + path)
key = text.find("'ram_component'", anchor)
open_ = text.find("[", key)
close = text.find("]", open_)
if key < 0 or open_ < 0 or close < 0:
    sys.exit("error: no ram_component list for ws63-liteos-app in " + path)
if re.search(r"['\"]ws63_bms_gateway['\"]", text[open_:close]):
    print("ws63_bms_gateway already in ram_component of ws63-liteos-app")
else:
    body = text[open_ + 1:close].rstrip()
    sep = "" if body.endswith(",") or body == "" else ","
    text = text[:open_ + 1] + body + sep + "\n            'ws63_bms_gateway',\n        " + text[close:]
    open(path, "w").write(text)
    print("added ws63_bms_gateway to ram_component of ws63-liteos-app in " + path)
PY
hwconf="$sdk/src/open_source/mbedtls/mbedtls_v3.1.0/harden/platform/connect/mbedtls_platform_hardware_config.h"
[ -f "$hwconf" ] || { echo "error: no $hwconf: is this the WS63 SDK with mbedTLS 3.1.0?" >&2; exit 1; }
for kex in ECDHE_RSA ECDHE_ECDSA; do
    line="#undef MBEDTLS_KEY_EXCHANGE_${kex}_ENABLED"
    kept="/* ws63_bms_gateway (sdk/install.sh) keeps MBEDTLS_KEY_EXCHANGE_${kex}_ENABLED */"
    if grep -qxF "$line" "$hwconf"; then
        sed -i "s|^${line}\$|${kept}|" "$hwconf"
        echo "kept MBEDTLS_KEY_EXCHANGE_${kex}_ENABLED in $hwconf"
    elif ! grep -qxF "$kept" "$hwconf"; then
        echo "error: $hwconf neither #undefs nor keeps MBEDTLS_KEY_EXCHANGE_${kex}_ENABLED as this script knows it: check it by hand" >&2
        exit 1
    fi
done
out_mark="/* ws63_bms_gateway (sdk/install.sh): records sent of at most 4 KiB of content */"
if ! grep -qxF "$out_mark" "$hwconf"; then
    end="#endif /* MBEDTLS_PLATFORM_USER_CONFIG_H */"
    [ "$(grep -cxF "$end" "$hwconf")" = 1 ] || {
        echo "error: $hwconf does not end with '$end' as this script knows it: check it by hand" >&2
        exit 1
    }
    python3 - "$hwconf" "$out_mark" "$end" <<'PY'
import sys
path, mark, end = sys.argv[1:]
text = open(path).read()
block = f"{mark}\n#undef MBEDTLS_SSL_OUT_CONTENT_LEN\n#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096\n\n"
at = text.rindex(end)
open(path, "w").write(text[:at] + block + text[at:])
PY
    echo "set MBEDTLS_SSL_OUT_CONTENT_LEN 4096 in $hwconf"
fi
echo "next: cd $sdk/src && python3 build.py -c ws63-liteos-app"
