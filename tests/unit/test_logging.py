"""The canary: a known code, token and pepper run through the real processor chain."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from cards.codes import generate
from daemon.logging import configure, mask_codes

TOKEN = "patCANARY1234567.0123456789abcdef0123456789abcdef"
PEPPER = "pepper-canary-0123456789abcdef0123456789"


def _run(json_lines: bool) -> tuple[str, str]:
    out = io.StringIO()
    configure(secrets=[TOKEN, PEPPER], stream=out, json_lines=json_lines)
    code = generate().reveal()
    grouped = "-".join(code[i : i + 4] for i in range(0, 12, 4))
    log = structlog.get_logger()
    log.info(
        "redeeming",
        typed=code.lower(),
        record_id="recA1b2C3d4E5f6G7",
        key="redeem:recA1b2C3d4E5f6G7",
        card="gid://shopify/GiftCard/123456",
    )
    log.warning(f"staff typed {grouped} with token {TOKEN}")
    log.info("nested", payload={"properties": {"code": code}, "list": [code, PEPPER]})
    try:
        raise ValueError(f"code {code} rejected using {TOKEN}")
    except ValueError:
        log.exception("failed")
    structlog.reset_defaults()
    return out.getvalue(), code


def test_codes_and_secrets_never_reach_the_output() -> None:
    for json_lines in (True, False):
        text, code = _run(json_lines)
        assert code not in text and code.lower() not in text
        assert code[:8] not in text and code[:4] + "-" + code[4:8] not in text
        assert TOKEN not in text and PEPPER not in text
        assert "Traceback" in text and "ValueError" in text  # the traceback is kept, redacted
        assert "•" in text or "\\u2022" in text


def test_ids_gids_and_keys_stay_readable() -> None:
    text, _ = _run(True)
    first = json.loads(text.splitlines()[0])
    assert first["record_id"] == "recA1b2C3d4E5f6G7"
    assert first["key"] == "redeem:recA1b2C3d4E5f6G7"
    assert first["card"] == "gid://shopify/GiftCard/123456"
    assert "recA1b2C3d4E5f6G7" in text and "gid://shopify/GiftCard/123456" in text


def test_mask_codes_keeps_ordinary_text() -> None:
    assert mask_codes("amount 12.50 at 2026-11-22T12:00:00Z") == (
        "amount 12.50 at 2026-11-22T12:00:00Z"
    )
    assert mask_codes("this that what when") == "this that what when"
    assert mask_codes("typed 7kq2-m9xh-4tpc!") == "typed ••••••••4TPC!"
    assert mask_codes("action key create:recA1b2C3d4E5f6G7:sent:recipient") == (
        "action key create:recA1b2C3d4E5f6G7:sent:recipient"
    )


def test_run_ids_stay_readable() -> None:
    assert mask_codes("run run-3fa9c01b finished") == "run run-3fa9c01b finished"


def test_secrets_learned_after_start_are_redacted_too() -> None:
    from daemon.logging import add_secrets

    out = io.StringIO()
    configure(stream=out, json_lines=True)
    add_secrets(["late-secret-0123456789"])
    structlog.get_logger().info("token late-secret-0123456789 seen")
    structlog.reset_defaults()
    assert "late-secret-0123456789" not in out.getvalue() and "<SECRET>" in out.getvalue()


def test_all_letter_codes_and_grouped_codes_next_to_words_are_masked() -> None:
    assert mask_codes("typed htnwgcwxqndt here") == "typed ••••••••QNDT here"
    assert mask_codes("typed HTNWGCWXQNDT here") == "typed ••••••••QNDT here"
    assert mask_codes("staff typed HTNW-GCWX-QNDT with token") == (
        "staff typed ••••••••QNDT with token"
    )
    assert mask_codes("x5kq.2m9x.h4tp then") == "••••••••H4TP then"
    assert mask_codes("responsibilities and internationally") == (
        "responsibilities and internationally"
    )


def test_no_generated_code_survives_masking_at_any_length_or_in_any_form() -> None:
    # Codes may be all letters or all digits, more often the shorter they are.
    for length in range(8, 21):
        for _ in range(300):
            code = generate(length).reveal()
            grouped = "-".join(code[i : i + 4] for i in range(0, len(code), 4))
            for text in (
                f"typed={code.lower()} x",
                f"code {code} rejected",
                f"staff typed {grouped} with",
                f"['{code}']",
            ):
                masked = mask_codes(text)
                assert code not in masked and code.lower() not in masked, (text, masked)


def test_a_lowercase_code_starting_rec_is_masked_and_new_keys_stay_readable() -> None:
    # A 17-character code typed in lower case that happens to start with "rec" looks like a
    # record id; real record ids mix cases, so only those stay readable.
    assert "reckc18m4ava8mzfe" not in mask_codes("typed=reckc18m4ava8mzfe x")
    assert "recA1b2C3d4E5f6G7" in mask_codes("card recA1b2C3d4E5f6G7 done")
    for key in (
        "remind:recA1b2C3d4E5f6G7:2031-11-21:30",
        "drift:recA1b2C3d4E5f6G7:balance:2026-12-06T10:00:00Z",
        "alert:needs-attention:recA1b2C3d4E5f6G7",
        "card-txn:1234567890",
    ):
        assert key in mask_codes(f"key={key} ok")


def test_a_dotted_event_name_is_not_taken_for_a_code() -> None:
    assert mask_codes("push.call_failed failures=2") == "push.call_failed failures=2"
    assert mask_codes("code=HTNWGCWXQNDT_x") == "code=••••••••QNDT_x"  # a plain run still is


@pytest.mark.parametrize(
    "text",
    [
        "code ABCD-EFGH-JKMN-7KQ2 here",  # a word before it, grouped like a code's first group
        "gift ABCD.EFGH.JKMN.7KQ2.WXYZ, thanks",
        "card ABCD-EFGH please",
    ],
)
def test_a_grouped_code_after_a_four_letter_word_is_masked_whole(text: str) -> None:
    masked = mask_codes(text)
    assert "ABCD" not in masked, masked  # only the last four stay, as everywhere
    assert "••••••••" in masked
