"""Read or clear the request log of the Novita emulator (tests/emulator/novita_emulator.py).

Usage:
  python tools/emulator_requests.py clear URL    empty the log (DELETE /_emulator/requests)
  python tools/emulator_requests.py writes URL   print the write requests logged, then their count

Standard library only, so the demo needs no curl.
"""

from __future__ import annotations

import json
import sys
import urllib.request

ADMIN_PREFIX = '/_emulator'
READ_METHODS = frozenset(('GET', 'HEAD', 'OPTIONS'))


def admin_call(base_url, method, path):
    """Send one request to the emulator's admin API and return the decoded JSON answer."""
    request = urllib.request.Request(base_url.rstrip('/') + ADMIN_PREFIX + path, method=method)

    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()

    return json.loads(body) if body else {}


def write_requests(base_url):
    """Return the logged API requests that are writes (anything but GET, HEAD and OPTIONS)."""
    logged = admin_call(base_url, 'GET', '/requests').get('requests', [])

    return [request for request in logged
            if request.get('method', '').upper() not in READ_METHODS
            and not request.get('path', '').startswith(ADMIN_PREFIX)]


def main():
    """Run the command named on the command line."""
    if len(sys.argv) != 3 or sys.argv[1] not in ('clear', 'writes'):
        sys.exit(__doc__)

    command, base_url = sys.argv[1], sys.argv[2]

    if command == 'clear':
        admin_call(base_url, 'DELETE', '/requests')
        return 0

    writes = write_requests(base_url)

    for request in writes:
        print('  %s %s' % (request.get('method'), request.get('path')))

    print(len(writes))
    return 0


if __name__ == '__main__':
    sys.exit(main())
