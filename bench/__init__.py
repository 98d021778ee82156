"""Speed and scale benchmarks: scripts that print tables and save them as JSON (not tests).

Run them all with ``python bench/run.py`` (``--quick`` for a few minutes); see README "Speed".
"""
