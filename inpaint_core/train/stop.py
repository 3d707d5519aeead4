"""Stop requests: Ctrl+C or SIGTERM end a training run after its current step, with checkpoint and export."""
from __future__ import annotations

import signal
import sys
import threading
from types import FrameType


class StopRequests:
    """While active, the first SIGINT or SIGTERM only sets ``requested`` (the run finishes its step, saves and
    exports); a second one acts as usual (KeyboardInterrupt, termination). A signal the shell told this process
    to ignore (SIGINT of a background job) stays ignored; outside the main thread nothing is installed."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested: str | None = None  # the signal's name once one came
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopRequests":
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in self.SIGNALS:
            current = signal.getsignal(sig)
            if current is signal.SIG_IGN:
                continue
            self._previous[sig] = current
            signal.signal(sig, self._request)
        return self

    def _request(self, signum: int, frame: FrameType | None) -> None:
        self.requested = signal.Signals(signum).name
        signal.signal(signum, self._previous[signum])  # the next one is not caught
        print(f"{self.requested}: stopping after this step, with a checkpoint and the exported generator "
              "(send it again to abort)", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
