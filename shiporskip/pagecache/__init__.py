"""The page cache's generations: what a cached page's key is made of (see `shiporskip.pages`)."""
