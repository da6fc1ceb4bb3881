"""Reading a page's ids: duplicates, labels and aria-describedby pointing at nothing."""

from collections import Counter
from html.parser import HTMLParser


class Ids(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.ids, self.label_targets, self.described_by = Counter(), [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids[attrs["id"]] += 1
        if tag == "label" and attrs.get("for"):
            self.label_targets.append(attrs["for"])
        if attrs.get("aria-describedby"):
            self.described_by.extend(attrs["aria-describedby"].split())


def assert_ids_sound(html: str):
    page = Ids(html)
    assert [i for i, n in page.ids.items() if n > 1] == []
    assert [t for t in page.label_targets if t not in page.ids] == []
    assert [d for d in page.described_by if d not in page.ids] == []
    return page
