"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json.

Kept beside the routes and checked against them by schemathesis in tests/api/test_contract.py: a route
that answers something this document does not promise fails the suite.
"""
from __future__ import annotations

from flask import current_app, jsonify

from registry.api import bp

NO_NUL = "^[^\\x00]*$"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


DATE = {"type": "string", "format": "date", "example": "2026-06-01"}
STATUS = {"type": "string", "enum": ["valid", "suspended", "revoked", "withdrawn", "expired"]}
TEXT_PARAM = {"type": "string", "maxLength": 200, "pattern": NO_NUL}

ERRORS = {
    "404": _json(_ref("Error"), "Not found"),
    "422": _json(_ref("Error"), "Invalid parameters; `fields` names each one"),
    "429": {**_json(_ref("Error"), "Too many requests"),
            "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}},
    "default": _json(_ref("Error"), "Error"),
}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\x00/?#%]+$"}}


SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}},
    },
    "CompanyRef": {
        "type": "object", "required": ["name", "uscc"],
        "properties": {"name": {"type": "string"}, "uscc": {"type": "string"}, "province": {"type": "string"},
                       "city": {"type": "string"}, "industry": {"type": "string"}},
    },
    "Certificate": {
        "type": "object",
        "required": ["number", "company", "scheme", "level", "score", "status", "issued_on", "expires_on"],
        "properties": {
            "number": {"type": "string"}, "company": _ref("CompanyRef"), "scheme": {"type": "string"},
            "level": {"type": "string"}, "score": _nullable({"type": "number"}), "status": STATUS,
            "issued_on": DATE, "expires_on": DATE, "first_issued_on": DATE,
            "surveillance_due_on": _nullable(DATE), "scope": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "CertificatePage": {
        "type": "object", "required": ["items", "page", "per_page", "total", "pages"],
        "properties": {"items": {"type": "array", "items": _ref("Certificate")}, "page": {"type": "integer"},
                       "per_page": {"type": "integer"}, "total": {"type": "integer"}, "pages": {"type": "integer"}},
    },
    "Company": {
        "type": "object", "required": ["name", "uscc", "certificates"],
        "properties": {"name": {"type": "string"}, "uscc": {"type": "string"}, "province": {"type": "string"},
                       "city": {"type": "string"}, "industry": {"type": "string"},
                       "certificates": {"type": "array", "items": _ref("Certificate")}},
    },
    "StatusOnDay": {
        "type": "object", "required": ["number", "on", "issued", "status", "level", "status_today"],
        "properties": {"number": {"type": "string"}, "on": DATE, "issued": {"type": "boolean"},
                       "status": _nullable(STATUS), "level": _nullable({"type": "string"}),
                       "scheme": _nullable({"type": "string"}), "expires_on": _nullable(DATE),
                       "ledger_seq": _nullable({"type": "integer"}), "status_today": STATUS},
    },
    "ComplaintStatistics": {
        "type": "object", "required": ["number", "available", "statistics"],
        "properties": {"number": {"type": "string"}, "available": {"type": "boolean"},
                       "statistics": _nullable({
                           "type": "object",
                           "required": ["open", "since", "received", "accepted", "answered_on_time_pct",
                                        "resolved_pct", "upheld", "unanswered"],
                           "properties": {
                               "open": {"type": "integer", "description": "Complaints not yet closed"},
                               "since": DATE, "received": {"type": "integer"}, "accepted": {"type": "integer"},
                               "answered_on_time_pct": _nullable({"type": "integer"}),
                               "resolved_pct": _nullable({"type": "integer"}),
                               "upheld": {"type": "integer"}, "unanswered": {"type": "integer"}}})},
    },
    "VerifyRequest": {
        "type": "object", "required": ["identifiers"], "additionalProperties": False,
        "properties": {
            "identifiers": {"type": "array", "minItems": 1, "maxItems": 1000,
                            "items": {"type": "string", "maxLength": 200},
                            "description": "Certificate numbers, unified social credit codes or exact company names"},
            "on": {**DATE, "description": "Report the status on this day too (e.g. the bid deadline); default today"},
            "receipt": {"type": "boolean", "default": False, "description": "Add a signed receipt"},
        },
    },
    "VerifyRow": {
        "type": "object", "required": ["input", "match"],
        "properties": {
            "input": {"type": "string"}, "match": {"type": "string", "enum": ["exact", "ambiguous", "not_found"]},
            "candidates": {"type": "array", "items": {"type": "object", "properties": {
                "number": {"type": "string"}, "company": _ref("CompanyRef"), "province": {"type": "string"}}}},
            "number": {"type": "string"}, "company": _ref("CompanyRef"), "scheme": {"type": "string"},
            "level": {"type": "string"}, "score": _nullable({"type": "number"}), "status": STATUS,
            "issued_on": DATE, "expires_on": DATE,
            "on": {"type": "object", "properties": {
                "issued": {"type": "boolean"}, "status": _nullable(STATUS), "level": _nullable({"type": "string"}),
                "expires_on": _nullable(DATE), "ledger_seq": _nullable({"type": "integer"})}},
            "open_complaints": _nullable({"type": "integer"}),
            "flags": {"type": "array", "items": {"type": "string", "enum": [
                "expires_within_90_days", "suspended", "level_lowered_last_12_months", "not_issued_on_date"]}},
            "other_certificates": {"type": "array", "items": {"type": "string"}},
        },
    },
    "VerifyResult": {
        "type": "object", "required": ["on", "today", "counts", "results"],
        "properties": {
            "on": DATE, "today": DATE,
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "results": {"type": "array", "items": _ref("VerifyRow")},
            "receipt": _ref("Receipt"),
        },
    },
    "Receipt": {
        "type": "object", "required": ["receipt", "signature"],
        "description": "Ed25519 signature over the canonical JSON (sorted keys, no spaces, UTF-8) of `receipt`",
        "properties": {
            "receipt": {"type": "object", "additionalProperties": True},
            "signature": {"type": "object", "required": ["algorithm", "key_id", "value"], "properties": {
                "algorithm": {"type": "string", "enum": ["Ed25519"]},
                "key_id": {"type": "string", "description": "sha256: + SHA-256 of the raw public key, hex"},
                "value": {"type": "string", "pattern": "^[0-9a-f]{128}$"}}},
        },
    },
    "LedgerEntry": {
        "type": "object",
        "required": ["seq", "kind", "effective_on", "recorded_at", "prev_hash", "hash"],
        "properties": {
            "seq": {"type": "integer"}, "certificate_number": _nullable({"type": "string"}),
            "kind": {"type": "string"}, "effective_on": DATE, "status_after": _nullable({"type": "string"}),
            "level_after": _nullable({"type": "string"}), "scheme_id": _nullable({"type": "string"}),
            "public_text": {"type": "string"}, "reason": {"type": "string"}, "actor_role": {"type": "string"},
            "data": {"type": "object", "additionalProperties": True}, "recorded_at": {"type": "string"},
            "prev_hash": {"type": "string"}, "hash": {"type": "string"},
        },
    },
    "LedgerPage": {
        "type": "object", "required": ["entries", "head", "next_after"],
        "properties": {
            "entries": {"type": "array", "items": _ref("LedgerEntry")},
            "head": _nullable({"type": "object", "properties": {"seq": {"type": "integer"}, "hash": {"type": "string"}}}),
            "next_after": _nullable({"type": "integer"}),
        },
    },
    "SchemeList": {
        "type": "object", "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"type": "object", "additionalProperties": True}}},
    },
}


def document() -> dict:
    """The OpenAPI 3.0 document, with the configured public base URL as server."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    number = _path("number", "Certificate number")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "After-sales service certificate registry API", "version": "1.0.0",
            "description": "Public, read-only data of the register and bulk verification. Dates are "
                           "Asia/Shanghai. Errors are {\"error\": {\"code\", \"message\", \"fields\"}}. "
                           "Rate limits answer 429 with Retry-After.",
        },
        "servers": [{"url": base + "/api/v1"}],
        "paths": {
            "/certificates": {"get": {
                "operationId": "searchCertificates", "summary": "Search certificates with filters",
                "parameters": [
                    _query("q", TEXT_PARAM, "Certificate number, credit code or part of the company name"),
                    _query("status", STATUS, "Status today"),
                    _query("level", TEXT_PARAM, "Level id within its scheme (compliant, 3, 4, 5, …)"),
                    _query("scheme", TEXT_PARAM, "Scheme id"),
                    _query("province", TEXT_PARAM, "Province of the company"),
                    _query("industry", TEXT_PARAM, "Industry of the company"),
                    _query("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}, "Page"),
                    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size"),
                ],
                "responses": {"200": _json(_ref("CertificatePage"), "A page of certificates"), **ERRORS},
            }},
            "/certificates/{number}": {"get": {
                "operationId": "getCertificate", "summary": "One certificate by number", "parameters": [number],
                "responses": {"200": _json(_ref("Certificate"), "The certificate"), **ERRORS},
            }},
            "/certificates/{number}/status": {"get": {
                "operationId": "getCertificateStatusOn", "summary": "Status and level on a day, from the ledger",
                "parameters": [number, _query("on", DATE, "The day (default today)")],
                "responses": {"200": _json(_ref("StatusOnDay"), "The state on that day"), **ERRORS},
            }},
            "/certificates/{number}/complaints": {"get": {
                "operationId": "getComplaintStatistics", "summary": "Complaint statistics of a certificate",
                "parameters": [number],
                "responses": {"200": _json(_ref("ComplaintStatistics"), "Statistics (null if not available)"),
                              **ERRORS},
            }},
            "/companies/{uscc}": {"get": {
                "operationId": "getCompany", "summary": "A company and its certificates by credit code",
                "parameters": [_path("uscc", "Unified social credit code (spaces, dashes, full-width tolerated)")],
                "responses": {"200": _json(_ref("Company"), "The company"), **ERRORS},
            }},
            "/verify": {"post": {
                "operationId": "verifyBulk", "summary": "Verify up to 1,000 identifiers at once",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("VerifyRequest")}}},
                "responses": {"200": _json(_ref("VerifyResult"), "One result per identifier, in order"),
                              **{k: v for k, v in ERRORS.items() if k != "404"}},
            }},
            "/ledger": {"get": {
                "operationId": "listLedgerEntries", "summary": "Ledger entries after a sequence number",
                "parameters": [
                    _query("after", {"type": "integer", "minimum": 0, "maximum": 2000000000, "default": 0},
                           "Return entries with seq greater than this"),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}, "At most"),
                ],
                "responses": {"200": _json(_ref("LedgerPage"), "Entries, oldest first"), **ERRORS},
            }},
            "/schemes": {"get": {
                "operationId": "listSchemes", "summary": "Certification schemes and their levels",
                "responses": {"200": _json(_ref("SchemeList"), "Schemes"), **ERRORS},
            }},
        },
        "components": {"schemas": SCHEMAS},
    }


@bp.route("/openapi.json")
def openapi_json():
    return jsonify(document())
