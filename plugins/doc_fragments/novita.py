# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  api_key:
    description:
      - The Novita API key, sent as a bearer token.
      - If not set, the value of the E(NOVITA_API_KEY) environment variable is used.
      - The key never appears in the module's output, its error messages or its diff.
    type: str
    required: true
  api_base_url:
    description:
      - The base URL of the Novita API; the module adds the C(/gpu-instance/openapi/v1) path.
      - If not set, the value of the E(NOVITA_API_BASE_URL) environment variable is used, and then
        the default.
      - Point it at the collection's API emulator to test playbooks offline.
    type: str
    default: https://api.novita.ai
  timeout:
    description:
      - Seconds to wait for each HTTP response.
    type: int
    default: 30
  validate_certs:
    description:
      - Whether to verify the API's TLS certificate. Only set this to V(false) against a test server.
    type: bool
    default: true
  retries:
    description:
      - How many times a failed request may be repeated.
      - Reads (get, list, limits), updates and deletes are repeated on HTTP 429, 500, 502, 503 and 504, on timeouts,
        on connection errors, and on replies that are cut off or are not JSON. A create is handled differently, see the
        module's notes.
      - The wait before each repeat follows the API's C(Retry-After) header (seconds or an HTTP date, at most 60 seconds),
        or else doubles from 0.5 seconds up to 8 seconds, with random jitter.
      - Set V(0) to never repeat a request.
      - If not set, the value of the E(NOVITA_RETRIES) environment variable is used, and then the default.
    type: int
    default: 5
  retry_timeout:
    description:
      - The total number of seconds one module run may spend on repeating failed requests, counted from the first
        failure. A repeat that would end later is not made and the last error is reported.
      - If not set, the value of the E(NOVITA_RETRY_TIMEOUT) environment variable is used, and then the default.
    type: int
    default: 120
notes:
  - Retry policy. Reads, updates and deletes are repeated on rate limiting (429), server and gateway errors
    (500, 502, 503, 504), timeouts, connection errors and unreadable replies, at most O(retries) times and within
    O(retry_timeout) seconds in all. Other errors (for example 400, 401, 404) are reported at once.
  - Errors name the HTTP status, method and path, and the API's own message, for example
    C(Novita API returned HTTP 503 on GET /endpoints). The key C(failure) of a failed result holds the same as data,
    with the API's request ID if it sent one.
"""
