"""An SVG is bounded by what drawing it costs, and what is stored is our own serialisation of the checked tree."""

from __future__ import annotations

import time

import pytest

from docagent.engine.images import MAX_SVG_BYTES, read_image
from docagent.errors import UnreadableData
from tests.test_brands import use_bomb

NS = 'xmlns="http://www.w3.org/2000/svg"'


def svg(body: str, size: str = 'width="10" height="10"') -> bytes:
    return f"<svg {NS} {size}>{body}</svg>".encode()


REFUSED = {
    "nested <use>, 10^7 elements": (use_bomb(8), "more than 20,000 elements once every <use> is expanded"),
    "a <use> of its own group": (svg('<g id="a"><use href="#a"/></g>'), "<use> refers to itself"),
    "a <use> cycle": (svg('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>'), "refers to itself"),
    "5,000 nested groups": (svg("<g>" * 5000 + "</g>" * 5000), "nested deeper than 64 levels"),
    "width 1..2": (svg("", 'width="1..2" height="2"'), "SVG width '1..2' is not a length"),
    "height 1e999": (svg("", 'width="1" height="1e999"'), "SVG height inf is not a finite length"),
    "viewBox 0 0 1..2 3": (svg("", 'viewBox="0 0 1..2 3"'), "viewBox '0 0 1..2 3' is not four numbers"),
    "a CSS escape in <style>": (svg("<style>rect { fill: \\75 rl(http://x.test/a) }</style>"), "an escape"),
    "a CSS escape in style=": (svg('<rect style="fill: \\75 rl(http://x.test/a)"/>'), "an escape"),
    "@import after a child of <style>": (svg('<style><b/>@import "http://x.test/a.css";</style>'), "@import"),
    "over 2 MiB": (svg("<!--" + "x" * MAX_SVG_BYTES + "-->"), "exceeds the SVG limit"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_an_svg_that_would_cost_too_much_or_hide_something_is_refused_quickly(tmp_path, case):
    content, message = REFUSED[case]
    path = tmp_path / "image.svg"
    path.write_bytes(content)
    start = time.perf_counter()
    with pytest.raises(UnreadableData, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_image(path)
    assert time.perf_counter() - start < 5


def test_what_is_kept_is_the_checked_tree_without_instructions_or_comments(tmp_path):
    path = tmp_path / "logo.svg"
    path.write_bytes(
        b'<?xml version="1.0"?><?xml-stylesheet href="http://x.test/a.css"?>'
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 20 10">'
        b'<!-- a note --><rect id="r" width="5" height="5" fill="#1B2A4A"/><use xlink:href="#r" x="10"/></svg>'
    )
    img = read_image(path)
    assert (img.width, img.height) == (20, 10)
    assert b"xml-stylesheet" not in img.data and b"a note" not in img.data
    assert b'<use xlink:href="#r" x="10" />' in img.data and b'fill="#1B2A4A"' in img.data
    again = tmp_path / "again.svg"
    again.write_bytes(img.data)
    assert read_image(again).data == img.data  # the stored form reads back as itself


@pytest.mark.parametrize("uses", [10, 1000])
def test_an_ordinary_diagram_with_reused_shapes_is_accepted(tmp_path, uses):
    path = tmp_path / "d.svg"
    path.write_bytes(svg('<defs><circle id="c" r="1"/></defs>' + '<use href="#c"/>' * uses))
    assert read_image(path).kind == "svg"


def test_what_is_kept_does_not_depend_on_what_the_process_serialised_before(tmp_path):
    """ElementTree's prefix registry is one per process: another part registering its own default namespace
    (a template's .rels) turned a logo checked afterwards into <ns0:svg>, and a .rels into <ns0:Relationships>."""
    import xml.etree.ElementTree as ET

    from docagent.engine.templatefiles.package import _without_external

    rels = (
        b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://x.test/attachedTemplate" Target="http://x.test/t.dotx" '
        b'TargetMode="External"/></Relationships>'
    )
    path = tmp_path / "logo.svg"
    path.write_bytes(svg('<rect width="5" height="5"/>'))
    saved = dict(ET._namespace_map)
    try:
        ET.register_namespace("", "urn:another-part")  # as any module may, at any time
        kept, dropped = _without_external("t.docx", "word/_rels/settings.xml.rels", rels)
        assert dropped == {"rId1": "http://x.test/t.dotx"}
        assert b"<Relationships xmlns=" in kept and b"ns0" not in kept
        data = read_image(path).data
        assert b'<svg xmlns="http://www.w3.org/2000/svg"' in data and b"ns0" not in data
    finally:
        ET._namespace_map.clear()
        ET._namespace_map.update(saved)
