"""Production entry point: daphne serving pbx.asgi with the telephony task, on the given address."""

from daphne.endpoints import build_endpoint_description_strings
from django.core.management.base import BaseCommand

from telephony.server import TelephonyServer


class Command(BaseCommand):
    help = "Serve the application (HTTP + WebSockets) with the ARI telephony task, as in production."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="0.0.0.0")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-For/Proto from a proxy")

    def handle(self, *args, **options):
        from pbx.asgi import application

        TelephonyServer(
            application=application,
            endpoints=build_endpoint_description_strings(host=options["bind"], port=options["port"]),
            signal_handlers=True,
            proxy_forwarded_address_header="X-Forwarded-For" if options["proxy_headers"] else None,
            proxy_forwarded_port_header="X-Forwarded-Port" if options["proxy_headers"] else None,
            proxy_forwarded_proto_header="X-Forwarded-Proto" if options["proxy_headers"] else None,
        ).run()
