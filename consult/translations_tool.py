"""Keep the catalogs in step with the code (run via ``python3 -m consult translations``).

Extracts every string into ``translations/messages.pot``, merges it into the German and
English catalogs, fills the English catalog with the English source strings (so it is
complete), and compiles the ``.mo`` files that the app loads.
"""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
KEYWORDS = ["-k", "_l", "-k", "lazy_gettext"]


def extract(output: Path) -> None:
    """Write a fresh template of all strings in the code to ``output``."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(TRANSLATIONS / "babel.cfg"),
            *KEYWORDS,
            "--no-wrap",
            "--sort-by-file",
            "--project",
            "consult",
            "--copyright-holder",
            "consult",
            "-o",
            str(output),
            "consult",  # relative: the references read the same in every checkout
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def catalog_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def update(locale: str) -> None:
    po = catalog_path(locale)
    command = "update" if po.exists() else "init"
    args = ["-i", str(POT), "-d", str(TRANSLATIONS), "-l", locale, "--no-wrap"]
    if command == "update":
        args.append("--no-fuzzy-matching")
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", command, *args],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def mirror_english() -> None:
    """English is the source language: each msgstr is its msgid."""
    path = catalog_path("en")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0)


def compile_all() -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "compile",
            "-d",
            str(TRANSLATIONS),
            "--statistics",
        ],
        check=True,
        cwd=ROOT,
    )


def main() -> int:
    extract(POT)
    for locale in ("de", "en"):
        update(locale)
    mirror_english()
    compile_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
