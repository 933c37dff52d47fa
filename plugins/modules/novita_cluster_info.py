#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: novita_cluster_info
short_description: List the Novita AI clusters and what each supports
version_added: 0.1.0
description:
  - Reads the clusters of the Novita GPU instance API (one request) and returns them, optionally only those that support
    network storage.
  - A network storage is created in one cluster (O(novita.cloud.novita_network_storage#module:cluster_name)), and an
    endpoint that mounts it runs in the same cluster (O(novita.cloud.novita_endpoint#module:cluster_id)).
  - The module only reads; it never changes anything.
author:
  - novita.cloud maintainers (@novita-cloud)
extends_documentation_fragment:
  - novita.cloud.novita
attributes:
  check_mode:
    description: Makes the same read and returns the same data in check mode.
    support: full
  diff_mode:
    description: The module changes nothing, so there is no diff.
    support: none
options:
  network_storage_only:
    description:
      - Return only the clusters that support network storage (the API's C(supportNetworkStorage)).
    type: bool
    default: false
notes:
  - Each cluster is returned with the API's keys in snake_case (C(availableGpuType) becomes C(available_gpu_type)), so a
    key the API adds later is returned the same way. The two C(support*) flags are always booleans.
seealso:
  - module: novita.cloud.novita_network_storage
    description: Create a network storage in one of these clusters.
  - module: novita.cloud.novita_network_storage_info
    description: List network storages with their clusters.
"""

EXAMPLES = r"""
- name: List the clusters that support network storage
  novita.cloud.novita_cluster_info:
    network_storage_only: true
  register: storage_clusters

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ storage_clusters.clusters | map(attribute='name') | list }}"

- name: Create a network storage in the first of them
  novita.cloud.novita_network_storage:
    name: shared-cache
    cluster_id: "{{ storage_clusters.clusters[0].id }}"
    size: 20
"""

RETURN = r"""
clusters:
  description:
    - The clusters, in the order the API lists them, with the API's keys in snake_case.
    - With O(network_storage_only=true), only those whose RV(clusters[].support_network_storage) is V(true).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The cluster ID, as O(novita.cloud.novita_network_storage#module:cluster_id) and O(novita.cloud.novita_endpoint#module:cluster_id) take it.
      type: str
      sample: us-dallas-1
    name:
      description: The cluster name, as O(novita.cloud.novita_network_storage#module:cluster_name) takes it.
      type: str
      sample: us-dallas
    available_gpu_type:
      description: The GPU types the cluster offers, as the API names them.
      type: list
      elements: str
      sample: ["RTX 4090 24GB", "A100 80GB"]
    support_network_storage:
      description: Whether network storage can be created in the cluster (the API's C(supportNetworkStorage)).
      type: bool
      sample: true
    support_instance_network:
      description: The API's C(supportInstanceNetwork), as a boolean.
      type: bool
      sample: false
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
from ansible_collections.novita.cloud.plugins.module_utils.network_storage import NetworkStorageAPI, cluster_result


def main():
    argument_spec = novita_argument_spec()
    argument_spec.update(
        network_storage_only=dict(type="bool", default=False),
    )
    module = NovitaModule(argument_spec=argument_spec, supports_check_mode=True)

    def read(client, result):
        clusters = [cluster_result(cluster) for cluster in NetworkStorageAPI(client).clusters()]
        if module.params["network_storage_only"]:
            clusters = [cluster for cluster in clusters if cluster["support_network_storage"]]
        result["clusters"] = clusters

    run_module(module, lambda client: Reading(client, {"changed": False, "clusters": []}, read))


if __name__ == "__main__":
    main()
