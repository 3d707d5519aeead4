"""The fill settings panel: which device runs the model, how large photos are handled, which model is loaded,
whether the texture stage follows the network, and how the mask is grown and pasted."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QSpinBox, QWidget

from inpaint_core.regions import Strategy

from .fill_controller import FillOptions
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


MAX_EDGE = 64  # px: the most a mask grows or feathers before a fill


class EngineSettingsPanel(QWidget):
    settingsChanged = Signal()           # device, strategy or texture changed: the engine is rebuilt with them
    fillOptionsChanged = Signal(object)  # FillOptions

    def __init__(self, device: str, strategy: str, texture: str = "photo", options: FillOptions = FillOptions(),
                 parent: QWidget | None = None) -> None:
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
        # room for a name on two lines from the start: the dock does not grow when the loaded model's name wraps
        self.model_label.setMinimumHeight(2 * self.model_label.fontMetrics().lineSpacing())
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.texture_box = QCheckBox("Texture from the photo")
        self.texture_box.setChecked(texture != "network")
        self.texture_box.setToolTip("After the network, copy the photo's own texture into the fill at the photo's "
                                    "resolution (sharper; Another Variation re-synthesises it with a new seed). "
                                    "Off: the network's fill alone.")
        # -1 stands for "Auto": the spin box shows its special text at the minimum
        self.grow_spin = self._pixels(-1, "Auto", options.grow if options.grow is not None else -1,
                                      "Fill a little beyond the painted mask, so outlines and halos left around a "
                                      "removed object go too. Auto: about 0.2 % of the photo's longer side, at "
                                      "least 2 px.")
        self.feather_spin = self._pixels(0, "Off", options.feather,
                                         "Fade the fill into the photo over this many pixels beyond the grown "
                                         "mask, instead of a hard edge.")
        self.on_release_box = QCheckBox("Fill when the brush is released")
        self.on_release_box.setChecked(options.on_release)
        self.on_release_box.setToolTip("Paint, let go, and the fill runs, as in removal tools.")
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Device", self.device_box)
        form.addRow("Large photos", self.strategy_box)
        form.addRow("Model", self.model_label)
        form.addRow(self.texture_box)
        form.addRow("Grow mask", self.grow_spin)
        form.addRow("Feather edge", self.feather_spin)
        form.addRow(self.on_release_box)
        self.device_box.currentIndexChanged.connect(self._emit)
        self.strategy_box.currentIndexChanged.connect(self._emit)
        self.texture_box.toggled.connect(self._emit)
        for spin in (self.grow_spin, self.feather_spin):
            spin.valueChanged.connect(self._emit_fill_options)
        self.on_release_box.toggled.connect(self._emit_fill_options)

    @staticmethod
    def _pixels(minimum: int, special: str, value: int, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(minimum, MAX_EDGE)
        spin.setSpecialValueText(special)
        spin.setSuffix(" px")
        spin.setValue(min(max(value, minimum), MAX_EDGE))
        spin.setToolTip(tip)
        return spin

    def fill_options(self) -> FillOptions:
        grow = self.grow_spin.value()
        return FillOptions(None if grow < 0 else grow, self.feather_spin.value(), self.on_release_box.isChecked())

    def _emit_fill_options(self) -> None:
        self.fillOptionsChanged.emit(self.fill_options())

    def device(self) -> str:
        return self.device_box.currentData()

    def strategy(self) -> str:
        return self.strategy_box.currentData()

    def texture(self) -> str:
        """The engine's texture setting: "photo" (the texture stage runs) or "network"."""
        return "photo" if self.texture_box.isChecked() else "network"

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
        self.settingsChanged.emit()
