# -*- coding: utf-8 -*-
# Copyright (c) novita.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the resources share: creation times, which of several same-named resources is kept, the lookup of exactly one by
name, and the base of the convergers (problems, warnings, the diff header, the end of a run's result)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

from ansible_collections.novita.cloud.plugins.module_utils.api import NovitaAPIError, NovitaError, error_name, is_in_use_refusal, raise_problems
from ansible_collections.novita.cloud.plugins.module_utils.module import UNCHANGED, ProblemsError

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def created_at(value):
    """Seconds since the epoch of a ``createdAt`` value: ISO 8601 (UTC when no offset is given), or epoch seconds or milliseconds
    (a number or a numeric string); None when it is missing or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        # More than 10^11 seconds is beyond the year 5000: such a number counts milliseconds.
        return number / 1000.0 if abs(number) > 1e11 else number
    match = _ISO_TIME.match(text)
    if not match:
        return None
    day, clock, fraction, zone = match.groups()
    try:
        when = datetime.datetime.strptime(day + "T" + clock, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    offset = 0
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    seconds = (when.replace(tzinfo=datetime.timezone.utc) - _EPOCH).total_seconds() - offset
    return seconds + (float(fraction) if fraction else 0.0)


def may_have_written(error):
    """Mark ``error`` as raised after a write that was accepted, or may have been: the run's result says ``changed``."""
    error.may_have_written = True
    return error


def _natural(text):
    """A sort key for an ID that compares the numbers in it by value (``auth-9`` before ``auth-10``)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"([0-9]+)", text) if part]


def keeper(items, id_of):
    """``(item, rule)``: the one of several same-named resources that every run keeps, and how it was chosen.

    The oldest by ``createdAt`` when every item has a readable one; otherwise the one with the smallest ID (the numbers in
    IDs compared by value), a rule every run applies alike. Ties on ``createdAt`` go to the smallest ID.
    """
    stamps = [created_at(item.get("createdAt")) for item in items]
    if all(stamp is not None for stamp in stamps):
        pairs = sorted(zip(stamps, [_natural(id_of(item)) for item in items], range(len(items))))
        return items[pairs[0][2]], "the oldest"
    return min(items, key=lambda item: _natural(id_of(item))), "the first by ID"


class Named:
    """The items of a list that have exactly one name (the API's names are not unique): ``matches``; ``one``, the match
    when there is exactly one, else None; with several, ``ids`` (sorted, as text) and ``several``, the text
    ``N <plural> are named NAME (IDs: ...)`` that the messages about them start from."""

    def __init__(self, items, name, plural, name_key="name", id_key="id"):
        self.matches = [item for item in items if item.get(name_key) == name]
        self.one = self.matches[0] if len(self.matches) == 1 else None
        self.ids = sorted(str(item.get(id_key)) for item in self.matches)
        self.several = ("%d %s are named %s (IDs: %s)" % (len(self.matches), plural, name, ", ".join(self.ids))
                        if len(self.matches) > 1 else None)


def diff_header(noun, name, resource_id):
    """How a diff names a resource: ``<noun> NAME (ID)``, without the ID when it has none yet."""
    return "%s %s (%s)" % (noun, name, resource_id) if resource_id else "%s %s" % (noun, name)


def endpoints_text(endpoints):
    """``a (id1), b (id2)``: endpoints named in a message."""
    return ", ".join("%s (%s)" % (e.get("name") or "", e.get("id")) for e in endpoints)


class Converger:
    """The base of the convergers of one declared resource.

    ``problems``: every problem found before the first write (the task's own first), reported together by
    ``_stop_on_problems`` in one ProblemsError. ``warnings``: the result's ``warnings`` list, which the module hands to
    Ansible. ``result``: ``changed``, ``action`` and the resource under ``RESULT_KEY``; ``_finished`` ends it.
    """

    NOUN = None  # the resource in a diff header
    RESULT_KEY = None  # the key of the resource in the result

    def __init__(self, params, check_mode=False, want_diff=False, problems=()):
        self.params = params
        self.check_mode = check_mode
        self.want_diff = want_diff
        self.problems = list(problems)
        self.result = {"changed": False, "action": UNCHANGED, self.RESULT_KEY: {}}

    def run(self):
        """Converge and return the module result.

        Every problem found before the first write is reported together, in one error: the task's own (given to the
        constructor) and the ones the reads find (names that do not resolve, changes the resource cannot make, the
        account's limits). Nothing is written when there is one. ``_lookup`` finds the resource, ``_absent`` and
        ``_present`` converge it.
        """
        if self.params.get("state") == "absent":
            self._stop_on_problems()
            self._absent(self._lookup())
        else:
            try:
                self._present()
            except NovitaError as exc:
                self._problems_after_failed_read(exc)
                raise
        return self._drop_empty_warnings()

    def _lookup(self):
        raise NotImplementedError

    def _absent(self, current):
        raise NotImplementedError

    def _present(self):
        raise NotImplementedError

    @property
    def warnings(self):
        """The run's warnings, in the result (``run_module`` hands them to Ansible)."""
        return self.result.setdefault("warnings", [])

    def _warn(self, text):
        self.warnings.append(text)

    def _drop_empty_warnings(self):
        if not self.result.get("warnings"):
            self.result.pop("warnings", None)
        return self.result

    def _stop_on_problems(self, **details):
        """Raise one error listing every problem found, if there is one (see ``raise_problems``); nothing was written."""
        raise_problems(self.problems, ProblemsError, **details)

    def _problems_after_failed_read(self, exc):
        """A read failed, so the rest cannot be checked; the problems found so far are still the answer (raised with the
        failure's details). Without one, or when ``exc`` reports the problems already, nothing is raised here."""
        if self.problems and not isinstance(exc, ProblemsError):
            self.problems.append("the checks that need the API could not be made: %s" % exc.msg)
            self._stop_on_problems(**exc.details)

    def _delete_checked(self, what, delete, gone, how, error_class, in_use=("", "stop what uses it first"), **details):
        """Delete one resource (``what`` names it). When the delete gets no clear reply, ``gone()`` (``how``: how it looks)
        tells whether it is gone: then the delete counts as done, with a warning; still there, it was not; when ``gone()``
        fails, the error says it may have been deleted and ``changed`` is true. A delete the API refuses because the
        resource is in use is an error saying so (``in_use``: the users as text, what to do). The errors carry ``details``."""
        try:
            delete()
            return
        except NovitaAPIError as exc:
            if is_in_use_refusal(exc):
                raise error_class(self._in_use_text(what, exc, *in_use), **dict(details, failure=exc.to_dict()))
            if not exc.ambiguous:
                raise
            error = exc
        try:
            is_gone = gone()
        except NovitaError as exc:
            self.result["changed"] = True
            raise error_class("deleting %s failed: %s; it may or may not have been deleted (%s failed too: %s), so changed is true;"
                              " run the task again" % (what, error.msg, how, exc.msg), **dict(details, failure=error.to_dict()))
        if not is_gone:
            raise error_class("deleting %s failed: %s; it is still listed, so it was not deleted" % (what, error.msg),
                              **dict(details, failure=error.to_dict()))
        self._warn("the delete of %s got no clear reply (%s); %s shows it is gone" % (what, error.msg, how))

    def _in_use_text(self, what, exc, users, advice):
        """The API refused to delete ``what`` because it is in use: what it said, who uses it (``users``), what to do."""
        said = "%s: %s" % (error_name(exc) or "HTTP %s" % exc.status, exc.api_message or exc.msg)
        forced = " force=true cannot override that refusal." if self.params.get("force") else ""
        by = "; endpoints that use it: %s" % users if users else ""
        return "the API refused to delete %s because it is in use (%s)%s. It was not deleted.%s %s, then run the task again" % (
            what, said, by, forced, advice[:1].upper() + advice[1:])

    def _check_mode_users_note(self, users_text):
        """In check mode, what a refusal because of users means when the same play deletes those endpoints first."""
        if not self.check_mode:
            return ""
        return (" (check mode: if an earlier task of this play deletes %s, that delete was only simulated, so the endpoint still"
                " exists here; a run without --check deletes it first and then this one)" % users_text)

    def _header(self, name, resource_id):
        return diff_header(self.NOUN, name, resource_id)

    def _finished(self, changed, returned, diff=None):
        """The end of every ``_finish``: ``changed``, the returned resource, no empty ``warnings`` list, and with ``diff``
        (``before``, ``after``, ``before_header``, ``after_header``) the diff."""
        self.result["changed"] = changed
        self._drop_empty_warnings()
        self.result[self.RESULT_KEY] = returned
        if diff is not None:
            self.result["diff"] = dict(zip(("before", "after", "before_header", "after_header"), diff))
        return self.result
