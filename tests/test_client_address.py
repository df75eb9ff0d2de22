"""Who is calling (issue 15): one function reads the client's address. Behind TRUSTED_PROXY_COUNT proxies it is
that many entries from the right of X-Forwarded-For, believed only from TRUSTED_PROXY_IPS when set; anything
malformed falls back to the connecting address; IPv6 callers are one caller per /64."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory

from bridge.client_address import client_address, proxy_networks

ROOT = Path(__file__).resolve().parent.parent
PROXY = "10.0.0.1"


def address_of(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {})
    return client_address(RequestFactory().get("/", **meta))


def test_without_proxies_the_forwarded_header_is_never_read(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert address_of("198.51.100.7", "203.0.113.1") == "198.51.100.7"


def test_behind_one_proxy_the_client_is_the_rightmost_forwarded_entry(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert address_of(PROXY, "203.0.113.5") == "203.0.113.5"
    assert address_of(PROXY, "1.2.3.4, made-up,203.0.113.5") == "203.0.113.5"  # what the client wrote is ignored


def test_behind_two_proxies_the_client_is_the_second_entry_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert address_of(PROXY, "1.2.3.4, 203.0.113.5, 10.0.0.2") == "203.0.113.5"


@pytest.mark.parametrize("forwarded", [None, "", "203.0.113.5"])
def test_a_request_that_passed_fewer_proxies_is_keyed_by_the_connecting_address(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 2
    assert address_of("198.51.100.9", forwarded) == "198.51.100.9"


@pytest.mark.parametrize("forwarded", ["not-an-address", "203.0.113.5:443", "203.0.113.5, ", "203.0.113.999"])
def test_a_malformed_entry_falls_back_to_the_connecting_address(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1
    assert address_of(PROXY, forwarded) == PROXY


def test_with_trusted_proxy_ips_the_header_is_believed_only_from_those_addresses(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_IPS = proxy_networks(["10.0.0.0/8", "192.0.2.7", "fd00::/8"])
    assert address_of("10.4.5.6", "203.0.113.5") == "203.0.113.5"
    assert address_of("192.0.2.7", "203.0.113.5") == "203.0.113.5"
    assert address_of("fd00::1", "203.0.113.5") == "203.0.113.5"
    assert address_of("198.51.100.9", "203.0.113.5") == "198.51.100.9"  # straight to the app: header ignored


def test_ipv6_callers_are_one_caller_per_64(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    same_64 = {address_of("2001:db8:1:2::aaaa"), address_of("2001:db8:1:2:ffff::1"),
               address_of(PROXY, "2001:db8:1:2:abcd::9")}
    assert same_64 == {"2001:db8:1:2::"}
    assert address_of("2001:db8:1:3::aaaa") == "2001:db8:1:3::"


def test_an_ipv4_client_written_as_ipv6_is_its_ipv4_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert address_of("::ffff:198.51.100.7") == "198.51.100.7"
    assert address_of(PROXY, "::ffff:203.0.113.5") == "203.0.113.5"
    settings.TRUSTED_PROXY_IPS = proxy_networks(["10.0.0.0/8"])
    assert address_of(f"::ffff:{PROXY}", "203.0.113.5") == "203.0.113.5"


def test_no_usable_address_at_all_is_none(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert address_of("", "junk") is None


def test_a_unix_socket_connection_with_no_address_reads_the_header_unless_proxies_are_named(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert address_of("", "203.0.113.5") == "203.0.113.5"
    settings.TRUSTED_PROXY_IPS = proxy_networks(["10.0.0.0/8"])
    assert address_of("", "203.0.113.5") is None


def load_settings(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTED_PROXY") and k != "DATABASE_URL"}
    code = "import bridge.settings as s; print(s.TRUSTED_PROXY_IPS, s.AXES_CLIENT_IP_CALLABLE)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, "SECRET_KEY": "k", **env},
                          capture_output=True, text=True)


def test_trusted_proxy_ips_are_parsed_at_start_up_and_a_typo_names_itself():
    good = load_settings(TRUSTED_PROXY_COUNT="1", TRUSTED_PROXY_IPS="10.0.0.0/8, 192.0.2.7")
    assert good.returncode == 0, good.stderr
    assert "IPv4Network('10.0.0.0/8')" in good.stdout and "bridge.client_address.client_address" in good.stdout
    typo = load_settings(TRUSTED_PROXY_COUNT="1", TRUSTED_PROXY_IPS="10.0.0.0/8,10.0.0.300")
    assert typo.returncode != 0 and "TRUSTED_PROXY_IPS" in typo.stderr and "'10.0.0.300'" in typo.stderr


def test_trusted_proxy_ips_without_a_proxy_count_is_refused_at_start_up():
    alone = load_settings(TRUSTED_PROXY_IPS="10.0.0.0/8")
    assert alone.returncode != 0 and "TRUSTED_PROXY_COUNT" in alone.stderr
