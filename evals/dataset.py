"""Reference Q&A items: one JSON object per line, checked as they are read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import AccordError

KINDS = ("single", "multi", "unanswerable", "followup", "current", "comparison", "timeline")
# The kinds the CI gate has always measured; the policy kinds are reported per kind.
CORE_KINDS = KINDS[:4]
SPLITS = ("dev", "test", "all")
DEFAULT_DATASET = Path(__file__).resolve().parent / "dataset.jsonl"


class DatasetError(AccordError):
    """A dataset file that cannot be read or has an item in the wrong shape."""


@dataclass
class Item:
    id: str
    kind: str
    question: str
    reference_answer: str = ""
    gold_doc_ids: list[str] = field(default_factory=list)
    must_include: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    split: str = ""  # "" = not split: the item belongs to every split
    evidence: list[str] = field(default_factory=list)  # supporting quotes from the gold documents
    as_of: str = ""  # a "current" item asked as of this day (Bot.ask(as_of=...))

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_dataset(path: str | Path, split: str = "all") -> list[Item]:
    """Items of ``split`` (dev, test or all); items without a split field are in every split."""
    if split not in SPLITS:
        raise DatasetError(f"split={split!r} is not one of {', '.join(SPLITS)}")
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"no dataset at {path}; pass --dataset PATH to a .jsonl file")
    items: list[Item] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where} is not valid JSON ({exc.msg})") from None
        item = _item(raw, where)
        if item.id in seen:
            raise DatasetError(f"{where}: id {item.id!r} is used twice; ids must be unique")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise DatasetError(f"{path} holds no items")
    if split == "all":
        return items
    selected = [i for i in items if i.split in ("", split)]
    if not selected:
        raise DatasetError(f"{path} has no items in split {split!r}; try --split all")
    return selected


def _item(raw: Any, where: str) -> Item:
    if not isinstance(raw, dict):
        raise DatasetError(f"{where}: each line must be a JSON object")
    for name in ("id", "kind", "question"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise DatasetError(f"{where}: {name!r} must be a non-empty string")
    if raw["kind"] not in KINDS:
        raise DatasetError(f"{where}: kind {raw['kind']!r} is not one of {', '.join(KINDS)}")
    gold = raw.get("gold_doc_ids") or []
    facts = raw.get("must_include") or []
    evidence = raw.get("evidence") or []
    history = raw.get("history") or []
    if not (isinstance(gold, list) and all(isinstance(g, str) for g in gold)):
        raise DatasetError(f"{where}: gold_doc_ids must be a list of document ids")
    if not (isinstance(facts, list) and all(isinstance(f, str) for f in facts)):
        raise DatasetError(f"{where}: must_include must be a list of strings")
    if not (isinstance(evidence, list) and all(isinstance(e, str) for e in evidence)):
        raise DatasetError(f"{where}: evidence must be a list of strings")
    if not isinstance(history, list) or not all(
        isinstance(t, dict) and t.get("role") in ("user", "assistant") for t in history
    ):
        raise DatasetError(f"{where}: history must be a list of {{role, content}} messages")
    if raw["kind"] == "unanswerable" and gold:
        raise DatasetError(f"{where}: an unanswerable item has no gold documents")
    if raw["kind"] != "unanswerable" and not gold:
        raise DatasetError(f"{where}: a {raw['kind']} item needs gold_doc_ids")
    split = raw.get("split") or ""
    if split not in ("", "dev", "test"):
        raise DatasetError(f"{where}: split {split!r} must be dev or test")
    return Item(
        id=raw["id"],
        kind=raw["kind"],
        question=raw["question"],
        reference_answer=str(raw.get("reference_answer") or ""),
        gold_doc_ids=list(gold),
        must_include=list(facts),
        history=list(history),
        split=split,
        evidence=list(evidence),
        as_of=str(raw.get("as_of") or ""),
    )
