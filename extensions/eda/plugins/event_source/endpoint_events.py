# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Event-Driven Ansible source: Novita endpoint failures, scaling, changes and drift as events (see DOCUMENTATION)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
short_description: Events from Novita AI serverless endpoints - failures, scaling, changes and drift
description:
  - An ansible-rulebook event source that polls the Novita AI endpoint list and puts an event on the queue for each
    change it sees between two polls, so that a rulebook can page someone, re-converge an endpoint or open a ticket.
  - The first poll is the baseline; it emits nothing unless O(emit_initial=true). Later polls emit on transitions only.
  - "Event types: C(state_changed) (the endpoint's state, error or message changed; C(from) and C(to) are
    C({state, error, message})), C(scaled) (the worker count or the worker settings changed; C(from) and C(to) hold what
    changed of C(workers) (a count) and C(worker_config)), C(config_changed) (any other setting changed, for example by
    someone in the console; C(from) and C(to) hold the settings that changed, C(diff) the whole C(before) and C(after)),
    C(drift) (the endpoint differs from its declaration in O(declarations), or a declared endpoint is missing; C(diff) is
    the diff the modules show in check mode), C(appeared), C(deleted), and C(poll_error) (O(poll_error_after) polls in
    a row failed; C(error) holds the scrubbed message, C(status), C(reason), C(auth_failure) and C(failed_polls))."
  - "Every event is C({novita: {type, id, name, from, to, diff, endpoint, error, observed_at}}). C(endpoint) is the
    endpoint as M(novita.cloud.novita_endpoint_info) returns it; C(observed_at) is the poll's time (UTC, ISO 8601)."
  - A C(drift) event is emitted when an endpoint starts to differ from its declaration and again when what differs
    changes; nothing is emitted when it matches again (a C(scaled) or C(config_changed) event shows that).
  - No event holds a secret. Environment values are C(********) except those of variables a declaration lists in
    C(envs); the API key, the declarations' C(secret_envs) values and the masked environment values are masked
    wherever they occur, also in error messages the API sends.
  - Each poll reads the endpoint list (one request per page of 100 endpoints) with the collection's own client, which
    retries on 429 and 5xx with C(Retry-After), keeps the pace after a 429 and checks that the list is complete. A declaration that
    names a registry credential (C(image.auth_name)) or a network storage (C(volume_mounts[].storage_name)) adds the
    lookups of these names to the first poll only.
  - The source keeps polling whatever the API answers; it stops only when ansible-rulebook stops it. A failed poll
    changes nothing it remembers, so the first poll that succeeds again reports what changed meanwhile.
  - It keeps one snapshot per endpoint in scope; its memory does not grow with the number of polls.
  - The source runs in ansible-rulebook and needs ansible-core; it uses the collection's module_utils from the copy
    of the collection it is in.
author:
  - Novita.Cloud collection maintainers
