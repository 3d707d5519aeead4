"""The fill settings panel: which device runs the model, how large photos are handled, and which model is loaded."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from inpaint_core.regions import Strategy

from .fill_worker import EngineInfo

DEVICE_LABELS = {"auto": "Automatic", "cpu": "CPU", "cuda": "GPU (CUDA)"}
STRATEGY_LABELS = {
    Strategy.CROP.name: (
        "Crop around the hole",
        "Fill a crop around the hole with some context, shrunk only if it is large: best for most photos."),
    Strategy.RESIZE.name: (
        "Shrink the whole photo",
        "Fill the whole photo at working size and scale the hole back up: more context, less detail."),
    Strategy.ORIGINAL.name: (
        "Full resolution",
        "Fill the whole photo at its own size: slow and memory-hungry on large photos."),
}


class EngineSettingsPanel(QWidget):
    settingsChanged = Signal(str, str)  # device ("auto", "cpu", "cuda"), strategy name

    def __init__(self, device: str, strategy: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device_box = QComboBox()
        self.device_box.setToolTip("Where the model runs. Automatic uses the GPU when there is one.")
        self._set_devices(("cpu",), device)
        self.strategy_box = QComboBox()
        for key, (label, tip) in STRATEGY_LABELS.items():
            self.strategy_box.addItem(label, key)
            self.strategy_box.setItemData(self.strategy_box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.strategy_box.setCurrentIndex(max(self.strategy_box.findData(strategy), 0))
        self.strategy_box.setToolTip("How photos larger than the model's working size are filled.")
        self.model_label = QLabel("Loading…")
        self.model_label.setWordWrap(True)
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Device", self.device_box)
        form.addRow("Large photos", self.strategy_box)
        form.addRow("Model", self.model_label)
        self.device_box.currentIndexChanged.connect(self._emit)
        self.strategy_box.currentIndexChanged.connect(self._emit)

    def device(self) -> str:
        return self.device_box.currentData()

    def strategy(self) -> str:
        return self.strategy_box.currentData()

    def show_loading(self) -> None:
        self.model_label.setText("Loading…")
        self.model_label.setToolTip("")

    def show_engine(self, info: EngineInfo) -> None:
        """Offer the devices this machine has and describe the loaded model."""
        self._set_devices(info.devices, self.device())
        self.model_label.setText(info.model_name)
        self.model_label.setToolTip("\n".join(t for t in (info.model_source, info.model_notes) if t))

    def show_error(self) -> None:
        self.model_label.setText("Not loaded (see the message above the photo)")
        self.model_label.setToolTip("")

    def _set_devices(self, devices: tuple[str, ...], selected: str) -> None:
        self.device_box.blockSignals(True)
        self.device_box.clear()
        for key in ("auto", *devices):
            self.device_box.addItem(DEVICE_LABELS.get(key, key.upper()), key)
        # a device chosen earlier but not offered now (e.g. the GPU on another machine) is still shown as chosen
        if self.device_box.findData(selected) < 0:
            self.device_box.addItem(DEVICE_LABELS.get(selected, selected.upper()) + " (not available)", selected)
        self.device_box.setCurrentIndex(self.device_box.findData(selected))
        self.device_box.blockSignals(False)

    def _emit(self) -> None:
        self.settingsChanged.emit(self.device(), self.strategy())
