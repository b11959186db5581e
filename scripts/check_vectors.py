#!/usr/bin/env python3
"""Second-language check of the eBL wire-format test vectors.

Usage: python3 scripts/check_vectors.py docs/vectors/records.json

Written from docs/wire-format.md alone (Python 3.11 standard library + PyNaCl); it imports
nothing generated from proto/ and shares no code with the Rust ledger. For every vector it
parses the RecordPayload bytes with its own minimal protobuf reader that enforces the canonical
encoding, checks the fields in the order the ledger does, recomputes the record hash and the
bill id, and verifies the Ed25519 signature strictly (libsodium, plus a prime-order point check
on the key). Valid vectors must pass everything, with the stated record hash, and re-signing
with the stated seed must give the same signature bytes; invalid vectors must be refused for
exactly the stated reason (and field).

Prints one line per vector and ends with the line `N passed, M failed`. Exit status 1 if any
check failed, or if the file holds fewer than 3 valid or 3 invalid vectors.
"""

import hashlib
import json
import re
import sys

try:
    import nacl.bindings
    import nacl.exceptions
    import nacl.signing
except ImportError:  # pragma: no cover - environment problem, not a vector failure
    sys.stderr.write("check_vectors.py needs PyNaCl: python3 -m pip install pynacl\n")
    sys.exit(2)

# --------------------------------------------------------------------------------------------
# Constants of docs/wire-format.md (deliberately not taken from the vector file, which is checked
# against them).

FORMAT_VERSION = 1
RECORD_DOMAIN = "ebl.v1/record"
RECORD_HASH_TAG = "ebl.v1/record-hash"
BILL_ID_TAG = "ebl.v1/bill-id"
OPERATOR = "operator"
MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_DEPTH = 100  # nesting limit of the reference decoder (groups in unknown fields included)

# --------------------------------------------------------------------------------------------
# The schema of record.proto, as far as the payload goes.
# field number -> (name, type, label, message type or None)
#   type: "uint32" | "uint64" | "enum" | "string" | "bytes" | "message"
#   label: "singular" | "repeated" | "oneof"

