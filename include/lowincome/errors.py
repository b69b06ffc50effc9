"""Errors a person acts on: one line that says what is wrong and what to do."""


class UserError(Exception):
    """Raised for bad configuration or input; the CLI prints ``str(err)`` alone, no traceback."""


class WarehouseUnavailable(UserError):
    pass
