"""Rebuild templates/base.docx: python-docx's default template on A4 with our margins.

Theme colours and fonts are applied at render time; this file fixes page setup and
makes sure every style the Word renderer names exists.
"""

from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.shared import Mm, Pt

REQUIRED = [
    "Title",
    "Subtitle",
    "Caption",
    "TOC Heading",
    "List Bullet",
    "List Number",
    "Heading 1",
    "Heading 2",
    "Heading 3",
]

doc = Document()
for s in doc.sections:
    s.page_width, s.page_height = Mm(210), Mm(297)
    s.left_margin = s.right_margin = Mm(20)
    s.top_margin = s.bottom_margin = Mm(20)
    s.header_distance = s.footer_distance = Mm(10)
names = {s.name for s in doc.styles}
for name in REQUIRED:
    if name not in names:
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles["Heading 1" if name == "TOC Heading" else "Normal"]
doc.styles["Normal"].paragraph_format.space_after = Pt(6)
doc.styles["Caption"].font.size = Pt(8.5)
doc.styles["Caption"].font.italic = False
doc.core_properties.author = "docagent"
doc.core_properties.title = ""
# Word 2010's stylesWithEffects copy of styles.xml would go stale as styles change here and at
# render time (a validator reports the mismatch); Word does not need it, so the part goes.
for rid, rel in list(doc.part.rels.items()):
    if rel.reltype.endswith("/stylesWithEffects"):
        doc.part.drop_rel(rid)
out = Path(__file__).resolve().parent.parent / "templates" / "base.docx"
doc.save(str(out))
print(out, sorted(set(REQUIRED) - names) or "all styles were present")
