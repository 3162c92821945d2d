"""Helpers for the browser tests (imported by name; pytest does not collect this file)."""


def main_nav(page, name: str):
    """The header's navigation, ready to click: on a phone its links are in the "Menu"
    disclosure, which is opened first (a person taps "Menu" too)."""
    nav = page.get_by_role("navigation", name=name)
    menu = nav.locator("details.nav-menu")
    if menu.is_visible() and menu.get_attribute("open") is None:
        menu.locator("summary").click()
    return nav
