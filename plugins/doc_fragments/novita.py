# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
attributes:
  action_group:
    description: Use C(group/novita.cloud.novita) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - novita.cloud.novita
options:
  api_key:
    description:
      - The Novita API key, sent as a bearer token.
      - If not set, the value of the E(NOVITA_API_KEY) environment variable is used.
      - Required at run time. It may come from this option (directly or through C(module_defaults) for the action
        group C(group/novita.cloud.novita)) or from the environment variable; the module fails before sending any
        request when neither gives a key.
      - The key never appears in the module's output, its error messages or its diff.
    type: str
  api_base_url:
    description:
      - The base URL of the Novita API, C(http://) or C(https://) followed by the host (and port); the module adds
        the C(/gpu-instance/openapi/v1) path, so do not include it.
      - A value without a scheme or a host, with another scheme, or that already contains the API path is refused
        before any request is sent.
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
      - How many seconds the repeats of one request may take, counted from that request's first failure. A repeat
        whose wait would end later is not made and the last error is reported.
      - Each request has its own budget; a request that fails later in the same run starts afresh. A create whose
        outcome is unclear is looked up by name and sent again within one budget, counted from the create's first
        failure (the lookup and the new create count as one operation).
      - If not set, the value of the E(NOVITA_RETRY_TIMEOUT) environment variable is used, and then the default.
    type: int
    default: 120
  trace_requests:
    description:
      - Return RV(api_requests), the list of every HTTP request the task sent (method, path with query string, status,
        attempt, duration), also when the module fails. Request and response bodies and headers are never in it.
      - At verbosity C(-vvv) and above RV(api_requests) is returned even when this is V(false).
      - If not set, the value of the E(NOVITA_TRACE_REQUESTS) environment variable is used, and then the default.
    type: bool
    default: false
notes:
  - Retry policy. Reads, updates and deletes are repeated on rate limiting (429), server and gateway errors
    (500, 502, 503, 504), timeouts, connection errors and unreadable replies, at most O(retries) times per request,
    within O(retry_timeout) seconds of that request's first failure. Other errors (for example 400, 401, 403, 404) are
    reported at once, and so are errors that repeating cannot fix (an unusable URL, a TLS handshake with a server
    that does not speak TLS at that address, a TLS certificate that cannot be verified).
  - Rate limiting. After a 429, every request of the module (all the threads of a fleet run) waits as long as the
    API asks, then requests are sent one at a time at a spaced rate that speeds up again as they succeed. Waiting
    this way does not use up O(retries); only the request answered 429 counts it as an attempt.
  - Errors name the HTTP status, the API's error name when it sends one, the method and path, and the API's own
    message, for example C(Novita API returned HTTP 400 SERVERLESS_APP_NAME_IS_EXIST on POST /endpoint/create)
    followed by the API's message. An error without a reply names the full URL, for example
    C(Novita API request GET http://127.0.0.1:9/gpu-instance/openapi/v1/endpoints failed) followed by the reason.
    The key C(failure) of a failed result holds the same as data (C(status), C(method), C(path), C(url), C(api_code),
    C(api_reason), C(api_message), C(request_id), C(body_excerpt), C(reason), C(attempts)).
  - A rejected key (401, 403) or a missing one (400 C(MISSING_API_KEY)) is reported as such and never repeated.
  - The API key and the secret values the module knows of are masked as C(********) in every message, also when
    the API echoes them JSON-escaped or URL-encoded.
"""
