#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: novita_registry_auth
short_description: Create, replace and delete Novita AI container registry credentials
version_added: 0.1.0
description:
  - Declares one Novita container registry credential (the user name and password an endpoint uses to pull a private
    image, see O(novita.cloud.novita_endpoint#module:image.auth_name)) by its O(name), and converges it. The credential
    is created when no credential has the name, replaced when its user name or password differs from the task's,
    deleted with O(state=absent), and left alone (C(changed=false), no write request) when it already matches.
  - The API lists every credential with its user name and password, so the module compares them as they are, without
    storing anything. An unchanged credential costs one request.
  - The API cannot change a credential. A new user name or password is saved as a new credential with the same name,
    which gets a new ID, and the old one is deleted. Endpoints refer to a credential by ID, so before a replace or a
    delete the module reads the endpoint list and refuses, before any write, while an endpoint uses the credential,
    naming the endpoints; O(repoint_endpoints=true) moves them to the new credential, O(force=true) deletes anyway.
  - Everything is checked before any write. The lengths of O(name), O(username) and O(password) are checked against
    the API's limits before any request; the errors name the option, the length and the limit, never the value.
author:
  - novita.cloud maintainers (@novita-cloud)
extends_documentation_fragment:
  - novita.cloud.novita
attributes:
  check_mode:
    description: Makes the same reads as a real run and no write; reports the exact C(changed) and RV(action).
    support: full
  diff_mode:
    description: Returns the credential before and after, the user name shown and the password masked.
    support: full
options:
  # BEGIN generated registry_auth options: tools/schema_docs.py writes this from plugins/module_utils; edit there, not here
  name:
    description:
      - The credential's name. The module finds the credential by this name.
      - Names are not unique in the Novita API. With O(state=present), several credentials with this name are an error
        (the message lists their IDs), except in two cases. When they all have the same user name and password (what two
        runs that saved the name at the same moment leave), the module manages one of them, the oldest by the API's
        C(createdAt), or without one the first by ID, and warns naming the others, which it leaves alone. When there are
        two and exactly one of them has the task's O(username) and O(password), which is what a replace interrupted
        after its save leaves behind, the module finishes that replace (see O(repoint_endpoints)).
      - "Two runs that save the same name at the same moment settle on one credential: after its save each run lists the
        credentials again, every run keeps the same one of the new ones (by the rule above), and deletes the other new
        ones that have its user name and password (never one an endpoint already uses), with a warning. A run whose
        values differ from the one kept deletes its own and fails, saying so; running it again replaces the one kept."
      - With O(state=absent), every credential with this name is deleted.
      - At most 255 characters.
    type: str
    required: true
  username:
    description:
      - The user name for the registry.
      - Left out, an existing credential keeps its user name.
      - "The user name is not secret: it is returned and shown in the diff."
      - At most 511 characters.
      - Required to create a registry credential.
    type: str
  password:
    description:
      - The password or access token for the registry.
      - Left out, an existing credential keeps its password.
      - The API lists every credential with its password, so the module compares it without storing anything and a rerun
        with the same value changes nothing. The password is never returned; in the diff it is C(********), followed by
        the word C(changed) in parentheses when the task changes it. It is masked in every message, as are the passwords
        of the account's other credentials.
      - At most 1024 characters.
      - Required to create a registry credential.
    type: str
  state:
    description:
      - V(present) creates the credential, or replaces it when its user name or password differs from the task's.
      - V(absent) deletes every credential with O(name); nothing happens when there is none. A credential that an
        endpoint uses is not deleted unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  repoint_endpoints:
    description:
      - "What to do when the user name or password changes and endpoints use the credential. The API cannot change a
        credential: the module saves a new one with the same name (it gets a new ID) and deletes the old one, and an
        endpoint that still refers to the old ID could no longer pull its image."
      - V(false) fails before any write and names the endpoints (name and ID).
      - V(true) saves the new credential, then updates every endpoint that uses the old one to use the new ID, then
        deletes the old credential. Each update sends the whole endpoint as a read of it by ID shows it (not as the
        endpoint list shows it, which may lag behind a recent update), with only the credential ID changed (as
        M(novita.cloud.novita_endpoint) does), so no other setting is lost; an endpoint that reads back no longer using
        the old credential is left alone, with a warning. With O(wait), the module waits for each endpoint to read back
        the new ID and be ready before it deletes the old credential.
      - A failure part of the way says what was done (the new credential's ID, the endpoints repointed) and what was
        not; the old credential is then kept. Running the task again finishes the replace.
      - Unused when nothing uses the credential, and with O(state=absent).
    type: bool
    default: false
  force:
    description:
      - "With O(state=absent), delete the credential even while endpoints use it. The module warns and returns them in
        RV(used_by): they keep referring to the deleted ID, so their workers can no longer pull a private image (a new
        worker, a restart or a scale-up fails) until they are pointed at another credential, for example with
        O(novita.cloud.novita_endpoint#module:image.auth_name)."
      - V(false) fails before any write and names the endpoints.
      - Unused with O(state=present); see O(repoint_endpoints).
    type: bool
    default: false
  wait:
    description:
      - With O(repoint_endpoints=true), after updating the endpoints, poll each until it reads back the new credential
        ID and is ready, as M(novita.cloud.novita_endpoint) waits after an update, before the old credential is deleted.
      - V(false) deletes the old credential right after the updates were accepted.
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait for each endpoint with O(wait). When it runs out the module fails, naming the endpoint
      and its last state; the old credential is then kept.
    type: int
    default: 600
  # END generated registry_auth options
notes:
  - Check mode cannot see an earlier task's simulated delete. In a teardown play run with C(--check), the task that deletes
    the endpoint only reports what it would do, so this task still finds the endpoint using the credential and refuses, as a
    real run would if the endpoint were kept. The message then says so, naming the endpoint; a run without C(--check)
    deletes the endpoint first and this credential after it.
  - Requests per run are bounded. An unchanged credential costs one read of the credential list. A create adds the save
    and one more read of the list (the save returns no ID, so the new credential is the one with the name whose ID was
    not listed before). A replace or a delete also reads the endpoint list pages (which endpoints use the credential); a
    replace then makes the save, the list read, per endpoint repointed one read by ID, the update and its wait polls,
    and the delete. When another run saved the same name at the same moment, the run also reads the endpoint list and
    deletes the duplicates it settles on.
  - Every decision rests on a complete list. A credential or endpoint list reply that is not well formed (no list, items
    that are not objects, a C(total) that is not a number, pages short of the total or repeating) fails the task before
    any write, naming the request, instead of being read as an empty or shorter list.
  - A save is never repeated blindly. When a save gets no clear reply (a timeout, a dropped connection, an HTTP 5xx), the
    module lists the credentials again and adopts a new one with the name if the API did save it (the result then carries
    a warning); only when there is none does it send the save again.
  - C(changed) says whether the API may have applied a write, on failure too. A save that was accepted but whose new
    credential cannot be listed reports C(changed=true). An endpoint update or a delete that gets no clear reply is read
    back. When it took effect the run goes on, with a warning; when the read cannot tell, the module fails with
    C(changed=true) and says the write may have been applied.
  - A replace saves the new credential first and deletes the old one last, so an endpoint never points at a credential
    that does not exist. A replace that fails part of the way keeps the old credential and says what was done and what
    was not, for example that it saved the new credential with its ID, repointed one endpoint and then failed to update
    the next one, which still uses the old credential. Two credentials then have the name, and running the task again
    finishes the replace (see O(name)).
  - The password is never returned and never in the diff. The task's password and the passwords of the account's other
    credentials (the API lists them all) are masked in every message and failure detail, literally as well as
    JSON-escaped or URL-encoded; values shorter than four characters are not masked in messages. The API key is never
    shown either. Error texts of an endpoint update may quote the endpoint, so the values of its environment variables
    are masked too.
seealso:
  - module: novita.cloud.novita_registry_auth_info
    description: List the registry credentials and the endpoints that use each.
  - module: novita.cloud.novita_endpoint
    description: Use a registry credential by name with O(novita.cloud.novita_endpoint#module:image.auth_name).
"""

EXAMPLES = r"""
- name: Declare the credential for a private registry (created, or left alone when it matches)
  novita.cloud.novita_registry_auth:
    name: ghcr-ci
    username: ci-bot
    password: "{{ vault_registry_password }}"
  register: registry

- name: Use it for an endpoint's private image, by name
  novita.cloud.novita_endpoint:
    name: private-chat
    product_id: "1"
    image:
      image: ghcr.io/example-team/llm-server:2.1
      auth_name: ghcr-ci
    port: 8000
    wait: false

- name: Preview rotating the password, without changing anything
  novita.cloud.novita_registry_auth:
    name: ghcr-ci
    username: ci-bot
    password: "{{ vault_registry_password_next }}"
    repoint_endpoints: true
  check_mode: true
  diff: true
  register: preview

- name: Show which endpoints the rotation would update
  ansible.builtin.debug:
    msg: "{{ preview.repointed_endpoints | default([]) | map(attribute='name') | list }}"

- name: Rotate the password; the endpoints that use the credential are moved to the new one (its ID changes)
  novita.cloud.novita_registry_auth:
    name: ghcr-ci
    username: ci-bot
    password: "{{ vault_registry_password_next }}"
    repoint_endpoints: true
  register: rotated

- name: The credential's new ID, and the one it replaced
  ansible.builtin.debug:
    msg: "{{ rotated.registry_auth.id }} replaced {{ rotated.replaced_auth_id | default('nothing') }}"

- name: Delete the endpoint that used it
  novita.cloud.novita_endpoint:
    name: private-chat
    state: absent
    wait: false

- name: Delete the credential (refused while an endpoint uses it, unless force is true)
  novita.cloud.novita_registry_auth:
    name: ghcr-ci
    state: absent
"""

RETURN = r"""
action:
  description:
    - What the module did to the credential, or in check mode would do. V(replaced) is a save of a new credential with the
      task's values and the delete of the old one, see O(repoint_endpoints); the ID changes.
    - V(none) when the module failed before its write (a problem found, a write refused); nothing was done, and RV(planned)
      says what it was about to do. When it failed after a write, the action that was done, and C(changed) is V(true).
  returned: always
  type: str
  choices: [created, replaced, deleted, unchanged, none]
  sample: replaced
planned:
  description: When RV(action) is V(none), what the module was about to do to the credential when it failed.
  returned: when the module failed before its write
  type: str
  choices: [created, replaced, deleted]
  sample: replaced
registry_auth:
  description:
    - The credential as the API now has it, never with its password.
    - In check mode, the credential as it would be; RV(registry_auth.id) is V(null) for a credential that would be
      created or replaced.
    - After a delete, the credential as it was before (the first one listed, when several had the name); V({}) when there
      was nothing to delete.
  returned: always
  type: dict
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
replaced_auth_id:
  description:
    - With RV(action=replaced), the ID of the credential that the new one replaces. The module deletes it last; when the
      module fails before that, it still exists (the message says so).
  returned: when the credential is replaced
  type: str
  sample: 7b1d4a553f2a9c0e
used_by:
  description:
    - The endpoints that used the credential before the task (their C(image.authId) is its ID), read when a replace or a
      delete was coming. With O(state=absent) and O(force=true), these endpoints now refer to a deleted credential.
  returned: when the module replaces or deletes a credential, or refuses to
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
repointed_endpoints:
  description:
    - With O(repoint_endpoints=true), the endpoints updated to use the new credential (in check mode, that would be);
      only the ones whose update was done, so after a failure part of the way, the ones that were updated.
  returned: when a replace repoints endpoints
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
duplicate_deleted_ids:
  description:
    - The IDs of the credentials with the task's name that this run deleted because another run saved the same name at
      the same moment (see O(name)); a warning names the credential kept.
  returned: when concurrent saves of the name left duplicates
  type: list
  elements: str
  sample: [9c0e7b1d4a553f2a]
deleted_auth_ids:
  description: With O(state=absent), the IDs of the credentials deleted (in check mode, that would be), every one with O(name).
  returned: when credentials are deleted
  type: list
  elements: str
  sample: [7b1d4a553f2a9c0e]
diff:
  description: The credential before and after, the password masked.
  returned: when diff mode is on
  type: dict
  contains:
    before_header:
      description: The credential the diff is about, C(registry credential NAME (ID)), without the ID for one not saved yet.
      type: str
      sample: registry credential ghcr-team (7b1d4a553f2a9c0e)
    after_header:
      description: The same for the credential after the task; after a replace it has the new ID (none in check mode).
      type: str
      sample: registry credential ghcr-team (9c0e7b1d4a553f2a)
    before:
      description: The credential before the task (C(name), C(username), C(password) as C(********)); V({}) when it is created.
      type: dict
      sample: {"name": "ghcr-team", "username": "ci-bot", "password": "********"}
    after:
      description:
        - The credential after the task; V({}) when it is deleted.
        - The password reads C(********), followed by the word C(changed) in parentheses when the task changes it.
      type: dict
      sample: {"name": "ghcr-team", "username": "ci-bot", "password": "******** (changed)"}
errors:
  description:
    - Every problem the module found before its first write, one message each, naming its option or the endpoints in the
      way. Nothing was written.
  returned: when the module fails because of the task's options or because endpoints use the credential
  type: list
  elements: str
  sample:
    - "password: 1030 characters is longer than the allowed 1024"
auth_ids:
  description:
    - The IDs of the credentials named O(name), when several have the name and the module cannot tell which to manage, or
      when the module fails settling on one credential after another run saved the same name at the same moment.
  returned: when the module fails for one of those reasons
  type: list
  elements: str
  sample: [7b1d4a553f2a9c0e, 9c0e7b1d4a553f2a]
endpoint_id:
  description: The ID of the endpoint whose wait failed after it was repointed (it timed out or the endpoint reports a failure).
  returned: when the module fails waiting for a repointed endpoint
  type: str
  sample: 3f2a9c0e7b1d4a55
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
from ansible_collections.novita.cloud.plugins.module_utils.registry_auth import RegistryAuthConverger, registry_auth_argument_spec, validate_options


def main():
    argument_spec = novita_argument_spec()
    argument_spec.update(registry_auth_argument_spec())
    # The password as the module uses it (a number given for it becomes text) is hidden too.
    module = NovitaModule(argument_spec=argument_spec, supports_check_mode=True, secret_values=lambda params: [params.get("password")])
    # The task's own problems (lengths, empty values) are reported before any request.
    problems = validate_options(module.params)
    run_module(module, lambda client: RegistryAuthConverger(client, module.params, check_mode=module.check_mode, want_diff=module._diff,
                                                            problems=problems), problems)


if __name__ == "__main__":
    main()
