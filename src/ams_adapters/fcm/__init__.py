"""Push notifications through Firebase Cloud Messaging (the ``push`` extra).

:class:`FcmNotifier` implements :class:`~ams_core.ports.Notifier` with firebase-admin;
:func:`firebase_app` builds the ``firebase_admin.App`` it sends with.
"""

from ams_adapters.fcm.app import firebase_app
from ams_adapters.fcm.notifier import FcmNotifier

__all__ = ["FcmNotifier", "firebase_app"]