SCHEMA = {
    "RecordPayload": {
        1: ("version", "uint32", "singular", None),
        2: ("domain", "string", "singular", None),
        3: ("origin", "string", "singular", None),
        4: ("bill_id", "bytes", "singular", None),
        5: ("position", "uint64", "singular", None),
        6: ("prev_hash", "bytes", "singular", None),
        7: ("actor", "string", "singular", None),
        8: ("recipient", "string", "singular", None),
        9: ("claimed_time", "string", "singular", None),
        10: ("agent", "string", "singular", None),
        11: ("title_position", "uint64", "singular", None),
        12: ("title_head", "bytes", "singular", None),
        20: ("register_party", "message", "oneof", "RegisterParty"),
        21: ("add_key", "message", "oneof", "AddKey"),
        22: ("revoke_key", "message", "oneof", "RevokeKey"),
        23: ("rotate_key", "message", "oneof", "RotateKey"),
        24: ("delegate", "message", "oneof", "Delegate"),
        25: ("revoke_delegation", "message", "oneof", "RevokeDelegation"),
        30: ("issue", "message", "oneof", "Issue"),
        31: ("transfer", "message", "oneof", "Transfer"),
        32: ("endorse", "message", "oneof", "Endorse"),
        33: ("endorse_to_order", "message", "oneof", "EndorseToOrder"),
        34: ("blank_endorse", "message", "oneof", "BlankEndorse"),
        35: ("sign", "message", "oneof", "Sign"),
        36: ("reject", "message", "oneof", "Reject"),
        37: ("surrender_for_delivery", "message", "oneof", "SurrenderForDelivery"),
        38: ("surrender_for_amendment", "message", "oneof", "SurrenderForAmendment"),
        39: ("accept_surrender", "message", "oneof", "AcceptSurrender"),
        40: ("reject_surrender", "message", "oneof", "RejectSurrender"),
        41: ("pledge", "message", "oneof", "Pledge"),
        42: ("release_pledge", "message", "oneof", "ReleasePledge"),
        43: ("enforce_pledge", "message", "oneof", "EnforcePledge"),
        50: ("depart", "message", "oneof", "Depart"),
        51: ("arrive", "message", "oneof", "Arrive"),
        52: ("handoff", "message", "oneof", "Handoff"),
        53: ("deliver", "message", "oneof", "Deliver"),
        54: ("customs_hold", "message", "oneof", "CustomsHold"),
        55: ("customs_release", "message", "oneof", "CustomsRelease"),
        56: ("reroute", "message", "oneof", "Reroute"),
    },
    "Place": {1: ("locode", "string", "singular", None), 2: ("facility", "string", "singular", None)},
    "Conveyance": {
        1: ("vessel_imo", "string", "singular", None),
        2: ("voyage", "string", "singular", None),
        3: ("train_number", "string", "singular", None),
        4: ("wagons", "string", "repeated", None),
        5: ("vehicle_id", "string", "singular", None),
    },
    "Leg": {
        1: ("mode", "enum", "singular", None),
        2: ("carrier", "string", "singular", None),
        3: ("from", "message", "singular", "Place"),
        4: ("to", "message", "singular", "Place"),
        5: ("conveyance", "message", "singular", "Conveyance"),
        6: ("planned_departure", "string", "singular", None),
        7: ("planned_arrival", "string", "singular", None),
    },
    "Depart": {
        1: ("leg", "uint32", "singular", None),
        2: ("containers", "string", "repeated", None),
        3: ("conveyance", "message", "singular", "Conveyance"),
    },
    "Arrive": {1: ("leg", "uint32", "singular", None), 2: ("containers", "string", "repeated", None)},
    "SealCheck": {
        1: ("container", "string", "singular", None),
        2: ("seal", "string", "singular", None),
        3: ("new_seal", "string", "singular", None),
        4: ("reason", "string", "singular", None),
    },
    "Handoff": {
        1: ("leg", "uint32", "singular", None),
        2: ("place", "string", "singular", None),
        3: ("containers", "string", "repeated", None),
        4: ("seals", "message", "repeated", "SealCheck"),
        5: ("exceptions", "string", "repeated", None),
    },
    "Deliver": {1: ("containers", "string", "repeated", None)},
    "CustomsHold": {1: ("declaration", "string", "singular", None), 2: ("reason", "string", "singular", None)},
    "CustomsRelease": {1: ("declaration", "string", "singular", None), 2: ("reason", "string", "singular", None)},
    "Reroute": {1: ("from_leg", "uint32", "singular", None), 2: ("legs", "message", "repeated", "Leg")},
    "Delegate": {
        1: ("principal", "string", "singular", None),
        2: ("agent", "string", "singular", None),
        3: ("actions", "string", "repeated", None),
        4: ("reference", "string", "singular", None),
    },
    "RevokeDelegation": {
        1: ("principal", "string", "singular", None),
        2: ("agent", "string", "singular", None),
        3: ("reason", "string", "singular", None),
    },
    "Reject": {1: ("reason", "string", "singular", None)},
    "SurrenderForDelivery": {},
    "SurrenderForAmendment": {1: ("reason", "enum", "singular", None)},
    "AcceptSurrender": {1: ("paper_bill_number", "string", "singular", None)},
    "RejectSurrender": {1: ("reason", "string", "singular", None)},
    "Pledge": {1: ("mode", "enum", "singular", None), 2: ("loan_reference", "string", "singular", None)},
    "ReleasePledge": {},
    "EnforcePledge": {1: ("reason", "string", "singular", None)},
    "RegisterParty": {
        1: ("party", "string", "singular", None),
        2: ("name", "string", "singular", None),
        3: ("role", "enum", "singular", None),
        4: ("jurisdiction", "string", "repeated", None),
        5: ("codes", "message", "repeated", "IdentifyingCode"),
    },
    "IdentifyingCode": {
        1: ("code_list_provider", "string", "singular", None),
        2: ("party_code", "string", "singular", None),
        3: ("code_list_name", "string", "singular", None),
    },
    "AddKey": {
        1: ("party", "string", "singular", None),
        2: ("public_key", "bytes", "singular", None),
    },
    "RevokeKey": {
        1: ("party", "string", "singular", None),
        2: ("public_key", "bytes", "singular", None),
        3: ("reason", "string", "singular", None),
    },
    "RotateKey": {
        1: ("party", "string", "singular", None),
        2: ("old_public_key", "bytes", "singular", None),
        3: ("new_public_key", "bytes", "singular", None),
    },
    "Issue": {
        1: ("document", "bytes", "singular", None),
        2: ("profile", "enum", "singular", None),
        3: ("amendment", "uint32", "singular", None),
        4: ("consignee", "string", "singular", None),
        5: ("endorsee", "string", "singular", None),
        6: ("issuance_manifest", "string", "singular", None),
        7: ("amends", "bytes", "singular", None),
        8: ("legs", "message", "repeated", "Leg"),
    },
    "Transfer": {},
    "Endorse": {},
    "EndorseToOrder": {},
    "BlankEndorse": {},
    "Sign": {},
}

