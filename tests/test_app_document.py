"""The document model: patch-only undo commands for strokes, selections, mask operations and fills."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from app.document import Document, FillEvidence, InvertCommand, PatchCommand  # noqa: E402
from app.raster import clip_footprint, polygon_footprint, rect_footprint, segment_footprint  # noqa: E402
from inpaint_core.imageio import LoadedImage  # noqa: E402


def make_document(width: int = 256, height: int = 256, seed: int = 0) -> Document:
    rng = np.random.default_rng(seed)
    return Document(LoadedImage(rgb=rng.integers(0, 256, (height, width, 3), dtype=np.uint8)))


def stroke(doc: Document, points, diameter: float = 10, value: bool = True, layer: str = "mask") -> None:
    doc.begin_stroke(layer)
    for a, b in zip(points[:1] + points[:-1], points):
        doc.paint(segment_footprint(a, b, diameter), value)
    doc.end_stroke("stroke")


def patch_bytes(command) -> int:
    return sum(p.before.nbytes + p.after.nbytes for p in command.patches)


# -- raster ------------------------------------------------------------------------------------------------------
def test_a_click_with_a_one_pixel_brush_paints_the_pixel_under_the_cursor():
    x0, y0, inside = segment_footprint((10.5, 20.5), (10.5, 20.5), 1)
    assert [(x0 + c, y0 + r) for r, c in zip(*np.nonzero(inside))] == [(10, 20)]


def test_a_round_dab_covers_about_its_disc_and_a_drag_covers_the_capsule():
    _, _, disc = segment_footprint((50, 50), (50, 50), 20)
    assert abs(disc.sum() - np.pi * 10 ** 2) < 0.05 * np.pi * 10 ** 2
    _, _, capsule = segment_footprint((50, 50), (90, 50), 20)
    assert abs(capsule.sum() - (np.pi * 10 ** 2 + 40 * 20)) < 0.05 * capsule.sum()


def test_rectangle_and_polygon_footprints_take_the_pixels_whose_centres_are_inside():
    x0, y0, inside = rect_footprint((12, 7), (2, 2))
    assert (x0, y0, inside.shape) == (2, 2, (5, 10))
    x0, y0, inside = polygon_footprint([(2, 2), (10, 2), (10, 8), (2, 8)])
    assert (x0, y0) == (2, 2) and inside.sum() == 8 * 6
    assert polygon_footprint([(1, 1), (5, 5)]) is None


def test_footprints_are_clipped_to_the_image():
    x0, y0, inside = clip_footprint(segment_footprint((0, 0), (0, 0), 10), 100, 100)
    assert (x0, y0) == (0, 0) and inside.shape == (6, 6)
    assert clip_footprint(segment_footprint((-50, -50), (-50, -50), 10), 100, 100) is None


# -- strokes -------------------------------------------------------------------------------------------------------
def test_a_stroke_is_one_command_holding_only_its_bounding_box():
    doc = make_document(2000, 1500)
    stroke(doc, [(100.0, 100.0), (160.0, 130.0), (220.0, 110.0)], diameter=20)
    assert doc.undo_stack.count() == 1
    command = doc.undo_stack.command(0)
    (patch,) = command.patches
    assert patch.layer == "mask"
    assert patch.rect.width() <= 220 - 100 + 22 and patch.rect.height() <= 130 - 100 + 22
    assert patch_bytes(command) < doc.mask.nbytes / 100


def test_undo_and_redo_of_strokes_restore_the_mask_exactly_across_tiles():
    doc = make_document()
    doc.apply_footprint("mask", rect_footprint((60, 60), (100, 100)), True, "rect")
    before = doc.mask.copy()
    # crosses several 64-pixel tiles and paints over pixels that were already masked
    stroke(doc, [(10.0, 10.0), (130.0, 140.0), (250.0, 20.0)], diameter=30)
    after = doc.mask.copy()
    stroke(doc, [(80.0, 80.0), (200.0, 80.0)], diameter=16, value=False)
    erased = doc.mask.copy()
    doc.undo()
    np.testing.assert_array_equal(doc.mask, after)
    doc.undo()
    np.testing.assert_array_equal(doc.mask, before)
    doc.redo()
    doc.redo()
    np.testing.assert_array_equal(doc.mask, erased)


def test_a_stroke_that_changes_nothing_records_nothing():
    doc = make_document()
    stroke(doc, [(50.0, 50.0)], value=False)
    assert doc.undo_stack.count() == 0


def test_undo_is_refused_in_the_middle_of_a_stroke():
    doc = make_document()
    stroke(doc, [(50.0, 50.0)])
    doc.begin_stroke()
    doc.paint(segment_footprint((150, 150), (150, 150), 10), True)
    doc.undo()
    assert doc.mask[50, 50] and doc.mask[150, 150]
    doc.end_stroke("second")
    assert doc.undo_stack.count() == 2


# -- selections and mask operations ------------------------------------------------------------------------------
def test_selections_add_and_subtract_and_no_op_selections_are_not_recorded():
    doc = make_document()
    assert doc.apply_footprint("mask", rect_footprint((10, 10), (50, 50)), True, "rect")
    assert not doc.apply_footprint("mask", rect_footprint((20, 20), (30, 30)), True, "inside: no change")
    assert doc.apply_footprint("mask", polygon_footprint([(20, 20), (40, 20), (40, 40)]), False, "lasso")
    assert doc.undo_stack.count() == 2
    assert doc.mask[15, 15] and not doc.mask[25, 38]


def test_clear_stores_the_masks_box_and_invert_stores_no_pixels():
    doc = make_document()
    doc.apply_footprint("mask", rect_footprint((10, 20), (30, 50)), True, "rect")
    original = doc.mask.copy()
    assert doc.clear_mask()
    clear = doc.undo_stack.command(1)
    assert isinstance(clear, PatchCommand) and clear.patches[0].rect.getRect() == (10, 20, 20, 30)
    assert not doc.clear_mask()  # nothing left to clear
    doc.undo()
    doc.invert_mask()
    assert isinstance(doc.undo_stack.command(1), InvertCommand)
    np.testing.assert_array_equal(doc.mask, ~original)
    doc.undo()
    np.testing.assert_array_equal(doc.mask, original)


def test_the_exclude_mask_has_its_own_layer_and_history():
    doc = make_document()
    stroke(doc, [(30.0, 30.0)], layer="exclude")
    assert doc.exclude[30, 30] and not doc.mask.any()
    assert doc.fill_request() is None  # no hole yet
    stroke(doc, [(100.0, 100.0)])
    request = doc.fill_request()
    assert request.exclude is not None and request.exclude[30, 30]
    with pytest.raises(ValueError):
        doc.begin_stroke("image")


# -- fills -------------------------------------------------------------------------------------------------------
def fake_fill(doc: Document, colour=(0, 255, 0)):
    request = doc.fill_request()
    composite = request.image.copy()
    composite[request.mask] = colour
    box = (0, 0, doc.width, doc.height)
    region = np.zeros_like(request.image)
    return request, composite, FillEvidence(box, region, region, region, 0.5)


def test_a_fill_replaces_the_hole_clears_the_mask_and_undoes_to_the_original_bytes():
    doc = make_document(1200, 900)
    original = doc.image.copy()
    doc.apply_footprint("mask", rect_footprint((100, 200), (140, 260)), True, "rect")
    hole = doc.mask.copy()
    request, composite, evidence = fake_fill(doc)
    assert doc.apply_fill(request, composite, evidence)
    np.testing.assert_array_equal(doc.image, composite)
    assert not doc.mask.any() and doc.evidence is evidence and doc.is_modified
    fill = doc.undo_stack.command(doc.undo_stack.count() - 1)
    assert {p.layer for p in fill.patches} == {"image", "mask"}
    image_patch = next(p for p in fill.patches if p.layer == "image")
    assert image_patch.rect.getRect() == (100, 200, 40, 60)  # the hole's box, not the whole photo
    doc.undo()
    assert doc.image.tobytes() == original.tobytes()
    np.testing.assert_array_equal(doc.mask, hole)
    assert doc.evidence is None and not doc.is_modified
    doc.redo()
    np.testing.assert_array_equal(doc.image, composite)


def test_fills_chain_and_each_is_undone_on_its_own():
    doc = make_document()
    original = doc.image.copy()
    doc.apply_footprint("mask", rect_footprint((10, 10), (40, 40)), True, "first hole")
    doc.apply_fill(*fake_fill(doc, (255, 0, 0)))
    after_first = doc.image.copy()
    doc.apply_footprint("mask", rect_footprint((100, 100), (140, 140)), True, "second hole")
    doc.apply_fill(*fake_fill(doc, (0, 0, 255)))
    doc.undo()
    doc.undo()
    np.testing.assert_array_equal(doc.image, after_first)
    doc.undo()
    doc.undo()
    assert doc.image.tobytes() == original.tobytes()


def test_a_result_for_a_photo_that_changed_meanwhile_is_refused():
    doc = make_document()
    doc.apply_footprint("mask", rect_footprint((10, 10), (40, 40)), True, "hole")
    doc.apply_fill(*fake_fill(doc))
    doc.apply_footprint("mask", rect_footprint((100, 100), (140, 140)), True, "hole")
    request, composite, evidence = fake_fill(doc)
    doc.undo()
    doc.undo()  # the first fill is undone while the second "runs"
    state = doc.image.copy()
    assert not doc.apply_fill(request, composite, evidence)
    np.testing.assert_array_equal(doc.image, state)


def test_a_result_arriving_mid_stroke_waits_for_the_stroke_and_keeps_its_pixels():
    doc = make_document()
    doc.apply_footprint("mask", rect_footprint((10, 10), (40, 40)), True, "hole")
    request, composite, evidence = fake_fill(doc)
    doc.begin_stroke()
    doc.paint(segment_footprint((42, 42), (42, 42), 6), True)  # overlaps the hole's edge
    assert doc.apply_fill(request, composite, evidence)
    doc.paint(segment_footprint((200, 200), (200, 200), 6), True)
    assert not doc.image[25, 25].tolist() == [0, 255, 0]  # not applied yet
    doc.end_stroke("stroke during fill")
    assert doc.image[25, 25].tolist() == [0, 255, 0]
    assert not doc.mask[30, 30]  # the filled hole is cleared...
    assert doc.mask[43, 43] and doc.mask[200, 200]  # ...but what was painted beside it meanwhile stays
    assert [doc.undo_stack.text(i) for i in range(3)] == ["hole", "stroke during fill", "Fill"]


def test_modified_follows_save_undo_and_redo():
    doc = make_document()
    changes = []
    doc.modifiedChanged.connect(changes.append)
    doc.apply_footprint("mask", rect_footprint((10, 10), (40, 40)), True, "hole")
    assert not doc.is_modified  # masks alone are not unsaved changes
    doc.apply_fill(*fake_fill(doc))
    doc.mark_saved()
    doc.undo()
    assert doc.is_modified
    doc.redo()
    assert not doc.is_modified
    assert changes == [True, False, True, False]


# -- variations of a fill ----------------------------------------------------------------------------------------
def variation(doc: Document, request, evidence: FillEvidence, colour, keep=None):
    """Pixels over the fill's box with the hole painted ``colour`` (except where ``keep`` is True, left as the
    photo was), and their evidence."""
    x0, y0, x1, y1 = evidence.box
    pixels = request.image.copy()
    pixels[request.mask & (True if keep is None else ~keep)] = colour
    region = np.zeros_like(request.image)
    return pixels[y0:y1, x0:x1], FillEvidence(evidence.box, region, region, region, 0.2)


def test_a_variation_replaces_the_fill_in_place_and_one_undo_still_restores_the_photo():
    doc = make_document()
    original = doc.image.copy()
    doc.apply_footprint("mask", rect_footprint((30, 40), (90, 70)), True, "hole")
    hole = doc.mask.copy()
    request, composite, first = fake_fill(doc, (255, 0, 0))
    assert doc.apply_fill(request, composite, first)
    history = doc.undo_stack.count()
    doc.mark_saved()
    # the second variation leaves part of the hole as the photo was: its patch is smaller than the first's
    keep = np.zeros_like(hole)
    keep[40:70, 30:60] = True
    pixels, second = variation(doc, request, first, (0, 0, 255), keep)
    assert doc.replace_fill(first, pixels, second)
    np.testing.assert_array_equal(doc.image, pixels)
    assert doc.evidence is second and doc.undo_stack.count() == history
    assert doc.is_modified  # the saved file holds the first variation
    assert doc.holds_fill(second) and doc.shows_fill(second) and not doc.holds_fill(first)
    doc.undo()
    assert doc.image.tobytes() == original.tobytes()
    np.testing.assert_array_equal(doc.mask, hole)
    assert doc.evidence is None and not doc.shows_fill(second) and doc.holds_fill(second)
    assert not doc.replace_fill(second, pixels, first)  # undone: nothing to replace
    doc.redo()
    np.testing.assert_array_equal(doc.image, pixels)
    assert doc.evidence is second and not doc.mask.any()
    # back to the first variation: exactly its pixels, again one undo from the original
    first_pixels, third = variation(doc, request, second, (255, 0, 0))
    assert doc.replace_fill(second, first_pixels, third)
    np.testing.assert_array_equal(doc.image, composite)
    doc.undo()
    assert doc.image.tobytes() == original.tobytes()


def test_a_variation_is_refused_after_another_edit_or_for_another_box():
    doc = make_document()
    doc.apply_footprint("mask", rect_footprint((30, 40), (90, 70)), True, "hole")
    request, composite, evidence = fake_fill(doc)
    doc.apply_fill(request, composite, evidence)
    pixels, other = variation(doc, request, evidence, (0, 0, 255))
    with pytest.raises(ValueError):
        doc.replace_fill(evidence, pixels[1:], FillEvidence((0, 1, doc.width, doc.height), *[pixels[1:]] * 3, 0.1))
    stroke(doc, [(200.0, 200.0)])
    assert not doc.holds_fill(evidence) and not doc.shows_fill(evidence)
    state = doc.image.copy()
    assert not doc.replace_fill(evidence, pixels, other)
    np.testing.assert_array_equal(doc.image, state)
    doc.undo()  # the stroke undone: the fill is the photo again, but it is no longer the last edit in the history
    assert not doc.holds_fill(evidence) and not doc.replace_fill(evidence, pixels, other)


def test_a_fill_waiting_for_a_stroke_to_end_is_held():
    doc = make_document()
    doc.apply_footprint("mask", rect_footprint((10, 10), (40, 40)), True, "hole")
    request, composite, evidence = fake_fill(doc)
    doc.begin_stroke()
    doc.paint(segment_footprint((200, 200), (200, 200), 6), True)
    assert doc.apply_fill(request, composite, evidence)
    assert doc.holds_fill(evidence) and not doc.shows_fill(evidence)
    doc.end_stroke("stroke during fill")
    assert doc.holds_fill(evidence) and doc.shows_fill(evidence)
