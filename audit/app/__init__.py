"""The application floor: the monthly run (:mod:`~audit.app.pipeline`), the command line
(:mod:`~audit.app.cli`), the case and graph-viewer stage (:mod:`~audit.app.cases`,
:mod:`~audit.app.viewer`, ``audit graph``) and what a run records of its provenance.

It sits on top of everything: it runs the rules of ``checks/``, renders with ``reports/`` and reads
the foundation (``audit/`` top level). Nothing below imports it.
"""
