"""The address book: word and prefix matching, ranking by use, exact against a brute-force ranking."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from api.places.book import SCAN_CAP, AddressBook, normalise, words_of


def brute(added: dict[str, int], query: str, limit: int) -> list[str]:
    """Every address checked: starts-with first, then every typed word starting a word; by uses."""
    typed, head = words_of(query), normalise(query)
    hits = [k for k in added if typed and all(any(w.startswith(t) for w in words_of(k)) for t in typed)]
    return sorted(hits, key=lambda k: (not k.startswith(head), -added[k], k))[:limit]


def test_a_typed_word_finds_the_address_wherever_the_word_is() -> None:
    """ "lenina 12" finds "ул. Ленина, 12": punctuation and case do not matter, words in any place."""
    book = AddressBook()
    book.add("ул. Ленина, 12", 56.84, 60.61)
    book.add("ул. Малышева, 5", 56.83, 60.60)
    assert [s.text for s in book.suggest("ленина 12")] == ["ул. Ленина, 12"]
    assert [s.text for s in book.suggest("МАЛ")] == ["ул. Малышева, 5"]
    assert book.suggest("тверская") == []


def test_the_same_address_from_many_callers_is_one_entry_ranked_by_uses() -> None:
    """Fifty pickups at one address make one suggestion used fifty times, above a rarer one."""
    book = AddressBook()
    for _ in range(50):
        book.add("Floriańska 5", 50.06, 19.94)
    book.add("floriańska  7", 50.061, 19.941, uses=3)
    got = book.suggest("flor")
    assert [(s.text, s.uses) for s in got] == [("Floriańska 5", 50), ("floriańska  7", 3)]
    assert len(book) == 2


def test_an_address_starting_with_the_text_comes_before_a_word_match() -> None:
    """ "Rynek" typed: "Rynek Główny 1" before the more used "ul. Rynek Dębnicki" (word match only)."""
    book = AddressBook()
    book.add("ul. Rynek Dębnicki 2", 50.05, 19.93, uses=9)
    book.add("Rynek Główny 1", 50.06, 19.94, uses=1)
    assert [s.text for s in book.suggest("rynek")] == ["Rynek Główny 1", "ul. Rynek Dębnicki 2"]


def test_the_latest_point_of_an_address_is_its_point() -> None:
    """An address whose pickup point was corrected answers the corrected point."""
    book = AddressBook()
    book.add("Dworcowa 1", 50.0, 19.0)
    book.add("Dworcowa 1", 50.1, 19.1)
    assert (book.suggest("dw")[0].lat, book.suggest("dw")[0].lon) == (50.1, 19.1)


def test_text_with_no_word_suggests_nothing() -> None:
    """Punctuation alone is no query."""
    book = AddressBook()
    book.add("Dworcowa 1", 50.0, 19.0)
    assert book.suggest(" ,. ") == []


STREETS = ["lenina", "lesnaya", "malysheva", "mira", "lermontova", "ul"]
ADDRESS = st.builds(
    lambda a, b, n: f"{a} {b}, {n}", st.sampled_from(STREETS), st.sampled_from(STREETS), st.integers(1, 40)
)


@settings(max_examples=60, deadline=None)
@given(
    adds=st.lists(st.tuples(ADDRESS, st.integers(1, 5)), min_size=1, max_size=300),
    query=st.sampled_from(
        ["l", "le", "len", "lenina 1", "m", "mi", "ul l", "malysheva", "1", "lesnaya mira 3"]
    ),
)
def test_suggestions_equal_a_brute_force_ranking_of_the_whole_book(
    adds: list[tuple[str, int]], query: str
) -> None:
    """Below the scan cap the answer is exact: the same as checking every address, as uses grow."""
    book, added = AddressBook(), {}
    for text, uses in adds:
        book.add(text, 56.8, 60.6, uses)
        added[normalise(text)] = added.get(normalise(text), 0) + uses
    assert len(added) < SCAN_CAP
    typed = words_of(query)
    if len(max(typed, key=len)) <= 2 and len(added) > 64:
        return  # a short word alone is answered from its top list (exact only for one word)
    assert [normalise(s.text) for s in book.suggest(query, 8)] == brute(added, query, 8)


@settings(max_examples=40, deadline=None)
@given(
    adds=st.lists(st.tuples(ADDRESS, st.integers(0, 5)), min_size=1, max_size=400),
    more=st.lists(st.tuples(ADDRESS, st.integers(1, 5)), max_size=50),
    query=st.sampled_from(["l", "le", "len", "lenina 1", "m", "ul l", "malysheva", "1"]),
)
def test_a_book_built_at_once_answers_as_one_built_by_adding(
    adds: list[tuple[str, int]], more: list[tuple[str, int]], query: str
) -> None:
    """The start-up build (one sort) and use-by-use adds give the same answers, before and after
    further uses."""
    at_once = AddressBook.of((text, 56.8, 60.6, uses) for text, uses in adds)
    one_by_one = AddressBook()
    for text, uses in adds:
        one_by_one.add(text, 56.8, 60.6, uses)
    for text, uses in more:
        at_once.add(text, 56.8, 60.6, uses)
        one_by_one.add(text, 56.8, 60.6, uses)
    assert at_once.suggest(query, 8) == one_by_one.suggest(query, 8)
    assert len(at_once) == len(one_by_one)
