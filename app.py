"""Entry point: `flask --app app run`."""

from intake import create_app

app = create_app()
