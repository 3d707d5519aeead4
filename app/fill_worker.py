"""Runs the engine off the UI thread: loading the model, and fills (and variations of the last one) with progress,
cancel and errors as signals.

One QThread does all, in the order asked, so a fill asked for while the model is (re)loading runs right after it.
The engine (and with it torch) is imported in that thread, which keeps the editor's start-up quick.
"""
from __future__ import annotations

import itertools
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from inpaint_core.regions import Strategy

from .document import FillRequest

if TYPE_CHECKING:  # the engine's module imports torch, which the UI thread never loads
    from inpaint_core.pipeline import InpaintResult

STRATEGIES = tuple(s.name for s in Strategy)  # how settings store a strategy: its member's name


@dataclass(frozen=True)
class EngineSettings:
    weights: str | None = None   # None: the weights shipped in weights/
    device: str = "auto"         # "auto", "cpu" or "cuda"
    strategy: str = Strategy.CROP.name
    texture: str = "photo"       # "photo": the texture stage follows the network; "network": the network alone


@dataclass(frozen=True)
class EngineInfo:
    device: str                  # the device actually used
    model_name: str
    model_source: str
    model_notes: str
    devices: tuple[str, ...]     # what this machine offers, e.g. ("cpu", "cuda")


@runtime_checkable
class Engine(Protocol):
    """What the worker calls on the engine: ``inpaint_core.Inpainter`` and the tests' stand-in both provide it
    (tests/test_app_structure.py compares their signatures with this one)."""

    def fill(self, image: np.ndarray, mask: np.ndarray, *, exclude: np.ndarray | None = None,
             progress: Callable[[float, str], None] | None = None,
             cancel: threading.Event | None = None, seed: int | None = None) -> InpaintResult:
        """Fill the True pixels of ``mask``; report progress; raise FillCancelled soon after ``cancel`` is set."""
        ...

    def vary(self, result: InpaintResult, seed: int, *, progress: Callable[[float, str], None] | None = None,
             cancel: threading.Event | None = None) -> InpaintResult:
        """Re-run the texture stage of ``result`` with ``seed``; ValueError when it was made without the stage."""
        ...


EngineFactory = Callable[[EngineSettings], tuple[Engine, EngineInfo]]
# What a job does with the engine, given the progress callback and the cancel event (runs in the engine's thread).
EngineWork = Callable[[Engine, Callable[[float, str], None], threading.Event], "InpaintResult"]


def load_inpainter(settings: EngineSettings) -> tuple[Engine, EngineInfo]:
    """Build the real engine. Runs in the worker thread: this is where torch gets imported."""
    from inpaint_core import Inpainter

    devices = tuple(Inpainter.available_devices())
    # a GPU chosen on another machine (settings travel) falls back to automatic rather than failing
    device = settings.device if settings.device == "auto" or settings.device in devices else "auto"
    engine = Inpainter(weights=settings.weights, device=device, strategy=Strategy[settings.strategy],
                       texture=settings.texture)
    card = engine.card
    return engine, EngineInfo(engine.device, card.name, card.source, card.notes, devices)


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


class _EngineJob(QObject):
    """Lives in the worker thread; its slots run there, one at a time."""

    loaded = Signal(int, object)              # generation, EngineInfo
    loadFailed = Signal(int, str)             # generation, message
    progress = Signal(int, float, str)        # fill id, fraction, message
    finished = Signal(int, object)            # fill id, InpaintResult
    cancelled = Signal(int)
    failed = Signal(int, str)

    def __init__(self, factory: EngineFactory) -> None:
        super().__init__()
        self._factory = factory
        self._engine: Engine | None = None
        self._load_error = "the model has not been loaded"

    @Slot(int, object)
    def load(self, generation: int, settings: EngineSettings) -> None:
        self._engine = None
        try:
            engine, info = self._factory(settings)
        except Exception as exc:  # noqa: BLE001 - any failure to load must reach the window as a message
            self._load_error = _message(exc)
            self.loadFailed.emit(generation, self._load_error)
            return
        self._engine = engine
        self.loaded.emit(generation, info)

    @Slot(int, object, object)
    def run(self, fill_id: int, work: EngineWork, cancel: threading.Event) -> None:
        if cancel.is_set():
            self.cancelled.emit(fill_id)
            return
        if self._engine is None:
            self.failed.emit(fill_id, f"Cannot fill: {self._load_error}")
            return
        try:
            result = work(self._engine, lambda fraction, text: self.progress.emit(fill_id, fraction, text), cancel)
        except Exception as exc:  # noqa: BLE001 - a failed fill is a message, never a crash of the editor
            if cancel.is_set():
                self.cancelled.emit(fill_id)
                return
            if not isinstance(exc, ValueError):  # input errors are the user's; anything else is worth a trace
                traceback.print_exc(file=sys.stderr)
            self.failed.emit(fill_id, _message(exc))
            return
        if cancel.is_set():
            # Cancel pressed as the fill completed: the user asked for the photo to stay as it is.
            self.cancelled.emit(fill_id)
        else:
            self.finished.emit(fill_id, result)


