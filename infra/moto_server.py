"""Runs moto's standalone server for the test suite, one request at a time.

DynamoDB applies each request atomically: a conditional update checks and writes as one step, so
forty concurrent "decrement if stock >= 1" updates of one item never take it below zero. moto's
own `moto_server` handles requests on many threads with no lock around an item, so two of those
updates can both pass the check before either writes. The conformance suite races exactly such
writes, so on the threaded server it would be testing moto's locking, not the adapter. A lock
around the application gives back DynamoDB's per-request atomicity; threads still accept and parse
connections, so HTTP/1.1 keep-alive works as with the stock server.

Usage: python infra/moto_server.py -H 127.0.0.1 -p PORT
"""

import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    # moto builds some resource URLs (SQS queue URLs, for one) from this.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    application = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialized(environ, start_response):
        with one_at_a_time:
            # Drain the response inside the lock: moto may compute it lazily.
            return list(application(environ, start_response))

    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()
