"""The test suite. A package so that tests, the demo and the bench import its helpers as
`tests.support` (the checkout's root is on sys.path: pytest's `pythonpath`, `python -m`)."""
