# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every module shares around its converger: the AnsibleModule class (``NovitaModule``), the action words, the problems error,
``fail``/``warn`` and ``run_module``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaClient, NovitaError
from ansible_collections.novita.cloud.plugins.module_utils.secrets import SecretsModule

# What a converger did (or, in check mode, would do) to its resource: the ``action`` of its result.
CREATED, UPDATED, RECREATED, DELETED, UNCHANGED, REPLACED = "created", "updated", "recreated", "deleted", "unchanged", "replaced"
# The action of a run that failed before its write: nothing was done; ``planned`` says what it was about to do.
NONE = "none"


class ProblemsError(NovitaError):
    """The problems a run found before any write (``errors`` lists them); nothing was written."""


def reported(result):
    """A failed run's result as the user sees it: when it wrote nothing (``changed`` false) its ``action`` is ``none`` and
    ``planned`` says what it was about to do; once it wrote, the action that was done."""
    action = result.get("action")
    if result.get("changed") is False and action not in (None, UNCHANGED, NONE):
        return dict(result, action=NONE, planned=action)
    return result


def fail(module, client, exc, result=None, **extra):
    """End the module run with ``exc``: the message, the failure details and the partial result, every message scrubbed of
    the API key and the secret values the client has learnt (including ones learnt after the error was made)."""
    details = dict(result or {})
    details.update(exc.details)
    details.update(extra)
    details = reported(details)
    msg, failure = client.scrub_failure(exc.msg, details.get("failure") if isinstance(details.get("failure"), dict) else None)
    if isinstance(details.get("failure"), dict):
        details["failure"] = failure
    warn(module, client, details.pop("warnings", None))
    details.pop("msg", None)
    module.fail_json(msg=msg, **client.add_trace(details))


def warn(module, client, warnings):
    """Hand the run's warnings to Ansible (``module.warn``; a ``warnings`` key in the result is deprecated), scrubbed."""
    for text in warnings or ():
        module.warn(client.scrub(text))


# How ansible-core (2.16 to 2.21) begins its message for options the module does not have.
UNSUPPORTED_MESSAGE = "Unsupported parameters for ("


def option_names(argument_spec):
    """The names a task may give at one level of an argument spec: its options and their aliases."""
    names = []
    for name, spec in argument_spec.items():
        names.append(name)
        names.extend(spec.get("aliases") or ())
    return names


def closest_option(path, argument_spec):
    """The valid option closest to the unsupported ``path`` (a name, or ansible-core's tuple of the parent options' names
    and the name) as a task writes it (``worker_config.min_num``); None when no valid name is close."""
    parts = (path,) if isinstance(path, str) else tuple(path)
    spec = argument_spec
    for parent in parts[:-1]:
        spec = (spec.get(parent) or {}).get("options") or {}
    matches = difflib.get_close_matches(parts[-1], option_names(spec), n=1)
    return ".".join(parts[:-1] + (matches[0],)) if matches else None


def _dotted(path):
    return path if isinstance(path, str) else ".".join(path)


def did_you_mean(msg, argument_spec, unsupported):
    """ansible-core's message about a task with ``unsupported`` options, with the closest valid name of each: appended to
    its own message about them (``Did you mean worker_config?``), or, when it reports another problem first (such as a
    required option the misspelling left out), as a sentence of its own after it. Without unsupported options (or close
    names), ``msg`` unchanged."""
    given = sorted(unsupported or (), key=_dotted)
    closest = dict((_dotted(path), closest_option(path, argument_spec)) for path in given)
    if not isinstance(msg, str) or not any(closest.values()):
        return msg
    if msg.startswith(UNSUPPORTED_MESSAGE):
        found = [(name, option) for name, option in closest.items() if option]
        if len(found) == 1:
            return "%s Did you mean %s?" % (msg, found[0][1])
        return "%s Did you mean %s?" % (msg, ", ".join("%s (for %s)" % (option, name) for name, option in found))
    named = ["%s (did you mean %s?)" % (name, option) if option else name for name, option in closest.items()]
    return "%s. Unsupported parameters: %s" % (msg.rstrip("."), ", ".join(named))


class NovitaModule(SecretsModule):
    """The AnsibleModule of every module of the collection: secret values hidden as ``SecretsModule`` hides them
    (``secret_values`` is optional here) and, when the task gives an option the module does not have, ansible-core's
    message names the closest valid option (``Did you mean worker_config?``), at the top level and among sub-options."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("secret_values", lambda params: ())
        super(NovitaModule, self).__init__(*args, **kwargs)

    def fail_json(self, msg=None, **kwargs):  # pylint: disable=arguments-differ
        validation = getattr(self, "validation_result", None)
        if validation is not None:
            msg = did_you_mean(msg, self.argument_spec, validation.unsupported_parameters)
        super(NovitaModule, self).fail_json(msg=msg, **kwargs)


class Reading:
    """A read-only run for ``run_module``: ``read(client, result)`` fills ``result``; when it fails, what it filled so far
    is the partial result."""

    def __init__(self, client, result, read):
        self.client = client
        self.result = result
        self._read = read

    def run(self):
        self._read(self.client, self.result)
        return self.result


def run_module(module, start, problems=(), partial=None, failure_message=None):
    """Run a module: build the client (``problems``: the task's own, reported with the connection's), run the task that
    ``start(client)`` returns (an object with ``run()`` and ``result``), and end the module run with its result.

    A NovitaError fails the module with the task's partial ``result`` (or ``partial``, when given); the result's
    ``warnings`` go to Ansible; ``failure_message(task)``, when given, is the message of a run that returned a result
    but failed all the same (the fleet, when declarations failed).
    """
    client = NovitaClient.from_module(module, problems)
    task = start(client)
    try:
        result = task.run()
    except NovitaError as exc:
        fail(module, client, exc, task.result if partial is None else partial)
    warn(module, client, result.pop("warnings", None))
    message = failure_message(task) if failure_message is not None else None
    if message:
        module.fail_json(msg=client.scrub(message), **client.add_trace(result))
    module.exit_json(**client.add_trace(result))