class FillWorker(QObject):
    """The UI thread's handle on the engine thread. At most one fill at a time."""

    engineLoading = Signal()
    engineReady = Signal(object)              # EngineInfo
    engineFailed = Signal(str)
    progress = Signal(float, str)
    finished = Signal(object, object)         # FillRequest, InpaintResult
    cancelled = Signal(object)                # FillRequest
    failed = Signal(object, str)              # FillRequest, message
    busyChanged = Signal(bool)

    _loadRequested = Signal(int, object)
    _runRequested = Signal(int, object, object)

    def __init__(self, factory: EngineFactory = load_inpainter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("inpaint-engine")
        self._job = _EngineJob(factory)
        self._job.moveToThread(self._thread)
        self._loadRequested.connect(self._job.load)
        self._runRequested.connect(self._job.run)
        self._job.loaded.connect(self._on_loaded)
        self._job.loadFailed.connect(self._on_load_failed)
        self._job.progress.connect(self._on_progress)
        self._job.finished.connect(self._on_finished)
        self._job.cancelled.connect(self._on_cancelled)
        self._job.failed.connect(self._on_failed)
        self._thread.start()
        app = QCoreApplication.instance()
        if app is not None:
            # a quit that skips the window's close must still stop the thread before Qt tears it down
            app.aboutToQuit.connect(self.shutdown)
        self._generations = itertools.count(1)
        self._generation = 0
        self._fill_ids = itertools.count(1)
        self._current: tuple[int, FillRequest, threading.Event] | None = None
        self.settings: EngineSettings | None = None
        self.info: EngineInfo | None = None
        self.error: str | None = None

    @property
    def is_ready(self) -> bool:
        return self.info is not None

    @property
    def is_busy(self) -> bool:
        return self._current is not None

    def configure(self, settings: EngineSettings) -> None:
        """(Re)load the engine with these settings, in the background; nothing happens if they are unchanged."""
        if settings == self.settings:
            return
        self.settings = settings
        self.info = None
        self.error = None
        self._generation = next(self._generations)
        self.engineLoading.emit()
        self._loadRequested.emit(self._generation, settings)

    def start(self, request: FillRequest) -> bool:
        """Start a fill; False (and nothing started) while another one runs."""
        return self._begin(request, lambda engine, progress, cancel: engine.fill(
            request.image, request.mask, exclude=request.exclude, progress=progress, cancel=cancel))

    def vary(self, request: FillRequest, result: InpaintResult, seed: int) -> bool:
        """Start another variation of ``result``, the fill of ``request`` (which ``finished`` reports again);
        False (and nothing started) while another job runs."""
        return self._begin(request, lambda engine, progress, cancel: engine.vary(
            result, seed, progress=progress, cancel=cancel))

    def _begin(self, request: FillRequest, work: EngineWork) -> bool:
        if self._current is not None:
            return False
        fill_id = next(self._fill_ids)
        cancel = threading.Event()
        self._current = (fill_id, request, cancel)
        self.busyChanged.emit(True)
        self._runRequested.emit(fill_id, work, cancel)
        return True

    def cancel(self) -> None:
        if self._current is not None:
            self._current[2].set()

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Cancel any fill and stop the thread; True when it stopped within the timeout."""
        self.cancel()
        self._thread.quit()
        return self._thread.wait(timeout_ms)

    # -- results, delivered in the UI thread ------------------------------------------------------------------------
    def _on_loaded(self, generation: int, info: EngineInfo) -> None:
        if generation == self._generation:
            self.info = info
            self.engineReady.emit(info)

    def _on_load_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.error = message
            self.engineFailed.emit(message)

    def _on_progress(self, fill_id: int, fraction: float, text: str) -> None:
        if self._current is not None and self._current[0] == fill_id:
            self.progress.emit(fraction, text)

    def _take(self, fill_id: int) -> FillRequest | None:
        if self._current is None or self._current[0] != fill_id:
            return None
        request = self._current[1]
        self._current = None
        self.busyChanged.emit(False)
        return request

    def _on_finished(self, fill_id: int, result: object) -> None:
        request = self._take(fill_id)
        if request is not None:
            self.finished.emit(request, result)

    def _on_cancelled(self, fill_id: int) -> None:
        request = self._take(fill_id)
        if request is not None:
            self.cancelled.emit(request)

    def _on_failed(self, fill_id: int, message: str) -> None:
        request = self._take(fill_id)
        if request is not None:
            self.failed.emit(request, message)
