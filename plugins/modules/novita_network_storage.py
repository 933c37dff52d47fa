#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: novita_network_storage
short_description: Create, grow, rename and delete Novita AI network storage
version_added: 0.1.0
description:
  - Declares one Novita network storage (a volume that serverless endpoints mount with a C(network) volume mount) and
    converges it. The storage is created when it does not exist, grown or renamed when it differs from the task, deleted
    with O(state=absent), and left alone (C(changed=false), reads only) when it already matches.
  - The API's update call takes the whole storage (ID, name and size); the module always sends all three, the current
    values where the task leaves one out.
  - Everything is checked before any write, and all the problems of a task are reported together in one run, in
    RV(errors) and in the message, each naming the option, the value and the rule. Checked are the task's own values
    (the name's characters, the minimum size), the cluster (it must exist and support network storage), a size smaller
    than the storage has (a storage can only grow), a change of cluster (it cannot change) and a name that several
    storages have.
  - A storage that an endpoint mounts is not deleted unless O(force=true).
author:
  - novita.cloud maintainers (@novita-cloud)
extends_documentation_fragment:
  - novita.cloud.novita
attributes:
  check_mode:
    description: Makes the same reads as a real run and no write; reports the exact C(changed) and the would-be storage.
    support: full
  diff_mode:
    description: Returns the name, size and cluster before and after.
    support: full
options:
  # BEGIN generated network storage options: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
  state:
    description: V(present) creates the network storage or changes its name or size; V(absent) deletes it (nothing happens when it
      does not exist).
    type: str
    choices: [present, absent]
    default: present
  id:
    description:
      - The ID of the network storage to manage.
      - With O(id), O(name) is the desired name, so setting both renames the storage.
      - A network storage cannot be created with a chosen ID; with O(state=present), if no storage has this ID, the
        module fails.
      - One of O(id) and O(name) is required.
    type: str
  name:
    description:
      - "The network storage's name: letters, digits and hyphens only, checked before any request."
      - Without O(id), the storage is looked up by this exact name (the API's name filter matches parts of names; the
        module keeps only the exact matches). If none has it, the storage is created.
      - "Names are not unique in the Novita API. If several storages have the name, the module fails before any write
        and lists their IDs (set O(id) to choose one), except with O(state=present) in two cases, where it manages one
        of them and warns naming the others, which it leaves alone: exactly one of them already has every value the task
        sets; or they all have the same size and cluster (what two runs that created the name at the same moment leave),
        and the one managed is the oldest by the API's C(createdAt), or without one the first by ID."
      - "Two runs that create the same name at the same moment settle on one storage: after its create each run lists
        the name again, every run keeps the same one (by the rule above) and deletes its own when it is not that one
        (never one an endpoint already mounts), then takes the one kept over and brings it to the task's values, with a
        warning."
      - Required to create a network storage.
    type: str
  size:
    description:
      - The size in GB, at least V(10).
      - A network storage can only grow. A size smaller than the storage's current size is an error, naming both sizes,
        before any write.
      - Left out, an existing storage keeps its size.
      - Required to create a network storage.
    type: int
  cluster_id:
    description:
      - The ID of the cluster the storage is in. Mutually exclusive with O(cluster_name); one of them is required to
        create a storage.
      - On create, the module reads the clusters (one request) and fails before any write when no cluster has this ID or
        the cluster does not support network storage.
      - The cluster of an existing storage cannot change. A different value is an error, naming both clusters, before
        any write; left out, the storage's cluster is kept.
      - An endpoint that mounts the storage must run in the same cluster.
    type: str
  cluster_name:
    description:
      - The name of the cluster the storage is in, as an alternative to O(cluster_id), for example V(us-east).
      - On create, the module reads the clusters (one request) and uses the ID of the one cluster with this name. No
        cluster or several with the name, or a cluster that does not support network storage, is an error before any
        write.
      - For an existing storage it is compared with the cluster name the API lists for the storage; a different name is
        an error before any write.
    type: str
  force:
    description:
      - Used with O(state=absent). The module reads the account's endpoints before a delete and refuses to delete a
        storage that an endpoint mounts (a C(network) volume mount with the storage's ID), naming those endpoints.
      - "V(true) deletes the storage anyway, with a warning naming the endpoints. What breaks: the data on the storage
        is gone; the endpoints keep a volume mount of a storage that no longer exists, so their workers may fail to
        start or lose the mounted files, and the API may refuse the next update of such an endpoint (its mounts are sent
        again) until the mount is removed from it, for example with M(novita.cloud.novita_endpoint) and a
        O(novita.cloud.novita_endpoint#module:volume_mounts) list without it."
    type: bool
    default: false
  # END generated network storage options
notes:
  - Check mode cannot see an earlier task's simulated delete. In a teardown play run with C(--check), the task that deletes
    the endpoint only reports what it would do, so this task still finds the endpoint using the storage and refuses, as a
    real run would if the endpoint were kept. The message then says so, naming the endpoint; a run without C(--check)
    deletes the endpoint first and this storage after it.
  - Requests per run are bounded. The storage is looked up by one read of the storage list filtered by O(id), or by the list
    pages filtered by O(name); an unchanged storage costs nothing more. A create adds one read of the clusters, the create
    call and one read of the storage list filtered by the name (the new storage, and any other one a concurrent run
    created); a change adds the update call and one read of the storage; a delete adds one read of every page of the
    endpoint list (to find the endpoints that mount the storage) and the delete call. When another run created the same
    name at the same moment, the run also reads the endpoint list and deletes its own duplicate (see O(name)).
  - Every decision rests on a complete list. A storage, cluster or endpoint list reply that is not well formed (no list,
    items that are not objects, a C(total) that is not a number, pages short of the total or repeating) fails the task
    before any write, naming the request, instead of being read as an empty or shorter list.
  - The create reply may or may not carry the new storage's ID; without one, the module finds the storage by its name.
  - For duplicate safety the create request is never repeated blindly. When a create gets no clear reply (a timeout, a
    dropped connection, an HTTP 5xx), the module looks the name up and adopts the storage if the API did create it (the result
    then carries a warning); only when none exists does it send the create again.
  - Updates and deletes are repeated on the same transient failures as reads (see O(retries)); a delete that finds the
    storage already gone counts as done.
  - C(changed) says whether the API may have applied a write, on failure too. A create that was accepted but cannot be
    found afterwards reports C(changed=true). An update or a delete that gets no clear reply is read back. When it took
    effect the run succeeds, with a warning; when the read cannot tell, the module fails with C(changed=true) and says the
    write may have been applied.
seealso:
  - module: novita.cloud.novita_network_storage_info
    description: List network storages and the endpoints that mount them.
  - module: novita.cloud.novita_cluster_info
    description: List the clusters and which of them support network storage.
  - module: novita.cloud.novita_endpoint
    description: Mount a network storage into an endpoint by name with O(novita.cloud.novita_endpoint#module:volume_mounts[].storage_name).
"""

EXAMPLES = r"""
- name: Create a 50 GB network storage in the us-east cluster (or make an existing one match)
  novita.cloud.novita_network_storage:
    name: team-models
    cluster_name: us-east
    size: 50
  register: models

- name: Grow it to 100 GB; its name and cluster are kept
  novita.cloud.novita_network_storage:
    name: team-models
    size: 100

- name: Rename it, addressing it by the ID the create returned
  novita.cloud.novita_network_storage:
    id: "{{ models.network_storage.id }}"
    name: team-models-v2

- name: Delete it (refused, naming them, while endpoints mount it)
  novita.cloud.novita_network_storage:
    name: team-models-v2
    state: absent

- name: Delete a storage even if endpoints still mount it (their mounts then refer to nothing, see force)
  novita.cloud.novita_network_storage:
    name: old-scratch
    state: absent
    force: true
"""

RETURN = r"""
action:
  description:
    - What the module did to the storage, or in check mode would do. V(updated) is a rename, a larger size, or both.
    - V(none) when the module failed before its write (a problem found, a write refused); nothing was done, and RV(planned)
      says what it was about to do. When it failed after a write, the action that was done, and C(changed) is V(true).
  returned: always
  type: str
  choices: [created, updated, deleted, unchanged, none]
  sample: updated
planned:
  description: When RV(action) is V(none), what the module was about to do to the storage when it failed.
  returned: when the module failed before its write
  type: str
  choices: [created, updated, deleted]
  sample: updated
network_storage:
  description:
    - The network storage as the API lists it after the task, keys in snake_case and the size an integer.
    - In check mode, the storage as it would be; a storage not created yet has RV(network_storage.id) and
      RV(network_storage.price) V(null).
    - After a delete, the storage as it was; V({}) when no storage was found.
  returned: always
  type: dict
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
  description:
    - The endpoints that mount the storage (a C(network) volume mount with its ID), by ID and name.
    - Returned when the module refuses to delete the storage because of them, and when O(force=true) deleted it anyway.
  returned: when endpoints mount a storage that O(state=absent) deletes or refuses to delete, or a duplicate that a concurrent create left
  type: list
  elements: dict
  sample: [{"id": "3f2a9c0e7b1d4a55", "name": "llama-chat"}]
diff:
  description: The storage's name, size and cluster before and after.
  returned: when diff mode is on
  type: dict
  contains:
    before_header:
      description: The storage the diff is about, C(network storage NAME (ID)), without the ID for a storage not created yet.
      type: str
      sample: network storage team-models (f1d3e2c4a5b6)
    after_header:
      description: The same for the storage after the task, with its new name when the task renames it.
      type: str
      sample: network storage team-models-v2 (f1d3e2c4a5b6)
    before:
      description: C(name), C(size), C(cluster_id) and C(cluster_name) before the task; V({}) for a storage being created.
      type: dict
      sample: {"name": "team-models", "size": 50, "cluster_id": "us-dallas-1", "cluster_name": "us-dallas"}
    after:
      description: The same after the task; V({}) for a storage being deleted.
      type: dict
      sample: {"name": "team-models", "size": 100, "cluster_id": "us-dallas-1", "cluster_name": "us-dallas"}
errors:
  description:
    - Every problem the module found before its first write, one message each, each naming its option and the rule.
      Nothing was written.
  returned: when the module fails because of the task's options
  type: list
  elements: str
  sample:
    - "size: network storage team-models (f1d3e2c4a5b6) has 100 GB; 50 GB is smaller, and a network storage can only grow"
    - "name: 'team_models' is not allowed; a network storage name has letters (A-Z, a-z), digits and hyphens only"
network_storage_id:
  description: The ID of the storage the failure is about.
  returned: when the module fails on an existing storage
  type: str
  sample: f1d3e2c4a5b6
network_storage_ids:
  description: The IDs of the storages that have the name the task gives, when there are several.
  returned: when the module fails because several storages have the name, or settling on one after a concurrent create fails
  type: list
  elements: str
  sample: ["f1d3e2c4a5b6", "a9b8c7d6e5f4"]
duplicate_deleted_ids:
  description:
    - The IDs of the new storages with the task's name that this run deleted because another run created the same name
      at the same moment (see O(name)); a warning names the storage kept.
  returned: when concurrent creates of the name left duplicates
  type: list
  elements: str
  sample: ["a9b8c7d6e5f4"]
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
from ansible_collections.novita.cloud.plugins.module_utils.module import NovitaModule, run_module
from ansible_collections.novita.cloud.plugins.module_utils.network_storage import (
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    NetworkStorageAPI,
    NetworkStorageConverger,
    network_storage_argument_spec,
    validate_options,
)


def main():
    argument_spec = novita_argument_spec()
    argument_spec.update(network_storage_argument_spec())
    module = NovitaModule(
        argument_spec=argument_spec,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    # The task's own problems are reported together with the ones the reads find (cluster, sizes, names).
    problems = validate_options(module.params)
    run_module(module, lambda client: NetworkStorageConverger(NetworkStorageAPI(client), module.params, check_mode=module.check_mode,
                                                              want_diff=module._diff, problems=problems), problems)


if __name__ == "__main__":
    main()
