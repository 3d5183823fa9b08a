"""The back office in the browser (``/office/``): sign-in for people, and the pages
(docs/office.md)."""
