"""The audit chain against someone who can write the database: on the demo territory with identity
reads made over the API, each attack edits the tables with SQL (recomputing hashes, which needs no
secret) and `symbiose audit verify`, run as a fresh process, must catch it and name where.

Today's main said "intact" after the last 19 entries were deleted: a cut hides identity reads."""

from __future__ import annotations

import base64
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privacy import audit, signing
from privacy.models import AuditCheckpoint, AuditEntry
from tests.symbiose_process import (
    load_demo,
    postgresql_database,
    read_identities_over_http,
    sqlite_url,
    symbiose,
)

ENTRIES: sa.Table = AuditEntry.__table__  # type: ignore[attr-defined]
CHECKPOINTS: sa.Table = AuditCheckpoint.__table__  # type: ignore[attr-defined]
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("SYMBIOSE_TEST_DATABASE_URL") else [])


@dataclass
class Chain:
    url: str
    engine: sa.Engine
    entries: int


@pytest.fixture(scope="module", params=BACKENDS)
def demo_chain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "postgresql":
        with postgresql_database(os.environ["SYMBIOSE_TEST_DATABASE_URL"], "audit_chain") as url:
            yield from _filled(url)
    else:
        yield from _filled(sqlite_url(tmp_path_factory.mktemp("audit") / "demo.db"))


def _filled(url: str) -> Iterator[Chain]:
    load_demo(url)
    read_identities_over_http(url)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        entries = connection.execute(sa.select(sa.func.count()).select_from(ENTRIES)).scalar_one()
    yield Chain(url, engine, entries)
    engine.dispose()


@pytest.fixture
def chain(demo_chain: Chain) -> Iterator[Chain]:
    """The demo chain, put back as it was after each attack."""
    with demo_chain.engine.connect() as connection:
        entries = connection.execute(sa.select(ENTRIES)).mappings().all()
        checkpoints = connection.execute(sa.select(CHECKPOINTS)).mappings().all()
    yield demo_chain
    with demo_chain.engine.begin() as connection:
        connection.execute(CHECKPOINTS.delete())
        connection.execute(ENTRIES.delete())
        connection.execute(ENTRIES.insert(), [dict(row) for row in entries])
        connection.execute(CHECKPOINTS.insert(), [dict(row) for row in checkpoints])


def _verify(chain: Chain, *args: str, **env: str) -> tuple[int, str]:
    done = symbiose(chain.url, "audit", "verify", *args, **env)
    return done.returncode, done.stdout + done.stderr


def _rehash_from(connection: sa.Connection, seq: int) -> None:
    """What an attacker does after an edit: recompute every link from `seq` on (no key needed)."""
    rows = connection.execute(sa.select(ENTRIES).where(ENTRIES.c.seq >= seq - 1).order_by("seq"))
    entries = [AuditEntry(**row) for row in rows.mappings()]
    for before, entry in itertools.pairwise(entries):
        entry.prev_hash = before.hash
        entry.hash = audit._digest(entry)
        connection.execute(
            ENTRIES.update()
            .where(ENTRIES.c.seq == entry.seq)
            .values(prev_hash=entry.prev_hash, hash=entry.hash)
        )


def _heads(chain: Chain) -> list[tuple[int, int]]:
    """(number, head_seq) of every checkpoint: one per request that read identities."""
    with chain.engine.connect() as connection:
        rows = connection.execute(
            sa.select(CHECKPOINTS.c.number, CHECKPOINTS.c.head_seq).order_by("number")
        )
        return [(number, head) for number, head in rows]


def _signing(chain: Chain, seq: int) -> tuple[int, int, int]:
    """The checkpoint that first signs entry `seq`: its number, and the range of entries it
    signed beyond the checkpoint before."""
    before = 0
    for number, head in _heads(chain):
        if head >= seq:
            return number, before + 1, head
        before = head
    raise AssertionError(f"no checkpoint signs entry {seq}")


def test_the_chain_of_the_demo_verifies_and_every_identity_read_is_signed(chain: Chain) -> None:
    assert chain.entries >= 50
    code, output = _verify(chain)
    assert code == 0, output
    assert f"audit chain intact: {chain.entries} entries" in output
    # The demo's revealed introduction signed the head once (a reveal is followed by a
    # checkpoint), its contract's draft once (it reads both identities), then each request
    # that read identities, as it committed: the listing of every company, then each single read.
    heads = _heads(chain)
    assert len(heads) == 8 and heads[-1][1] == chain.entries


def test_deleting_the_last_entries_is_caught(chain: Chain) -> None:
    first_cut = chain.entries - 19 + 1
    with chain.engine.begin() as connection:
        connection.execute(ENTRIES.delete().where(ENTRIES.c.seq >= first_cut))
    code, output = _verify(chain)
    assert code == 1
    assert f"entries from {first_cut} are missing" in output


