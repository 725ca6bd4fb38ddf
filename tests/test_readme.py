"""The README's pictures and links to files of the repository exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Markdown links and images: [text](target) and ![alt](target).
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def test_readme_pictures_and_local_links_exist():
    targets = LINK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    local = [t.split("#")[0] for t in targets if "://" not in t and not t.startswith("#")]
    assert local, "the README links no file of the repository"
    assert [t for t in local if not (ROOT / t).is_file()] == []


def test_readme_opens_with_a_picture():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_image = text.find("![")
    assert 0 <= first_image < text.find("\n## ")
    path = ROOT / LINK.match(text, first_image).group(1)
    # Pictures are committed small: the README loads them on every visit.
    assert path.suffix == ".png" and path.stat().st_size < 200_000
