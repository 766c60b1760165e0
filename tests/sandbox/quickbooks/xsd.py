"""Which JSON keys QBO's own schema declares, entity by entity (test support).

QBO's JSON mirrors its XML: an element or an attribute of a type becomes a key, a
simpleContent type (a reference) carries its text as `value`. Types extend others
(`Invoice` -> `SalesTransaction` -> `Transaction` -> `IntuitEntity`), so a type's keys
are its own plus every base's. An element `ref` to an abstract head
(`IntuitObject`) stands for every member of its substitution group.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 (our own checked-in schema files)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

XS = "{http://www.w3.org/2001/XMLSchema}"
SCHEMA_DIR = Path(__file__).parent / "fixtures" / "xsd"

# A child's spec: a named complex type, an anonymous complexType node, or None (simple).
Spec = str | ET.Element | None


@dataclass
class Members:
    keys: dict[str, Spec] = field(default_factory=dict)
    open: bool = False  # xs:any: anything goes


class Schema:
    """The QBO v3 schema, loaded from IntuitRestServiceDef.xsd and its includes."""

    def __init__(self, folder: Path = SCHEMA_DIR) -> None:
        self.types: dict[str, ET.Element] = {}
        self.groups: dict[str, ET.Element] = {}
        self.elements: dict[str, ET.Element] = {}
        self.substitutes: dict[str, list[str]] = {}
        self._cache: dict[str, Members] = {}
        self._load(folder / "IntuitRestServiceDef.xsd", set())

    def _load(self, path: Path, seen: set[Path]) -> None:
        if path in seen:
            return
        seen.add(path)
        root = ET.parse(path).getroot()  # noqa: S314 (trusted local file)
        for node in root:
            name = node.get("name")
            if node.tag == XS + "include":
                self._load(path.parent / node.get("schemaLocation", ""), seen)
            elif node.tag == XS + "complexType" and name:
                self.types[name] = node
            elif node.tag == XS + "group" and name:
                self.groups[name] = node
            elif node.tag == XS + "element" and name:
                self.elements[name] = node
                head = node.get("substitutionGroup")
                if head:
                    self.substitutes.setdefault(head, []).append(name)

    def members(self, spec: Spec) -> Members:
        """The keys an object of `spec` may hold."""
        if isinstance(spec, str):
            if spec not in self._cache:
                self._cache[spec] = Members()  # guards recursive types
                self._cache[spec] = self._walk(self.types[spec], Members())
            return self._cache[spec]
        if spec is None:
            return Members()
        return self._walk(spec, Members())

    def _walk(self, node: ET.Element, into: Members) -> Members:
        for child in node:
            tag = child.tag.removeprefix(XS)
            if tag in ("complexContent", "simpleContent"):
                for derivation in child:
                    base = derivation.get("base", "")
                    if base in self.types:
                        base_members = self.members(base)
                        into.keys.update(base_members.keys)
                        into.open |= base_members.open
                    elif tag == "simpleContent":
                        into.keys["value"] = None
                    self._walk(derivation, into)
            elif tag in ("sequence", "choice", "all"):
                self._walk(child, into)
            elif tag == "group" and child.get("ref"):
                self._walk(self.groups[child.get("ref", "")], into)
            elif tag == "element":
                self._element(child, into)
            elif tag == "attribute" and child.get("name"):
                into.keys[child.get("name", "")] = None
            elif tag == "any":
                into.open = True
        return into

    def _element(self, node: ET.Element, into: Members) -> None:
        ref = node.get("ref")
        if ref:
            head = self.elements[ref]
            if head.get("abstract") != "true":
                into.keys[ref] = self._spec_of(head)
            for member in self.substitutes.get(ref, []):
                into.keys[member] = self._spec_of(self.elements[member])
            return
        into.keys[node.get("name", "")] = self._spec_of(node)

    def _spec_of(self, node: ET.Element) -> Spec:
        type_name = node.get("type")
        if type_name:
            return type_name if type_name in self.types else None
        anonymous = node.find(XS + "complexType")
        return anonymous

    def undeclared(self, value: Any, spec: Spec, path: str) -> list[str]:
        """Paths of keys in `value` that `spec` does not declare."""
        if isinstance(value, list):
            problems: list[str] = []
            for index, item in enumerate(value):
                problems += self.undeclared(item, spec, f"{path}[{index}]")
            return problems
        if not isinstance(value, dict):
            return []
        if spec is None:
            return [f"{path} is an object where the schema has a simple value"]
        members = self.members(spec)
        problems = []
        for key, item in value.items():
            if key in members.keys:
                problems += self.undeclared(item, members.keys[key], f"{path}.{key}")
            elif not members.open:
                problems.append(f"{path}.{key}")
        return problems

    def check_response(self, body: dict[str, Any]) -> list[str]:
        """Undeclared keys in a whole response body (an IntuitResponse)."""
        return self.undeclared(body, "IntuitResponse", "$")

    def check_entity(self, entity: str, obj: dict[str, Any]) -> list[str]:
        """Undeclared keys in one entity object."""
        return self.undeclared(obj, entity, entity)