def test_a_rewritten_entry_is_caught_even_with_every_hash_recomputed(chain: Chain) -> None:
    with chain.engine.begin() as connection:
        connection.execute(
            ENTRIES.update().where(ENTRIES.c.seq == 7).values(action="catalogue.read")
        )
        _rehash_from(connection, 7)
    code, output = _verify(chain)
    assert code == 1
    number, first, head = _signing(chain, 7)
    assert f"entries {first} to {head} differ from what checkpoint {number} signed" in output


def test_two_swapped_entries_are_caught_even_with_every_hash_recomputed(chain: Chain) -> None:
    with chain.engine.begin() as connection:
        rows = {
            row["seq"]: dict(row)
            for row in connection.execute(
                sa.select(ENTRIES).where(ENTRIES.c.seq.in_([20, 21]))
            ).mappings()
        }
        for seq, other in ((20, 21), (21, 20)):
            moved = {k: rows[other][k] for k in ("at", "actor_id", "action", "subject_id")}
            connection.execute(ENTRIES.update().where(ENTRIES.c.seq == seq).values(**moved))
        _rehash_from(connection, 20)
    code, output = _verify(chain)
    assert code == 1
    number, first, head = _signing(chain, 20)
    assert f"entries {first} to {head} differ from what checkpoint {number} signed" in output


def test_a_deleted_checkpoint_is_caught(chain: Chain) -> None:
    with chain.engine.begin() as connection:
        connection.execute(CHECKPOINTS.delete().where(CHECKPOINTS.c.number == 2))
    code, output = _verify(chain)
    assert code == 1
    assert "checkpoint 2 is missing" in output


def test_deleting_the_last_checkpoint_leaves_an_identity_read_uncovered(chain: Chain) -> None:
    last, _ = _heads(chain)[-1]
    with chain.engine.begin() as connection:
        connection.execute(CHECKPOINTS.delete().where(CHECKPOINTS.c.number == last))
    code, output = _verify(chain)
    assert code == 1
    assert f"entry {chain.entries} (identity.read) is covered by no checkpoint" in output


def _forge_after_cut(chain: Chain, key: Ed25519PrivateKey, claimed_key_id: str) -> int:
    """Cut the last 19 entries and their checkpoints, then sign the new head with `key`."""
    keep = chain.entries - 19
    with chain.engine.begin() as connection:
        connection.execute(ENTRIES.delete().where(ENTRIES.c.seq > keep))
        connection.execute(CHECKPOINTS.delete().where(CHECKPOINTS.c.head_seq >= keep))
        kept = (
            connection.execute(
                sa.select(CHECKPOINTS).order_by(CHECKPOINTS.c.number.desc()).limit(1)
            )
            .mappings()
            .first()
        )
        last = AuditCheckpoint(**kept) if kept else None
        head = connection.execute(sa.select(ENTRIES).where(ENTRIES.c.seq == keep)).mappings().one()
        forged = AuditCheckpoint(
            number=last.number + 1 if last else 1,
            at=head["at"],
            head_seq=keep,
            head_hash=head["hash"],
            prev_digest=audit._checkpoint_digest(last) if last else audit.GENESIS,
            key_id=claimed_key_id,
            signature="",
        )
        forged.signature = key.sign(audit._signed_message(forged)).hex()
        connection.execute(CHECKPOINTS.insert().values(**forged.model_dump()))
    return forged.number


def test_a_checkpoint_forged_with_another_key_is_caught(chain: Chain) -> None:
    mine = Ed25519PrivateKey.generate()
    number = _forge_after_cut(chain, mine, signing.key_id(mine.public_key()))
    code, output = _verify(chain)
    assert code == 1
    assert f"checkpoint {number} is signed by an unknown key" in output


def test_a_checkpoint_forged_under_the_real_key_id_is_caught(chain: Chain) -> None:
    real_id = signing.key_id(signing.signing_key().public_key())
    number = _forge_after_cut(chain, Ed25519PrivateKey.generate(), real_id)
    code, output = _verify(chain)
    assert code == 1
    assert f"checkpoint {number}: its signature does not verify" in output


def test_a_third_party_verifies_with_the_published_public_key_alone(chain: Chain) -> None:
    published = symbiose(chain.url, "audit", "public-key")
    assert published.returncode == 0, published.stderr
    public = published.stdout.strip()
    # The third party's own settings hold some other signing key, never the platform's secret.
    theirs = base64.b64encode(os.urandom(32)).decode()
    code, output = _verify(chain, "--public-key", public, SYMBIOSE_AUDIT_SIGNING_KEY=theirs)
    assert code == 0, output
    code, output = _verify(chain, SYMBIOSE_AUDIT_SIGNING_KEY=theirs)
    assert code == 1 and "signed by an unknown key" in output
    code, output = _verify(chain, "--public-key", "not base64!")
    assert code == 2 and "public-key" in output
