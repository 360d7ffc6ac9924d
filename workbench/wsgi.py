import os
from importlib import import_module

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
application = get_wsgi_application()

# Load before taking traffic what request handlers would otherwise import on first use: the
# agreement package pulls in pandas (seconds on a busy machine), and the first submit that
# completes an item would pay for it while holding the item's row lock.
import_module("annotations.agreement")
