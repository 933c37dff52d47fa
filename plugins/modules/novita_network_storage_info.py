#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: novita_network_storage_info
short_description: List Novita AI network storages and the endpoints that mount them
version_added: 0.1.0
description:
  - Reads Novita network storages, one by O(id), all with a given O(name), or every storage of the account, and returns
    them in exactly the shape of RV(novita.cloud.novita_network_storage#module:network_storage).
  - With O(used_by=true), also returns for each storage the endpoints that mount it.
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
  id:
    description:
      - The ID of the storage to read.
      - If no storage has this ID, RV(network_storages) is empty; that is not an error.
      - Mutually exclusive with O(name). With neither, every storage of the account is returned.
    type: str
  name:
    description:
      - Return every storage with exactly this name. The API's name filter matches parts of names; the module keeps only
        the exact matches. Names are not unique in the Novita API, so several storages may be returned.
      - Mutually exclusive with O(id). With neither, every storage of the account is returned.
    type: str
  used_by:
    description:
      - Also return, for each storage, the endpoints that mount it (a C(network) volume mount with the storage's ID), in
        RV(network_storages[].used_by).
      - Costs the pages of the endpoint list, read once for all the storages.
    type: bool
    default: false
notes:
  - Requests per run are bounded. By O(id) the module reads one page of the storage list filtered by the ID; by O(name) or
    without a filter, every page of the storage list (filtered by the name). O(used_by=true) adds the pages of the endpoint list.
seealso:
  - module: novita.cloud.novita_network_storage
    description: Create, grow, rename and delete network storage; returns each in the same shape.
  - module: novita.cloud.novita_cluster_info
    description: List the clusters and which of them support network storage.
"""

EXAMPLES = r"""
- name: List every network storage of the account
  novita.cloud.novita_network_storage_info:
  register: all_storages

- name: Show their names and sizes in GB
  ansible.builtin.debug:
    msg: "{{ all_storages.network_storages | items2dict(key_name='name', value_name='size') }}"

- name: Fail unless exactly one storage is named models, and list the endpoints that mount it
  novita.cloud.novita_network_storage_info:
    name: models
    used_by: true
  register: models
  failed_when: models.network_storages | length != 1

- name: Read that storage again by its ID
  novita.cloud.novita_network_storage_info:
    id: "{{ models.network_storages[0].id }}"
"""

RETURN = r"""
network_storages:
  description:
    - The storages found, in the order the API lists them; V([]) when none matches.
    - Each is exactly what RV(novita.cloud.novita_network_storage#module:network_storage) is for the same storage, plus
      RV(network_storages[].used_by) with O(used_by=true).
  returned: always
  type: list
  elements: dict
  contains:
    # BEGIN generated network storage keys: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
    id:
      description: The network storage ID.
      type: str
      sample: f1d3e2c4a5b6
    name:
      description: The network storage's name.
      type: str
      sample: team-models
    size:
      description: The size in GB.
      type: int
      sample: 100
    cluster_id:
      description: The ID of the cluster the storage is in.
      type: str
      sample: us-dallas-1
    cluster_name:
      description: The name of the cluster, as the API lists it with the storage.
      type: str
      sample: us-dallas
    price:
      description: The storage's price as the API returns it (its type and unit are the API's).
      type: raw
      sample: "0.07"
    # END generated network storage keys
    used_by:
      description: The endpoints that mount the storage, by ID and name; V([]) when none does.
      returned: when O(used_by=true)
      type: list
      elements: dict
      sample: [{"id": "3f2a9c0e7b1d4a55", "name": "llama-chat"}]
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
from ansible_collections.novita.cloud.plugins.module_utils.network_storage import NetworkStorageAPI, mounting_endpoints, storage_result


def find_storages(api, storage_id=None, name=None):
    """The API objects of the storages asked for: one page by ID, else the list pages (filtered by name, exact matches kept)."""
    if storage_id is not None:
        storage = api.get(storage_id)
        return [storage] if storage else []
    if name is not None:
        return api.by_name(name)
    return api.list()


def main():
    argument_spec = novita_argument_spec()
    argument_spec.update(
        id=dict(type="str"),
        name=dict(type="str"),
        used_by=dict(type="bool", default=False),
    )
    module = NovitaModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("id", "name")],
        supports_check_mode=True,
    )
    for option in ("id", "name"):
        if module.params[option] is not None and not module.params[option].strip():
            module.fail_json(msg="%s must not be empty; leave it out to list every network storage" % option)

    def read(client, result):
        api = NetworkStorageAPI(client)
        found = find_storages(api, module.params["id"], module.params["name"])
        storages = [storage_result(storage) for storage in found]
        if module.params["used_by"] and storages:
            endpoints = api.endpoints()
            for storage in storages:
                storage["used_by"] = mounting_endpoints(endpoints, storage["id"])
        result["network_storages"] = storages

    run_module(module, lambda client: Reading(client, {"changed": False, "network_storages": []}, read))


if __name__ == "__main__":
    main()
