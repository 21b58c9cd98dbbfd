"""What Asterisk 20 puts in its JSON: channel and bridge snapshots, timestamps, hangup causes (from main/channel.c,
channels/chan_pjsip.c and res/ari/resource_channels.c of the 20.20.1 tag)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

ASTERISK_ID = "02:fc:00:00:00:01"
VERSION = "20.20.1"


_second_cache: tuple[int, str] = (-1, "")


def timestamp(when: float | None = None) -> str:
    """ARI's format: milliseconds and a `+0000` offset without a colon, e.g. 2026-11-25T07:21:18.312+0000."""
    global _second_cache
    moment = time.time() if when is None else when
    second = int(moment)
    if _second_cache[0] != second:  # events come in bursts: format the date part once per second
        _second_cache = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_second_cache[1]}.{int((moment - second) * 1000):03d}+0000"


# ARI DELETE /channels ?reason= -> Q.850 cause (convert_reason_to_hangup_code)
HANGUP_REASONS = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 18,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}

CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    2: "No route to specified transmit network",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    20: "Subscriber absent",
    21: "Call Rejected",
    22: "Number changed",
    26: "Answered elsewhere",
    27: "Destination out of order",
    28: "Invalid number format",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    42: "Switching equipment congestion",
    58: "Bearer capability not available",
    127: "Interworking, unspecified",
}


def cause_text(cause: int) -> str:
    return CAUSE_TEXT.get(cause, "Unknown")


def cause_to_sip(cause: int) -> int:
    """chan_pjsip's hangup_cause2sip: the SIP response for a hangup cause (0: none; PJSIP then uses 603 on an
    unanswered inbound call, as Hangup() without a cause did in recording h)."""
    return {
        23: 302,
        1: 404,
        2: 404,
        3: 404,
        34: 503,
        42: 503,
        18: 408,
        19: 480,
        20: 480,
        21: 403,
        22: 410,
        31: 480,
        28: 484,
        17: 486,
        38: 500,
        29: 501,
        66: 503,
        27: 502,
        58: 488,
        127: 500,
    }.get(cause, 0)


def dial_status_for_cause(cause: int) -> str:
    """main/dial.c ast_hangup_cause_to_dial_status."""
    return {17: "BUSY", 34: "CONGESTION", 3: "CHANUNAVAIL", 20: "CHANUNAVAIL"}.get(cause, "NOANSWER")


QOS_VALUES = (
    ("RTPAUDIOQOS", "ssrc={ssrc};themssrc=0;lp=0;rxjitter=0.000000;rxcount=0;txjitter=0.000000;txcount=0;rlp=0;"
     "rtt=0.000000;rxmes=0.000000;txmes=0.000000"),
    ("RTPAUDIOQOSJITTER", "minrxjitter=000.000000;maxrxjitter=000.000000;avgrxjitter=000.000000;"
     "stdevrxjitter=000.000000;mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;"
     "stdevtxjitter=000.000000;"),
    ("RTPAUDIOQOSLOSS", "  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  "
     "stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  avgtxlost=000.000000;  "
     "stdevtxlost=000.000000;"),
    ("RTPAUDIOQOSRTT", "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     "
     "stdevrtt=000.000000;"),
    ("RTPAUDIOQOSMES", "   minrxmes=000.000000;   maxrxmes=000.000000;   avgrxmes=000.000000;   "
     "stdevrxmes=000.000000;   mintxmes=000.000000;   maxtxmes=000.000000;   avgtxmes=000.000000;   "
     "stdevtxmes=000.000000;"),
)  # fmt: skip


@dataclass
class Channel:
    id: str
    name: str
    state: str
    protocol_id: str
    caller: dict
    connected: dict
    dialplan: dict
    creationtime: str
    endpoint: str  # PJSIP resource of the channel's endpoint
    originated: bool
    app_args: list[str] = field(default_factory=list)
    stasis_app: str | None = None  # the app the channel is in Stasis with
    target_app: str | None = None  # an originated leg enters Stasis with this app when answered
    subscribed: set[str] = field(default_factory=set)  # apps subscribed explicitly (originate, subscription)
    bridge_id: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    hangupcause: int = 0
    tech_cause: int = 0
    dialing: bool = False  # an originated leg not yet answered
    hanging_up: bool = False
    gone: bool = False
    ssrc: int = 0
    moh_class: str | None = None
    timers: list = field(default_factory=list)
    call: object | None = None  # the InboundCall of an inbound channel

    def snapshot(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": self.protocol_id,
            "caller": dict(self.caller),
            "connected": dict(self.connected),
            "accountcode": "",
            "dialplan": dict(self.dialplan),
            "creationtime": self.creationtime,
            "language": "en",
        }

    @property
    def apps(self) -> set[str]:
        apps = set(self.subscribed)
        if self.stasis_app:
            apps.add(self.stasis_app)
        return apps


BRIDGE_TECHNOLOGY = {"mixing": "simple_bridge", "holding": "holding_bridge", "dtmf_events": "simple_bridge",
                     "proxy_media": "simple_bridge"}  # fmt: skip


@dataclass
class Bridge:
    id: str
    bridge_type: str
    name: str
    creationtime: str
    technology: str = "simple_bridge"
    channels: list[str] = field(default_factory=list)
    apps: set[str] = field(default_factory=set)

    def snapshot(self) -> dict:
        return {
            "id": self.id,
            "technology": self.technology,
            "bridge_type": self.bridge_type,
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": self.name,
            "channels": list(self.channels),
            "creationtime": self.creationtime,
            "video_mode": "talker",
        }


def parse_caller_id(text: str) -> tuple[str, str]:
    """ast_callerid_parse, enough for `"Name" <number>`, `Name <number>` and a bare number; returns (name, number)."""
    text = text.strip()
    if "<" in text and text.endswith(">"):
        name, _, number = text[:-1].partition("<")
        return name.strip().strip('"').strip(), number.strip()
    if text and all(ch.isdigit() or ch in "+-() .#*" for ch in text):
        number = "".join(ch for ch in text if ch not in "-() .")
        return "", number
    return text.strip('"'), ""
