"""`make bench`: the measurements (`python -m bench.run`), a package so that its modules
import each other and `tests.support` without touching sys.path."""
