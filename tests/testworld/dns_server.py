"""A small authoritative-and-recursive DNS server over UDP, answering from zones.ZONES."""

from __future__ import annotations

import asyncio
from collections import Counter

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from . import zones as zone_table

TTL = 60


class DnsServer(asyncio.DatagramProtocol):
    def __init__(self, table: dict[str, dict] | None = None):
        self.table = zone_table.ZONES if table is None else table
        self.queries: Counter[tuple[str, str]] = Counter()
        self._flips: Counter[str] = Counter()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return
        reply = self.answer(query)
        if reply is not None:
            self.transport.sendto(reply.to_wire(), addr)

    def answer(self, query: dns.message.Message) -> dns.message.Message | None:
        question = query.question[0]
        qname = question.name.to_text(omit_final_dot=True).lower()
        qtype = dns.rdatatype.to_text(question.rdtype)
        self.queries[(qname, qtype)] += 1
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA | dns.flags.RA
        name = qname
        for _ in range(8):  # CNAME chase depth
            node = self.table.get(name)
            if node is None:
                reply.set_rcode(dns.rcode.NXDOMAIN)
                return reply
            if node.get("drop"):
                return None
            if "rcode" in node:
                reply.answer.clear()
                reply.set_rcode(dns.rcode.from_text(node["rcode"]))
                return reply
            records = self._records(name, node, qtype)
            if records:
                reply.answer.append(dns.rrset.from_text_list(name + ".", TTL, "IN", qtype, records))
                return reply
            if "CNAME" in node and qtype != "CNAME":
                target = node["CNAME"]
                reply.answer.append(dns.rrset.from_text_list(name + ".", TTL, "IN", "CNAME", [target]))
                name = target.rstrip(".").lower()
                continue
            return reply  # NOERROR, no data
        return reply

    def _records(self, name: str, node: dict, qtype: str) -> list[str]:
        if "flip" in node and qtype == "A":
            sets = node["flip"]
            choice = sets[self._flips[name] % len(sets)]
            self._flips[name] += 1
            return list(choice)
        value = node.get(qtype)
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)


async def start_dns(host: str = "127.0.0.1", port: int = 0, table=None) -> tuple[DnsServer, int]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(lambda: DnsServer(table), local_addr=(host, port))
    return protocol, transport.get_extra_info("sockname")[1]
