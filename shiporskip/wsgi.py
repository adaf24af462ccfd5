import logging
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiporskip.settings")
os.umask(0o077)  # sessions and mail files this process writes are the site user's only
application = get_wsgi_application()

# A web server started without `shiporskip up` (gunicorn or granian directly) still gets a
# private data dir.
from shiporskip.conf import keep_private  # noqa: E402 - needs the settings loaded above

if fixed := keep_private(settings.DATA_DIR):
    logging.getLogger("shiporskip").warning(
        "%d path(s) in %s could be read by other users; now owner-only.", len(fixed), settings.DATA_DIR)
