"""The business rules, in plain Python.

Nothing here imports a web framework, a validation library or a database driver: money and
VAT arithmetic, invoice rules and state machines can be tested and reasoned about on their own.
The layers around it (HTTP in ``minipos.*.routes``, storage in ``minipos.*.repository``) translate
to and from these types.
"""
