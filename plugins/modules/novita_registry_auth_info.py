#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: novita_registry_auth_info
short_description: List Novita AI container registry credentials and the endpoints that use them
version_added: 0.1.0
description:
  - Reads the account's container registry credentials, all of them or those with a given O(name), and returns each
    in exactly the shape of RV(novita.cloud.novita_registry_auth#module:registry_auth), never with its password.
  - With O(used_by=true), also returns for each credential the endpoints that use it, the ones
    M(novita.cloud.novita_registry_auth) would have to repoint before replacing it, or would refuse to delete it for.
  - The module only reads; it never changes anything.
author:
  - novita.cloud maintainers (@novita-cloud)
extends_documentation_fragment:
  - novita.cloud.novita
attributes:
  check_mode:
    description: Makes the same reads and returns the same data in check mode.
    support: full
  diff_mode:
    description: The module changes nothing, so there is no diff.
    support: none
options:
  name:
    description:
      - Return every credential with exactly this name. Names are not unique in the Novita API, so several credentials
        may be returned.
      - Without it, every credential of the account is returned.
    type: str
  used_by:
    description:
      - Also read the endpoint list and return, for each credential, the endpoints whose image uses it in
        RV(registry_auths[].used_by), as M(novita.cloud.novita_network_storage_info) does for storages.
      - Costs the endpoint list pages, read once whatever the number of credentials; nothing when no credential matches.
      - Its alias C(gather_usage) is the name this option had before.
    type: bool
    default: false
    aliases: [gather_usage]
notes:
  - Requests per run are bounded. The module reads the credential list once; O(used_by=true) adds the endpoint list
    pages.
  - The API lists every credential with its password. The module never returns a password, and masks every password it
    has read, and the API key, in its messages.
seealso:
  - module: novita.cloud.novita_registry_auth
    description: Create, replace and delete registry credentials; returns each in the same shape.
  - module: novita.cloud.novita_endpoint_info
    description: List endpoints, with the ID of the registry credential of each in C(image.auth_id).
"""

EXAMPLES = r"""
- name: List every registry credential of the account
  novita.cloud.novita_registry_auth_info:
  register: all_auths

- name: Show their names and user names
  ansible.builtin.debug:
    msg: "{{ all_auths.registry_auths | map(attribute='name') | zip(all_auths.registry_auths | map(attribute='username')) | list }}"

- name: Read the credential named dockerhub-private and the endpoints that use it
  novita.cloud.novita_registry_auth_info:
    name: dockerhub-private
    used_by: true
  register: hub

- name: Fail unless exactly one credential is named dockerhub-private
  ansible.builtin.assert:
    that:
      - hub.registry_auths | length == 1
    fail_msg: "{{ hub.registry_auths | length }} credentials are named dockerhub-private"

- name: Show the endpoints that pull their image with it
  ansible.builtin.debug:
    msg: "{{ hub.registry_auths[0].used_by | map(attribute='name') | list }}"
"""

RETURN = r"""
registry_auths:
  description:
    - The credentials found, in the order the API lists them; V([]) when none matches.
    - Each is exactly what RV(novita.cloud.novita_registry_auth#module:registry_auth) is for the same credential, plus
      RV(registry_auths[].used_by) with O(used_by=true). Never the password.
  returned: always
  type: list
  elements: dict
  contains:
    # BEGIN generated registry_auth keys: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
    id:
      description: "The credential's ID. V(null) in check mode for a credential that would be created or replaced: the API makes
        the ID when it saves the credential."
      type: str
      sample: 7b1d4a553f2a9c0e
    name:
      description: The credential's name.
      type: str
      sample: ghcr-team
    username:
      description: The user name for the registry.
      type: str
      sample: ci-bot
    # END generated registry_auth keys
    used_by:
      description: The endpoints whose image uses this credential (their C(image.authId) is its ID); V([]) when none does.
      returned: when O(used_by=true)
      type: list
      elements: dict
      contains:
        id:
          description: The endpoint ID.
          type: str
          sample: 3f2a9c0e7b1d4a55
        name:
          description: The endpoint name.
          type: str
          sample: llama-chat
failure:
  description: Details of a failed API request.
  returned: when the module fails on an API request
  type: dict
  contains:
    # BEGIN generated failure keys: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
    status:
      description: The HTTP status, if a response came.
      type: int
      sample: 400
    method:
      description: The HTTP method.
      type: str
      sample: POST
    path:
      description: The API path, without the base URL.
      type: str
      sample: /endpoint/update
    url:
      description: The full URL of the request, with the base URL.
      type: str
      sample: https://api.novita.ai/gpu-instance/openapi/v1/endpoint/update
    api_code:
      description: The error code in the API's response body, if any.
      type: raw
      sample: 400
    api_reason:
      description: The error name in the C(reason) field of the API's response body, if any, for example
        C(SERVERLESS_ENDPOINT_NOT_FOUND) or C(INVALID_API_KEY).
      type: str
      sample: SERVERLESS_ENDPOINT_NOT_FOUND
    api_message:
      description: The error message in the API's response body, if any.
      type: str
      sample: endpoint 3f2a9c0e7b1d4a55 not found
    request_id:
      description: The request ID the API sent back (a C(X-Request-Id) style header or a C(requestId) key), if any.
      type: str
      sample: 5f1c9a0e-3c1d-4f7e-9d0a-2b7e8c6f4a11
    body_excerpt:
      description: A short, single-line excerpt of the response body when it was not a JSON error; an HTML error page is reduced to
        its title.
      type: str
      sample: "HTML page: 502 Bad Gateway"
    reason:
      description: Why no usable reply came, when there was none (a timeout, a closed connection, a cut-off or non-JSON reply).
      type: str
      sample: no reply within the 30 s timeout
    attempts:
      description: How many times the request was sent.
      type: int
      sample: 6
    # END generated failure keys
# BEGIN generated api_requests: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
api_requests:
  description:
    - "Every HTTP request the task sent to the API, in the order sent: method, path, status, attempt and duration."
    - Never a request or response body, never a header, so no key and no environment variable value.
  returned: when O(trace_requests=true), or at verbosity C(-vvv) and above; also when the module fails
  type: list
  elements: dict
  contains:
    method:
      description: The HTTP method.
      type: str
      sample: GET
    path:
      description: The API path with its query string, without the base URL.
      type: str
      sample: /endpoints?pageSize=100&pageNum=1
    status:
      description: The HTTP status of the reply; V(null) when none came (see RV(api_requests[].error)).
      type: int
      sample: 200
    error:
      description: Why no usable reply came (a timeout, a closed connection), when there was none.
      type: str
      returned: when the request got no reply
      sample: no reply within the 30 s timeout
    attempt:
      description: 1 for the first send of this request, 2 for its first repeat (see O(retries)), and so on.
      type: int
      sample: 1
    duration_ms:
      description: Milliseconds from sending the request to the end of its reply.
      type: int
      sample: 42
  sample:
    - {"method": "GET", "path": "/endpoints?pageSize=100&pageNum=1", "status": 200, "attempt": 1, "duration_ms": 85}
    - {"method": "GET", "path": "/endpoint/limit", "status": 200, "attempt": 1, "duration_ms": 40}
    - {"method": "POST", "path": "/endpoint/update", "status": 429, "attempt": 1, "duration_ms": 31}
    - {"method": "POST", "path": "/endpoint/update", "status": 200, "attempt": 2, "duration_ms": 120}
# END generated api_requests
"""

from ansible_collections.novita.cloud.plugins.module_utils.api import novita_argument_spec
from ansible_collections.novita.cloud.plugins.module_utils.module import NovitaModule, Reading, run_module
from ansible_collections.novita.cloud.plugins.module_utils.registry_auth import registry_auths_info


def main():
    argument_spec = novita_argument_spec()
    argument_spec.update(
        name=dict(type="str"),
        used_by=dict(type="bool", default=False, aliases=["gather_usage"]),
    )
    module = NovitaModule(argument_spec=argument_spec, supports_check_mode=True)

    def read(client, result):
        result["registry_auths"] = registry_auths_info(client, module.params["name"], module.params["used_by"])

    run_module(module, lambda client: Reading(client, {"changed": False, "registry_auths": []}, read))


if __name__ == "__main__":
    main()
