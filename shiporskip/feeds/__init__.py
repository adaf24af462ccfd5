"""Feeds and badges: what readers follow and other sites embed (Atom feeds, SVG badges)."""
