#!/usr/bin/env bash
# report.html in a real browser: Chromium from the distribution's packages, headless, loads
# the report of a short run with no console message and no network request, and its
# screenshot shows the charts. A control page with one request and one console error is
# loaded first, so that a check that could not see them fails instead of passing.
#
#   tests/browser/report.sh        # installs chromium with apt-get if it is missing (root)
#
# DEPINSIM_BIN names the binary (default target/release/depinsim).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${DEPINSIM_BIN:-target/release/depinsim}
if ! command -v chromium >/dev/null; then
  echo "installing chromium from the distribution's packages"
  export DEBIAN_FRONTEND=noninteractive
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Chromium's own background traffic (updates, accounts) is switched off where it can be;
# what remains is told apart from the page's by its initiator.
flags=(--headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --disable-default-apps --disable-extensions --no-pings --disable-domain-reliability
  --disable-client-side-phishing-detection --enable-logging=stderr --v=0
  --user-data-dir="$work/profile")

# load PAGE NAME: screenshot NAME.png, console lines NAME.console, page requests NAME.requests
load() {
  timeout 120 chromium "${flags[@]}" --window-size=1100,5000 \
    --screenshot="$work/$2.png" --log-net-log="$work/$2.netlog.json" "file://$1" \
    > "$work/$2.log" 2>&1 || true
  grep 'CONSOLE' "$work/$2.log" > "$work/$2.console" || true
  python3 - "$work/$2.netlog.json" > "$work/$2.requests" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
for e in log["events"]:
    p = e.get("params", {})
    if names.get(e["type"]) != "URL_REQUEST_START_JOB" or "url" not in p:
        continue
    # The browser's own requests have no origin; the page's come from file:// (null).
    if p.get("initiator") == "not an origin":
        continue
    if not p["url"].startswith(("file:", "data:")):
        print(p["url"])
PY
}

cat > "$work/control.html" <<'HTML'
<!DOCTYPE html><html><body><img src="http://example.invalid/x.png">
<script>console.error("control error")</script></body></html>
HTML
load "$work/control.html" control
if [ ! -s "$work/control.requests" ] || [ ! -s "$work/control.console" ]; then
  echo "FAIL: the checks do not see the control page's request or console error" >&2
  cat "$work/control.log" >&2
  exit 1
fi

"$bin" viability scenarios/training-vs-inference.yaml --quiet --replications 4 \
  --set simulation.horizon_h=48 --out "$work/run" >/dev/null
load "$work/run/report.html" report
status=0
if [ -s "$work/report.console" ]; then
  echo "FAIL: console messages:" >&2; cat "$work/report.console" >&2; status=1
fi
if [ -s "$work/report.requests" ]; then
  echo "FAIL: network requests:" >&2; cat "$work/report.requests" >&2; status=1
fi
# The screenshot: present, large, and showing the charts' colours (the palette's blue and
# orange bars and lines), decoded with Python's standard library alone.
python3 - "$work/report.png" <<'PY' || status=1
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, head = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        head = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, colour = head[:4]
assert depth == 8 and colour in (2, 6), head
bpp = 3 if colour == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
rows, prev, i = [], bytearray(stride), 0
for _ in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line)); prev = line
pixels = [tuple(r[x:x + 3]) for r in rows for x in range(0, stride, bpp)]
colours = set(pixels)
blue = sum(1 for p in pixels if abs(p[0] - 0) < 12 and abs(p[1] - 114) < 12 and abs(p[2] - 178) < 12)
orange = sum(1 for p in pixels if abs(p[0] - 230) < 12 and abs(p[1] - 159) < 12 and abs(p[2] - 0) < 12)
print(f"screenshot {w}x{h}, {len(data)} bytes, {len(colours)} colours, {blue} blue and {orange} orange pixels")
assert len(data) > 100_000 and len(colours) > 200, "the screenshot is blank or nearly"
assert blue > 5_000 and orange > 5_000, "the charts' colours are not on the page"
PY
[ "$status" = 0 ] && echo "PASSED: report.html loads with no console message and no network request, and shows its charts"
exit "$status"
