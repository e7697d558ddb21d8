"""`make bench`: the synthetic province (core.synthetic) measured against the targets of issue #7."""
