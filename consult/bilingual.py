"""Texts stored once per language (``title_de``, ``title_en``) and how a page picks one."""


class Bilingual:
    """Mixin for models with ``<field>_de`` / ``<field>_en`` columns."""

    def text(self, field: str, locale: str) -> tuple[str, str]:
        """(value, its language): the requested language, else the other one.

        The language comes back too, so the page can mark a fallback with ``lang``.
        """
        other = "en" if locale == "de" else "de"
        value = getattr(self, f"{field}_{locale}")
        if value:
            return value, locale
        return getattr(self, f"{field}_{other}"), other
