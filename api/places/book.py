"""The firm's known addresses, in memory: what an operator typing an address is offered.

Every past pickup of every customer is one entry per address (the same street
and house typed by fifty callers is one entry used fifty times), so the
suggestions are the firm's address book, not only this caller's.

A keystroke must not scan the book. Two structures answer it:

- every word of every address, paired with its address, in one sorted list
  (`sortedcontainers.SortedList`); the addresses with a word starting with a
  typed word are one contiguous range of it, found by two bisections; the
  typed word with the shortest range is read, up to `SCAN_CAP` pairs;
- for word prefixes of up to `SHORT` characters, whose ranges cover much of the
  book ("у", "ul"), the `TOP_K` most used addresses, kept exact as uses grow:
  counts only rise between rebuilds, so an address can only enter a prefix's
  top list by its own new use, and that is when it is checked.

A longer prefix whose range exceeds `SCAN_CAP` is answered from its first
`SCAN_CAP` pairs (alphabetical), plus the top list of its first `SHORT`
characters; one more typed character narrows the range. So the cost of a
keystroke is bounded by constants, whatever the size of the book
(bench/places.py measures it against the book size).

Ranking: an address that starts with what was typed comes first, then one in
which every typed word starts a word of the address; within each, the most used
first (ties alphabetically, so answers are stable).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sortedcontainers import SortedList  # type: ignore[import-untyped]

SHORT = 2
TOP_K = 64
SCAN_CAP = 1000
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Case and spacing do not make another address (the same rule as `api.models.address_key`)."""
    return " ".join(text.casefold().split())


def words_of(text: str) -> list[str]:
    """The words of an address, punctuation dropped: "ул. Ленина, 5" -> ["ул", "ленина", "5"]."""
    return _WORD.findall(text.casefold())


@dataclass(slots=True, eq=False)  # identity: one entry per address
class Entry:
    key: str
    text: str
    lat: float
    lon: float
    uses: int
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str
    lat: float
    lon: float
    uses: int


class AddressBook:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._pairs: SortedList = SortedList()  # (word, key)
        self._top: dict[str, list[Entry]] = {}  # short word prefix -> most used first

    @classmethod
    def of(cls, rows: Iterable[tuple[str, float, float, int]]) -> AddressBook:
        """A book of (text, lat, lon, uses) rows at once: one sort, not one insertion per word
        (a start-up read of 100,000 addresses several times faster than `add` one by one)."""
        book = cls()
        for text, lat, lon, uses in rows:
            key = normalise(text)
            if not key or uses < 0:
                continue
            entry = book._entries.get(key)
            if entry is None:
                entry = book._entries[key] = Entry(key, text.strip(), lat, lon, 0, tuple(words_of(key)))
            entry.text, entry.lat, entry.lon = text.strip(), lat, lon
            entry.uses += uses
        book._pairs = SortedList((word, e.key) for e in book._entries.values() for word in set(e.words))
        buckets: dict[str, list[Entry]] = {}
        for e in book._entries.values():
            for prefix in _short_prefixes(e.key):
                buckets.setdefault(prefix, []).append(e)
        book._top = {prefix: heapq.nsmallest(TOP_K, found, key=_order) for prefix, found in buckets.items()}
        return book

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, text: str, lat: float, lon: float, uses: int = 1) -> None:
        """`uses` more pickups at `text`; the latest point is the address's point."""
        key = normalise(text)
        if not key or uses < 0:
            return
        entry = self._entries.get(key)
        if entry is None:
            words = tuple(words_of(key))
            entry = self._entries[key] = Entry(key, text.strip(), lat, lon, 0, words)
            for word in set(words):
                self._pairs.add((word, key))
        entry.text, entry.lat, entry.lon = text.strip(), lat, lon
        entry.uses += uses
        for prefix in _short_prefixes(key):
            self._rank(prefix, entry)

    def _rank(self, prefix: str, entry: Entry) -> None:
        top = self._top.setdefault(prefix, [])
        if not any(e is entry for e in top):
            if len(top) >= TOP_K and _order(entry) >= _order(top[-1]):
                return
            top.append(entry)
        top.sort(key=_order)
        del top[TOP_K:]

    def most_used(self, limit: int) -> list[Suggestion]:
        """The `limit` most used addresses: the console draws the town from them without tiles."""
        best = heapq.nsmallest(limit, self._entries.values(), key=_order)
        return [Suggestion(e.text, e.lat, e.lon, e.uses) for e in best]

    def _range(self, prefix: str) -> tuple[int, int]:
        """The positions of the pairs whose word starts with `prefix`, at most `SCAN_CAP` of them."""
        start = self._pairs.bisect_left((prefix,))
        stop = self._pairs.bisect_left((prefix + "\uffff",))
        return start, min(stop, start + SCAN_CAP)

    def _anchor(self, typed: list[str]) -> str:
        """The typed word that narrows the book most: the fewest pairs (two bisections each)."""
        long = [t for t in typed if len(t) > SHORT]
        if not long:
            return max(typed, key=len)
        return min(
            long, key=lambda t: self._pairs.bisect_left((t + "\uffff",)) - self._pairs.bisect_left((t,))
        )

    def suggest(self, query: str, limit: int = 8) -> list[Suggestion]:
        """The known addresses for what has been typed so far, best first."""
        typed = words_of(query)
        if not typed or limit <= 0:
            return []
        anchor = self._anchor(typed)
        found = {e.key: e for e in self._top.get(anchor[:SHORT], [])}
        if len(anchor) > SHORT:
            for _, key in self._pairs.islice(*self._range(anchor)):
                found.setdefault(key, self._entries[key])
        head = normalise(query)
        hits = [e for e in found.values() if _matches(typed, e.words)]
        best = heapq.nsmallest(limit, hits, key=lambda e: (not e.key.startswith(head), *_order(e)))
        return [Suggestion(e.text, e.lat, e.lon, e.uses) for e in best]


def _order(entry: Entry) -> tuple[int, str]:
    return (-entry.uses, entry.key)


def _short_prefixes(key: str) -> set[str]:
    return {word[:n] for word in words_of(key) for n in range(1, SHORT + 1) if len(word) >= n}


def _matches(typed: list[str], words: tuple[str, ...]) -> bool:
    """Every typed word starts some word of the address."""
    return all(any(word.startswith(t) for word in words) for t in typed)
