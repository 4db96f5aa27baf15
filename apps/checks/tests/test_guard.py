"""The address guard and the profile parsers, as plain functions."""

import ipaddress

import pytest

from apps.checks.engine.profile import (
    NetworkProfile,
    ProfileError,
    address_refusal,
    parse_ip_literal,
    parse_nameservers,
    parse_networks,
    parse_port_map,
)

REFUSED = ["127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1",
           "169.254.169.254", "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1", "255.255.255.255",
           "192.0.2.1", "198.18.0.1", "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
           "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1", "64:ff9b::7f00:1",
           "2001:db8::1", "::ffff:93.184.216.34"]
PUBLIC = ["93.184.216.34", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address):
    reason = address_refusal(address)
    assert reason and "only connects to public addresses" in reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert address_refusal(address) is None


def test_allowed_networks_admit_only_themselves():
    loopback = parse_networks("127.0.0.0/8")
    assert address_refusal("127.0.0.9", loopback) is None
    assert "loopback" in address_refusal("::ffff:127.0.0.1", loopback)
    assert "private" in address_refusal("10.0.0.1", loopback)
    assert "loopback" in address_refusal("::1", loopback)


@pytest.mark.parametrize("literal, expected", [
    ("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("[::1]", "::1"), ("::ffff:7f00:1", "::ffff:127.0.0.1"), ("10.0.0.1", "10.0.0.1"),
])
def test_ip_literals_in_any_encoding(literal, expected):
    assert parse_ip_literal(literal) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("name", ["example.com", "cafe.be", "deadbeef.io", "good.lrtest", "a.b"])
def test_hostnames_are_not_mistaken_for_literals(name):
    assert parse_ip_literal(name) is None


def test_parsers():
    assert parse_nameservers("127.0.0.1:5353, 9.9.9.9") == (("127.0.0.1", 5353), ("9.9.9.9", 53))
    assert parse_nameservers(["[::1]:5300"]) == (("::1", 5300),)
    assert parse_port_map("80:18080,443:18443") == {80: 18080, 443: 18443}
    profile = NetworkProfile.from_settings("x", port_map="443:18443")
    assert profile.port_for(443) == 18443 and profile.port_for(8443) == 8443


@pytest.mark.parametrize("call", [
    lambda: parse_nameservers("ns1.example.com"), lambda: parse_port_map("443"), lambda: parse_port_map("a:b"),
    lambda: parse_port_map("443:70000"), lambda: parse_networks("10.0.0.0/33"),
])
def test_bad_profile_values_raise(call):
    with pytest.raises(ProfileError):
        call()
