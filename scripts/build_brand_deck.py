"""Build examples/templates/brand-deck.pptx: a branded 16:9 deck template as a designer would hand it over.

Its own theme colours and fonts, a band and a confidentiality line on the master, layouts placed for
16:9, and a sample slide (dropped when docagent writes a deck on it).

python scripts/build_brand_deck.py
"""

import re
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.util import Emu, Pt

OUT = Path(__file__).resolve().parent.parent / "examples" / "templates" / "brand-deck.pptx"
WIDE, HIGH, OLD_WIDE = 12_192_000, 6_858_000, 9_144_000
COLOURS = {"dk2": "14213D", "accent1": "0F7C8C", "accent2": "F2A541", "accent3": "5B8E7D", "accent4": "BC4B51"}

prs = Presentation()
prs.slide_width, prs.slide_height = Emu(WIDE), Emu(HIGH)
theme = prs.slide_master.part.part_related_by(RT.THEME)
xml = theme.blob.decode()
for slot, colour in COLOURS.items():
    xml = re.sub(
        rf"(<a:{slot}>\s*<a:(?:srgbClr val|sysClr val=\"[^\"]*\" lastClr)=\")[0-9A-F]{{6}}", rf"\g<1>{colour}", xml
    )
xml = re.sub(r'(<a:majorFont>\s*<a:latin typeface=")[^"]*', r"\g<1>DejaVu Serif", xml)
xml = re.sub(r'(<a:minorFont>\s*<a:latin typeface=")[^"]*', r"\g<1>DejaVu Sans", xml)
theme._blob = xml.encode()

# the default layouts are placed for 4:3: stretch them across the 16:9 width
shapes: list[Any] = list(prs.slide_master.shapes)
for layout in prs.slide_layouts:
    shapes += list(layout.placeholders)
for shape in shapes:
    if shape.left is not None:  # read every side first: a layout placeholder inherits them from the master
        left, top, width, height = shape.left, shape.top, shape.width, shape.height
        shape.left, shape.width = Emu(int(left * WIDE / OLD_WIDE)), Emu(int(width * WIDE / OLD_WIDE))
        shape.top, shape.height = top, height

sample = prs.slides.add_slide(prs.slide_layouts[1])
sample.shapes.title.text = "Sample slide"
band = sample.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, Emu(HIGH - 320_000), Emu(WIDE), Emu(320_000))
band.fill.solid()
band.fill.fore_color.rgb = RGBColor.from_string(COLOURS["dk2"])
band.line.fill.background()
band.text_frame.text = "Northwind Research · Confidential"
run = band.text_frame.paragraphs[0].runs[0]
run.font.size, run.font.color.rgb = Pt(10), RGBColor(0xFF, 0xFF, 0xFF)
band._element.nvSpPr.cNvPr.set("id", "100")
tree = prs.slide_master.shapes._spTree
tree.insert(2, band._element)  # moved to the master, behind its placeholders (python-pptx adds shapes to slides)
for layout in prs.slide_layouts:
    layout.name = f"Northwind {layout.name}"
OUT.parent.mkdir(exist_ok=True)
prs.save(str(OUT))
print(OUT)
