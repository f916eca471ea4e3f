"""Whether somebody waits for a computation started in the background: :class:`Waited`, :data:`WAITED`.

:meth:`api.shared_cache.SharedBytesCache.future` runs a background computation with its :class:`Waited` in
:data:`WAITED` and sets it when a request joins the computation (``get_or_compute`` of the same key);
:mod:`api.sheet_process` reads it to move a review sheet a user now waits for from its low-priority child to its
normal-priority one. A module of its own, without imports: the sheet process's child imports it too.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable

__all__ = ["Waited", "WAITED"]


class Waited:
    """Set once a caller starts waiting for a computation that was started in the background
    (:meth:`SharedBytesCache.future`): the computation, which reads it from :data:`WAITED`, may then hurry (the
    review sheet process moves the sheet from its low-priority child to its normal-priority one). Callbacks given to
    :meth:`on_set` run once, in the thread that sets it (keep them short)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set = False
        self._callbacks: list[Callable[[], None]] = []

    def set(self) -> None:
        with self._lock:
            if self._set:
                return
            self._set = True
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()

    def is_set(self) -> bool:
        return self._set

    def on_set(self, cb: Callable[[], None]) -> None:
        """``cb()`` when this is set (now, if it is already)."""
        with self._lock:
            if not self._set:
                self._callbacks.append(cb)
                return
        cb()


#: the :class:`Waited` of the background computation running in this context; None: not in the background (a
#: request computes what it waits for itself)
WAITED: contextvars.ContextVar[Waited | None] = contextvars.ContextVar("parkplan_waited", default=None)
