"""Blueprints: thin views that validate, call a service and redirect."""
