/**
 * Ferry's Ansible callback plugin, kept as a string so it travels inside every build of Ferry
 * (the app, the tsx CLI and the single-file executable) with no resource file to find: the
 * runner writes it into the deploy folder and enables it through ANSIBLE_CALLBACK_PLUGINS.
 *
 * It is a notification callback: Ansible's own stdout callback keeps writing the full log, and
 * this one writes one JSON line per playbook, play, task start, host result and final stats to
 * the file descriptor named by FERRY_EVENTS_FD. Events carry wall-clock time (`t`, seconds) and
 * the task's run time per host, so Ferry can show timing without parsing the human log.
 * Written for ansible-core 2.14 (Debian 12) through 2.17+ (Kubespray v2.31's pin).
 */
export const CALLBACK_NAME = 'ferry_events';

export const CALLBACK_PLUGIN = String.raw`# Written by Ferry: JSON events for the deploy view. Do not edit; Ferry rewrites it each run.
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: ferry_events
    type: notification
    short_description: one JSON line per task start and host result, for Ferry
    description:
      - Writes events to the file descriptor in the FERRY_EVENTS_FD environment variable.
"""


def _text(value, limit=2000):
    if value is None:
        return None
    if not isinstance(value, str):
        try:
            value = json.dumps(value, default=str)
        except Exception:
            value = str(value)
    return value[:limit]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "ferry_events"
    # Loaded by being on ANSIBLE_CALLBACK_PLUGINS alone, so Kubespray's ansible.cfg keeps its
    # own callbacks_enabled (profile_tasks): setting ANSIBLE_CALLBACKS_ENABLED would replace it.
    CALLBACK_NEEDS_ENABLED = False
    CALLBACK_NEEDS_WHITELIST = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fd = int(os.environ.get("FERRY_EVENTS_FD", "3"))
        # Line-buffered: Ferry reads events as they happen, not when Ansible exits.
        self._out = os.fdopen(fd, "w", buffering=1, encoding="utf-8", closefd=False)
        self._started = {}

    def _emit(self, event):
        event["t"] = round(time.time(), 3)
        try:
            self._out.write(json.dumps(event, default=str) + "\n")
        except (BrokenPipeError, OSError):
            # Ferry went away (cancelled): Ansible is being stopped anyway.
            pass

    def v2_playbook_on_start(self, playbook):
        self._emit({"type": "playbook", "file": os.path.basename(playbook._file_name)})

    def v2_playbook_on_play_start(self, play):
        self._emit({"type": "play", "name": play.get_name().strip()})

    def _task(self, task, handler):
        self._started[task._uuid] = time.time()
        self._emit(
            {
                "type": "task",
                "id": task._uuid,
                "name": task.get_name().strip(),
                "action": task.action,
                "handler": handler,
            }
        )

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task(task, False)

    def v2_playbook_on_handler_task_start(self, task):
        self._task(task, True)

    def _result(self, result, status, ignored=False):
        task = result._task
        r = result._result if isinstance(result._result, dict) else {}
        started = self._started.get(task._uuid)
        msg = r.get("msg") or r.get("stderr") or r.get("reason")
        if status == "failed" and not msg and r.get("results"):
            msgs = [x.get("msg") for x in r["results"] if isinstance(x, dict) and x.get("msg")]
            msg = "; ".join(str(m) for m in msgs[:3])
        self._emit(
            {
                "type": "result",
                "host": result._host.get_name(),
                "task": task._uuid,
                "name": task.get_name().strip(),
                "status": status,
                "ignored": bool(ignored),
                "msg": _text(msg),
                "seconds": round(time.time() - started, 3) if started else None,
            }
        )

    def v2_runner_on_ok(self, result):
        self._result(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed", ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        hosts = {h: stats.summarize(h) for h in sorted(stats.processed.keys())}
        self._emit({"type": "stats", "hosts": hosts})
        try:
            self._out.flush()
        except (BrokenPipeError, OSError):
            pass
`;
