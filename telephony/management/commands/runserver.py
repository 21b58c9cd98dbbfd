"""`runserver` as daphne serves it, plus the telephony task (and the simulated PBX when SIMULATED_PBX is on)."""

from daphne.management.commands.runserver import Command as DaphneRunserver

from telephony.server import TelephonyServer


class Command(DaphneRunserver):
    server_cls = TelephonyServer
