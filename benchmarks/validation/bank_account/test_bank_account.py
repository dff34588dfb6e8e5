import unittest

from bank_account import BankAccount, InsufficientFundsError


class TestBankAccount(unittest.TestCase):
    def test_new_account(self):
        account = BankAccount("Ann")
        self.assertEqual(account.owner, "Ann")
        self.assertEqual(account.balance, 0.0)
        self.assertEqual(BankAccount("Bob", 50).balance, 50)

    def test_deposit_and_withdraw_return_the_balance(self):
        account = BankAccount("Ann", 100)
        self.assertEqual(account.deposit(50), 150)
        self.assertEqual(account.withdraw(30), 120)
        self.assertEqual(account.balance, 120)

    def test_overdraft_up_to_the_limit(self):
        account = BankAccount("Ann", 10, overdraft_limit=50)
        self.assertEqual(account.withdraw(60), -50)
        with self.assertRaises(InsufficientFundsError):
            account.withdraw(0.01)
        self.assertEqual(account.balance, -50)

    def test_insufficient_funds(self):
        self.assertTrue(issubclass(InsufficientFundsError, Exception))
        account = BankAccount("Ann", 20)
        with self.assertRaises(InsufficientFundsError):
            account.withdraw(25)
        self.assertEqual(account.balance, 20)
        self.assertEqual(account.withdraw(20), 0)

    def test_amount_must_be_positive(self):
        account = BankAccount("Ann", 20)
        for amount in (0, -5):
            with self.assertRaises(ValueError):
                account.deposit(amount)
            with self.assertRaises(ValueError):
                account.withdraw(amount)
        self.assertEqual(account.balance, 20)


if __name__ == '__main__':
    unittest.main()