WIRE_VARINT, WIRE_I64, WIRE_LEN, WIRE_SGROUP, WIRE_EGROUP, WIRE_I32 = 0, 1, 2, 3, 4, 5
WIRE_OF_TYPE = {"uint32": WIRE_VARINT, "uint64": WIRE_VARINT, "enum": WIRE_VARINT,
                "string": WIRE_LEN, "bytes": WIRE_LEN, "message": WIRE_LEN}
DEFAULT_OF_TYPE = {"uint32": 0, "uint64": 0, "enum": 0, "string": "", "bytes": b""}

REGISTRY_ACTIONS = {"register_party", "add_key", "revoke_key", "rotate_key", "delegate", "revoke_delegation"}
RECIPIENT_ACTIONS = {"issue", "transfer", "endorse", "endorse_to_order", "surrender_for_delivery",
                     "surrender_for_amendment", "pledge", "handoff", "deliver"}
CUSTODY_ACTIONS = {"depart", "arrive", "handoff", "deliver", "customs_hold", "customs_release", "reroute"}
ACTION_NAMES = {
    "register_party": "REGISTER_PARTY", "add_key": "ADD_KEY", "revoke_key": "REVOKE_KEY",
    "rotate_key": "ROTATE_KEY", "issue": "ISSUE", "transfer": "TRANSFER", "endorse": "ENDORSE",
    "endorse_to_order": "ENDORSE_TO_ORDER", "blank_endorse": "BLANK_ENDORSE", "sign": "SIGN",
    "delegate": "DELEGATE", "revoke_delegation": "REVOKE_DELEGATION", "reject": "REJECT",
    "surrender_for_delivery": "SURRENDER_FOR_DELIVERY",
    "surrender_for_amendment": "SURRENDER_FOR_AMENDMENT", "accept_surrender": "SACC",
    "reject_surrender": "SREJ", "pledge": "PLEDGE", "release_pledge": "RELEASE_PLEDGE",
    "enforce_pledge": "ENFORCE_PLEDGE", "depart": "DEPART", "arrive": "ARRIVE", "handoff": "HANDOFF",
    "deliver": "DELIVER", "customs_hold": "CUSTOMS_HOLD", "customs_release": "CUSTOMS_RELEASE",
    "reroute": "REROUTE",
}


class Refusal(Exception):
    """A refusal with the ledger's machine-readable reason and, where there is one, the field."""

    def __init__(self, reason, field, detail):
        super().__init__(f"{reason}{' (' + field + ')' if field else ''}: {detail}")
        self.reason = reason
        self.field = field
        self.detail = detail


def invalid(field, detail):
    return Refusal("INVALID_FIELD", field, detail)


class Malformed(Exception):
    """The bytes do not parse as the message at all (the ledger: INVALID_FIELD, field payload)."""


# --------------------------------------------------------------------------------------------
# Minimal protobuf reader enforcing the canonical encoding.


def encode_varint(v):
    out = bytearray()
    while True:
        if v < 0x80:
            out.append(v)
            return bytes(out)
        out.append((v & 0x7F) | 0x80)
        v >>= 7


