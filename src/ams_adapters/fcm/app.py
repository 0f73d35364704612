"""Creating the firebase-admin app the notifier sends with."""

from __future__ import annotations

import firebase_admin  # type: ignore[import-untyped]  # firebase-admin ships no type hints
from firebase_admin import credentials

#: The longest HTTP timeout we allow: a stuck FCM call must not hold a worker for minutes
#: (firebase-admin's own default is 120 s).
MAX_HTTP_TIMEOUT_SECONDS = 10.0


def firebase_app(
    credentials_path: str, *, http_timeout_seconds: float = 10, name: str = "ams"
) -> firebase_admin.App:
    """Initialise a firebase-admin app from a service-account JSON file.

    Nothing goes over the network here: the access token is fetched on the first send.

    Args:
        credentials_path: The service-account key file downloaded from the Firebase console.
        http_timeout_seconds: The timeout of each HTTP call to FCM, at most 10 seconds.
        name: The app's name in firebase-admin's registry (one app per name and process).

    Raises:
        ValueError: The file is missing, unreadable or not a service-account key, the
            timeout is out of range, or an app called ``name`` already exists.
    """
    if not 0 < http_timeout_seconds <= MAX_HTTP_TIMEOUT_SECONDS:
        raise ValueError(
            f"http_timeout_seconds must be in (0, {MAX_HTTP_TIMEOUT_SECONDS:g}], "
            f"got {http_timeout_seconds!r}"
        )
    try:
        credential = credentials.Certificate(credentials_path)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"cannot use {credentials_path!r} as a Firebase service-account key: {error}"
        ) from error
    app: firebase_admin.App = firebase_admin.initialize_app(
        credential, {"httpTimeout": http_timeout_seconds}, name=name
    )
    return app