options:
  api_key:
    description:
      - The Novita AI API key.
      - When not given, the E(NOVITA_API_KEY) environment variable is used, as by the modules.
    type: str
  api_base_url:
    description:
      - The base URL of the Novita AI API.
      - When not given, the E(NOVITA_API_BASE_URL) environment variable is used, else the default.
    type: str
    default: https://api.novita.ai
  validate_certs:
    description:
      - Whether to check the API's TLS certificate.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each API reply.
    type: int
    default: 30
  retries:
    description:
      - How many times a failed list request is repeated (429, 5xx, timeouts, connection errors), as in the modules.
      - When not given, the E(NOVITA_RETRIES) environment variable is used, else the default.
    type: int
    default: 5
  retry_timeout:
    description:
      - Seconds within which the repeats of one request are made, as in the modules.
      - When not given, the E(NOVITA_RETRY_TIMEOUT) environment variable is used, else the default.
    type: int
    default: 120
  interval:
    description:
      - Seconds between the end of one poll and the start of the next; at least 0.1.
    type: float
    default: 30
  names:
    description:
      - Watch only the endpoints with these names.
      - With O(name_match) too, an endpoint is watched when either selects it. With neither, every endpoint is watched.
    type: list
    elements: str
  name_match:
    description:
      - Watch only the endpoints whose name this regular expression matches at its start (Python C(re.match)),
        for example V(team-a-).
    type: str
  declarations:
    description:
      - A YAML file of endpoint declarations to compare the endpoints with, either a list of items or a mapping with the
        list under C(endpoints); each item taking the options of an item of the
        O(novita.cloud.novita_endpoint_fleet#module:endpoints) option of M(novita.cloud.novita_endpoint_fleet).
      - The file is read and checked when the source starts; a problem in it stops the source, naming every problem.
        Every declared name must be in the scope of O(names) and O(name_match).
      - An option a declaration leaves out is not compared.
      - The file may hold C(secret_envs) values (they are compared, never shown), so keep it readable by the rulebook's user only.
    type: path
  emit_initial:
    description:
      - Emit C(appeared) for every endpoint, and C(drift) for every endpoint that differs from its declaration, at the first poll.
    type: bool
    default: false
  poll_error_after:
    description:
      - Emit C(poll_error) when this many polls in a row failed; once per run of failed polls.
    type: int
    default: 3
notes:
  - ansible-rulebook finds the source through C(ansible-galaxy collection list), so the directory of C(ansible-galaxy)
    must be on E(PATH).
seealso:
  - module: novita.cloud.novita_endpoint_fleet
    description: Converge the declared endpoints, for example from a rulebook's C(run_playbook) action.
"""

EXAMPLES = r"""
- name: Page when a Novita endpoint fails
  hosts: all
  sources:
    - name: Watch the team's endpoints
      novita.cloud.endpoint_events:
        interval: 30
        name_match: team-a-
  rules:
    - name: An endpoint failed
      condition: event.novita.type == "state_changed" and event.novita.to.state == "failed"
      action:
        debug:
          msg: "PAGE: {{ event.novita.name }} failed: {{ event.novita.to.error }} {{ event.novita.to.message }}"

- name: Re-converge drifted endpoints
  hosts: all
  sources:
    - name: Compare the endpoints with their declarations
      novita.cloud.endpoint_events:
        declarations: examples/watched_endpoints.yml
  rules:
    - name: An endpoint drifted from its declaration
      condition: event.novita.type == "drift"
      action:
        run_playbook:
          name: examples/reconverge_endpoint.yml
"""

import asyncio
import importlib
import importlib.machinery
import importlib.util
import logging
import os
import sys

import yaml

LOGGER = logging.getLogger(__name__)
EVENTS_MODULE = "ansible_collections.novita.cloud.plugins.module_utils.events"


def _collections_root():
    """The directory that holds ansible_collections/novita/cloud/extensions/eda/plugins/event_source/ (this file)."""
    path = os.path.abspath(__file__)
    for dummy in range(8):
        path = os.path.dirname(path)
    return path


def _events_module():
    """The collection's module_utils, imported by the names the modules import them by.

    Under Ansible (ansible-test, a collection loader) they import as they are. ansible-rulebook runs this file by its path
    and sets up no collection loader; then the package ``ansible_collections`` is bound to the directory of the copy of the
    collection this file is in, as a namespace package (Ansible's own loader is not installed there: its import hook
    would also claim ansible-rulebook's files, whose path starts like ansible-core's).
    """
    try:
        return importlib.import_module(EVENTS_MODULE)
    except ImportError:
        pass
    location = os.path.join(_collections_root(), "ansible_collections")
    package = sys.modules.get("ansible_collections")
    if package is None:
        spec = importlib.machinery.ModuleSpec("ansible_collections", None, is_package=True)
        spec.submodule_search_locations = [location]
        sys.modules["ansible_collections"] = importlib.util.module_from_spec(spec)
    elif location not in list(package.__path__):
        package.__path__.append(location)
    return importlib.import_module(EVENTS_MODULE)


events = _events_module()


def read_declarations(path):
    """The content of a declarations file (YAML), or a NovitaConfigError saying why it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise events.NovitaConfigError("declarations: %s cannot be read: %s" % (path, exc))


def watcher(args):
    """The watcher for a rulebook's arguments and the seconds between polls; NovitaConfigError naming every problem."""
    settings = events.source_settings(args)
    data = read_declarations(settings["declarations"]) if settings.get("declarations") else None
    return events.watcher_from_settings(settings, data), settings["interval"]


async def poll_forever(queue, source, interval):
    """Poll, put the events on the queue, wait ``interval`` seconds; for ever. The blocking reads run in a thread."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            found = await loop.run_in_executor(None, source.poll)
        except Exception as exc:  # pylint: disable=broad-except
            # Not an API error (those are events): a defect. Logged with its secrets masked; the source keeps polling.
            LOGGER.error("novita.cloud.endpoint_events: the poll failed: %s", source.client.scrub(repr(exc)))
            found = []
        for event in found:
            await queue.put(event)
        await asyncio.sleep(interval)


async def main(queue, args):
    """The entry point ansible-rulebook calls: a bad option stops the source with a message naming every problem."""
    try:
        source, interval = watcher(args)
    except events.NovitaConfigError as exc:
        raise ValueError(exc.msg) from None
    await poll_forever(queue, source, interval)


if __name__ == "__main__":

    class PrintQueue:
        """Prints the events instead of queueing them: ``python endpoint_events.py`` with NOVITA_API_KEY set."""

        async def put(self, event):
            print(event)

    asyncio.run(main(PrintQueue(), {"interval": 10, "emit_initial": True}))