def read_varint(buf, pos, end):
    """Reads a base-128 varint; returns (value, next position). At most 10 bytes, and the 10th
    may only be 0 or 1 (the value must fit in 64 bits)."""
    value = 0
    for i in range(10):
        if pos + i >= end:
            raise Malformed(f"truncated varint at byte {pos}")
        b = buf[pos + i]
        if i == 9 and b > 1:
            raise Malformed(f"varint at byte {pos} overflows 64 bits")
        value |= (b & 0x7F) << (7 * i)
        if b < 0x80:
            return value, pos + i + 1
    raise Malformed(f"varint at byte {pos} is longer than 10 bytes")


class Reader:
    """Parses one message tree. Malformed input raises at once; non-canonical findings are
    collected (the first one is reported) because bytes that do not parse at all are refused as
    malformed even when they are also non-canonical."""

    def __init__(self, buf):
        self.buf = buf
        self.noncanonical = []

    def note(self, pos, why):
        self.noncanonical.append(f"byte {pos}: {why}")

    def varint(self, pos, end, what):
        v, nxt = read_varint(self.buf, pos, end)
        if nxt - pos != len(encode_varint(v)):
            self.note(pos, f"{what} {v} written as a {nxt - pos}-byte varint (minimal is "
                           f"{len(encode_varint(v))})")
        return v, nxt

    def skip_unknown(self, wt, num, pos, end, depth):
        if depth > MAX_DEPTH:
            raise Malformed("nesting too deep")
        if wt == WIRE_VARINT:
            _, pos = read_varint(self.buf, pos, end)
            return pos
        if wt in (WIRE_I64, WIRE_I32):
            n = 8 if wt == WIRE_I64 else 4
            if pos + n > end:
                raise Malformed(f"truncated fixed-width field {num}")
            return pos + n
        if wt == WIRE_LEN:
            n, pos = read_varint(self.buf, pos, end)
            if n > end - pos:
                raise Malformed(f"length of field {num} runs past the end")
            return pos + n
        if wt == WIRE_SGROUP:
            while True:
                key, pos = read_varint(self.buf, pos, end)
                inner_wt, inner_num = self.split_key(key, pos)
                if inner_wt == WIRE_EGROUP:
                    if inner_num != num:
                        raise Malformed("unexpected end-group tag")
                    return pos
                pos = self.skip_unknown(inner_wt, inner_num, pos, end, depth + 1)
        raise Malformed("unexpected end-group tag")

    @staticmethod
    def split_key(key, pos):
        if key > 0xFFFFFFFF:
            raise Malformed(f"field key at byte {pos} is larger than 32 bits")
        wt, num = key & 7, key >> 3
        if wt > 5:
            raise Malformed(f"invalid wire type {wt} at byte {pos}")
        if num == 0:
            raise Malformed(f"field number 0 at byte {pos}")
        return wt, num

    def message(self, msg_type, pos, end, depth=0):
        """Parses `msg_type` from buf[pos:end]; returns a dict of the fields present."""
        if depth > MAX_DEPTH:
            raise Malformed("nesting too deep")
        schema = SCHEMA[msg_type]
        out = {}
        last_num = 0
        oneof_seen = None
        while pos < end:
            key_pos = pos
            key, pos = self.varint(pos, end, "field key")
            wt, num = self.split_key(key, key_pos)
            spec = schema.get(num)
            if spec is None:
                self.note(key_pos, f"unknown field {num} (wire type {wt}) in {msg_type}")
                pos = self.skip_unknown(wt, num, pos, end, depth + 1)
                last_num = max(last_num, num)
                continue
            name, typ, label, sub = spec
            if wt != WIRE_OF_TYPE[typ]:
                raise Malformed(f"{msg_type}.{name} (field {num}) has wire type {wt}, "
                                f"expected {WIRE_OF_TYPE[typ]}")
            # Order: ascending field numbers; a number repeats only for a repeated field, and
            # then its entries are consecutive.
            if num < last_num:
                self.note(key_pos, f"{msg_type}.{name} (field {num}) after field {last_num}: "
                                   f"fields must be in ascending order")
            elif num == last_num and label != "repeated":
                self.note(key_pos, f"{msg_type}.{name} (field {num}) written twice")
            last_num = max(last_num, num)
            if label == "oneof":
                if oneof_seen is not None:
                    self.note(key_pos, f"a second member of the oneof ({name} after {oneof_seen})")
                oneof_seen = name
            # Value.
            val_pos = pos
            if wt == WIRE_VARINT:
                raw, pos = self.varint(pos, end, f"{msg_type}.{name}")
                if typ == "uint32":
                    value = raw & 0xFFFFFFFF
                    if raw != value:
                        self.note(val_pos, f"{msg_type}.{name} = {raw} does not fit in uint32")
                elif typ == "enum":  # int32, sign-extended to 64 bits on the wire
                    low = raw & 0xFFFFFFFF
                    value = low - (1 << 32) if low >= 1 << 31 else low
                    if raw != value & 0xFFFFFFFFFFFFFFFF:
                        self.note(val_pos, f"{msg_type}.{name}: enum value not written as a "
                                           f"sign-extended int32")
                else:
                    value = raw
            else:
                n, pos = self.varint(pos, end, f"length of {msg_type}.{name}")
                if n > end - pos:
                    raise Malformed(f"length of {msg_type}.{name} runs past the end")
                data = self.buf[pos:pos + n]
                if typ == "string":
                    try:
                        value = data.decode("utf-8")
                    except UnicodeDecodeError:
                        raise Malformed(f"{msg_type}.{name} is not UTF-8") from None
                elif typ == "bytes":
                    value = bytes(data)
                else:
                    value = self.message(sub, pos, pos + n, depth + 1)
                pos += n
            if label in ("singular",) and value == DEFAULT_OF_TYPE[typ]:
                self.note(key_pos, f"{msg_type}.{name} written at its default value "
                                   f"(it must be omitted)")
            if label == "repeated":
                out.setdefault(name, []).append(value)
            else:
                out[name] = value  # the last one wins, as in protobuf; non-canonical anyway
        if pos != end:
            raise Malformed(f"{msg_type} runs past its length")
        return out


