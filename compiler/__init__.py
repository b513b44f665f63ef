"""The compiled read path: a validated query becomes one SQL statement per root field whose
result is that field's JSON, with the same rules as strawberry's field-by-field execution,
which stays the oracle (tests/test_compiled_differential.py)."""

from kilas.compiler.run import (
    COMPILED,
    FALLBACKS,
    CompiledReads,
    Raw,
    RawData,
    answer_directly,
    encode_response,
    response_text,
)

__all__ = [
    "COMPILED",
    "FALLBACKS",
    "CompiledReads",
    "Raw",
    "RawData",
    "answer_directly",
    "encode_response",
    "response_text",
]
