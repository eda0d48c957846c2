"""The Redis subscriber's protocol: messages cut anywhere by the socket arrive whole."""

from __future__ import annotations

import asyncio
from typing import Any

from teleconsult.bus.redis import _pack, _SubscriberProtocol


def push(*items: bytes) -> bytes:
    """A RESP3 push of bulk strings, as Redis sends a pub/sub message."""
    return b">%d\r\n" % len(items) + b"".join(b"$%d\r\n%s\r\n" % (len(i), i) for i in items)


async def test_messages_split_or_joined_by_the_socket_arrive_whole_and_in_order() -> None:
    got: list[Any] = []
    lost = asyncio.get_running_loop().create_future()
    protocol = _SubscriberProtocol(got.append, lost)
    first = push(b"message", b"call:1", b'{"n":1}')
    second = push(b"message", b"call:1", b'{"n":2}')
    confirm = b">3\r\n$9\r\nsubscribe\r\n$6\r\ncall:2\r\n:2\r\n"
    stream = first + second + confirm
    # Every cut point of the stream, as the socket may deliver it.
    for cut in range(1, len(stream)):
        got.clear()
        protocol.data_received(stream[:cut])
        protocol.data_received(stream[cut:])
        assert got == [
            [b"message", b"call:1", b'{"n":1}'],
            [b"message", b"call:1", b'{"n":2}'],
            [b"subscribe", b"call:2", 2],
        ]
    assert not lost.done()
    protocol.connection_lost(None)
    assert lost.done()


async def test_a_failing_handler_does_not_stop_the_messages_after_it() -> None:
    got: list[Any] = []

    def handle(response: Any) -> None:
        if response[2] == b"bad":
            raise ValueError("bad")
        got.append(response[2])

    protocol = _SubscriberProtocol(handle, asyncio.get_running_loop().create_future())
    protocol.data_received(push(b"message", b"c", b"bad") + push(b"message", b"c", b"good"))
    assert got == [b"good"]


def test_commands_are_resp_arrays_of_bulk_strings() -> None:
    assert _pack("SUBSCRIBE", "call:é") == b"*2\r\n$9\r\nSUBSCRIBE\r\n$7\r\ncall:\xc3\xa9\r\n"