def encode_message(msg_type, fields):
    """The canonical encoding of a parsed message (used to cross-check the reader)."""
    out = bytearray()
    for num in sorted(SCHEMA[msg_type]):
        name, typ, label, sub = SCHEMA[msg_type][num]
        if name not in fields:
            continue
        values = fields[name] if label == "repeated" else [fields[name]]
        for v in values:
            if label == "singular" and v == DEFAULT_OF_TYPE[typ]:
                continue
            wt = WIRE_OF_TYPE[typ]
            out += encode_varint(num << 3 | wt)
            if typ in ("uint32", "uint64"):
                out += encode_varint(v)
            elif typ == "enum":
                out += encode_varint(v & 0xFFFFFFFFFFFFFFFF)
            else:
                data = (v.encode("utf-8") if typ == "string" else
                        v if typ == "bytes" else encode_message(sub, v))
                out += encode_varint(len(data)) + data
    return bytes(out)


def parse_payload(payload):
    """Parses RecordPayload bytes; refuses malformed or non-canonical ones."""
    r = Reader(payload)
    try:
        fields = r.message("RecordPayload", 0, len(payload))
    except Malformed as e:
        raise invalid("payload", f"not a valid RecordPayload: {e}") from None
    if r.noncanonical:
        raise Refusal("NON_CANONICAL_ENCODING", "", r.noncanonical[0])
    if encode_message("RecordPayload", fields) != payload:  # the reader missed a rule
        raise Refusal("NON_CANONICAL_ENCODING", "", "re-encoding gives other bytes")
    return fields


# --------------------------------------------------------------------------------------------
# Field rules.

PARTY_RE = re.compile(r"\A[a-z0-9][a-z0-9._-]{0,63}\Z")
TIME_RE = re.compile(r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                     r"\.([0-9]{3})Z\Z")
B64URL_RE = re.compile(r"\A[A-Za-z0-9_-]*\Z")


def party(field, s):
    if not PARTY_RE.match(s):
        raise invalid(field, f"{s!r} is not a party id")
    return s


def opt_party(field, s):
    return party(field, s) if s else None


def key32(field, b):
    if len(b) != 32:
        raise invalid(field, f"an Ed25519 public key is 32 bytes, got {len(b)}")
    return b


def check_time(field, s):
    m = TIME_RE.match(s)
    if not m:
        raise invalid(field, f"{s!r} is not YYYY-MM-DDTHH:MM:SS.sssZ")
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not (1 <= mo <= 12 and 1 <= d <= days[mo - 1] and h <= 23 and mi <= 59 and sec <= 59):
        raise invalid(field, f"{s!r} is not a valid UTC time")
    return s


