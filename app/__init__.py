"""Inpaint Studio's desktop editor (PySide6). It reaches the engine only through ``inpaint_core``'s public API."""
