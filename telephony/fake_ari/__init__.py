"""A fake Asterisk 20 speaking ARI, for tests, benchmarks and the newcomer demo (no Django inside).

fake = FakeAsterisk(user="pbx", password="secret")
await fake.start(host="127.0.0.1", port=0)
fake.add_endpoint("1001", Phone.answer_after(ms=300))
call = await fake.place_call(exten="5000", caller_number="01012345678")
fake.reply_delays["/addChannel"] = 2.0  # a busy Asterisk: that REST reply comes 2 s late
fake.refusals["/continue"] = (500, "Internal Server Error")  # a failing one: refused, nothing done
"""

from telephony.fake_ari.asterisk import FakeAsterisk, InboundCall
from telephony.fake_ari.phones import Phone

__all__ = ["FakeAsterisk", "InboundCall", "Phone"]
