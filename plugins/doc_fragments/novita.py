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
notes:
  - Read requests (get, list, limits) are retried up to 5 times on HTTP 429, 502, 503 and 504 and on
    connection errors, waiting as long as the API's C(Retry-After) header asks (at most 60 seconds)
    or with exponential backoff and jitter. Write requests are sent once and never repeated.
"""
