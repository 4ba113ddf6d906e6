import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# What loading made (Django, the apps, their modules: ~150,000 containers) lives as long
# as the process; frozen out of the cycle collector's passes, since each full pass would
# walk it all again, a 40-100 ms stop of every thread of the worker (the signup page's
# p99). Collected first so that no garbage is frozen with it.
gc.collect()
gc.freeze()

from digest import recent  # noqa: E402 (the apps are loaded by now)

# The live preview's index, built while the worker starts serving: not by its first
# preview, which would wait for it with the worker's other previews behind it.
recent.build_in_background()
