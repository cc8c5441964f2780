"""Composition: settings, the Starlette app and its lifespan, non-GraphQL routes, the CLI."""