def action_of(fields):
    acts = [n for n in ACTION_NAMES if n in fields]
    if not acts:
        raise invalid("action", "is required")
    name = acts[0]
    a = fields[name]
    if name == "register_party":
        party("register_party.party", a.get("party", ""))
        if a.get("role", 0) not in (1, 2, 3, 4, 5):
            raise invalid("register_party.role", f"role {a.get('role', 0)} is not a role")
    elif name == "add_key":
        party("add_key.party", a.get("party", ""))
        key32("add_key.public_key", a.get("public_key", b""))
    elif name == "revoke_key":
        party("revoke_key.party", a.get("party", ""))
        key32("revoke_key.public_key", a.get("public_key", b""))
    elif name == "rotate_key":
        party("rotate_key.party", a.get("party", ""))
        key32("rotate_key.old_public_key", a.get("old_public_key", b""))
        key32("rotate_key.new_public_key", a.get("new_public_key", b""))
    elif name in ("delegate", "revoke_delegation"):
        party(f"{name}.principal", a.get("principal", ""))
        party(f"{name}.agent", a.get("agent", ""))
    elif name == "surrender_for_amendment":
        if a.get("reason", 0) not in (1, 2, 3):
            raise invalid("surrender_for_amendment.reason", f"reason {a.get('reason', 0)} is not SWTP, COD, SWI")
    elif name == "pledge":
        if a.get("mode", 0) not in (1, 2):
            raise invalid("pledge.mode", f"mode {a.get('mode', 0)} is not POSSESSION, ENDORSEMENT")
    elif name == "issue":
        if a.get("profile", 0) not in (0, 1):
            raise invalid("issue.profile", f"unknown profile {a.get('profile')}")
        opt_party("issue.consignee", a.get("consignee", ""))
        opt_party("issue.endorsee", a.get("endorsee", ""))
    return name, a


