# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read or clear the request log of the Novita API emulator (novita_emulator.py, next to this file).

  python3 emulator_requests.py list URL                 one line per API request: method, path, status
  python3 emulator_requests.py writes URL [--expect N]  the write requests, then their count; with
                                                        --expect, exit 1 unless there were exactly N
  python3 emulator_requests.py clear URL                empty the log

URL is the emulator's base URL, the value of NOVITA_API_BASE_URL (e.g. http://127.0.0.1:8555).
A write is any API request but GET, HEAD and OPTIONS. Exit status: 0, 1 when --expect does
not hold, 2 when the emulator cannot be reached or the command line is wrong. Standard library
only (Python 3.9 or later); docs/emulator.md describes the request log.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

ADMIN_PREFIX = "/_emulator"
READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


class EmulatorUnreachable(Exception):
    """The admin interface did not answer, or not with JSON."""


def admin_call(base_url, method, path):
    """Send one request to the emulator's admin interface; return the decoded JSON answer."""
    url = base_url.rstrip("/") + ADMIN_PREFIX + path
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else {}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise EmulatorUnreachable(f"{method} {url}: {exc}") from exc


def logged_requests(base_url):
    """The API requests the emulator logged, oldest first (the log holds no admin request)."""
    return admin_call(base_url, "GET", "/requests").get("requests", [])


def is_write(request):
    return request.get("method", "").upper() not in READ_METHODS


def describe(request):
    """'POST /endpoint/create 200': method, path with its query, status (- for no answer)."""
    path = request.get("path", "")
    query = request.get("query") or {}
    if query:
        path += "?" + urllib.parse.urlencode(query)
    status = request.get("status")
    line = f"{request.get('method')} {path} {'-' if status is None else status}"
    if request.get("fault_kind"):
        line += f" (fault: {request['fault_kind']})"
    return line


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="emulator_requests.py", description="Read or clear the Novita emulator's request log.",
                                     epilog="Exit status: 0; 1 when --expect does not hold; 2 when the emulator cannot be reached.")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="one line per API request: method, path with query, status")
    listing.add_argument("url", help="the emulator's base URL, e.g. http://127.0.0.1:8555")
    writes = commands.add_parser("writes", help="the write requests (not GET, HEAD, OPTIONS), then their count")
    writes.add_argument("url", help="the emulator's base URL")
    writes.add_argument("--expect", type=int, metavar="N", help="exit 1 unless there were exactly N write requests")
    clear = commands.add_parser("clear", help="empty the request log")
    clear.add_argument("url", help="the emulator's base URL")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.command == "clear":
            admin_call(args.url, "DELETE", "/requests")
            return 0
        requests = logged_requests(args.url)
    except EmulatorUnreachable as exc:
        sys.stderr.write(f"emulator_requests: cannot reach the emulator's request log: {exc}\n")
        return 2

    if args.command == "list":
        for request in requests:
            print(describe(request))
        return 0

    writes = [request for request in requests if is_write(request)]
    for request in writes:
        print("  " + describe(request))
    print(len(writes))
    if args.expect is not None and len(writes) != args.expect:
        sys.stderr.write(f"emulator_requests: expected {args.expect} write request(s), the emulator logged {len(writes)}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
