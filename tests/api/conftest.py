from tests.procurement.conftest import register  # noqa: F401  (the same small register with history)
