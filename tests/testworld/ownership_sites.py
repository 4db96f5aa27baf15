"""Domains that prove (or fail to prove) ownership for active checks: TXT records and well-known files.

Registered into the shared zone and site tables on import (web.py imports this module).
"""

from __future__ import annotations

from . import sites, zones

TXT_TOKEN = "txt-token-0123456789abcdef"
FILE_TOKEN = "file-token-0123456789abcdef"
WELL_KNOWN = "/.well-known/launchready-verify.txt"


def _with_file(body: str) -> dict:
    return {"assets": {**sites.GOOD_ASSETS, WELL_KNOWN: ({"Content-Type": "text/plain"}, body)}}


OWNERSHIP_ZONES = {
    # TXT proof next to an SPF record; the file is absent (404).
    "owned-txt.lrtest": {"A": [zones.MAIN], "TXT": ['"v=spf1 -all"', f'"launchready-verify={TXT_TOKEN}"']},
    # The same proof split into two character-strings, as some DNS consoles publish long values.
    "split-txt.lrtest": {"A": [zones.MAIN], "TXT": [f'"launchready-verify=" "{TXT_TOKEN}"']},
    "owned-file.lrtest": {"A": [zones.MAIN]},
    # The file is reached through a redirect to www (same domain: it counts).
    "www-file.lrtest": {"A": [zones.MAIN]},
    "www.www-file.lrtest": {"A": [zones.MAIN]},
    # The file path redirects to another domain that does hold the token: proves nothing about this one.
    "offsite-file.lrtest": {"A": [zones.MAIN]},
    "unowned.lrtest": {"A": [zones.MAIN]},
}
OWNERSHIP_SITES = {
    "owned-txt.lrtest": {},
    "split-txt.lrtest": {},
    "owned-file.lrtest": _with_file(f"# Launch Ready\n{FILE_TOKEN}\n"),
    "www-file.lrtest": {"redirect_to": "https://www.www-file.lrtest"},
    "www.www-file.lrtest": _with_file(f"launchready-verify={FILE_TOKEN}\n"),
    "offsite-file.lrtest": {"redirect_to": "https://owned-file.lrtest"},
    "unowned.lrtest": {},
}

for _name, _records in OWNERSHIP_ZONES.items():
    zones.add_zone(_name, **_records)
for _name, _site in OWNERSHIP_SITES.items():
    sites.SITES.setdefault(_name, _site)
