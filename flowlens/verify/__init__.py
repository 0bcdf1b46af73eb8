"""Staged plans: replay the days after a plan against it (``flowlens verify``)
before anyone applies it."""
