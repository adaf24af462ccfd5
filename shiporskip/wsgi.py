import logging
import os

from django.core.wsgi import get_wsgi_application

from shiporskip.conf import data_dir, prepare_data_dir

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiporskip.settings")
# The start-up step before Django loads (it sets the umask too: sessions and mail files this
# process writes are the site user's only). A web server started without `shiporskip up`
# (gunicorn or granian directly) still gets a private data dir with its key.
fixed = prepare_data_dir(data_dir())
application = get_wsgi_application()

if fixed:
    logging.getLogger("shiporskip").warning(
        "%d path(s) in %s could be read by other users; now owner-only.", len(fixed), data_dir()
    )
