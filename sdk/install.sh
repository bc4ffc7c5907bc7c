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
#     built).
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
echo "next: cd $sdk/src && python3 build.py -c ws63-liteos-app"