def check_record(payload, signatures, origin):
    """The ledger's order-free checks of one record. Returns (fields, action name, record hash);
    raises Refusal. `signatures` is a list of (party, public key, signature) bytes/str triples."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Refusal("PAYLOAD_TOO_LARGE", "", f"{len(payload)} bytes")
    f = parse_payload(payload)
    g = lambda k, d: f.get(k, d)  # noqa: E731 - absent means default
    if g("version", 0) != FORMAT_VERSION:
        raise invalid("version", f"format version {g('version', 0)} is not supported")
    if g("domain", "") != RECORD_DOMAIN:
        raise invalid("domain", f"domain tag {g('domain', '')!r} is not {RECORD_DOMAIN!r}")
    act, body = action_of(f)
    registry = act in REGISTRY_ACTIONS
    bill_id = g("bill_id", b"")
    if registry and bill_id:
        raise invalid("bill_id", "must be empty for a registry record")
    if not registry and len(bill_id) != 32:
        raise invalid("bill_id", f"must be 32 bytes, got {len(bill_id)}")
    prev = g("prev_hash", b"")
    if prev and len(prev) != 32:
        raise invalid("prev_hash", f"must be 32 bytes, got {len(prev)}")
    title_head = g("title_head", b"")
    if not title_head and g("title_position", 0) != 0:
        raise invalid("title_position", "is given only with title_head")
    if title_head and len(title_head) != 32:
        raise invalid("title_head", f"must be 32 bytes, got {len(title_head)}")
    actor = party("actor", g("actor", ""))
    agent = opt_party("agent", g("agent", ""))
    recipient = opt_party("recipient", g("recipient", ""))
    check_time("claimed_time", g("claimed_time", ""))
    if not signatures:
        raise invalid("signatures", "at least one signature is required")
    for i, (sp, pk, sig) in enumerate(signatures):
        party(f"signatures[{i}].party", sp)
        key32(f"signatures[{i}].public_key", pk)
        if len(sig) != 64:
            raise invalid(f"signatures[{i}].signature", f"64 bytes expected, got {len(sig)}")
    if g("origin", "") != origin:
        raise invalid("origin", f"made for ledger {g('origin', '')!r}, this is {origin!r}")
    # Shape.
    custody = act in CUSTODY_ACTIONS
    if custody != bool(title_head):
        raise invalid("title_head", "is required for a custody record" if custody else "is only for custody records")
    position = g("position", 0)
    if (position == 0) != (not prev):
        raise invalid("prev_hash", "must be empty exactly when position is 0")
    if (act == "issue") != (position == 0 and not registry and not custody):
        raise invalid("position", "ISSUE is exactly the first record of a title chain")
    if (act in RECIPIENT_ACTIONS) != (recipient is not None):
        raise invalid("recipient", f"{'is required' if recipient is None else 'must be empty'} "
                                   f"for {ACTION_NAMES[act]}")
    if registry and actor != OPERATOR:
        raise invalid("actor", "registry records are made by the operator")
    if act == "issue" and body.get("issuance_manifest"):
        parts = body["issuance_manifest"].split(".")
        if (len(parts) != 3 or not parts[0] or not parts[2]
                or not all(B64URL_RE.match(p) for p in parts)):
            raise invalid("issue.issuance_manifest", "must be a compact JWS")
    if recipient == actor and act != "issue":
        raise invalid("recipient", "must differ from the actor")
    if agent is not None and registry:
        raise invalid("agent", "registry records are never signed by an agent")
    if agent is not None and agent == actor:
        raise invalid("agent", "must differ from the actor")
    if agent == OPERATOR:
        raise invalid("agent", "the operator is nobody's agent")
    # Signer set: exactly the required signers (the actor, or its agent in its place; a DELEGATE
    # also the principal), each once.
    if act == "delegate":
        required = [actor, party("delegate.principal", body.get("principal", ""))]
    elif act == "handoff":
        required = [agent if agent is not None else actor, recipient]
    else:
        required = [agent if agent is not None else actor]
    for i, (sp, _, _) in enumerate(signatures):
        if sp not in required:
            raise Refusal("UNEXPECTED_SIGNER", "", f"signatures[{i}]: {sp!r} has no part in it")
        if any(o[0] == sp for o in signatures[:i]):
            raise invalid(f"signatures[{i}]", f"party {sp!r} signs twice")
    for r in required:
        if not any(s[0] == r for s in signatures):
            raise Refusal("MISSING_SIGNATURE", "", f"must be signed by {r!r}")
    # (An ISSUE's transport document would be validated here; no vector carries one and this
    # script does not implement the DCSA rules.)
    record_hash = hashlib.sha256(RECORD_HASH_TAG.encode() + b"\x00" + payload).digest()
    for _, pk, sig in signatures:
        verify_strict(pk, payload, sig)
    return f, act, record_hash


def verify_strict(pk, msg, sig):
    # Stricter than the ledger on one point: libsodium's is_valid_point also refuses keys that
    # are non-canonically encoded or outside the prime-order subgroup (docs/wire-format.md,
    # "Verifier agreement").
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(pk):
        raise Refusal("WEAK_KEY", "", "public key is not a valid prime-order Ed25519 point")
    try:
        nacl.signing.VerifyKey(pk).verify(msg, sig)
    except nacl.exceptions.BadSignatureError:
        raise Refusal("BAD_SIGNATURE", "", "signature does not verify over the payload") from None


def bill_id(carrier, reference, amendment):
    return hashlib.sha256(BILL_ID_TAG.encode() + b"\x00" + carrier.encode() + b"\x00"
                          + reference.encode() + b"\x00" + amendment.to_bytes(4, "big")).digest()


# --------------------------------------------------------------------------------------------
# The vector file.


def unhex(v, key):
    s = v[key]
    if not isinstance(s, str) or s != s.lower():
        raise ValueError(f"{key} must be lowercase hex")
    return bytes.fromhex(s)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: python3 scripts/check_vectors.py docs/vectors/records.json\n")
        return 2
    with open(argv[1], encoding="utf-8") as fh:
        doc = json.load(fh)
    passed = failed = 0

    def report(ok, name, text):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {name}  {text}")
        else:
            failed += 1
            print(f"FAIL {name}  {text}")

    # File header.
    try:
        problems = []
        if doc.get("format") != "ebl.v1 record vectors":
            problems.append(f"format is {doc.get('format')!r}")
        if doc.get("record_domain") != RECORD_DOMAIN:
            problems.append(f"record_domain is {doc.get('record_domain')!r}")
        if doc.get("record_hash_tag") != RECORD_HASH_TAG:
            problems.append(f"record_hash_tag is {doc.get('record_hash_tag')!r}")
        origin = doc["origin"]
        check_time("claimed_time", doc["claimed_time"])
        b = doc["bill_id"]
        derived = bill_id(party("carrier", b["carrier"]), b["reference"], b["amendment"])
        bill = unhex(b, "bill_id_hex")  # what the title vectors must name
        if derived != bill:
            problems.append(f"bill id derives to {derived.hex()}, file says {bill.hex()}")
        report(not problems, f"bill_id/{b['carrier']}/{b['reference']}/{b['amendment']}",
               "; ".join(problems) or f"derives to {bill.hex()[:16]}... (header constants match)")
    except (KeyError, TypeError, ValueError, OverflowError, Refusal) as e:
        report(False, "file", f"bad header: {e!r}")
        bill, origin = None, doc.get("origin", "")

    valid = doc.get("valid", [])
    invalid_vs = doc.get("invalid", [])

    results = []  # (ok, name, problems, summary, chain, position, prev_hash, record hash)
    for v in valid:
        name = f"valid/{v.get('name')}"
        try:
            payload = unhex(v, "payload_hex")
            pk, sig = unhex(v, "public_key_hex"), unhex(v, "signature_hex")
            fields, act, h = check_record(payload, [(v["signer_party"], pk, sig)], origin)
            problems = []
            if h.hex() != v["record_hash_hex"]:
                problems.append(f"record hash is {h.hex()}, file says {v['record_hash_hex']}")
            sk = nacl.signing.SigningKey(unhex(v, "secret_seed_hex"))
            if bytes(sk.verify_key) != pk:
                problems.append("public key is not the one the seed gives")
            if sk.sign(payload).signature != sig:
                problems.append("re-signing with the seed gives other signature bytes")
            if fields.get("claimed_time") != doc.get("claimed_time"):
                problems.append("claimed_time differs from the file's")
            chain = fields.get("bill_id", b"")
            if chain and bill is not None and chain != bill:
                problems.append("bill_id is not the file's derived bill id")
            pos = fields.get("position", 0)
            summary = f"{ACTION_NAMES[act]} pos {pos}, hash {h.hex()[:16]}..., signature reproduced"
            results.append([name, problems, summary, chain, pos, fields.get("prev_hash", b""), h])
        except Refusal as e:
            report(False, name, f"refused: {e}")
        except (KeyError, TypeError, ValueError) as e:
            report(False, name, f"bad vector: {e!r}")
    # Chain links between valid vectors: where the previous position of the same chain is also
    # a vector, prev_hash must be its record hash.
    for r in results:
        name, problems, summary, chain, pos, prev, _ = r
        before = [o for o in results if o[3] == chain and pos > 0 and o[4] == pos - 1]
        for o in before:
            if prev == o[6]:
                r[2] = summary + f", prev = hash of {o[0]}"
            else:
                problems.append(f"prev_hash is not the record hash of {o[0]}")
        report(not problems, name, "; ".join(problems) or r[2])

    for v in invalid_vs:
        name = f"invalid/{v.get('name')}"
        try:
            payload = unhex(v, "payload_hex")
            pk, sig = unhex(v, "public_key_hex"), unhex(v, "signature_hex")
            want = (v["expected_reason"], v.get("expected_field", ""))
            try:
                check_record(payload, [(v["signer_party"], pk, sig)], origin)
                report(False, name, f"accepted, but must be refused with {want[0]}")
            except Refusal as e:
                got = (e.reason, e.field)
                report(got == want, name,
                       f"refused {e}" if got == want else
                       f"refused for another reason: {e} (expected {' '.join(w for w in want if w)})")
        except (KeyError, TypeError, ValueError) as e:
            report(False, name, f"bad vector: {e!r}")

    if len(valid) < 3 or len(invalid_vs) < 3:
        report(False, "file", f"{len(valid)} valid and {len(invalid_vs)} invalid vectors; "
                              f"at least 3 of each are required")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
