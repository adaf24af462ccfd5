import logging
import os

from django.core.wsgi import get_wsgi_application

from shiporskip.conf import data_dir, prepare_data_dir

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiporskip.settings")
# The start-up step before Django loads (it sets the umask too: sessions and mail files this
# process writes are the site user's only). A web server started without `shiporskip up`
# (gunicorn or granian directly) still gets a private data dir with its key.
fixed = prepare_data_dir(data_dir())
django_application = get_wsgi_application()

from shiporskip.pagecache.serving import StoredPages  # noqa: E402 - needs Django set up

# Stored public pages are answered here, before Django's request cycle (pagecache/serving.py).
application = StoredPages(django_application)

if fixed:
    logging.getLogger("shiporskip").warning(
        "%d path(s) in %s could be read by other users; now owner-only.", len(fixed), data_dir()
    )
