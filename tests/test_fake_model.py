"""The fake model endpoint: scripted answers in order, then a standing answer if one is given."""

from __future__ import annotations

import httpx2 as httpx
import pytest

from docagent.engine.llm.fake import FakeModel, FakeServer, error, reply


def post(url: str) -> httpx.Response:
    return httpx.post(f"{url}/chat/completions", json={"messages": []}, timeout=10)


def test_scripted_answers_come_in_order_then_the_standing_answer_repeats() -> None:
    fake = FakeModel(error(429, "slow down"), then=reply('{"ok": true}'))
    server = FakeServer(fake, delay_s=0.01)
    try:
        codes = [post(server.url).status_code for _ in range(3)]
    finally:
        server.close()
    assert codes == [429, 200, 200]
    assert len(fake.requests) == 3


def test_without_a_standing_answer_an_unscripted_request_is_an_error() -> None:
    fake = FakeModel(reply("{}"))
    with fake.http_client() as c:
        assert c.post("http://fake/v1/chat/completions", json={}).status_code == 200
        with pytest.raises(AssertionError, match="more requests than scripted"):
            c.post("http://fake/v1/chat/completions", json={})
