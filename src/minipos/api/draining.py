"""Whether this server process has begun its graceful shutdown.

On SIGTERM uvicorn stops listening, then waits up to its grace period for the requests in
flight, and cancels what is left. Most requests finish in milliseconds. A station's long-poll
(``?wait=`` up to 60 s) or an event stream would instead hold every restart for the whole
grace period and then be cut off mid-answer. So our protocol (``api.protocol``) raises this
flag when uvicorn asks its connections to shut down, and those waits end early with what they
have: the feed answers its list (often empty), the stream ends. Clients poll again or
reconnect, to this server once it is back or to another process.
"""

from __future__ import annotations

import threading

#: Set once, by the first connection uvicorn asks to shut down; never cleared (the process ends).
DRAINING = threading.Event()
