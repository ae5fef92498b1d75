"""Languages: the patient's choice, else the browser's, else the clinic's."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale

# Each language is named in itself, so a reader finds their own without reading the current one.
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def choose(language: str) -> bool:
    """Remember the patient's language for this browser session; False if the clinic does not offer it."""
    if language not in current_app.config["LANGUAGES"]:
        return False
    session["lang"] = language
    return True


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES
