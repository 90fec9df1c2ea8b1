"""``python -m audit``: the ``audit`` command line (:mod:`audit.app.cli`)."""

from audit.app.cli import main

main(prog_name="audit")
