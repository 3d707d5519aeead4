"""Inpaint Studio's desktop editor (PySide6). The engine (``inpaint_core.Inpainter``, which imports torch) is loaded
and run on the engine thread only (fill_worker.py); the UI thread uses inpaint_core's torch-free modules (imageio,
sources, flow) and never imports torch at start-up (tests/test_app_structure.py checks)."""
