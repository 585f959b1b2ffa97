import sys

try:
    from .cli import run
except KeyboardInterrupt:  # Ctrl-C while the modules load: one line, no traceback
    sys.stderr.write("advisor: interrupted\n")
    raise SystemExit(130) from None

run()
