"""Data-subject rights (GDPR): find a person's data, export it (art. 15), erase it (art. 17).

A library; the CLI (``rempart privacy``) and the API call it. See docs/privacy.md.
"""
