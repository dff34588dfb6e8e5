"""Reference solution for benchmarks/validation/bank_account, written from prompt.txt."""


class InsufficientFundsError(Exception):
    """A withdrawal would take the balance below -overdraft_limit."""


class BankAccount:
    def __init__(self, owner: str, balance: float = 0.0, overdraft_limit: float = 0.0) -> None:
        self.owner = owner
        self.balance = balance
        self.overdraft_limit = overdraft_limit

    @staticmethod
    def _check_amount(amount: float) -> None:
        if not amount > 0:
            raise ValueError(f"amount must be greater than 0, got {amount!r}")

    def deposit(self, amount: float) -> float:
        """Add amount and return the new balance."""
        self._check_amount(amount)
        self.balance += amount
        return self.balance

    def withdraw(self, amount: float) -> float:
        """Take amount away and return the new balance, never below -overdraft_limit."""
        self._check_amount(amount)
        if self.balance - amount < -self.overdraft_limit:
            raise InsufficientFundsError(
                f"withdrawing {amount} would exceed the overdraft limit of {self.overdraft_limit}")
        self.balance -= amount
        return self.balance
