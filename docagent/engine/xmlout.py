"""XML we write back after checking it, with its default namespace as the source had it."""

from __future__ import annotations

from xml.etree import ElementTree


def with_default_namespace(root: ElementTree.Element, uri: str, encoding: str = "utf-8") -> bytes:
    """`root` serialised with `uri` as the default namespace (`<svg xmlns="...">`).

    ElementTree picks prefixes from one registry per process, which any module may change at any time
    (`register_namespace("", other)` turned a logo checked later into `<ns0:svg>`), and its own
    `default_namespace` option refuses unprefixed attributes. So the elements in `uri` are written
    unqualified under an `xmlns` on the root; other namespaces keep prefixes.
    """
    qualified = "{" + uri + "}"
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith(qualified):
            el.tag = el.tag[len(qualified) :]
    attrs = dict(root.attrib)
    root.attrib.clear()
    root.attrib.update({"xmlns": uri, **attrs})  # first, as people write it
    return ElementTree.tostring(root, encoding=encoding, xml_declaration=True)
